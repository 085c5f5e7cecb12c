"""Rules of the machines and the cluster they form: names, addresses, control planes, load balancer,
networks, pinned host keys (registered in `config.checks`)."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from config.cluster import MAX_LOAD_BALANCERS
from config.errors import ConfigIssue
from config.inventory import Role

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def _duplicates(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    seen_names: dict[str, int] = {}
    seen_addresses: dict[IPv4Address, int] = {}
    for i, node in enumerate(cfg.inventory.nodes):
        if node.name in seen_names:
            first = seen_names[node.name]
            yield ConfigIssue(f"inventory.nodes.{i}.name", f"duplicate node name {node.name!r} (also nodes.{first})")
        seen_names.setdefault(node.name, i)
        if node.address in seen_addresses:
            yield ConfigIssue(
                f"inventory.nodes.{i}.address",
                f"duplicate address {node.address} (also nodes.{seen_addresses[node.address]})",
            )
        seen_addresses.setdefault(node.address, i)


def _control_planes(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.builds_cluster:
        return
    count = len(cfg.inventory.control_planes)
    if count == 0:
        yield ConfigIssue("inventory.nodes", "no node has the control-plane role (kubeadm mode needs 1, 3 or 5)")
    elif count % 2 == 0:
        yield ConfigIssue(
            "inventory.nodes",
            f"{count} control planes: etcd needs an odd number (1, 3 or 5) to keep quorum",
        )
    elif count > 1 and not cfg.inventory.load_balancers and not cfg.cluster.endpoint.host:
        yield ConfigIssue(
            "cluster.endpoint.host",
            f"{count} control planes need a load balancer: give nodes the load-balancer role "
            "or name an external one here",
        )
    if not cfg.inventory.schedulable_nodes:
        yield ConfigIssue("inventory.nodes", "no node has the worker role: notebooks would have nowhere to run")


def _load_balancer(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    lbs = cfg.inventory.load_balancers
    vip = cfg.load_balancer.vip
    if vip is not None and len(lbs) < 2:
        yield ConfigIssue("load_balancer.vip", f"a VIP needs at least two load-balancer hosts, found {len(lbs)}")
    if len(lbs) > MAX_LOAD_BALANCERS:
        too_many = f"{len(lbs)} load-balancer hosts: keepalived shares a VIP among at most {MAX_LOAD_BALANCERS}"
        yield ConfigIssue("inventory.nodes", too_many)
    if vip is None and len(lbs) >= 2:
        yield ConfigIssue("load_balancer.vip", f"{len(lbs)} load-balancer hosts need a VIP to share")
    if vip is not None:
        for i, node in enumerate(cfg.inventory.nodes):
            if node.address == vip:
                yield ConfigIssue("load_balancer.vip", f"the VIP {vip} is the address of node {node.name!r} (nodes.{i})")
    if lbs and not cfg.builds_cluster:
        yield ConfigIssue("inventory.nodes", "load-balancer hosts are only used in kubeadm mode")
    for node in cfg.inventory.nodes:
        if node.has(Role.LOAD_BALANCER) and node.has(Role.CONTROL_PLANE):
            if cfg.cluster.endpoint.port == cfg.cluster.api_server_port:
                yield ConfigIssue(
                    "cluster.endpoint.port",
                    f"node {node.name!r} runs HAProxy and an API server: both would bind port "
                    f"{cfg.cluster.api_server_port}; use another endpoint port (e.g. 8443)",
                )
            break
    if lbs and cfg.load_balancer.stats_port == cfg.cluster.endpoint.port:
        yield ConfigIssue("load_balancer.stats_port", "the stats port equals the API endpoint port")


def _networks(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    pods, services = cfg.cluster.pod_cidr, cfg.cluster.service_cidr
    if pods.overlaps(services):
        yield ConfigIssue("cluster.pod_cidr", f"{pods} overlaps cluster.service_cidr {services}")
    # Node addresses and the VIP must lie in node_network (checked below), so no overlap with it
    # means none of them falls in a pod or service range either.
    for field, net in (("pod_cidr", pods), ("service_cidr", services)):
        if net.overlaps(cfg.inventory.node_network):
            yield ConfigIssue(f"cluster.{field}", f"{net} overlaps inventory.node_network {cfg.inventory.node_network}")


def _host_keys(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.ssh.require_host_keys:
        return
    if cfg.ssh.bastion is not None and not cfg.ssh.bastion.host_key:
        yield ConfigIssue("ssh.bastion.host_key", "ssh.require_host_keys is set: pin the bastion's host key")
    for i, node in enumerate(cfg.inventory.nodes):
        if not node.ssh.host_key:
            yield ConfigIssue(f"inventory.nodes.{i}.ssh.host_key", "ssh.require_host_keys is set: pin this node's host key")


def _node_network(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    net = cfg.inventory.node_network
    for i, node in enumerate(cfg.inventory.nodes):
        if node.address not in net:
            yield ConfigIssue(f"inventory.nodes.{i}.address", f"{node.address} is outside inventory.node_network {net}")
    vip = cfg.load_balancer.vip
    if vip is not None and vip not in net:
        yield ConfigIssue("load_balancer.vip", f"{vip} is outside inventory.node_network {net}")


def _roles(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.builds_cluster:
        return
    if len(cfg.inventory.with_role(Role.NFS)) > 1:
        yield ConfigIssue("inventory.nodes", "more than one node has the nfs role; the homes live on exactly one server")


CLUSTER_CHECKS = [_duplicates, _control_planes, _load_balancer, _networks, _host_keys, _node_network, _roles]
