"""Which host runs which backup job, and the scripts and units that run them (pure).

- every control plane: `backup-etcd` (each uploads its own snapshots to its own repository, tagged
  with its node name; any one of them is enough to restore the cluster);
- the managed NFS server: `backup-homes`;
- the node of each SQLite hub database: `backup-hub-db` (`sqlite3 .backup`); PostgreSQL hubs are
  dumped from the first control plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from components.backup import units
from components.backup.targets import LIB_DIR, PGPASS_FILE, STATE_DIR, ResticSettings
from components.common.shell import HostFile, RenderedScript, render_script
from components.jupyterhub.hub_db import BASE_DIR as HUB_DB_BASE_DIR
from config.backup import BackupConfig
from config.backup_rules import etcd_backed_up, homes_backed_up, hub_databases_backed_up, quotas_enforced
from config.hub_queries import hub_db_node
from config.inventory import Role
from config.nfs import EXCHANGE_DIR, HOMES_DIR, SHARED_DIR
from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
LIB = SCRIPTS / "backup-lib.sh"
ETCD_PKI = "/etc/kubernetes/pki/etcd"
ETCD_SNAPSHOT_DIR = f"{STATE_DIR}/etcd"
HUB_DB_STAGING = f"{STATE_DIR}/hub-db"
HUB_DB_FILE = "jupyterhub.sqlite"
ETCDCTL = "/usr/local/bin/etcdctl"
ETCDUTL = "/usr/local/bin/etcdutl"


@dataclass(frozen=True)
class PostgresTarget:
    """Where `pg_dump` connects for one hub (the password is the hub's `db_password` secret)."""

    hub: str
    host: str
    port: int
    user: str
    database: str


@dataclass
class NodeJobs:
    """The backup jobs of one host."""

    node: str
    etcd: bool = False
    homes_paths: list[str] = field(default_factory=list)
    sqlite: dict[str, str] = field(default_factory=dict)
    """Hub name -> its SQLite file on this node."""
    postgres: list[PostgresTarget] = field(default_factory=list)

    @property
    def hub_db(self) -> bool:
        return bool(self.sqlite or self.postgres)


def postgres_target(hub: str, url: str) -> PostgresTarget:
    parsed = urlparse(url)
    return PostgresTarget(
        hub=hub,
        host=parsed.hostname or "localhost",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        database=parsed.path.lstrip("/") or hub,
    )


def plan(cfg: PlatformConfig) -> dict[str, NodeJobs]:
    """Node name -> its jobs, in inventory order; empty without a backup section or in existing mode."""
    backup = cfg.backup
    if backup is None or not cfg.builds_cluster:
        return {}
    jobs: dict[str, NodeJobs] = {}

    def on(node: str) -> NodeJobs:
        return jobs.setdefault(node, NodeJobs(node))

    control_planes = cfg.inventory.control_planes
    if etcd_backed_up(cfg):
        for cp in control_planes:
            on(cp.name).etcd = True
    nfs_nodes = cfg.inventory.with_role(Role.NFS)
    if homes_backed_up(cfg) and nfs_nodes:
        paths = [f"{cfg.nfs.export_path}/{HOMES_DIR}"]
        if backup.homes.include_shared:
            paths.append(f"{cfg.nfs.export_path}/{SHARED_DIR}")
        if cfg.courses.courses:
            # The nbgrader exchange (ngshare's database and submitted files, see components/courses) is user data.
            paths.append(f"{cfg.nfs.export_path}/{EXCHANGE_DIR}")
        on(nfs_nodes[0].name).homes_paths = paths
    if hub_databases_backed_up(cfg):
        for hub in cfg.hubs:
            node = hub_db_node(cfg, hub)
            if node is not None:
                on(node.name).sqlite[hub.name] = f"{hub_db_directory(hub.name)}/{HUB_DB_FILE}"
            elif hub.database.type == "postgres" and hub.database.url and control_planes:
                on(control_planes[0].name).postgres.append(postgres_target(hub.name, hub.database.url))
    order = [n.name for n in cfg.inventory.nodes]
    return {name: jobs[name] for name in order if name in jobs}


def hub_db_directory(hub: str) -> str:
    """The platform's local volume directory of a hub's SQLite database."""
    return f"{HUB_DB_BASE_DIR}/{hub}"


def etcd_script(
    restic: ResticSettings,
    backup: BackupConfig,
    *,
    endpoint: str = "https://127.0.0.1:2379",
    pki: str | None = ETCD_PKI,
    snapshot_dir: str = ETCD_SNAPSHOT_DIR,
    etcdctl: str = ETCDCTL,
    etcdutl: str = ETCDUTL,
) -> RenderedScript:
    """The etcd snapshot job; tests point the endpoint, paths and tools at a local etcd (pki=None: plain http)."""
    tls = {
        "ETCD_CACERT": f"{pki}/ca.crt" if pki else "",
        "ETCD_CERT": f"{pki}/healthcheck-client.crt" if pki else "",
        "ETCD_KEY": f"{pki}/healthcheck-client.key" if pki else "",
    }
    params = {
        **restic.params("etcd", backup.etcd.retention.forget_args()),
        **tls,
        "ETCD_ENDPOINT": endpoint,
        "SNAPSHOT_DIR": snapshot_dir,
        "ETCDCTL": etcdctl,
        "ETCDUTL": etcdutl,
    }
    return render_script("backup-etcd", [LIB, SCRIPTS / "etcd-snapshot.sh"], params)


def homes_script(restic: ResticSettings, backup: BackupConfig, paths: list[str]) -> RenderedScript:
    params = {
        **restic.params("homes", backup.homes.retention.forget_args()),
        "BACKUP_PATHS": " ".join(paths),
        "EXCLUDES": "\n".join(backup.homes.excludes),
    }
    return render_script("backup-homes", [LIB, SCRIPTS / "homes-backup.sh"], params)


def databases_text(jobs: NodeJobs) -> str:
    lines = [f"{hub} sqlite {path}" for hub, path in sorted(jobs.sqlite.items())]
    lines += [f"{p.hub} postgres {p.host} {p.port} {p.user} {p.database}" for p in jobs.postgres]
    return "\n".join(lines)


def hub_db_script(
    restic: ResticSettings, backup: BackupConfig, databases: str, *, staging: str = HUB_DB_STAGING, pgpass: str = PGPASS_FILE
) -> RenderedScript:
    params = {
        **restic.params("hub-db", backup.hub_databases.retention.forget_args()),
        "DATABASES": databases,
        "STAGING_DIR": staging,
        "PGPASSFILE": pgpass,
    }
    return render_script("backup-hub-db", [LIB, SCRIPTS / "hub-db-backup.sh"], params)


def job_scripts(cfg: PlatformConfig, jobs: NodeJobs) -> dict[str, tuple[RenderedScript, str, str]]:
    """Job name -> (script, description, schedule) for one host."""
    backup = cfg.backup
    assert backup is not None
    restic = ResticSettings.for_node(backup, jobs.node)
    out: dict[str, tuple[RenderedScript, str, str]] = {}
    if jobs.etcd:
        out["backup-etcd"] = (etcd_script(restic, backup), "etcd snapshot to restic", backup.etcd.schedule)
    if jobs.homes_paths:
        out["backup-homes"] = (homes_script(restic, backup, jobs.homes_paths), "NFS homes to restic", backup.homes.schedule)
    if jobs.hub_db:
        script = hub_db_script(restic, backup, databases_text(jobs))
        out["backup-hub-db"] = (script, "hub databases to restic", backup.hub_databases.schedule)
    return out


def host_files(jobs: dict[str, tuple[RenderedScript, str, str]], timeout_hours: int) -> dict[str, HostFile]:
    """Each job's script and its service and timer units, keyed by header variable name."""
    files: dict[str, HostFile] = {}
    for job, (script, description, schedule) in jobs.items():
        key = job.upper().replace("-", "_")
        path = f"{LIB_DIR}/{job}.sh"
        unit = units.unit_name(job)
        files[f"{key}_SCRIPT"] = HostFile(path, script.text, "0755")
        files[f"{key}_SERVICE"] = HostFile(
            f"{units.UNIT_DIR}/{unit}.service", units.service_unit(job, description, path, timeout_hours)
        )
        files[f"{key}_TIMER"] = HostFile(f"{units.UNIT_DIR}/{unit}.timer", units.timer_unit(job, description, schedule))
    return files


def schedules(cfg: PlatformConfig) -> list[dict[str, str]]:
    """Every backup and quota job with its host and schedule (for the stack contract and monitoring)."""
    rows: list[dict[str, str]] = []
    backup = cfg.backup
    for node, entry in plan(cfg).items():
        assert backup is not None
        if entry.etcd:
            rows.append({"job": "backup-etcd", "node": node, "schedule": backup.etcd.schedule})
        if entry.homes_paths:
            rows.append({"job": "backup-homes", "node": node, "schedule": backup.homes.schedule})
        if entry.hub_db:
            rows.append({"job": "backup-hub-db", "node": node, "schedule": backup.hub_databases.schedule})
    server = next((n for n in cfg.inventory.with_role(Role.NFS)), None)
    if cfg.quotas is not None and quotas_enforced(cfg) and server is not None:
        rows.append({"job": "home-quotas", "node": server.name, "schedule": cfg.quotas.schedule})
    return rows
