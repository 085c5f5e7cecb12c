"""The backup and quota install steps read back: every parameter each exports (files travel base64 in
the header and are decoded here), the packages each host needs, the secrets expected on stdin, and the
uninstall step that removes exactly what was installed plus the secret files."""

from __future__ import annotations

import base64
from typing import Any

from components.backup import units
from components.backup.jobs import host_files, job_scripts, plan
from components.backup.steps import SECRET_FILES, install_script, quota_step_script, secret_names, uninstall_script
from config.backup import BackupConfig
from tests.helpers import restic_params, script_exports
from tests.test_backup_jobs_exact import KEY, platform

LIB = "/usr/local/lib/jupyterhub-platform/backup"
UNITS = "/etc/systemd/system/jupyterhub-platform"


def decoded(exports: dict[str, str]) -> dict[str, Any]:
    """The header with each embedded file's `<KEY>_B64` replaced by its text under `<KEY>`."""
    out: dict[str, Any] = {}
    for key, value in exports.items():
        if key.endswith("_B64"):
            out[key.removesuffix("_B64")] = base64.b64decode(value).decode()
        else:
            out[key] = value
    return out


def restic_install(node: str) -> dict[str, str]:
    return restic_params("install", f"s3:https://s3.amazonaws.com/backups/jupyterhub-platform/{node}", node)


def test_the_install_step_of_the_first_control_plane() -> None:
    cfg = platform()
    jobs = plan(cfg)["cp-1"]
    step = install_script(cfg, jobs, host_root="/tmp/root")
    files = host_files(job_scripts(cfg, jobs), 6)
    embedded: dict[str, str] = {}
    for key, spec in files.items():
        embedded |= {f"{key}_PATH": spec.path, f"{key}_MODE": spec.mode, key: spec.content}
    assert decoded(script_exports(step.text)) == {
        "STEP_NAME": "backup",
        **restic_install("cp-1"),
        "PACKAGES": "restic curl postgresql-client",
        "ETCD_CLIENT_VERSION": "3.6.5",
        "ETCD_SHA256_AMD64": "66bad39ed920f6fc15fd74adcb8bfd38ba9a6412f8c7852d09eb11670e88cac3",
        "ETCD_SHA256_ARM64": "",
        "ETCD_DOWNLOAD_BASE": "https://github.com/etcd-io/etcd/releases/download",
        "AWS_REGION_NAME": "us-east-1",
        "CONF_DIR": "/etc/jupyterhub-platform/backup",
        "TIMERS": "jupyterhub-platform-backup-etcd.timer jupyterhub-platform-backup-hub-db.timer",
        "HOST_ROOT": "/tmp/root",
        "HOST_FILES": " ".join(sorted(files)),
        **embedded,
    }
    # The render records each file as plain text, by its path on the host.
    assert step.files == {spec.path: spec for spec in files.values()}


def test_other_hosts_packages_and_the_etcd_client() -> None:
    cfg = platform()
    nfs = script_exports(install_script(cfg, plan(cfg)["nfs-1"]).text)
    assert (nfs["PACKAGES"], nfs["ETCD_CLIENT_VERSION"], nfs["TIMERS"]) == (
        "restic curl",
        "",
        "jupyterhub-platform-backup-homes.timer",
    )
    worker = script_exports(install_script(cfg, plan(cfg)["w-1"]).text)
    assert (worker["PACKAGES"], worker["HOST_ROOT"]) == ("restic curl sqlite3", "")


