"""Where backups go and how hosts authenticate (pure): repository strings, the SFTP ssh command,
the stdin payload that carries the secrets, and the settings every restic call shares."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from config.backup import BackupConfig

CONF_DIR = "/etc/jupyterhub-platform/backup"
STATE_DIR = "/var/lib/jupyterhub-platform/backup"
LIB_DIR = "/usr/local/lib/jupyterhub-platform/backup"
RESTORE_DIR = "/var/lib/jupyterhub-platform/restore"
RESTIC_ENV_FILE = f"{CONF_DIR}/restic.env"
PGPASS_FILE = f"{CONF_DIR}/pgpass"
SFTP_KEY_FILE = f"{CONF_DIR}/sftp-key"
KNOWN_HOSTS_FILE = f"{CONF_DIR}/sftp-known-hosts"


def repository(backup: BackupConfig, node: str) -> str:
    """The restic repository of one host: `<target>/<node name>` (each host its own repository)."""
    if backup.s3 is not None:
        s3 = backup.s3
        endpoint = s3.endpoint_url or "https://s3.amazonaws.com"
        return f"s3:{endpoint}/{s3.bucket}/{s3.prefix}/{node}"
    assert backup.sftp is not None  # the model requires exactly one target
    sftp = backup.sftp
    return f"sftp:{sftp.user}@{sftp.host}:{sftp.path}/{node}"


def sftp_command(backup: BackupConfig, key_file: str = SFTP_KEY_FILE, known_hosts_file: str = KNOWN_HOSTS_FILE) -> str:
    """restic's `sftp.command`: ssh with the root-only key and the pinned host key, nothing learnt."""
    if backup.sftp is None:
        return ""
    s = backup.sftp
    return (
        f"ssh -i {key_file} -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o BatchMode=yes "
        f"-o UserKnownHostsFile={known_hosts_file} -o ConnectTimeout=30 -o ServerAliveInterval=60 "
        f"-p {s.port} {s.user}@{s.host} -s sftp"
    )


def known_hosts(backup: BackupConfig) -> str | None:
    """The known_hosts line of the SFTP server (public: a host key), or None for S3."""
    if backup.sftp is None:
        return None
    s = backup.sftp
    name = s.host if s.port == 22 else f"[{s.host}]:{s.port}"
    return f"{name} {s.host_key}"


def secret_payload(values: Mapping[str, str]) -> str:
    """stdin of the install step: `<NAME> <base64>` per secret (base64: any byte survives the line format)."""
    return "".join(f"{name} {base64.b64encode(v.encode()).decode()}\n" for name, v in sorted(values.items()))


@dataclass(frozen=True)
class ResticSettings:
    """The parameters of backup-lib.sh for one host."""

    repository: str
    host_tag: str
    sftp_command: str = ""
    env_file: str = RESTIC_ENV_FILE
    state_dir: str = STATE_DIR
    metrics_dir: str = "/var/lib/prometheus/node-exporter"
    timeout_seconds: int = 6 * 3600
    restic: str = "restic"

    @classmethod
    def for_node(cls, backup: BackupConfig, node: str) -> ResticSettings:
        return cls(
            repository=repository(backup, node),
            host_tag=node,
            sftp_command=sftp_command(backup),
            metrics_dir=backup.metrics_dir,
            timeout_seconds=backup.timeout_hours * 3600,
        )

    def params(self, job: str, forget_args: list[str] | None = None) -> dict[str, str | int | bool]:
        return {
            "JOB": job,
            "REPOSITORY": self.repository,
            "HOST_TAG": self.host_tag,
            "RESTIC_ENV_FILE": self.env_file,
            "RESTIC_SFTP_COMMAND": self.sftp_command,
            "METRICS_DIR": self.metrics_dir,
            "STATE_DIR": self.state_dir,
            "FORGET_ARGS": " ".join(forget_args or []),
            "RESTIC": self.restic,
            "RESTIC_TIMEOUT": self.timeout_seconds,
        }
