"""Restore steps read back: the name and every exported parameter of each step `tools.restore` runs."""

from __future__ import annotations

import pytest

from components.backup.jobs import PostgresTarget
from components.backup.restore_steps import (
    check_cluster_script,
    etcd_client_args,
    etcd_member_script,
    home_script,
    hub_db_script,
    hub_pg_script,
    list_snapshots_script,
    scale_hub_script,
    static_pods_script,
)
from components.backup.targets import ResticSettings
from components.common.shell import RenderedScript
from tests.helpers import restic_params, script_exports

RESTIC = ResticSettings(repository="s3:https://s3.example.org/b/p/cp-1", host_tag="cp-1")
PKI = "/etc/kubernetes/pki/etcd"
ETCD_ARGS = (
    f"--endpoints https://127.0.0.1:2379 --cacert {PKI}/ca.crt "
    f"--cert {PKI}/healthcheck-client.crt --key {PKI}/healthcheck-client.key"
)


def restic(job: str) -> dict[str, str]:
    return restic_params(job, "s3:https://s3.example.org/b/p/cp-1", "cp-1")


def read(script: RenderedScript) -> tuple[str, dict[str, str]]:
    exports = script_exports(script.text)
    assert exports.pop("STEP_NAME") == script.name
    return script.name, exports


def test_the_etcd_member_step() -> None:
    step = etcd_member_script(
        RESTIC, snapshot_id="abc", member="cp-1", initial_cluster="cp-1=https://a:2380", peer_url="https://a:2380"
    )
    assert read(step) == (
        "restore-etcd-cp-1",
        {
            **restic("restore-etcd"),
            "SNAPSHOT_ID": "abc",
            "MEMBER_NAME": "cp-1",
            "INITIAL_CLUSTER": "cp-1=https://a:2380",
            "PEER_URL": "https://a:2380",
            "DATA_DIR": "/var/lib/etcd",
            "RESTORE_DIR": "/var/lib/jupyterhub-platform/restore",
            "ETCDCTL": "/usr/local/bin/etcdctl",
            "ETCDUTL": "/usr/local/bin/etcdutl",
            "BUMP_REVISION": "1000000000",
        },
    )


def test_the_static_pod_steps() -> None:
    expected = {
        "MANIFEST_DIR": "/etc/kubernetes/manifests",
        "STOPPED_DIR": "/etc/kubernetes/manifests-stopped-for-restore",
        "PODS": "kube-apiserver etcd",
        "WAIT_SECONDS": "300",
        "HEALTH_CHECK": "",
    }
    assert read(static_pods_script("stop")) == ("stop-control-plane", {"ACTION": "stop", **expected})
    assert read(static_pods_script("start", health_check="true")) == (
        "start-control-plane",
        {"ACTION": "start", **expected, "HEALTH_CHECK": "true"},
    )
    with pytest.raises(ValueError, match="action must be stop or start, not 'pause'"):
        static_pods_script("pause")


def test_the_cluster_check_and_the_hub_scale_steps() -> None:
    assert etcd_client_args() == ETCD_ARGS
    assert read(check_cluster_script()) == (
        "check-cluster",
        {
            "ETCDCTL": "/usr/local/bin/etcdctl",
            "ETCD_ARGS": ETCD_ARGS,
            "KUBECONFIG_PATH": "/etc/kubernetes/admin.conf",
            "WAIT_SECONDS": "600",
        },
    )
    assert read(scale_hub_script("jhub-a", 0)) == (
        "scale-hub-jhub-a-to-0",
        {"NAMESPACE": "jhub-a", "REPLICAS": "0", "KUBECONFIG_PATH": "/etc/kubernetes/admin.conf", "WAIT_SECONDS": "600"},
    )


def test_the_hub_database_steps() -> None:
    target = PostgresTarget("pg", "db.example.org", 5433, "hubuser", "hubs")
    assert read(hub_pg_script(RESTIC, target=target, snapshot="s1", staging_dir="/st")) == (
        "restore-hub-db-pg",
        {
            **restic("restore-hub-db"),
            "HUB": "pg",
            "SNAPSHOT": "s1",
            "PG_HOST": "db.example.org",
            "PG_PORT": "5433",
            "PG_USER": "hubuser",
            "PG_DB": "hubs",
            "STAGING_DIR": "/st",
            "PGPASSFILE": "/etc/jupyterhub-platform/backup/pgpass",
        },
    )
    assert read(hub_db_script(RESTIC, hub="a", db_file="/d/a.sqlite", snapshot="s2", staging_dir="/st", uid=1000, gid=100)) == (
        "restore-hub-db-a",
        {
            **restic("restore-hub-db"),
            "HUB": "a",
            "DB_FILE": "/d/a.sqlite",
            "SNAPSHOT": "s2",
            "STAGING_DIR": "/st",
            "DB_UID": "1000",
            "DB_GID": "100",
        },
    )


def test_the_home_and_listing_steps() -> None:
    step = home_script(RESTIC, home_path="/srv/homes/jhub-a/alice", at="latest", staging_dir="/st", owner_uid=1000, owner_gid=100)
    assert read(step) == (
        "restore-home",
        {
            **restic("restore-home"),
            "HOME_PATH": "/srv/homes/jhub-a/alice",
            "AT": "latest",
            "STAGING_DIR": "/st",
            "OWNER_UID": "1000",
            "OWNER_GID": "100",
        },
    )
    assert read(list_snapshots_script(RESTIC, "etcd")) == ("list-snapshots", {**restic("list-snapshots"), "TAG": "etcd"})
    assert read(list_snapshots_script(RESTIC))[1]["TAG"] == ""
