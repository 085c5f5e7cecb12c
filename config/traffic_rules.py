"""Rules about how users reach the hubs (registered in `config.checks`); the facts they use are in
`config.traffic_queries`."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.hubs import hub_secret_key
from config.traffic_queries import (
    API_CONNECTION_RESERVE,
    TLS_MODES,
    behind_haproxy,
    haproxy_hubs,
    hub_entry,
    hub_maxconn,
    proxy_nodes,
)

if TYPE_CHECKING:
    from config.platform import PlatformConfig


# ---- rules ----


def _restricted_hubs(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for i, hub in enumerate(cfg.hubs):
        if not hub.allowed_networks:
            continue
        if hub.https.mode == "letsencrypt":
            cert, key = hub_secret_key(hub.name, "tls_cert"), hub_secret_key(hub.name, "tls_key")
            yield ConfigIssue(
                f"hubs.{i}.https.mode",
                "a hub restricted by allowed_networks cannot use Let's Encrypt (its HTTP-01 validation comes from "
                f"outside the allowed networks): use https.mode secret with a provided certificate "
                f"(pulumi config set --secret {cert} < fullchain.pem; pulumi config set --secret {key} < privkey.pem)",
            )
        entry = hub_entry(cfg, hub)
        if entry.via not in ("haproxy", "metallb"):
            yield ConfigIssue(
                f"hubs.{i}.allowed_networks",
                "the platform enforces allowed_networks only on its own entry points: use service_type NodePort "
                "behind load-balancer hosts, or LoadBalancer with traffic.metallb",
            )


def _entry_points(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Every hub has a working way in, and what HAProxy routes by is set."""
    lbs = bool(cfg.inventory.load_balancers) and cfg.builds_cluster
    has_lb_provider = cfg.traffic.external_load_balancer or (cfg.traffic.metallb is not None and cfg.builds_cluster)
    for i, hub in enumerate(cfg.hubs):
        if hub.service_type == "LoadBalancer" and not has_lb_provider:
            yield ConfigIssue(
                f"hubs.{i}.service_type",
                "a LoadBalancer Service stays pending without a load-balancer provider: set traffic.metallb "
                "(an address pool), declare traffic.external_load_balancer: true, or use NodePort behind "
                "load-balancer hosts",
            )
        if hub.service_type == "NodePort" and not lbs and not cfg.traffic.external_load_balancer:
            yield ConfigIssue(
                f"hubs.{i}.service_type",
                "nothing forwards users to this NodePort (one node's port dies with that node): give nodes the "
                "load-balancer role, declare traffic.external_load_balancer: true, or use LoadBalancer with traffic.metallb",
            )
        if not behind_haproxy(cfg, hub):
            continue
        if not hub.host:
            yield ConfigIssue(f"hubs.{i}.host", "the load balancer routes hubs by name (TLS SNI and Host): set the hub's host")
        if hub.http_node_port is None:
            yield ConfigIssue(
                f"hubs.{i}.http_node_port", "a hub behind the load balancer needs a fixed HTTP node port (e.g. 30080)"
            )
        if hub.https.mode in TLS_MODES and hub.https_node_port is None:
            yield ConfigIssue(
                f"hubs.{i}.https_node_port", "a hub behind the load balancer needs a fixed HTTPS node port (e.g. 30443)"
            )
    if lbs and haproxy_hubs(cfg) and not proxy_nodes(cfg):
        yield ConfigIssue("inventory.nodes", "no untainted worker without GPUs can run the hubs' proxy pods")


