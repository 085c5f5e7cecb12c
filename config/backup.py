"""Backups of the cluster state (etcd), the NFS homes and shared folders, and the hub databases.

Every job runs on a host as a systemd timer and uploads with restic (encrypted, deduplicated) to
one target: an S3-compatible bucket or an SFTP server. Each host writes to its own repository
`<target>/<node name>` and tags its snapshots with its node name, so hosts never contend for a
repository lock and one broken host never blocks another's backups.

Secrets (stack secrets, never in the render): `backup_restic_password` always, and the target's
credentials (`backup_s3_access_key_id` + `backup_s3_secret_access_key`, or `backup_sftp_private_key`).
The install step receives them on stdin and writes them to root-only files (0600).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from config.base import StrictModel
from config.publish import BUCKET_PATTERN, REGION_PATTERN, Endpoint

RESTIC_PASSWORD_SECRET = "backup_restic_password"
S3_ACCESS_KEY_SECRET = "backup_s3_access_key_id"
S3_SECRET_KEY_SECRET = "backup_s3_secret_access_key"
SFTP_KEY_SECRET = "backup_sftp_private_key"
BACKUP_SECRET_KEYS = frozenset({RESTIC_PASSWORD_SECRET, S3_ACCESS_KEY_SECRET, S3_SECRET_KEY_SECRET, SFTP_KEY_SECRET})
# etcd 3.6 is what kubeadm deploys from Kubernetes 1.34 on; the client must match the server's minor.
ETCD_CLIENT_VERSION = "3.6.5"
# sha256 of etcd-v3.6.5-linux-amd64.tar.gz (the release's SHA256SUMS); other architectures: set your own.
ETCD_CLIENT_SHA256: dict[Literal["amd64", "arm64"], str] = {
    "amd64": "66bad39ed920f6fc15fd74adcb8bfd38ba9a6412f8c7852d09eb11670e88cac3"
}
# systemd OnCalendar: a shorthand (hourly, daily...) or a calendar spec of these characters; tests
# check every default with `systemd-analyze calendar`.
_CALENDAR = re.compile(r"^(minutely|hourly|daily|weekly|monthly|[A-Za-z0-9*:/,.~ -]{3,80})$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_EXCLUDE = re.compile(r"^[^\n\r]{1,200}$")


def _calendar(value: str) -> str:
    if not _CALENDAR.match(value):
        raise ValueError(f"{value!r} is not a systemd OnCalendar expression like 'hourly' or '*-*-* 02:30:00'")
    return value


class S3BackupTarget(StrictModel):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph RGW); keys are the secrets
    `backup_s3_access_key_id` and `backup_s3_secret_access_key`."""

    bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)]
    """Existing bucket (the platform never creates or deletes buckets)."""
    prefix: str = "jupyterhub-platform"
    """Key prefix inside the bucket; each host's repository is `<prefix>/<node name>`."""
    endpoint_url: Endpoint | None = None
    """Endpoint of an S3-compatible store, e.g. `https://rgw.example.org`; empty for AWS S3."""
    region: Annotated[str, Field(pattern=REGION_PATTERN)] = "us-east-1"
    """Region of the bucket (MinIO and RGW accept any value)."""

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        if not _PREFIX.match(prefix):
            raise ValueError(f"{prefix!r}: use names of letters, digits and ._- separated by '/' (no leading '/')")
        return prefix


class SftpBackupTarget(StrictModel):
    """An SFTP server; the login key is the secret `backup_sftp_private_key`."""

    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")]
    """Server address or DNS name."""
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    """SSH port."""
    user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]
    """Login user on the server."""
    path: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9._-]+)+$")]
    """Absolute directory on the server; each host's repository is `<path>/<node name>`."""
    host_key: Annotated[str, Field(pattern=r"^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]{40,800}$")]
    """The server's public host key (`ssh-keyscan -t ed25519 HOST`, key type and base64): pinned, never learnt."""


class Retention(StrictModel):
    """How many snapshots `restic forget --prune` keeps per period (0: none of that period)."""

    last: Annotated[int, Field(ge=0, le=1000)] = 0
    """The N most recent snapshots, whatever their age (on top of the periods below)."""
    hourly: Annotated[int, Field(ge=0, le=1000)] = 0
    """Last snapshot of each of the latest N hours."""
    daily: Annotated[int, Field(ge=0, le=1000)] = 14
    """Last snapshot of each of the latest N days."""
    weekly: Annotated[int, Field(ge=0, le=1000)] = 8
    """Last snapshot of each of the latest N weeks."""
    monthly: Annotated[int, Field(ge=0, le=1000)] = 0
    """Last snapshot of each of the latest N months."""

    @model_validator(mode="after")
    def _keeps_something(self) -> Retention:
        if not (self.last or self.hourly or self.daily or self.weekly or self.monthly):
            raise ValueError("keep at least one period (all zero would forget every snapshot)")
        return self

    def forget_args(self) -> list[str]:
        """`restic forget` flags, in a fixed order."""
        periods = {"last": self.last, "hourly": self.hourly, "daily": self.daily, "weekly": self.weekly}
        periods["monthly"] = self.monthly
        return [arg for name, n in periods.items() if n for arg in (f"--keep-{name}", str(n))]


