"""How user traffic enters a hub's proxy: z2jh values and the Service patch (pure: no Pulumi import).

- The proxy-public Service keeps the client's source address (`externalTrafficPolicy: Local`; z2jh 4.4.0
  has no value for it, so the component patches the Service). Only the node running the proxy pod then
  answers the node ports, which is what the load balancer's health checks find, and the proxy sees the
  LB host (or, with MetalLB, the client) instead of a node that masqueraded the connection.
- PROXY protocol v2 from the load balancer is trusted by z2jh's Traefik (TLS via Let's Encrypt) only from
  the LB hosts' addresses and VIPs; `X-Forwarded-For` likewise.
- A restricted hub (`allowed_networks`) gets a second layer in the cluster: the proxy pod's ingress on
  http/https only from the LB addresses (HAProxy path) or the allowed networks (MetalLB path, plus the
  Service's `loadBalancerSourceRanges`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.hubs import HubConfig
from config.traffic_queries import hub_entry, metallb_addresses

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# Traefik's entry points in z2jh's autohttps static configuration.
TRAEFIK_ENTRY_POINTS = ("http", "https")
PROXY_PUBLIC = "proxy-public"


def lb_source_networks(cfg: PlatformConfig) -> list[str]:
    """The addresses the load-balancer hosts connect from (their own and the VIPs they may hold), as /32s."""
    addresses = [n.address for n in cfg.inventory.load_balancers]
    addresses += [vip for vip in (cfg.load_balancer.vip, cfg.traffic.hub_vip) if vip is not None]
    return [f"{a}/32" for a in sorted(set(addresses))]


def keeps_client_source(cfg: PlatformConfig, hub: HubConfig) -> bool:
    """The hub's traffic comes through a platform entry point whose source address must survive."""
    return hub_entry(cfg, hub).via in ("haproxy", "metallb")


def _traefik(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    mode = cfg.traffic.client_address
    if hub.https.mode != "letsencrypt" or hub_entry(cfg, hub).via != "haproxy" or mode == "none":
        return {}
    trusted = {"trustedIPs": lb_source_networks(cfg)}
    if mode == "proxy-protocol":
        entry_points = {name: {"proxyProtocol": trusted} for name in TRAEFIK_ENTRY_POINTS}
    else:
        entry_points = {"http": {"forwardedHeaders": trusted}}
    return {"extraStaticConfig": {"entryPoints": entry_points}}


def _restricted_ingress(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    """The proxy pod's network policy of a restricted hub (the pod holding the ports is CHP: such a hub
    never uses Let's Encrypt, so there is no Traefik in front of it)."""
    if not hub.allowed_networks:
        return {}
    via = hub_entry(cfg, hub).via
    sources = lb_source_networks(cfg) if via == "haproxy" else [str(n) for n in hub.allowed_networks]
    return {
        "networkPolicy": {
            "allowedIngressPorts": [],
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": cidr}} for cidr in sources],
                    "ports": [{"port": "http"}, {"port": "https"}],
                }
            ],
        }
    }


def proxy_traffic_values(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    """Additions to the chart's `proxy` values: MetalLB address and source ranges, Traefik trust, CHP policy."""
    service: dict[str, Any] = {}
    address = metallb_addresses(cfg).get(hub.name)
    if hub_entry(cfg, hub).via == "metallb" and address is not None:
        service["loadBalancerIP"] = str(address)
        if hub.allowed_networks:
            service["loadBalancerSourceRanges"] = [str(n) for n in hub.allowed_networks]
    out: dict[str, Any] = {}
    if service:
        out["service"] = service
    if traefik := _traefik(cfg, hub):
        out["traefik"] = traefik
    if chp := _restricted_ingress(cfg, hub):
        out["chp"] = chp
    return out


def proxy_service_patch(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any] | None:
    """The `spec` patch of proxy-public, or None when the hub is not behind a platform entry point."""
    if not keeps_client_source(cfg, hub):
        return None
    return {"externalTrafficPolicy": "Local"}