def _maxconn(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    hubs = haproxy_hubs(cfg)
    if not hubs:
        return
    per_user = cfg.traffic.connections_per_user
    needed = sum(hub_maxconn(cfg, h) for h in hubs) + API_CONNECTION_RESERVE
    if needed > cfg.traffic.maxconn:
        parts = " + ".join(f"{h.name} {h.users} users x {per_user}" for h in hubs)
        yield ConfigIssue(
            "traffic.maxconn",
            f"{cfg.traffic.maxconn} connections cannot hold the hubs' users ({parts} + {API_CONNECTION_RESERVE} "
            f"for the API = {needed}): raise it to at least {needed} or lower hubs[].users",
        )


def _reserved_addresses(cfg: PlatformConfig) -> dict[IPv4Address, str]:
    """Addresses a pool or VIP must not take, with what holds them."""
    taken = {n.address: f"node {n.name!r}" for n in cfg.inventory.nodes}
    if cfg.load_balancer.vip is not None:
        taken[cfg.load_balancer.vip] = "load_balancer.vip"
    if cfg.traffic.hub_vip is not None:
        taken[cfg.traffic.hub_vip] = "traffic.hub_vip"
    return taken


def _hub_vip(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    vip = cfg.traffic.hub_vip
    if vip is None:
        return
    path = "traffic.hub_vip"
    if len(cfg.inventory.load_balancers) < 2:
        yield ConfigIssue(path, "a hub VIP needs two or more load-balancer hosts (keepalived moves it)")
    if vip not in cfg.inventory.node_network:
        yield ConfigIssue(path, f"{vip} is outside inventory.node_network {cfg.inventory.node_network}")
    if vip == cfg.load_balancer.vip:
        yield ConfigIssue(path, "equals load_balancer.vip: leave hub_vip unset to share the API VIP")
    for node in cfg.inventory.nodes:
        if node.address == vip:
            yield ConfigIssue(path, f"{vip} is the address of node {node.name!r}")


def _metallb(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    metallb = cfg.traffic.metallb
    if metallb is None:
        return
    if not cfg.builds_cluster:
        yield ConfigIssue(
            "traffic.metallb",
            "only in kubeadm mode: an existing cluster brings its own; declare traffic.external_load_balancer: true instead",
        )
        return
    reserved = _reserved_addresses(cfg)
    network = cfg.inventory.node_network
    others: dict[str, IPv4Network] = {"cluster.pod_cidr": cfg.cluster.pod_cidr, "cluster.service_cidr": cfg.cluster.service_cidr}
    for j, net in enumerate(metallb.addresses):
        path = f"traffic.metallb.addresses.{j}"
        if not net.subnet_of(network):
            yield ConfigIssue(path, f"{net} is not inside inventory.node_network {network} (L2 mode answers ARP there only)")
        for name, other in others.items():
            if net.overlaps(other):
                yield ConfigIssue(path, f"{net} overlaps {name} {other}")
        for address, holder in sorted(reserved.items()):
            if address in net:
                yield ConfigIssue(path, f"{net} contains {address}, the address of {holder}")
        for k, earlier in enumerate(metallb.addresses[:j]):
            if net.overlaps(earlier):
                yield ConfigIssue(path, f"{net} overlaps traffic.metallb.addresses.{k} {earlier}")
    pool = [a for net in metallb.addresses for a in net]
    seen: dict[IPv4Address, int] = {}
    lb_hubs = [(i, h) for i, h in enumerate(cfg.hubs) if h.service_type == "LoadBalancer"]
    for i, hub in lb_hubs:
        ip = hub.load_balancer_ip
        if ip is None:
            continue
        if ip not in pool:
            yield ConfigIssue(f"hubs.{i}.load_balancer_ip", f"{ip} is not in traffic.metallb.addresses")
        if ip in seen:
            yield ConfigIssue(f"hubs.{i}.load_balancer_ip", f"{ip} is also used by hubs.{seen[ip]}")
        seen.setdefault(ip, i)
    if len(lb_hubs) > len(set(pool) - set(reserved)):
        yield ConfigIssue(
            "traffic.metallb.addresses",
            f"{len(lb_hubs)} LoadBalancer hubs need as many addresses; the pool has {len(set(pool) - set(reserved))} free",
        )


def _load_balancer_ip(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for i, hub in enumerate(cfg.hubs):
        if hub.load_balancer_ip is not None and (hub.service_type != "LoadBalancer" or cfg.traffic.metallb is None):
            yield ConfigIssue(f"hubs.{i}.load_balancer_ip", "only for service_type LoadBalancer with traffic.metallb")


TRAFFIC_CHECKS = [_restricted_hubs, _entry_points, _maxconn, _hub_vip, _metallb, _load_balancer_ip]
