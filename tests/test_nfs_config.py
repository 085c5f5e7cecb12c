"""NFS configuration rules: each bad setting fails at its dotted path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.nfs_queries import csi_controller_replicas, nfs_server_address, nfs_server_node
from config.platform import PlatformConfig
from tests.helpers import stack_raw


def raw_of(stack: str) -> dict[str, Any]:
    raw, _ = stack_raw(stack)
    return copy.deepcopy(raw)


def load(raw: dict[str, Any]) -> PlatformConfig:
    return load_platform(raw, set(), missing_secrets_ok=True)


def paths(raw: dict[str, Any]) -> set[str]:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return {issue.path for issue in caught.value.issues}


def test_committed_stacks() -> None:
    prod, dev = load(raw_of("prod")), load(raw_of("dev"))
    assert nfs_server_address(prod) == "192.0.2.51" and nfs_server_node(prod).name == "nfs-1"  # type: ignore[union-attr]
    assert nfs_server_address(dev) == "192.0.2.100"
    assert csi_controller_replicas(prod) == 2 and csi_controller_replicas(dev) == 1
    assert prod.nfs.csi_driver_version == "4.13.4"
    assert prod.nfs.homes_path("jhub-main") == "/srv/nfs/jupyterhub/homes/jhub-main"


def test_managed_needs_an_nfs_node() -> None:
    raw = raw_of("prod")
    next(n for n in raw["inventory"]["nodes"] if n["name"] == "nfs-1")["roles"] = ["worker"]
    assert "nfs.mode" in paths(raw)


def test_managed_takes_no_server_address() -> None:
    raw = raw_of("prod")
    raw["nfs"]["server"] = "nas.example.org"
    assert "nfs.server" in paths(raw)


def test_external_needs_a_server_and_no_nfs_role() -> None:
    raw = raw_of("prod")
    raw["nfs"]["mode"] = "external"
    assert "nfs.server" in paths(raw)
    raw["nfs"]["server"] = "nas.example.org"
    assert "nfs.mode" in paths(raw)  # nfs-1 still has the nfs role
    raw["inventory"]["nodes"] = [n for n in raw["inventory"]["nodes"] if n["name"] != "nfs-1"]
    cfg = load(raw)
    assert nfs_server_node(cfg) is None and nfs_server_address(cfg) == "nas.example.org"


def test_existing_cluster_cannot_manage_a_server() -> None:
    raw = raw_of("dev")
    raw["cluster"]["mode"] = "existing"
    raw["inventory"]["nodes"][0]["roles"] = ["worker"]
    assert "nfs.mode" in paths(raw)
    raw["nfs"].update(mode="external", server="192.0.2.200")
    raw["hubs"][0]["database"] = {"storage_class": "standard"}  # no SSH for a local hub-db volume either
    raw["traffic"] = {"external_load_balancer": True}  # nor MetalLB: the cluster's own load balancer
    load(raw)


@pytest.mark.parametrize("path", ["/", "/srv", "relative/dir", "/srv/a b", "/srv/../etc", "/srv/nfs/"])
def test_bad_export_paths(path: str) -> None:
    raw = raw_of("prod")
    raw["nfs"]["export_path"] = path
    assert "nfs.export_path" in paths(raw)


def test_bad_server_and_mount_options() -> None:
    raw = raw_of("prod")
    raw["nfs"].update(mode="external", server="nas example")
    raw["nfs"]["mount_options"] = ["nfsvers=4.1", "hard;rm -rf /"]
    assert {"nfs.server", "nfs.mount_options"} <= paths(raw)


def test_shared_folders() -> None:
    raw = raw_of("prod")
    folders = raw["nfs"]["shared_folders"]
    folders.append({"name": "datasets", "mount_path": "/srv/shared/datasets/more"})
    folders.append({"name": "Bad_Name", "mount_path": "/home/jovyan/x"})
    found = paths(raw)
    assert {"nfs.shared_folders.3.name", "nfs.shared_folders.3.mount_path"} <= found
    del folders[3]
    found = paths(raw)
    assert {"nfs.shared_folders.2.name", "nfs.shared_folders.2.mount_path"} <= found


def test_controller_replicas_fit_the_nodes() -> None:
    raw = raw_of("dev")
    raw["nfs"]["csi_controller_replicas"] = 2
    assert "nfs.csi_controller_replicas" in paths(raw)


def test_extra_client_networks() -> None:
    raw = raw_of("prod")
    assert load(raw).nfs.extra_client_networks == []  # default: only the Kubernetes nodes mount
    raw["nfs"]["extra_client_networks"] = ["192.0.2.64/28", "0.0.0.0/0", "10.0.0.1/8"]
    found = paths(raw)
    assert "nfs.extra_client_networks.2" in found  # host bits set: not a network
    raw["nfs"]["extra_client_networks"] = ["192.0.2.64/28", "0.0.0.0/0"]
    assert paths(raw) == {"nfs.extra_client_networks.1"}
    raw["nfs"]["extra_client_networks"] = ["192.0.2.64/28"]
    assert [str(n) for n in load(raw).nfs.extra_client_networks] == ["192.0.2.64/28"]
    raw["nfs"].update(mode="external", server="nas.example.org")
    raw["inventory"]["nodes"] = [n for n in raw["inventory"]["nodes"] if n["name"] != "nfs-1"]
    assert paths(raw) == {"nfs.extra_client_networks.0"}


@pytest.mark.parametrize("threads", [4, 2000])
def test_server_threads_bounds(threads: int) -> None:
    raw = raw_of("prod")
    raw["nfs"]["server_threads"] = threads
    with pytest.raises(ConfigError) as caught:
        load(raw)
    issues = {issue.path: issue.message for issue in caught.value.issues}
    assert set(issues) == {"nfs.server_threads"}
    bound = "must be at least 8" if threads < 8 else "must be at most 1024"
    assert bound in issues["nfs.server_threads"]
