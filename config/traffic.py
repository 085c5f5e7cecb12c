"""How users reach the hubs: the load-balancer hosts' hub frontends, MetalLB, or a declared external LB.

Model only; the rules that need the whole platform (pools inside the node network, maxconn against the
hubs' users, allowlists against ACME) live in `config.traffic_rules`.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel

# The MetalLB chart release the platform was written against (metallb.github.io/metallb, L2 mode).
METALLB_CHART_VERSION = "0.15.3"
ClientAddress = Literal["proxy-protocol", "forwarded-for", "none"]


class MetalLbConfig(StrictModel):
    """MetalLB in L2 mode: hands out `LoadBalancer` addresses from a pool on the node network."""

    chart_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = METALLB_CHART_VERSION
    """Exact version of the `metallb` chart (https://metallb.github.io/metallb)."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "metallb-system"
    """Namespace of the controller and speakers (Pod Security `privileged`: speakers use the host network)."""
    addresses: Annotated[list[IPv4Network], Field(min_length=1)]
    """Address pool (CIDRs, `/32` for one address) inside `inventory.node_network`, free of node
    addresses, the VIPs and the pod and service networks; the site's DHCP must not hand them out."""


class TrafficConfig(StrictModel):
    """User traffic to the hubs. NodePort hubs go through HAProxy on the `load-balancer` hosts (443 by
    TLS SNI, 80 by Host); LoadBalancer hubs get a MetalLB address or a declared external load balancer."""

    hub_vip: IPv4Address | None = None
    """A second VIP for the hubs (kept by the same keepalived instance as `load_balancer.vip`); default:
    the hubs share the API VIP (or the single LB host's address)."""
    client_address: ClientAddress = "proxy-protocol"
    """How hubs learn the client's address: `proxy-protocol` (PROXY v2 on 443 and 80 to hubs whose TLS
    ends at z2jh's Traefik, i.e. `letsencrypt`; hubs served by configurable-http-proxy, which cannot read
    it, get `X-Forwarded-For` on 80), `forwarded-for` (`X-Forwarded-For` on 80 only) or `none`."""
    connections_per_user: Annotated[int, Field(ge=2, le=64)] = 8
    """Connections one active user keeps open (browser keep-alives plus a WebSocket per open kernel,
    terminal and the event stream); sizes each hub's `maxconn` as `hubs[].users` times this."""
    maxconn: Annotated[int, Field(ge=1000, le=1_000_000)] = 20000
    """Connections one HAProxy process holds at once (global `maxconn`); must exceed the hubs' and the
    API's needs. Memory at full use: about 33 KiB per connection (two 16 KiB buffers)."""
    websocket_timeout_seconds: Annotated[int, Field(ge=3600, le=86400)] = 4 * 3600
    """Idle timeout of hub connections (WebSockets of idle notebooks sit silent for a long time)."""
    health_check_interval_ms: Annotated[int, Field(ge=200, le=60000)] = 2000
    """How often HAProxy checks each node's hub NodePorts (only nodes running the hub's proxy pass)."""
    metallb: MetalLbConfig | None = None
    """MetalLB for `LoadBalancer` hubs when the site has no load balancer of its own (kubeadm mode only)."""
    external_load_balancer: bool = False
    """A load balancer the platform does not manage (cloud, appliance, an existing cluster's) serves
    `LoadBalancer` Services; without it or `metallb` such a hub is refused (its address would stay pending)."""

    @field_validator("hub_vip")
    @classmethod
    def _unicast(cls, vip: IPv4Address | None) -> IPv4Address | None:
        if vip is not None and (vip.is_multicast or vip.is_loopback or vip.is_unspecified):
            raise ValueError(f"{vip} cannot be a VIP")
        return vip
