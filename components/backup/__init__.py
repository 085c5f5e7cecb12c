"""PlatformBackups: etcd, homes and hub database backups with restic; XFS home quotas; restore runbooks."""