def test_an_sftp_target_adds_ssh_and_its_known_host() -> None:
    sftp = {"host": "nas.example.org", "user": "backup", "path": "/srv/b", "host_key": KEY}
    cfg = platform({"sftp": sftp, "s3": None})
    header = decoded(script_exports(install_script(cfg, plan(cfg)["nfs-1"]).text))
    assert (header["PACKAGES"], header["AWS_REGION_NAME"]) == ("restic curl openssh-client", "")
    known = "/etc/jupyterhub-platform/backup/sftp-known-hosts"
    assert (header["SFTP_KNOWN_HOSTS_PATH"], header["SFTP_KNOWN_HOSTS_MODE"]) == (known, "0644")
    assert header["SFTP_KNOWN_HOSTS"] == f"nas.example.org {KEY}"
    assert "SFTP_KNOWN_HOSTS" in header["HOST_FILES"].split()


def test_secret_names_per_target_and_host() -> None:
    cfg = platform()
    assert cfg.backup is not None
    jobs = plan(cfg)
    assert secret_names(cfg.backup, jobs["cp-1"]) == ["RESTIC_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGPASS"]
    assert secret_names(cfg.backup, jobs["w-1"]) == ["RESTIC_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    sftp = BackupConfig.model_validate({"sftp": {"host": "nas.example.org", "user": "backup", "path": "/srv/b", "host_key": KEY}})
    assert secret_names(sftp, jobs["w-1"]) == ["RESTIC_PASSWORD", "SFTP_PRIVATE_KEY"]


def test_the_uninstall_step_removes_what_was_installed() -> None:
    cfg = platform()
    step = install_script(cfg, plan(cfg)["cp-1"])
    remove = uninstall_script(step, host_root="/r", secrets=SECRET_FILES)
    assert remove.name == "backup-remove"
    assert script_exports(remove.text) == {
        "STEP_NAME": "backup-remove",
        "TIMERS": "jupyterhub-platform-backup-etcd.timer jupyterhub-platform-backup-hub-db.timer",
        "REMOVE_PATHS": " ".join(
            [
                *sorted(step.files),
                "/etc/jupyterhub-platform/backup/restic-password",
                "/etc/jupyterhub-platform/backup/restic.env",
                "/etc/jupyterhub-platform/backup/sftp-key",
                "/etc/jupyterhub-platform/backup/pgpass",
            ]
        ),
        "HOST_ROOT": "/r",
    }


def test_the_quota_step() -> None:
    cfg = platform(quotas={"schedule": "*:0/7", "metrics_dir": "/m", "default": {"soft_gib": 1, "hard_gib": 2}})
    assert cfg.quotas is not None
    step = quota_step_script(cfg, cfg.quotas)
    assert step.name == "home-quotas"
    header = decoded(script_exports(step.text))
    reconcile = header.pop("QUOTA_SCRIPT")
    assert script_exports(reconcile)["LIMITS"] == "* * 1 2\njhub-teaching * 1 2\njhub-pg * 1 2"
    assert script_exports(reconcile)["HOMES_ROOT"] == "/srv/nfs/jupyterhub/homes"
    assert script_exports(reconcile)["METRICS_DIR"] == "/m"
    description = "XFS project quotas of the home folders"
    assert header == {
        "STEP_NAME": "home-quotas",
        "EXPORT_PATH": "/srv/nfs/jupyterhub",
        "TIMERS": "jupyterhub-platform-home-quotas.timer",
        "RECONCILE_PATH": f"{LIB}/home-quotas.sh",
        "HOST_FILES": "QUOTA_SCRIPT QUOTA_SERVICE QUOTA_TIMER",
        "QUOTA_SCRIPT_PATH": f"{LIB}/home-quotas.sh",
        "QUOTA_SCRIPT_MODE": "0755",
        "QUOTA_SERVICE_PATH": f"{UNITS}-home-quotas.service",
        "QUOTA_SERVICE_MODE": "0644",
        "QUOTA_SERVICE": units.service_unit("home-quotas", description, f"{LIB}/home-quotas.sh", 1),
        "QUOTA_TIMER_PATH": f"{UNITS}-home-quotas.timer",
        "QUOTA_TIMER_MODE": "0644",
        "QUOTA_TIMER": units.timer_unit("home-quotas", description, "*:0/7"),
    }