class EtcdBackup(StrictModel):
    """etcd snapshots on every control plane, each uploaded to its own repository under its own tag."""

    enabled: bool | None = None
    """Take etcd snapshots. Unset: on in kubeadm mode (an existing cluster's etcd is not reachable);
    true where it cannot run is an error."""
    schedule: str = "hourly"
    """systemd OnCalendar of the snapshot timer."""
    retention: Retention = Retention(hourly=24, daily=14, weekly=8)
    """Snapshots kept per control plane."""
    client_version: Annotated[str, Field(pattern=r"^3\.[4-9]\.[0-9]{1,3}$")] = ETCD_CLIENT_VERSION
    """etcdctl/etcdutl release installed on the control planes (kubeadm hosts ship none): match the
    minor of the cluster's etcd (3.6 for Kubernetes 1.34+)."""
    client_sha256: dict[Literal["amd64", "arm64"], Annotated[str, Field(pattern=r"^[a-f0-9]{64}$")]] = ETCD_CLIENT_SHA256
    """sha256 of `etcd-v<client_version>-linux-<arch>.tar.gz` per architecture (from the release's SHA256SUMS);
    the install refuses an archive that does not match. Set it whenever you change client_version."""
    client_download_base: Endpoint = "https://github.com/etcd-io/etcd/releases/download"
    """Where the archive is fetched from (`<base>/v<version>/etcd-v<version>-linux-<arch>.tar.gz`): a mirror
    inside the site network for control planes without internet access."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return _calendar(value)


DEFAULT_HOME_EXCLUDES = [".cache", "__pycache__", ".ipynb_checkpoints", ".local/share/Trash", "*.pyc", "core.[0-9]*"]


class HomesBackup(StrictModel):
    """Nightly restic backup of the managed NFS server's homes and shared folders."""

    enabled: bool | None = None
    """Back up the export. Unset: on with a managed NFS server (a NAS keeps its own snapshots: the platform
    does not back it up); true with a NAS is an error."""
    schedule: str = "*-*-* 01:30:00"
    """systemd OnCalendar of the backup timer (local time of the NFS host)."""
    excludes: list[Annotated[str, Field(pattern=_EXCLUDE.pattern)]] = DEFAULT_HOME_EXCLUDES
    """restic exclude patterns (caches and rebuildable files), one per line of the exclude file."""
    include_shared: bool = True
    """Also back up the shared folders (`<export_path>/shared`)."""
    retention: Retention = Retention(daily=14, weekly=8, monthly=6)
    """Snapshots kept."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return _calendar(value)


class HubDbBackup(StrictModel):
    """Consistent copies of the hub databases: `sqlite3 .backup` on the database's node, `pg_dump` for PostgreSQL."""

    enabled: bool | None = None
    """Back up every hub's database. Unset: on in kubeadm mode; true in existing mode is an error."""
    schedule: str = "*-*-* 00/6:15:00"
    """systemd OnCalendar of the backup timer (default every 6 hours)."""
    retention: Retention = Retention(daily=14, weekly=8)
    """Copies kept per hub."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return _calendar(value)


class BackupConfig(StrictModel):
    """Backups to one target (exactly one of `s3` and `sftp`). Absent section: no backups at all."""

    s3: S3BackupTarget | None = None
    """Back up to this S3-compatible bucket."""
    sftp: SftpBackupTarget | None = None
    """Back up to this SFTP server."""
    etcd: EtcdBackup = EtcdBackup()
    """etcd snapshots on the control planes."""
    homes: HomesBackup = HomesBackup()
    """Homes and shared folders on the managed NFS server."""
    hub_databases: HubDbBackup = HubDbBackup()
    """Hub databases."""
    metrics_dir: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9._-]+)+$")] = "/var/lib/prometheus/node-exporter"
    """node-exporter's textfile collector directory: each job writes `jupyterhub_platform_backup_<job>.prom` there.
    With the platform's `monitoring` on it must stay the default, the directory its node-exporters read."""
    timeout_hours: Annotated[int, Field(ge=1, le=48)] = 6
    """A job still running after this long is stopped and reported as failed."""

    @model_validator(mode="after")
    def _one_target(self) -> BackupConfig:
        if (self.s3 is None) == (self.sftp is None):
            raise ValueError("name exactly one target: backup.s3 or backup.sftp")
        return self
