"""NFS rules, each case compared with the EXACT set of (path, message) it yields.

The configs are the two-node inventory of `tests.hub_fixtures` (cp-1 holds the nfs role), so the
managed default is valid; the replica count has its boundary case (as many replicas as nodes)."""

from __future__ import annotations

import copy
from typing import Any

from config.nfs_rules import NFS_CHECKS
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY

EXTERNAL_WITH_ROLE = "a node has the nfs role but nfs.mode is external: drop the role or use managed"


def issues(nfs: dict[str, Any], existing: bool = False, nfs_role: bool = True) -> set[tuple[str, str]]:
    inventory = copy.deepcopy(INVENTORY)
    if not nfs_role:
        inventory["nodes"][0]["roles"] = ["control-plane", "worker"]
    raw: dict[str, Any] = {"inventory": inventory, "nfs": nfs}
    if existing:
        raw["cluster"] = {"mode": "existing"}
    cfg = PlatformConfig.model_validate(raw)
    found = [(i.path, i.message) for check in NFS_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def test_managed_on_the_inventory_is_valid() -> None:
    assert issues({}) == set()
    assert issues({"mode": "managed", "extra_client_networks": ["10.0.0.0/8"]}) == set()


def test_managed_on_an_existing_cluster() -> None:
    assert issues({}, existing=True) == {
        ("nfs.mode", "an existing cluster has no SSH access to set up a server: use mode external"),
    }
    # The existing-cluster message replaces the missing-role one (no inventory roles to check there).
    assert issues({}, existing=True, nfs_role=False) == {
        ("nfs.mode", "an existing cluster has no SSH access to set up a server: use mode external"),
    }


def test_managed_without_an_nfs_node_and_with_a_server() -> None:
    assert issues({}, nfs_role=False) == {
        ("nfs.mode", "managed NFS needs an inventory node with the nfs role (or use mode external)"),
    }
    assert issues({"server": "nas.example.org"}) == {
        ("nfs.server", "only for mode external (managed mode serves from the nfs node)"),
    }
    assert issues({"server": "nas.example.org"}, existing=True) == {
        ("nfs.mode", "an existing cluster has no SSH access to set up a server: use mode external"),
        ("nfs.server", "only for mode external (managed mode serves from the nfs node)"),
    }


def test_external_mode() -> None:
    assert issues({"mode": "external"}, nfs_role=False) == {("nfs.server", "mode external needs the NAS address or DNS name")}
    assert issues({"mode": "external"}) == {("nfs.server", "mode external needs the NAS address or DNS name")}
    assert issues({"mode": "external", "server": "nas.example.org"}) == {("nfs.mode", EXTERNAL_WITH_ROLE)}
    assert issues({"mode": "external", "server": "nas.example.org"}, nfs_role=False) == set()
    # An existing cluster has no inventory roles that matter: the nfs role there is not a conflict.
    assert issues({"mode": "external", "server": "nas.example.org"}, existing=True) == set()


def test_extra_client_networks() -> None:
    external = {"mode": "external", "server": "nas.example.org"}
    assert issues({**external, "extra_client_networks": ["10.1.0.0/16", "10.2.0.0/16"]}, nfs_role=False) == {
        ("nfs.extra_client_networks.0", "only for mode managed (restrict a NAS's export on the NAS itself)"),
        ("nfs.extra_client_networks.1", "only for mode managed (restrict a NAS's export on the NAS itself)"),
    }
    # /8 is the widest allowed; /7 is refused.
    assert issues({"extra_client_networks": ["192.168.0.0/16", "10.0.0.0/8"]}) == set()
    assert issues({"extra_client_networks": ["192.168.0.0/16", "10.0.0.0/7"]}) == {
        ("nfs.extra_client_networks.1", "10.0.0.0/7 is far too wide: every host in it could mount every hub's homes"),
    }


def folder(name: str, mount_path: str) -> dict[str, str]:
    return {"name": name, "mount_path": mount_path}


def test_shared_folder_names_and_mount_paths() -> None:
    assert issues({"shared_folders": [folder("a", "/srv/a"), folder("b", "/srv/ab"), folder("c", "/srv/b/a")]}) == set()
    assert issues({"shared_folders": [folder("a", "/srv/a"), folder("b", "/srv/b"), folder("a", "/srv/c")]}) == {
        ("nfs.shared_folders.2.name", "duplicate folder 'a' (also shared_folders.0)"),
    }
    # The same path, a path below another, and a path above another all overlap.
    assert issues({"shared_folders": [folder("a", "/srv/a"), folder("b", "/srv/a")]}) == {
        ("nfs.shared_folders.1.mount_path", "overlaps the mount path of shared_folders.0"),
    }
    assert issues({"shared_folders": [folder("a", "/srv/x"), folder("b", "/srv/a"), folder("c", "/srv/a/b")]}) == {
        ("nfs.shared_folders.2.mount_path", "overlaps the mount path of shared_folders.1"),
    }
    assert issues({"shared_folders": [folder("a", "/srv/x"), folder("b", "/srv/a/b"), folder("c", "/srv/a")]}) == {
        ("nfs.shared_folders.2.mount_path", "overlaps the mount path of shared_folders.1"),
    }


def test_a_repeated_name_and_path_name_the_first_folder() -> None:
    assert issues({"shared_folders": [folder("a", "/srv/a"), folder("a", "/srv/a"), folder("a", "/srv/a")]}) == {
        ("nfs.shared_folders.1.name", "duplicate folder 'a' (also shared_folders.0)"),
        ("nfs.shared_folders.1.mount_path", "overlaps the mount path of shared_folders.0"),
        ("nfs.shared_folders.2.name", "duplicate folder 'a' (also shared_folders.0)"),
        ("nfs.shared_folders.2.mount_path", "overlaps the mount path of shared_folders.0"),
    }


def test_controller_replicas_boundary() -> None:
    # Two Kubernetes nodes: two replicas fit, three do not; an existing cluster is not counted.
    assert issues({"csi_controller_replicas": 2}) == set()
    assert issues({"csi_controller_replicas": 3}) == {
        ("nfs.csi_controller_replicas", "3 replicas on 2 node(s): the controller uses the host network, one per node"),
    }
    assert issues({"mode": "external", "server": "nas", "csi_controller_replicas": 3}, existing=True) == set()
