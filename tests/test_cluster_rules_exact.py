"""Cluster rules (machines, control planes, load balancer, networks, host keys), each case compared
with the EXACT set of (path, message) it yields; counts have their boundary cases (1/2/3 control
planes, 1/2 and 10/11 load balancers, /8-wide overlaps on either side)."""

from __future__ import annotations

from typing import Any

from config.cluster_rules import CLUSTER_CHECKS
from config.platform import PlatformConfig

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
NO_WORKER = ("inventory.nodes", "no node has the worker role: notebooks would have nowhere to run")


def node(name: str, last: int, *roles: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": f"192.0.2.{last}", "roles": list(roles), **extra}


def issues(nodes: list[dict[str, Any]], **sections: Any) -> set[tuple[str, str]]:
    cfg = PlatformConfig.model_validate({"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}, **sections})
    found = [(i.path, i.message) for check in CLUSTER_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


CP = node("cp-1", 21, "control-plane", "worker")


def test_one_control_plane_that_is_a_worker_is_valid() -> None:
    assert issues([CP]) == set()


def test_duplicate_names_and_addresses_name_the_first_node() -> None:
    nodes = [CP, node("cp-1", 22, "worker"), node("w-2", 21, "worker"), node("cp-1", 21, "worker")]
    assert issues(nodes) == {
        ("inventory.nodes.1.name", "duplicate node name 'cp-1' (also nodes.0)"),
        ("inventory.nodes.2.address", "duplicate address 192.0.2.21 (also nodes.0)"),
        ("inventory.nodes.3.name", "duplicate node name 'cp-1' (also nodes.0)"),
        ("inventory.nodes.3.address", "duplicate address 192.0.2.21 (also nodes.0)"),
    }


def test_control_plane_counts() -> None:
    assert issues([node("w-1", 31, "worker")]) == {
        ("inventory.nodes", "no node has the control-plane role (kubeadm mode needs 1, 3 or 5)"),
    }
    two = [CP, node("cp-2", 22, "control-plane")]
    assert issues(two) == {("inventory.nodes", "2 control planes: etcd needs an odd number (1, 3 or 5) to keep quorum")}
    three = [*two, node("cp-3", 23, "control-plane")]
    assert issues(three) == {
        (
            "cluster.endpoint.host",
            "3 control planes need a load balancer: give nodes the load-balancer role or name an external one here",
        ),
    }
    assert issues(three, cluster={"endpoint": {"host": "api.example.org"}}) == set()
    lb = [node("lb-1", 11, "load-balancer"), node("lb-2", 12, "load-balancer")]
    assert issues(three + lb, load_balancer={"vip": "192.0.2.10"}) == set()


def test_workers_and_existing_clusters() -> None:
    assert issues([node("cp-1", 21, "control-plane")]) == {NO_WORKER}
    assert issues([node("cp-1", 21, "control-plane"), node("cp-2", 22, "control-plane")]) == {
        ("inventory.nodes", "2 control planes: etcd needs an odd number (1, 3 or 5) to keep quorum"),
        NO_WORKER,
    }
    # An existing cluster: no control-plane, worker, nfs or load-balancer rules about the inventory's roles.
    assert issues([node("n-1", 21, "nfs"), node("n-2", 22, "nfs")], cluster={"mode": "existing"}) == set()


def test_vip_and_load_balancer_counts() -> None:
    one = [CP, node("lb-1", 11, "load-balancer")]
    assert issues(one) == set()
    assert issues(one, load_balancer={"vip": "192.0.2.10"}) == {
        ("load_balancer.vip", "a VIP needs at least two load-balancer hosts, found 1"),
    }
    two = [*one, node("lb-2", 12, "load-balancer")]
    assert issues(two) == {("load_balancer.vip", "2 load-balancer hosts need a VIP to share")}
    assert issues(two, load_balancer={"vip": "192.0.2.10"}) == set()
    ten = [CP] + [node(f"lb-{n}", 100 + n, "load-balancer") for n in range(10)]
    assert issues(ten, load_balancer={"vip": "192.0.2.10"}) == set()
    eleven = [*ten, node("lb-10", 110, "load-balancer")]
    assert issues(eleven, load_balancer={"vip": "192.0.2.10"}) == {
        ("inventory.nodes", "11 load-balancer hosts: keepalived shares a VIP among at most 10"),
    }


def test_vip_on_a_node_or_outside_the_network() -> None:
    nodes = [CP, node("lb-1", 11, "load-balancer"), node("lb-2", 12, "load-balancer")]
    assert issues(nodes, load_balancer={"vip": "192.0.2.12"}) == {
        ("load_balancer.vip", "the VIP 192.0.2.12 is the address of node 'lb-2' (nodes.2)"),
    }
    assert issues(nodes, load_balancer={"vip": "198.51.100.10"}) == {
        ("load_balancer.vip", "198.51.100.10 is outside inventory.node_network 192.0.2.0/24"),
    }


def test_load_balancers_on_an_existing_cluster() -> None:
    nodes = [node("lb-1", 11, "load-balancer"), node("lb-2", 12, "load-balancer")]
    assert issues(nodes, cluster={"mode": "existing"}, load_balancer={"vip": "192.0.2.10"}) == {
        ("inventory.nodes", "load-balancer hosts are only used in kubeadm mode"),
    }


def test_haproxy_on_a_control_plane_needs_another_port() -> None:
    both = [node("cp-1", 21, "control-plane", "worker", "load-balancer")]
    message = "node 'cp-1' runs HAProxy and an API server: both would bind port 6443; use another endpoint port (e.g. 8443)"
    assert issues(both) == {("cluster.endpoint.port", message)}
    # Reported once, however many nodes hold both roles.
    three = [node(f"cp-{n}", 20 + n, "control-plane", "worker", "load-balancer") for n in (1, 2, 3)]
    assert issues(three, load_balancer={"vip": "192.0.2.10"}) == {("cluster.endpoint.port", message)}
    assert issues(both, cluster={"endpoint": {"port": 8443}}) == set()
    assert issues(both, cluster={"endpoint": {"port": 7443}, "api_server_port": 7443}) == {
        (
            "cluster.endpoint.port",
            "node 'cp-1' runs HAProxy and an API server: both would bind port 7443; use another endpoint port (e.g. 8443)",
        ),
    }
    # A load balancer that is no control plane shares no port.
    assert issues([CP, node("lb-1", 11, "load-balancer")], cluster={"endpoint": {"port": 6443}}) == set()


def test_stats_port_against_the_endpoint_port() -> None:
    lb = [CP, node("lb-1", 11, "load-balancer")]
    assert issues(lb, load_balancer={"stats_port": 6443}) == {
        ("load_balancer.stats_port", "the stats port equals the API endpoint port"),
    }
    # Without load balancers no HAProxy binds the stats port.
    assert issues([CP], load_balancer={"stats_port": 6443}) == set()


def test_network_overlaps() -> None:
    assert issues([CP], cluster={"pod_cidr": "10.96.0.0/16"}) == {
        ("cluster.pod_cidr", "10.96.0.0/16 overlaps cluster.service_cidr 10.96.0.0/12"),
    }
    assert issues([CP], cluster={"pod_cidr": "192.0.0.0/16"}) == {
        ("cluster.pod_cidr", "192.0.0.0/16 overlaps inventory.node_network 192.0.2.0/24"),
    }
    assert issues([CP], cluster={"service_cidr": "192.0.2.128/25"}) == {
        ("cluster.service_cidr", "192.0.2.128/25 overlaps inventory.node_network 192.0.2.0/24"),
    }
    # Adjacent ranges touch but do not overlap.
    assert issues([CP], cluster={"pod_cidr": "192.0.3.0/24", "service_cidr": "192.0.1.0/24"}) == set()


def test_node_outside_the_network() -> None:
    outside = {"name": "w-1", "address": "198.51.100.31", "roles": ["worker"]}
    assert issues([CP, outside]) == {
        ("inventory.nodes.1.address", "198.51.100.31 is outside inventory.node_network 192.0.2.0/24")
    }


def test_host_keys_when_required() -> None:
    keyed = node("cp-1", 21, "control-plane", "worker", ssh={"host_key": KEY})
    bare = node("w-1", 31, "worker")
    assert issues([keyed, bare]) == set()
    assert issues([keyed, bare], ssh={"require_host_keys": True}) == {
        ("inventory.nodes.1.ssh.host_key", "ssh.require_host_keys is set: pin this node's host key"),
    }
    bastion = {"host": "bastion.example.org", "user": "ops"}
    assert issues([keyed], ssh={"require_host_keys": True, "bastion": bastion}) == {
        ("ssh.bastion.host_key", "ssh.require_host_keys is set: pin the bastion's host key"),
    }
    assert issues([keyed], ssh={"require_host_keys": True, "bastion": {**bastion, "host_key": KEY}}) == set()
    assert issues([keyed], ssh={"bastion": bastion}) == set()


def test_one_nfs_node_at_most() -> None:
    assert issues([node("cp-1", 21, "control-plane", "worker", "nfs")]) == set()
    assert issues([node("cp-1", 21, "control-plane", "worker", "nfs"), node("n-2", 22, "nfs")]) == {
        ("inventory.nodes", "more than one node has the nfs role; the homes live on exactly one server"),
    }
