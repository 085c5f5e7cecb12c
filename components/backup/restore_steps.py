"""Restore scripts (pure): what `python -m tools.restore` runs on each host, one step at a time.

Each takes its paths as parameters so tests can run it against temporary directories.
"""

from __future__ import annotations

from pathlib import Path

from components.backup.jobs import ETCD_PKI, ETCDCTL, ETCDUTL, LIB, PostgresTarget
from components.backup.targets import PGPASS_FILE, RESTORE_DIR, ResticSettings
from components.common.shell import RenderedScript, render_script

SCRIPTS = Path(__file__).parent / "scripts"
MANIFEST_DIR = "/etc/kubernetes/manifests"
STOPPED_DIR = "/etc/kubernetes/manifests-stopped-for-restore"
ETCD_DATA_DIR = "/var/lib/etcd"
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
# Revisions added on restore (etcdutl --bump-revision): far beyond what an hour of API writes produces.
BUMP_REVISION = 1_000_000_000


def etcd_member_script(
    restic: ResticSettings,
    *,
    snapshot_id: str,
    member: str,
    initial_cluster: str,
    peer_url: str,
    data_dir: str = ETCD_DATA_DIR,
    restore_dir: str = RESTORE_DIR,
    etcdctl: str = ETCDCTL,
    etcdutl: str = ETCDUTL,
) -> RenderedScript:
    params = {
        **restic.params("restore-etcd"),
        "SNAPSHOT_ID": snapshot_id,
        "MEMBER_NAME": member,
        "INITIAL_CLUSTER": initial_cluster,
        "PEER_URL": peer_url,
        "DATA_DIR": data_dir,
        "RESTORE_DIR": restore_dir,
        "ETCDCTL": etcdctl,
        "ETCDUTL": etcdutl,
        "BUMP_REVISION": BUMP_REVISION,
    }
    return render_script(f"restore-etcd-{member}", [LIB, SCRIPTS / "restore-etcd-member.sh"], params)


def static_pods_script(
    action: str,
    *,
    manifest_dir: str = MANIFEST_DIR,
    stopped_dir: str = STOPPED_DIR,
    pods: tuple[str, ...] = ("kube-apiserver", "etcd"),
    wait_seconds: int = 300,
    health_check: str = "",
) -> RenderedScript:
    if action not in ("stop", "start"):
        raise ValueError(f"action must be stop or start, not {action!r}")
    params: dict[str, str | int | bool] = {
        "ACTION": action,
        "MANIFEST_DIR": manifest_dir,
        "STOPPED_DIR": stopped_dir,
        "PODS": " ".join(pods),
        "WAIT_SECONDS": wait_seconds,
        "HEALTH_CHECK": health_check,
    }
    return render_script(f"{action}-control-plane", SCRIPTS / "restore-static-pods.sh", params)


def etcd_client_args(pki: str = ETCD_PKI) -> str:
    """etcdctl's endpoint and kubeadm's healthcheck client certificate on a control plane."""
    return (
        f"--endpoints https://127.0.0.1:2379 --cacert {pki}/ca.crt "
        f"--cert {pki}/healthcheck-client.crt --key {pki}/healthcheck-client.key"
    )


def check_cluster_script(*, wait_seconds: int = 600) -> RenderedScript:
    params: dict[str, str | int | bool] = {
        "ETCDCTL": ETCDCTL,
        "ETCD_ARGS": etcd_client_args(),
        "KUBECONFIG_PATH": ADMIN_KUBECONFIG,
        "WAIT_SECONDS": wait_seconds,
    }
    return render_script("check-cluster", SCRIPTS / "restore-check-cluster.sh", params)


def scale_hub_script(namespace: str, replicas: int, *, wait_seconds: int = 600) -> RenderedScript:
    params: dict[str, str | int | bool] = {
        "NAMESPACE": namespace,
        "REPLICAS": replicas,
        "KUBECONFIG_PATH": ADMIN_KUBECONFIG,
        "WAIT_SECONDS": wait_seconds,
    }
    return render_script(f"scale-hub-{namespace}-to-{replicas}", SCRIPTS / "restore-hub-scale.sh", params)


def hub_pg_script(
    restic: ResticSettings, *, target: PostgresTarget, snapshot: str, staging_dir: str, pgpass: str = PGPASS_FILE
) -> RenderedScript:
    params = {
        **restic.params("restore-hub-db"),
        "HUB": target.hub,
        "SNAPSHOT": snapshot,
        "PG_HOST": target.host,
        "PG_PORT": target.port,
        "PG_USER": target.user,
        "PG_DB": target.database,
        "STAGING_DIR": staging_dir,
        "PGPASSFILE": pgpass,
    }
    return render_script(f"restore-hub-db-{target.hub}", [LIB, SCRIPTS / "restore-hub-pg.sh"], params)


def home_script(
    restic: ResticSettings, *, home_path: str, at: str, staging_dir: str, owner_uid: int, owner_gid: int
) -> RenderedScript:
    params = {
        **restic.params("restore-home"),
        "HOME_PATH": home_path,
        "AT": at,
        "STAGING_DIR": staging_dir,
        "OWNER_UID": owner_uid,
        "OWNER_GID": owner_gid,
    }
    return render_script("restore-home", [LIB, SCRIPTS / "restore-home.sh"], params)


def hub_db_script(
    restic: ResticSettings, *, hub: str, db_file: str, snapshot: str, staging_dir: str, uid: int, gid: int
) -> RenderedScript:
    params = {
        **restic.params("restore-hub-db"),
        "HUB": hub,
        "DB_FILE": db_file,
        "SNAPSHOT": snapshot,
        "STAGING_DIR": staging_dir,
        "DB_UID": uid,
        "DB_GID": gid,
    }
    return render_script(f"restore-hub-db-{hub}", [LIB, SCRIPTS / "restore-hub-db.sh"], params)


def list_snapshots_script(restic: ResticSettings, tag: str = "") -> RenderedScript:
    params = {**restic.params("list-snapshots"), "TAG": tag}
    return render_script("list-snapshots", [LIB, SCRIPTS / "list-snapshots.sh"], params)
