"""The remote steps Pulumi runs (pure): install each host's backup jobs, and the NFS server's quotas."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

from components.backup import jobs as backup_jobs
from components.backup import units
from components.backup.quotas import limits_text, reconcile_script
from components.backup.targets import CONF_DIR, KNOWN_HOSTS_FILE, LIB_DIR, ResticSettings, known_hosts
from components.common.shell import HostFile, RenderedScript, render_script
from config.backup import BackupConfig
from config.nfs import HOMES_DIR
from config.platform import PlatformConfig
from config.quotas import QuotaConfig

SCRIPTS = Path(__file__).parent / "scripts"
QUOTA_JOB = "home-quotas"


def _embedded(name: str, bodies: list[Path], params: dict[str, str | int | bool], files: dict[str, HostFile]) -> RenderedScript:
    """A step that installs `files`: their content travels base64-encoded in the header (scripts full of
    `$` inside single quotes would otherwise drown shellcheck in SC2016 notes), while the render still
    records each file as plain text under `files/nodes/<node>/<path>`."""
    embedded: dict[str, str | int | bool] = {"HOST_FILES": " ".join(sorted(files))}
    for key, spec in files.items():
        embedded[f"{key}_PATH"] = spec.path
        embedded[f"{key}_MODE"] = spec.mode
        embedded[f"{key}_B64"] = base64.b64encode(spec.content.encode()).decode()
    script = render_script(name, [SCRIPTS / "embedded-files.sh", *bodies], {**params, **embedded})
    return dataclasses.replace(script, files={spec.path: spec for spec in files.values()})


def install_script(cfg: PlatformConfig, jobs: backup_jobs.NodeJobs, *, host_root: str = "") -> RenderedScript:
    """The `backup` step of one host: packages, secrets (stdin), job scripts, units, repository, timers."""
    backup = cfg.backup
    assert backup is not None
    scripts = backup_jobs.job_scripts(cfg, jobs)
    files = backup_jobs.host_files(scripts, backup.timeout_hours)
    hosts_line = known_hosts(backup)
    if hosts_line is not None:
        files["SFTP_KNOWN_HOSTS"] = HostFile(KNOWN_HOSTS_FILE, hosts_line, "0644")
    packages = ["restic", "curl"]
    if jobs.sqlite:
        packages.append("sqlite3")
    if jobs.postgres:
        packages.append("postgresql-client")
    if backup.sftp is not None:
        packages.append("openssh-client")
    params = {
        **ResticSettings.for_node(backup, jobs.node).params("install"),
        "PACKAGES": " ".join(packages),
        "ETCD_CLIENT_VERSION": backup.etcd.client_version if jobs.etcd else "",
        "ETCD_SHA256_AMD64": backup.etcd.client_sha256.get("amd64", ""),
        "ETCD_SHA256_ARM64": backup.etcd.client_sha256.get("arm64", ""),
        "ETCD_DOWNLOAD_BASE": backup.etcd.client_download_base,
        "AWS_REGION_NAME": backup.s3.region if backup.s3 is not None else "",
        "CONF_DIR": CONF_DIR,
        "TIMERS": " ".join(f"{units.unit_name(job)}.timer" for job in scripts),
        "HOST_ROOT": host_root,
    }
    return _embedded("backup", [backup_jobs.LIB, SCRIPTS / "install-backup.sh"], params, files)


def uninstall_script(step: RenderedScript, *, host_root: str = "", secrets: tuple[str, ...] = ()) -> RenderedScript:
    """The delete of a step: disable its timers, remove the files it installed (and its secret files)."""
    timers = [path.rsplit("/", 1)[1] for path in step.files if path.endswith(".timer")]
    params: dict[str, str | int | bool] = {
        "TIMERS": " ".join(sorted(timers)),
        "REMOVE_PATHS": " ".join([*sorted(step.files), *secrets]),
        "HOST_ROOT": host_root,
    }
    return render_script(f"{step.name}-remove", SCRIPTS / "uninstall-jobs.sh", params)


SECRET_FILES = tuple(f"{CONF_DIR}/{name}" for name in ("restic-password", "restic.env", "sftp-key", "pgpass"))


def secret_names(backup: BackupConfig, jobs: backup_jobs.NodeJobs) -> list[str]:
    """Names the install step expects on stdin (values come from stack secrets)."""
    names = ["RESTIC_PASSWORD"]
    if backup.s3 is not None:
        names += ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    if backup.sftp is not None:
        names.append("SFTP_PRIVATE_KEY")
    if jobs.postgres:
        names.append("PGPASS")
    return names


def quota_step_script(cfg: PlatformConfig, quotas: QuotaConfig) -> RenderedScript:
    """The `home-quotas` step on the managed NFS server: preflight, reconcile script, timer, first run."""
    homes_root = f"{cfg.nfs.export_path}/{HOMES_DIR}"
    reconcile = reconcile_script(homes_root, limits_text(cfg, quotas), metrics_dir=quotas.metrics_dir)
    path = f"{LIB_DIR}/{QUOTA_JOB}.sh"
    unit = units.unit_name(QUOTA_JOB)
    description = "XFS project quotas of the home folders"
    files = {
        "QUOTA_SCRIPT": HostFile(path, reconcile.text, "0755"),
        "QUOTA_SERVICE": HostFile(f"{units.UNIT_DIR}/{unit}.service", units.service_unit(QUOTA_JOB, description, path, 1)),
        "QUOTA_TIMER": HostFile(f"{units.UNIT_DIR}/{unit}.timer", units.timer_unit(QUOTA_JOB, description, quotas.schedule)),
    }
    params: dict[str, str | int | bool] = {"EXPORT_PATH": cfg.nfs.export_path, "TIMERS": f"{unit}.timer", "RECONCILE_PATH": path}
    return _embedded(QUOTA_JOB, [SCRIPTS / "quota-preflight.sh", SCRIPTS / "install-quotas.sh"], params, files)
