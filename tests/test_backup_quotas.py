"""XFS project quotas: the reconciler against a recorded `xfs_quota` and a `findmnt` that reports an XFS
mount with prjquota (no XFS can be mounted here: no loop devices or mount rights in CI), and the
preflight's refusal of a real non-XFS directory with the real findmnt."""

from __future__ import annotations

import stat
from pathlib import Path

from components.backup.quotas import limits_text, quota_report, reconcile_script
from components.backup.steps import quota_step_script
from config.loader import load_platform
from config.platform import PlatformConfig
from tests.backup_helpers import run_script
from tests.helpers import require_tool, stack_platform, stack_raw

# A recording xfs_quota: appends each call's -c commands to $QUOTA_LOG and answers `report` from the
# projects the calls created, with usage 1 MiB per project (in 1 KiB blocks, as xfs_quota reports them).
XFS_QUOTA_SHIM = """#!/usr/bin/env bash
set -euo pipefail
log=$(dirname "$0")/calls.log
args=("$@")
mount=${args[-1]}
for ((i = 0; i < ${#args[@]} - 1; i++)); do
  if [[ "${args[i]}" == -c ]]; then
    cmd=${args[i + 1]}
    printf '%s @ %s\\n' "$cmd" "$mount" >>"$log"
    if [[ "$cmd" == "report -p -n -N -b" ]]; then
      grep -o 'project -s -p [^ ]* [0-9]*' "$log" | awk '{ printf "#%s 1024 0 0 00 [--------]\\n", $5 }'
    fi
  fi
done
"""
FINDMNT_SHIM = """#!/usr/bin/env bash
echo "xfs rw,relatime,attr2,inode64,logbufs=8,prjquota /srv/nfs /dev/vdb"
"""


def _platform() -> PlatformConfig:
    raw, secret_keys = stack_raw("prod")
    return load_platform(raw, secret_keys, missing_secrets_ok=True)


def _shims(tmp: Path) -> Path:
    shims = tmp / "shims"
    shims.mkdir()
    for name, text in (("xfs_quota", XFS_QUOTA_SHIM), ("findmnt", FINDMNT_SHIM)):
        (shims / name).write_text(text)
        (shims / name).chmod(stat.S_IRWXU)
    return shims


def _calls(shims: Path) -> list[str]:
    log = shims / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return [line for line in lines if not line.startswith("report")]


def test_limits_table_from_prod() -> None:
    cfg = _platform()
    assert cfg.quotas is not None
    assert limits_text(cfg, cfg.quotas).splitlines() == [
        "* * 9 10",
        "jhub-teaching * 9 10",
        "jhub-teaching ta-datasets 90 100",
        "jhub-exam * 1 2",
        "jhub-grading * 18 20",
    ]


