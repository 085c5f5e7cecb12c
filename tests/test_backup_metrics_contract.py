"""What the backup jobs write is what the alerts and dashboards read.

The writer is shell (components/backup/scripts/backup-lib.sh, `write_metrics`), the readers are Python
(components/monitoring/alerts.py, dashboards.py, through backup_metrics.py). They once disagreed on
every name and label, so the backup alerts could never fire. Here the real function runs in bash and
its file is compared with the names, the labels and the directory the monitoring side uses.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from components.monitoring import backup_metrics as names
from components.monitoring.alerts import platform_alerts
from components.monitoring.dashboards import dashboards
from components.monitoring.metric_names import EXPORTERS
from components.monitoring.values import HOST_ROOT, chart_values
from config.backup import BackupConfig
from tests.helpers import ROOT, stack_platform

LIB = ROOT / "components" / "common" / "scripts" / "lib.sh"
BACKUP_LIB = ROOT / "components" / "backup" / "scripts" / "backup-lib.sh"
SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$")


def written(tmp: Path, job: str, node: str, runs: list[str]) -> dict[str, tuple[dict[str, str], float]]:
    """Run `write_metrics` once per entry of `runs` ("SUCCESS SIZE DURATION"); the file after the last."""
    metrics_dir, state_dir = tmp / "textfile", tmp / "state"
    calls = "\n".join(f"write_metrics {run}" for run in runs)
    script = f"set -euo pipefail\nsource {LIB}\nsource {BACKUP_LIB}\n{calls}\n"
    env = {"PATH": "/usr/bin:/bin", "JOB": job, "HOST_TAG": node, "METRICS_DIR": str(metrics_dir), "STATE_DIR": str(state_dir)}
    subprocess.run(["bash", "-c", script], env=env, check=True, timeout=60)
    files = list(metrics_dir.iterdir())
    assert [f.name for f in files] == [f"jupyterhub_platform_backup_{job.replace('-', '_')}.prom"]
    series = {}
    for line in files[0].read_text().splitlines():
        if line.startswith("#"):
            continue
        match = SERIES.match(line)
        assert match, line
        labels = dict(pair.split("=", 1) for pair in match.group(2).split(","))
        series[match.group(1)] = ({k: v.strip('"') for k, v in labels.items()}, float(match.group(3)))
    return series


def test_the_writer_writes_the_names_and_labels_the_monitoring_reads(tmp_path: Path) -> None:
    series = written(tmp_path, "hub-db", "worker-1", ["1 2048 7"])
    declared = {names.BACKUP_SUCCESS, names.BACKUP_LAST_RUN, names.BACKUP_LAST_SUCCESS, names.BACKUP_SIZE, names.BACKUP_DURATION}
    assert set(series) == declared
    for labels, _ in series.values():
        assert labels == {names.JOB_LABEL: "hub-db", names.NODE_LABEL: "worker-1"}
    assert series[names.BACKUP_SUCCESS][1] == 1
    assert series[names.BACKUP_SIZE][1] == 2048
    assert series[names.BACKUP_DURATION][1] == 7
    assert series[names.BACKUP_LAST_SUCCESS][1] == series[names.BACKUP_LAST_RUN][1] > 1.7e9


def test_a_failed_run_keeps_the_last_success_and_reports_zero(tmp_path: Path) -> None:
    first = written(tmp_path, "etcd", "cp-1", ["1 10 1"])
    after = written(tmp_path, "etcd", "cp-1", ["0 0 1"])
    assert after[names.BACKUP_SUCCESS][1] == 0
    assert after[names.BACKUP_LAST_SUCCESS][1] == first[names.BACKUP_LAST_SUCCESS][1]
    never = written(tmp_path / "fresh", "homes", "nfs-1", ["0 0 1"])
    assert never[names.BACKUP_LAST_SUCCESS][1] == 0  # never succeeded: BackupStale fires at once


def test_every_backup_name_the_alerts_and_dashboards_read_is_written(tmp_path: Path) -> None:
    series = written(tmp_path, "homes", "nfs-1", ["1 1 1"])
    cfg = stack_platform("prod")
    assert cfg.monitoring is not None
    texts = [a.expr + " " + a.summary for a in platform_alerts(cfg, cfg.monitoring)]
    texts += [e for d in dashboards(cfg) for e in d.expressions()]
    read = {name for text in texts for name in re.findall(r"\bjupyterhub_platform_backup_[a-z_]+", text)}
    assert read and read <= set(series)
    # Every label an alert's text names on a backup series is one the writer sets.
    labels = set(next(iter(series.values()))[0])
    for alert in platform_alerts(cfg, cfg.monitoring):
        if "jupyterhub_platform_backup_" in alert.expr:
            used = set(re.findall(r"\$labels\.([a-z_]+)", alert.summary))
            assert used and used <= labels, alert.name
    assert {names.BACKUP_SUCCESS, names.BACKUP_LAST_SUCCESS} <= EXPORTERS["platform"][1]


def test_node_exporter_reads_the_directory_the_jobs_write() -> None:
    assert BackupConfig.model_fields["metrics_dir"].default == names.TEXTFILE_DIR
    cfg = stack_platform("prod")
    args = chart_values(cfg)["prometheus-node-exporter"]["extraArgs"]
    assert f"--collector.textfile.directory={HOST_ROOT}{names.TEXTFILE_DIR}" in args
