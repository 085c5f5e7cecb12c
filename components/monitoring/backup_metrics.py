"""The backup freshness metrics, named in this one place (pure).

The backups write these to node-exporter's textfile collector on the host that runs them, one file
`TEXTFILE_DIR/jhub_backup_<kind>.prom` per kind (written to a temporary file and renamed, so node-exporter
never reads half a file). Labels: `kind` (`etcd`, `homes`, `hub-db`). The alerts in
`components.monitoring.alerts` and the NFS/backup dashboard read exactly these names.
"""

from __future__ import annotations

# Debian's prometheus-node-exporter reads *.prom files here (its --collector.textfile.directory default).
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
BACKUP_LAST_SUCCESS = "jhub_backup_last_success_timestamp_seconds"
"""Unix time of the last backup run that finished without error (gauge)."""
BACKUP_EXIT_CODE = "jhub_backup_last_exit_code"
"""Exit code of the most recent backup run, 0 when it succeeded (gauge)."""
BACKUP_LAST_RUN = "jhub_backup_last_run_timestamp_seconds"
"""Unix time the most recent backup run ended, successful or not (gauge)."""
BACKUP_KINDS = ("etcd", "homes", "hub-db")
