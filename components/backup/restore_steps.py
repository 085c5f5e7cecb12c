"""Restore scripts (pure): what `python -m tools.restore` runs on each host, one step at a time.

Each takes its paths as parameters so tests can run it against temporary directories.
"""

from __future__ import annotations

from pathlib import Path

from components.backup.jobs import ETCDCTL, ETCDUTL, LIB
from components.backup.targets import RESTORE_DIR, ResticSettings
from components.common.shell import RenderedScript, render_script

SCRIPTS = Path(__file__).parent / "scripts"
MANIFEST_DIR = "/etc/kubernetes/manifests"
STOPPED_DIR = "/etc/kubernetes/manifests-stopped-for-restore"
ETCD_DATA_DIR = "/var/lib/etcd"


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


def etcd_health_check(etcdctl: str = ETCDCTL, pki: str = "/etc/kubernetes/pki/etcd") -> str:
    """The command that succeeds once the local member answers (kubeadm's healthcheck client certificate)."""
    return (
        f"ETCDCTL_API=3 {etcdctl} --endpoints https://127.0.0.1:2379 --cacert {pki}/ca.crt "
        f"--cert {pki}/healthcheck-client.crt --key {pki}/healthcheck-client.key endpoint health"
    )


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