def test_reconcile_assigns_projects_and_limits_once(tmp_path: Path) -> None:
    cfg = _platform()
    assert cfg.quotas is not None
    shims = _shims(tmp_path)
    homes = tmp_path / "export" / "homes"
    for name in ("jhub-teaching/alice", "jhub-teaching/ta-datasets", "jhub-exam/carol", "jhub-exam/we ird"):
        (homes / name).mkdir(parents=True)
    metrics_dir = tmp_path / "metrics"
    script = reconcile_script(
        str(homes), limits_text(cfg, cfg.quotas), metrics_dir=str(metrics_dir), state_dir=str(tmp_path / "state"),
        xfs_quota=str(shims / "xfs_quota"), findmnt=str(shims / "findmnt"),
    )  # fmt: skip
    first = run_script(script, tmp_path)
    assert "skipping" in first.stderr and "we ird" in first.stderr
    mount = "/srv/nfs"
    assert _calls(shims) == [
        f"project -s -p {homes}/jhub-exam/carol 100000 @ {mount}",
        f"project -s -p {homes}/jhub-teaching/alice 100001 @ {mount}",
        f"project -s -p {homes}/jhub-teaching/ta-datasets 100002 @ {mount}",
        f"limit -p bsoft=1g bhard=2g 100000 @ {mount}",
        f"limit -p bsoft=9g bhard=10g 100001 @ {mount}",
        f"limit -p bsoft=90g bhard=100g 100002 @ {mount}",
    ]
    prom = (metrics_dir / "jupyterhub_platform_home_quota.prom").read_text()
    assert 'jupyterhub_platform_home_used_bytes{namespace="jhub-teaching",user="alice"} 1048576' in prom
    assert 'jupyterhub_platform_home_quota_hard_bytes{namespace="jhub-teaching",user="ta-datasets"} 107374182400' in prom
    assert 'jupyterhub_platform_home_quota_soft_bytes{namespace="jhub-exam",user="carol"} 1073741824' in prom

    run_script(script, tmp_path)  # nothing new: no project, no limit call
    assert _calls(shims) == []

    (homes / "jhub-teaching" / "dave").mkdir()  # first spawn of a new user
    run_script(script, tmp_path)
    assert _calls(shims) == [
        f"project -s -p {homes}/jhub-teaching/dave 100003 @ {mount}",
        f"limit -p bsoft=9g bhard=10g 100003 @ {mount}",
    ]

    # A changed limit in the config is applied at the next run, for that folder only.
    changed = reconcile_script(
        str(homes), limits_text(cfg, cfg.quotas).replace("jhub-exam * 1 2", "jhub-exam * 3 4"),
        metrics_dir=str(metrics_dir), state_dir=str(tmp_path / "state"),
        xfs_quota=str(shims / "xfs_quota"), findmnt=str(shims / "findmnt"),
    )  # fmt: skip
    run_script(changed, tmp_path)
    assert _calls(shims) == [f"limit -p bsoft=3g bhard=4g 100000 @ {mount}"]


def test_preflight_refuses_an_export_that_is_not_xfs(tmp_path: Path) -> None:
    require_tool("findmnt")
    cfg = _platform()
    assert cfg.quotas is not None
    export = tmp_path / "export"
    export.mkdir()
    cfg = cfg.model_copy(update={"nfs": cfg.nfs.model_copy(update={"export_path": str(export)})})
    result = run_script(quota_step_script(cfg, cfg.quotas), tmp_path, check=False)
    assert result.returncode == 1
    assert "not XFS" in result.stderr
    assert "prjquota" in result.stderr and "quotas.enabled: false" in result.stderr
    assert "installing" not in result.stderr  # refused before touching the host


def test_preflight_refuses_xfs_without_prjquota(tmp_path: Path) -> None:
    cfg = _platform()
    assert cfg.quotas is not None
    shims = _shims(tmp_path)
    (shims / "findmnt").write_text('#!/usr/bin/env bash\necho "xfs rw,relatime,noquota /srv/nfs /dev/vdb"\n')
    script = reconcile_script(
        str(tmp_path), "* * 1 2", metrics_dir=str(tmp_path / "m"), state_dir=str(tmp_path / "s"),
        xfs_quota=str(shims / "xfs_quota"), findmnt=str(shims / "findmnt"),
    )  # fmt: skip
    result = run_script(script, tmp_path, check=False)
    assert result.returncode == 1
    assert "XFS without project quotas" in result.stderr and "umount /srv/nfs" in result.stderr
    assert _calls(shims) == []


def test_capacity_report_compares_quota_times_users_with_the_export() -> None:
    report = quota_report(stack_platform("prod"))
    assert "| teaching | jhub-teaching | 9 / 10 | 1200 | 1 | 12090 |" in report
    assert "Total committed: 14090 GiB of 20480 GiB (69 %): fits." in report
    cfg = _platform()
    assert cfg.quotas is not None
    big = cfg.quotas.model_copy(update={"hubs": [h.model_copy(update={"expected_users": 3000}) for h in cfg.quotas.hubs]})
    assert "OVERCOMMITTED" in quota_report(cfg.model_copy(update={"quotas": big}))
