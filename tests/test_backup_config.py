"""The `backup` and `quotas` sections: every rule fails with its dotted path and message; secrets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.backup_rules import etcd_backed_up, homes_backed_up, quotas_enforced
from config.errors import ConfigError
from config.loader import load_platform
from config.secrets import required_secrets
from tests.helpers import stack_raw


def _raw(stack: str, **sections: Any) -> tuple[dict[str, Any], set[str]]:
    raw, keys = stack_raw(stack)
    raw = copy.deepcopy(raw)
    raw.update(sections)
    cfg = load_platform(raw, keys, missing_secrets_ok=True)
    return raw, set(keys) | {r.key for r in required_secrets(cfg)}


def errors(stack: str, **sections: Any) -> list[str]:
    raw, keys = stack_raw(stack)
    raw = copy.deepcopy(raw)
    raw.update(sections)
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, keys, missing_secrets_ok=True)
    return caught.value.lines()


S3 = {"s3": {"bucket": "platform-backups"}}


def test_defaults() -> None:
    raw, keys = _raw("dev", backup=S3)
    cfg = load_platform(raw, keys)
    assert cfg.backup is not None
    assert cfg.backup.etcd.schedule == "hourly"
    assert cfg.backup.etcd.retention.forget_args() == ["--keep-hourly", "24", "--keep-daily", "14", "--keep-weekly", "8"]
    assert cfg.backup.homes.retention.forget_args() == ["--keep-daily", "14", "--keep-weekly", "8", "--keep-monthly", "6"]
    assert ".cache" in cfg.backup.homes.excludes
    assert cfg.backup.metrics_dir == "/var/lib/prometheus/node-exporter"


def test_backup_needs_its_secrets_with_the_command_to_set_them() -> None:
    raw, keys = stack_raw("dev")
    raw = {**copy.deepcopy(raw), "backup": S3}
    base = {r.key for r in required_secrets(load_platform(raw, keys, missing_secrets_ok=True))}
    base -= {"backup_restic_password", "backup_s3_access_key_id", "backup_s3_secret_access_key"}
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, base)
    lines = [line for line in caught.value.lines() if "backup_" in line]
    assert lines == [
        "error: backup_restic_password: missing secret (the password that encrypts the backup repositories (keep a copy "
        "outside the cluster: without it no restore)); set it with: pulumi config set --secret backup_restic_password "
        '"$(openssl rand -base64 32)"',
        "error: backup_s3_access_key_id: missing secret (the access key id of the backup bucket); set it with: "
        "pulumi config set --secret backup_s3_access_key_id '<access key id>'",
        "error: backup_s3_secret_access_key: missing secret (the secret access key of the backup bucket); set it with: "
        "pulumi config set --secret backup_s3_secret_access_key '<secret access key>'",
    ]


def test_sftp_target_needs_its_key() -> None:
    sftp = {
        "sftp": {"host": "backup.example.org", "user": "restic", "path": "/srv/restic", "host_key": "ssh-ed25519 " + "A" * 68}
    }
    raw, keys = stack_raw("dev")
    cfg = load_platform({**copy.deepcopy(raw), "backup": sftp}, keys, missing_secrets_ok=True)
    assert {r.key for r in required_secrets(cfg)} >= {"backup_restic_password", "backup_sftp_private_key"}
    assert "backup_s3_access_key_id" not in {r.key for r in required_secrets(cfg)}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({}, "error: backup: name exactly one target: backup.s3 or backup.sftp"),
        ({**S3, "sftp": {"host": "h", "user": "u", "path": "/p", "host_key": "ssh-ed25519 " + "A" * 68}},
         "error: backup: name exactly one target: backup.s3 or backup.sftp"),
        ({"s3": {"bucket": "platform-backups", "prefix": "/abs"}},
         "error: backup.s3.prefix: '/abs': use names of letters, digits and ._- separated by '/' (no leading '/')"),
        ({**S3, "etcd": {"schedule": "every hour; rm -rf /"}},
         "error: backup.etcd.schedule: 'every hour; rm -rf /' is not a systemd OnCalendar expression like "
         "'hourly' or '*-*-* 02:30:00'"),
        ({**S3, "homes": {"retention": {"daily": 0, "weekly": 0, "monthly": 0}}},
         "error: backup.homes.retention: keep at least one period (all zero would forget every snapshot)"),
        ({**S3, "etcd": {"client_sha256": {"amd64": "abc"}}},
         "error: backup.etcd.client_sha256.amd64: has characters or a form this field does not allow"),
        ({**S3, "bogus": 1}, "error: backup.bogus: unknown key (check the spelling)"),
    ],
)  # fmt: skip
def test_section_rules(section: dict[str, Any], expected: str) -> None:
    assert any(line.startswith(expected) for line in errors("dev", backup=section)), errors("dev", backup=section)


def test_external_nas_and_existing_cluster_are_refused_with_the_way_out() -> None:
    nas = {"mode": "external", "server": "nas.example.org"}
    inventory = _dev_without_nfs_role()
    # Unset `enabled`: a NAS is simply not backed up (etcd and hub databases still are), quotas not enforced.
    cfg = load_platform(*_raw("dev", backup=S3, nfs=nas, quotas={}, inventory=inventory), missing_secrets_ok=True)
    assert etcd_backed_up(cfg) and not homes_backed_up(cfg) and not quotas_enforced(cfg)
    lines = errors("dev", backup={**S3, "homes": {"enabled": True}}, nfs=nas, quotas={"enabled": True}, inventory=inventory)
    assert (
        "error: backup.homes.enabled: nfs.mode external: the platform does not back up a NAS; use the NAS's own "
        "snapshots and set false" in lines
    )
    assert (
        "error: quotas.enabled: nfs.mode external: quotas are enforced on the managed NFS server only; set them "
        "on the NAS and set false" in lines
    )


def _dev_without_nfs_role() -> dict[str, Any]:
    raw, _ = stack_raw("dev")
    inventory = copy.deepcopy(raw["inventory"])
    inventory["nodes"][0]["roles"] = ["control-plane", "worker"]
    return inventory


def test_existing_cluster_has_no_hosts_for_etcd_or_databases() -> None:
    nas = {"mode": "external", "server": "nas.example.org"}
    lines = errors("dev", backup=S3, cluster={"mode": "existing"}, nfs=nas, inventory=_dev_without_nfs_role())
    backup_lines = [line for line in lines if "backup" in line]
    assert backup_lines == [
        "error: backup: no backup job can run in this stack (existing cluster, NAS, or every job off): remove the section"
    ]
    on = {"enabled": True}
    lines = errors("dev", backup={**S3, "etcd": on, "hub_databases": on}, cluster={"mode": "existing"},
                   nfs={"mode": "external", "server": "nas.example.org"}, inventory=_dev_without_nfs_role())  # fmt: skip
    assert (
        "error: backup.etcd.enabled: cluster.mode existing: the platform has no SSH access to that cluster's "
        "control planes; set false and back up its etcd where that cluster is run" in lines
    )
    assert any(line.startswith("error: backup.hub_databases.enabled: cluster.mode existing: no host") for line in lines)


def test_sqlite_on_an_own_storage_class_cannot_be_backed_up() -> None:
    raw, _ = stack_raw("dev")
    hubs = copy.deepcopy(raw["hubs"])
    hubs[0]["database"] = {"storage_class": "local-path"}
    lines = errors("dev", backup=S3, hubs=hubs)
    assert (
        "error: hubs.0.database.storage_class: hub 'dev' keeps SQLite on a StorageClass of its own, which backups cannot "
        "reach: unset storage_class (platform volume), use type postgres, or set backup.hub_databases.enabled: false"
    ) in lines


def test_quota_rules() -> None:
    quotas = {
        "hubs": [
            {"hub": "nope"},
            {"hub": "dev", "users": [{"user": "a", "soft_gib": 1, "hard_gib": 2}, {"user": "a", "soft_gib": 1, "hard_gib": 2}]},
            {"hub": "dev"},
        ],
        "default": {"soft_gib": 5, "hard_gib": 4},
    }
    lines = errors("dev", quotas=quotas)
    assert "error: quotas.hubs.0.hub: unknown hub 'nope' (hubs: dev)" not in lines  # model errors come first
    assert lines == ["error: quotas.default: soft_gib 5 is above hard_gib 4"]
    quotas["default"] = {"soft_gib": 4, "hard_gib": 5}
    assert errors("dev", quotas=quotas) == [
        "error: quotas.hubs.0.hub: unknown hub 'nope' (hubs: dev)",
        "error: quotas.hubs.1.users.1.user: user 'a' is already listed in users.0",
        "error: quotas.hubs.2.hub: hub 'dev' is already configured in quotas.hubs.1",
    ]
