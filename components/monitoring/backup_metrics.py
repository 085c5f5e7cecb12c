"""The backup result metrics, named in this one place (pure).

Each backup job (components/backup/scripts/backup-lib.sh, `write_metrics`) writes them to
node-exporter's textfile collector directory on the host that runs it, one file
`TEXTFILE_DIR/jupyterhub_platform_backup_<job>.prom` per job (written to a temporary file and renamed,
so node-exporter never reads half a file). Labels: `backup` (the job: `etcd`, `homes`, `hub-db`) and
`node` (the host). The alerts in `components.monitoring.alerts` and the NFS/backup dashboard read
these names; `tests/test_backup_metrics_contract.py` runs the real writer and checks that what they
read is what it writes.
"""

from __future__ import annotations

# Debian's prometheus-node-exporter reads *.prom files here (its --collector.textfile.directory default);
# the chart's node-exporter reads it through its host root mount (components/monitoring/values.py).
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
BACKUP_SUCCESS = "jupyterhub_platform_backup_success"
"""1 if the most recent run of the job succeeded, else 0 (gauge)."""
BACKUP_LAST_RUN = "jupyterhub_platform_backup_last_run_timestamp_seconds"
"""Unix time the most recent run ended, successful or not (gauge)."""
BACKUP_LAST_SUCCESS = "jupyterhub_platform_backup_last_success_timestamp_seconds"
"""Unix time of the last run that succeeded, 0 if none has yet (gauge)."""
BACKUP_SIZE = "jupyterhub_platform_backup_size_bytes"
"""Bytes the most recent run backed up (gauge)."""
BACKUP_DURATION = "jupyterhub_platform_backup_duration_seconds"
"""Seconds the most recent run took (gauge)."""
JOB_LABEL = "backup"
NODE_LABEL = "node"
