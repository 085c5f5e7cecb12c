"""Facts about how users reach the hubs, for the rules (`config.traffic_rules`) and the components.

Three ways in: a `NodePort` hub behind the `load-balancer` hosts (HAProxy routes 443 by SNI and 80 by
Host to the hub's node ports), a `LoadBalancer` hub with a MetalLB address, or a hub behind a load
balancer the platform does not manage (`traffic.external_load_balancer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Literal

from config.hubs import HubConfig

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# Connections kept free for the API frontend and the stats page when sizing `traffic.maxconn`.
API_CONNECTION_RESERVE = 2000
TLS_MODES = ("letsencrypt", "secret")
Via = Literal["haproxy", "metallb", "external", "cluster-ip"]


@dataclass(frozen=True)
class HubEntry:
    """Where users reach one hub: `address` is what its DNS name points to (None: not known here)."""

    via: Via
    address: str | None


def behind_haproxy(cfg: PlatformConfig, hub: HubConfig) -> bool:
    """The load-balancer hosts route to this hub's node ports."""
    return cfg.builds_cluster and bool(cfg.inventory.load_balancers) and hub.service_type == "NodePort"


def haproxy_hubs(cfg: PlatformConfig) -> list[HubConfig]:
    return [hub for hub in cfg.hubs if behind_haproxy(cfg, hub)]


def hub_frontend_address(cfg: PlatformConfig) -> str | None:
    """The address the load-balancer hosts serve the hubs on: the hub VIP, the API VIP, or the one LB host."""
    if cfg.traffic.hub_vip is not None:
        return str(cfg.traffic.hub_vip)
    if cfg.load_balancer.vip is not None:
        return str(cfg.load_balancer.vip)
    lbs = cfg.inventory.load_balancers
    return str(lbs[0].address) if lbs else None


def metallb_addresses(cfg: PlatformConfig) -> dict[str, IPv4Address]:
    """MetalLB address of each `LoadBalancer` hub: its `load_balancer_ip`, else the next free pool address."""
    metallb = cfg.traffic.metallb
    if metallb is None or not cfg.builds_cluster:
        return {}
    hubs = [h for h in cfg.hubs if h.service_type == "LoadBalancer"]
    taken = {h.load_balancer_ip for h in hubs if h.load_balancer_ip is not None}
    free = (a for net in metallb.addresses for a in net if a not in taken)
    out: dict[str, IPv4Address] = {}
    for hub in hubs:
        chosen = hub.load_balancer_ip or next(free, None)
        if chosen is not None:
            out[hub.name] = chosen
    return out


def hub_entry(cfg: PlatformConfig, hub: HubConfig) -> HubEntry:
    if behind_haproxy(cfg, hub):
        return HubEntry("haproxy", hub_frontend_address(cfg))
    if hub.service_type == "LoadBalancer" and cfg.traffic.metallb is not None and cfg.builds_cluster:
        address = metallb_addresses(cfg).get(hub.name)
        return HubEntry("metallb", str(address) if address is not None else None)
    if hub.service_type == "ClusterIP":
        return HubEntry("cluster-ip", None)
    return HubEntry("external", None)


def proxy_nodes(cfg: PlatformConfig) -> list[tuple[str, str]]:
    """(name, address) of the nodes a hub's proxy pod can run on: schedulable, no GPU taint, no NoSchedule taint."""
    return [
        (n.name, str(n.address))
        for n in cfg.inventory.schedulable_nodes
        if n.gpu is None and not any(t.effect in ("NoSchedule", "NoExecute") for t in n.taints)
    ]


def hub_maxconn(cfg: PlatformConfig, hub: HubConfig) -> int:
    return hub.users * cfg.traffic.connections_per_user
