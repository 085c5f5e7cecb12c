"""Backup job renderers read back: which host runs which job (`plan`), the parameters each job's script
exports (parsed from its header), the PostgreSQL targets, the installed files (scripts root-executable,
systemd units), the schedules, the restic target settings and the units' text.

Base: three control planes (cp-1..3), a worker (w-1), the NFS server (nfs-1), an S3 target; hub
`teaching` keeps SQLite on the platform volume (on w-1), hub `pg` uses PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

from components.backup import targets, units
from components.backup.jobs import (
    NodeJobs,
    PostgresTarget,
    databases_text,
    host_files,
    job_scripts,
    plan,
    postgres_target,
    schedules,
)
from config.backup import BackupConfig
from config.platform import PlatformConfig
from tests.helpers import restic_params, script_exports
from tests.hub_fixtures import HUB

PG_URL = "postgresql://hubuser@db.example.org:5433/hubs"
HOMES = ["/srv/nfs/jupyterhub/homes", "/srv/nfs/jupyterhub/shared"]
SQLITE = "/var/lib/jupyterhub-platform/hub-db/teaching/jupyterhub.sqlite"


def platform(backup: dict[str, Any] | None = None, **sections: Any) -> PlatformConfig:
    nodes: list[dict[str, Any]] = [
        {"name": f"cp-{n}", "address": f"192.0.2.{20 + n}", "roles": ["control-plane"]} for n in (1, 2, 3)
    ]
    nodes += [
        {"name": "nfs-1", "address": "192.0.2.51", "roles": ["nfs"]},
        {"name": "w-1", "address": "192.0.2.31", "roles": ["worker"]},
    ]
    hubs = [
        copy.deepcopy(HUB),
        {**copy.deepcopy(HUB), "name": "pg", "host": "pg.example.org", "database": {"type": "postgres", "url": PG_URL}},
    ]
    raw: dict[str, Any] = {
        "inventory": {"node_network": "192.0.2.0/24", "nodes": nodes},
        "cluster": {"endpoint": {"host": "api.example.org"}},
        "hubs": hubs,
        "backup": {"s3": {"bucket": "backups"}, **(backup or {})},
        **sections,
    }
    return PlatformConfig.model_validate(raw)


def test_the_plan_puts_each_job_on_its_host_in_inventory_order() -> None:
    jobs = plan(platform())
    assert list(jobs) == ["cp-1", "cp-2", "cp-3", "nfs-1", "w-1"]
    pg = PostgresTarget(hub="pg", host="db.example.org", port=5433, user="hubuser", database="hubs")
    assert jobs["cp-1"] == NodeJobs("cp-1", etcd=True, postgres=[pg])
    assert jobs["cp-2"] == NodeJobs("cp-2", etcd=True)
    assert jobs["nfs-1"] == NodeJobs("nfs-1", homes_paths=HOMES)
    assert jobs["w-1"] == NodeJobs("w-1", sqlite={"teaching": SQLITE})
    assert [j.hub_db for j in jobs.values()] == [True, False, False, False, True]


def test_the_plan_follows_the_switches() -> None:
    off = {"etcd": {"enabled": False}, "homes": {"include_shared": False}, "hub_databases": {"enabled": False}}
    assert plan(platform(off)) == {"nfs-1": NodeJobs("nfs-1", homes_paths=["/srv/nfs/jupyterhub/homes"])}
    assert plan(PlatformConfig.model_validate({"inventory": platform().inventory.model_dump(mode="json")})) == {}
    assert "nfs-1" not in plan(platform({"homes": {"enabled": False}}))


def test_postgres_targets_fill_in_the_defaults() -> None:
    assert postgres_target("h", "postgresql://db.example.org") == PostgresTarget("h", "db.example.org", 5432, "postgres", "h")
    assert postgres_target("h", "postgresql:///") == PostgresTarget("h", "localhost", 5432, "postgres", "h")
    assert postgres_target("h", PG_URL) == PostgresTarget("h", "db.example.org", 5433, "hubuser", "hubs")


def test_the_databases_list_one_line_each() -> None:
    jobs = NodeJobs("n", sqlite={"b": "/b.sqlite", "a": "/a.sqlite"}, postgres=[PostgresTarget("pg", "db", 5433, "u", "d")])
    assert databases_text(jobs) == "a sqlite /a.sqlite\nb sqlite /b.sqlite\npg postgres db 5433 u d"
    assert not NodeJobs("n").hub_db


def restic(job: str, node: str, forget: str) -> dict[str, str]:
    return restic_params(job, f"s3:https://s3.amazonaws.com/backups/jupyterhub-platform/{node}", node, forget)


def test_job_scripts_of_each_host() -> None:
    cfg = platform()
    jobs = plan(cfg)
    cp = job_scripts(cfg, jobs["cp-1"])
    assert {name: (d, s) for name, (_, d, s) in cp.items()} == {
        "backup-etcd": ("etcd snapshot to restic", "hourly"),
        "backup-hub-db": ("hub databases to restic", "*-*-* 00/6:15:00"),
    }
    assert script_exports(cp["backup-etcd"][0].text) == {
        "STEP_NAME": "backup-etcd",
        **restic("etcd", "cp-1", "--keep-hourly 24 --keep-daily 14 --keep-weekly 8"),
        "ETCD_CACERT": "/etc/kubernetes/pki/etcd/ca.crt",
        "ETCD_CERT": "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
        "ETCD_KEY": "/etc/kubernetes/pki/etcd/healthcheck-client.key",
        "ETCD_ENDPOINT": "https://127.0.0.1:2379",
        "SNAPSHOT_DIR": "/var/lib/jupyterhub-platform/backup/etcd",
        "ETCDCTL": "/usr/local/bin/etcdctl",
        "ETCDUTL": "/usr/local/bin/etcdutl",
    }
    assert script_exports(cp["backup-hub-db"][0].text) == {
        "STEP_NAME": "backup-hub-db",
        **restic("hub-db", "cp-1", "--keep-daily 14 --keep-weekly 8"),
        "DATABASES": "pg postgres db.example.org 5433 hubuser hubs",
        "STAGING_DIR": "/var/lib/jupyterhub-platform/backup/hub-db",
        "PGPASSFILE": "/etc/jupyterhub-platform/backup/pgpass",
    }
    nfs = job_scripts(cfg, jobs["nfs-1"])
    assert {name: (d, s) for name, (_, d, s) in nfs.items()} == {"backup-homes": ("NFS homes to restic", "*-*-* 01:30:00")}
    assert script_exports(nfs["backup-homes"][0].text) == {
        "STEP_NAME": "backup-homes",
        **restic("homes", "nfs-1", "--keep-daily 14 --keep-weekly 8 --keep-monthly 6"),
        "BACKUP_PATHS": " ".join(HOMES),
        "EXCLUDES": ".cache\n__pycache__\n.ipynb_checkpoints\n.local/share/Trash\n*.pyc\ncore.[0-9]*",
    }
    assert job_scripts(cfg, NodeJobs("cp-2")) == {}


def test_host_files_install_scripts_and_units() -> None:
    cfg = platform()
    scripts = job_scripts(cfg, plan(cfg)["cp-1"])
    files = host_files(scripts, timeout_hours=3)
    lib = "/usr/local/lib/jupyterhub-platform/backup"
    unit = "/etc/systemd/system/jupyterhub-platform-backup"
    assert {k: (f.path, f.mode) for k, f in files.items()} == {
        "BACKUP_ETCD_SCRIPT": (f"{lib}/backup-etcd.sh", "0755"),
        "BACKUP_ETCD_SERVICE": (f"{unit}-etcd.service", "0644"),
        "BACKUP_ETCD_TIMER": (f"{unit}-etcd.timer", "0644"),
        "BACKUP_HUB_DB_SCRIPT": (f"{lib}/backup-hub-db.sh", "0755"),
        "BACKUP_HUB_DB_SERVICE": (f"{unit}-hub-db.service", "0644"),
        "BACKUP_HUB_DB_TIMER": (f"{unit}-hub-db.timer", "0644"),
    }
    assert files["BACKUP_ETCD_SCRIPT"].content == scripts["backup-etcd"][0].text
    assert files["BACKUP_ETCD_SERVICE"].content == units.service_unit(
        "backup-etcd", "etcd snapshot to restic", f"{lib}/backup-etcd.sh", 3
    )
    assert files["BACKUP_HUB_DB_TIMER"].content == units.timer_unit(
        "backup-hub-db", "hub databases to restic", "*-*-* 00/6:15:00"
    )


def test_schedules_for_the_contract() -> None:
    rows = schedules(platform(quotas={"schedule": "*:0/10"}))
    assert rows == [
        {"job": "backup-etcd", "node": "cp-1", "schedule": "hourly"},
        {"job": "backup-hub-db", "node": "cp-1", "schedule": "*-*-* 00/6:15:00"},
        {"job": "backup-etcd", "node": "cp-2", "schedule": "hourly"},
        {"job": "backup-etcd", "node": "cp-3", "schedule": "hourly"},
        {"job": "backup-homes", "node": "nfs-1", "schedule": "*-*-* 01:30:00"},
        {"job": "backup-hub-db", "node": "w-1", "schedule": "*-*-* 00/6:15:00"},
        {"job": "home-quotas", "node": "nfs-1", "schedule": "*:0/10"},
    ]
    assert schedules(platform(quotas={"enabled": False}))[-1]["job"] == "backup-hub-db"


def test_units_text() -> None:
    assert units.service_unit("backup-x", "what", "/x.sh", 4) == (
        "# Rendered by jupyterhub-platform; edit the stack configuration, not this file.\n"
        "[Unit]\nDescription=jupyterhub-platform: what\nWants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\nExecStart=/x.sh\nTimeoutStartSec=4h\nNice=10\nIOSchedulingClass=idle\nPrivateTmp=true\n"
    )
    assert units.timer_unit("backup-x", "what", "daily") == (
        "# Rendered by jupyterhub-platform; edit the stack configuration, not this file.\n"
        "[Unit]\nDescription=jupyterhub-platform timer: what\n\n"
        "[Timer]\nOnCalendar=daily\nRandomizedDelaySec=300\nPersistent=true\nUnit=jupyterhub-platform-backup-x.service\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"


def test_restic_targets() -> None:
    s3 = BackupConfig.model_validate({"s3": {"bucket": "backups", "prefix": "p", "endpoint_url": "https://minio.example.org"}})
    assert targets.repository(s3, "cp-1") == "s3:https://minio.example.org/backups/p/cp-1"
    assert (targets.sftp_command(s3), targets.known_hosts(s3)) == ("", None)
    sftp = BackupConfig.model_validate({"sftp": {"host": "nas.example.org", "user": "backup", "path": "/srv/b", "host_key": KEY}})
    assert targets.repository(sftp, "cp-1") == "sftp:backup@nas.example.org:/srv/b/cp-1"
    assert targets.sftp_command(sftp) == (
        "ssh -i /etc/jupyterhub-platform/backup/sftp-key -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o BatchMode=yes "
        "-o UserKnownHostsFile=/etc/jupyterhub-platform/backup/sftp-known-hosts "
        "-o ConnectTimeout=30 -o ServerAliveInterval=60 -p 22 backup@nas.example.org -s sftp"
    )
    assert targets.sftp_command(sftp, "/k", "/h") == (
        "ssh -i /k -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o BatchMode=yes -o UserKnownHostsFile=/h "
        "-o ConnectTimeout=30 -o ServerAliveInterval=60 -p 22 backup@nas.example.org -s sftp"
    )
    assert targets.known_hosts(sftp) == f"nas.example.org {KEY}"
    on_2222 = BackupConfig.model_validate(
        {"sftp": {"host": "nas.example.org", "port": 2222, "user": "backup", "path": "/srv/b", "host_key": KEY}}
    )
    assert targets.known_hosts(on_2222) == f"[nas.example.org]:2222 {KEY}"
    assert targets.secret_payload({"b": "x y", "a": "1"}) == "a MQ==\nb eCB5\n"
    # Defaults of a bare settings object (what the restore tool starts from): six hours per restic call.
    bare = targets.ResticSettings(repository="r", host_tag="h")
    assert (bare.sftp_command, bare.env_file, bare.state_dir, bare.metrics_dir, bare.timeout_seconds, bare.restic) == (
        "",
        "/etc/jupyterhub-platform/backup/restic.env",
        "/var/lib/jupyterhub-platform/backup",
        "/var/lib/prometheus/node-exporter",
        21600,
        "restic",
    )
    settings = targets.ResticSettings.for_node(
        BackupConfig.model_validate(
            {"sftp": sftp.sftp.model_dump() if sftp.sftp else {}, "timeout_hours": 2, "metrics_dir": "/m"}
        ),
        "w-1",
    )
    assert settings.params("homes") == {
        "JOB": "homes",
        "REPOSITORY": "sftp:backup@nas.example.org:/srv/b/w-1",
        "HOST_TAG": "w-1",
        "RESTIC_ENV_FILE": "/etc/jupyterhub-platform/backup/restic.env",
        "RESTIC_SFTP_COMMAND": targets.sftp_command(sftp),
        "METRICS_DIR": "/m",
        "STATE_DIR": "/var/lib/jupyterhub-platform/backup",
        "FORGET_ARGS": "",
        "RESTIC": "restic",
        "RESTIC_TIMEOUT": 7200,
    }
