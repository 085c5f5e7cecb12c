"""Render the hub part of haproxy.cfg: 443 routed by TLS SNI (passthrough), 80 routed by Host (HAProxy 2.6).

Pure: no Pulumi import. Each hub gets one backend per port whose servers are the nodes that can run its
proxy pod, at the hub's node ports. The proxy Service uses `externalTrafficPolicy: Local`, so only the
node running the proxy pod answers its node port and passes the check; the others are marked down.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_address
from typing import TYPE_CHECKING

from config.hubs import HubConfig
from config.traffic_queries import TLS_MODES, haproxy_hubs, hub_maxconn, proxy_nodes

if TYPE_CHECKING:
    from config.platform import PlatformConfig

HTTPS_FRONTEND = "hubs-https"
HTTP_FRONTEND = "hubs-http"
# How long HAProxy waits for the TLS ClientHello (it carries the SNI) before deciding.
HELLO_WAIT_SECONDS = 5
HTTP_REQUEST_TIMEOUT_SECONDS = 10
# A hub at its maxconn queues new connections this long before refusing them.
QUEUE_TIMEOUT_SECONDS = 30
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


@dataclass(frozen=True)
class HubRoute:
    """One hub as the load balancer sees it."""

    name: str
    host: str
    http_port: int | None
    """None: nothing behind port 80 (an admin console's oauth2-proxy serves only HTTPS); HAProxy answers
    the host's plain HTTP requests itself with a redirect to HTTPS."""
    https_port: int | None
    """None: the hub serves no TLS on its own (https mode `none` or `offload`); 443 does not route to it."""
    servers: tuple[tuple[str, str], ...]
    """(node name, address) of the nodes that can run the hub's proxy pod."""
    maxconn: int
    allowed_networks: tuple[str, ...] = ()
    proxy_protocol: bool = False
    """PROXY v2 to the hub on both ports (its Traefik trusts it from the LB addresses)."""
    forwarded_for: bool = False
    """`X-Forwarded-For` on port 80."""


@dataclass(frozen=True)
class HubTiming:
    """Timeouts and check cadence of the hub frontends."""

    websocket_timeout_seconds: int
    health_check_interval_ms: int


def backend_name(hub: str, port: str) -> str:
    return f"hub-{hub}-{port}"


def _check(routes: Sequence[HubRoute]) -> None:
    names = [r.name for r in routes]
    hosts = [r.host.lower() for r in routes]
    if len(set(names)) != len(names) or len(set(hosts)) != len(hosts):
        raise ValueError(f"hub names and hosts must be unique: {names} {hosts}")
    for route in routes:
        if not _NAME.match(route.name) or not _HOST.match(route.host.lower()):
            raise ValueError(f"hub {route.name!r} / host {route.host!r} cannot be used in haproxy.cfg")
        if not route.servers:
            raise ValueError(f"hub {route.name} has no node to route to")
        for server, address in route.servers:
            if not re.match(r"^[A-Za-z0-9_.:-]+$", server):
                raise ValueError(f"{server!r} is not a valid HAProxy server name")
            ip_address(address)
        for net in route.allowed_networks:
            IPv4Network(net)


def _servers(route: HubRoute, port: int, proxy: bool) -> str:
    send_proxy = " send-proxy-v2" if proxy else ""
    return "\n".join(f"    server {name} {address}:{port} check{send_proxy}" for name, address in route.servers)


def _src(route: HubRoute) -> str:
    return " ".join(route.allowed_networks)


def _https(routes: Sequence[HubRoute], bind: str, port: int, timing: HubTiming) -> str:
    tls = [r for r in routes if r.https_port is not None]
    if not tls:
        return ""
    # Order matters: `accept` ends the evaluation, so every reject (allowlists, unknown names) comes first.
    rules = [
        f"    tcp-request content reject if {{ req_ssl_sni -i {r.host} }} !{{ src {_src(r)} }}" for r in tls if r.allowed_networks
    ]
    rules.append(f"    tcp-request content reject unless {{ req_ssl_sni -i {' '.join(r.host for r in tls)} }}")
    rules.append("    tcp-request content accept if { req_ssl_hello_type 1 }")
    uses = [f"    use_backend {backend_name(r.name, 'https')} if {{ req_ssl_sni -i {r.host} }}" for r in tls]
    backends = [
        f"""\
backend {backend_name(r.name, "https")}
    mode tcp
    # Long-lived WebSockets: new connections go to the server holding the fewest.
    balance leastconn
    timeout server {timing.websocket_timeout_seconds}s
    timeout tunnel {timing.websocket_timeout_seconds}s
    timeout queue {QUEUE_TIMEOUT_SECONDS}s
    default-server inter {timing.health_check_interval_ms}ms fall 3 rise 2 maxconn {r.maxconn}
{_servers(r, r.https_port or 0, r.proxy_protocol)}
"""
        for r in tls
    ]
    rule_text = "\n".join(rules + uses)
    return f"""
frontend {HTTPS_FRONTEND}
    # TLS passes through untouched (the hub's proxy holds the certificate); routed by the ClientHello's SNI.
    # No default backend: an unknown or missing name is refused.
    bind {bind}:{port}
    mode tcp
    option tcplog
    timeout client {timing.websocket_timeout_seconds}s
    tcp-request inspect-delay {HELLO_WAIT_SECONDS}s
{rule_text}

""" + "\n".join(backends)


def _http(routes: Sequence[HubRoute], bind: str, port: int, timing: HubTiming) -> str:
    host = "req.hdr(host),field(1,:),lower"
    rules = [
        f"    http-request deny deny_status 403 if {{ {host} -i {r.host} }} !{{ src {_src(r)} }}"
        for r in routes
        if r.allowed_networks
    ]
    rules.append(f"    http-request deny deny_status 404 unless {{ {host} -i {' '.join(r.host for r in routes)} }}")
    # After the denies: a host with nothing behind port 80 is sent to HTTPS by HAProxy itself.
    served = [r for r in routes if r.http_port is not None]
    redirect = "    http-request redirect scheme https code 308"
    rules += [f"{redirect} if {{ {host} -i {r.host} }}" for r in routes if r.http_port is None]
    uses = [f"    use_backend {backend_name(r.name, 'http')} if {{ {host} -i {r.host} }}" for r in served]
    backends = []
    for r in served:
        forward = "    option forwardfor\n" if r.forwarded_for and not r.proxy_protocol else ""
        backends.append(
            f"""\
backend {backend_name(r.name, "http")}
    mode http
    balance roundrobin
    timeout server {timing.websocket_timeout_seconds}s
    timeout tunnel {timing.websocket_timeout_seconds}s
    timeout queue {QUEUE_TIMEOUT_SECONDS}s
{forward}    default-server inter {timing.health_check_interval_ms}ms fall 3 rise 2 maxconn {r.maxconn}
{_servers(r, r.http_port or 0, r.proxy_protocol)}
"""
        )
    rule_text = "\n".join(rules + uses)
    return f"""
frontend {HTTP_FRONTEND}
    # ACME HTTP-01 challenges and the redirect to HTTPS; routed by Host, unknown names get 404.
    bind {bind}:{port}
    mode http
    option httplog
    timeout client {timing.websocket_timeout_seconds}s
    timeout http-request {HTTP_REQUEST_TIMEOUT_SECONDS}s
{rule_text}

""" + "\n".join(backends)


def render_hub_sections(
    routes: Sequence[HubRoute], bind: str, *, https_port: int = 443, http_port: int = 80, timing: HubTiming
) -> str:
    """The hub frontends and backends (empty without hubs), appended to haproxy.cfg."""
    if not routes:
        return ""
    _check(routes)
    # A route without an HTTP node port (an admin console, Grafana: HTTPS only) is redirected to HTTPS
    # on port 80 by HAProxy itself (see `_http`).
    return _https(routes, bind, https_port, timing) + _http(routes, bind, http_port, timing)


def traefik_reads_proxy_protocol(cfg: PlatformConfig, hub: HubConfig) -> bool:
    """PROXY v2 goes to hubs whose TLS ends at z2jh's Traefik (Let's Encrypt); configurable-http-proxy
    (provided certificate, or no TLS) cannot read it."""
    return cfg.traffic.client_address == "proxy-protocol" and hub.https.mode == "letsencrypt"


def routes_from_config(cfg: PlatformConfig) -> list[HubRoute]:
    """The hubs the load-balancer hosts front (validated config: hosts and node ports are set)."""
    nodes = tuple(proxy_nodes(cfg))
    routes = []
    for hub in haproxy_hubs(cfg):
        proxy = traefik_reads_proxy_protocol(cfg, hub)
        routes.append(
            HubRoute(
                name=hub.name,
                host=hub.host or "",
                http_port=hub.http_node_port or 0,
                https_port=hub.https_node_port if hub.https.mode in TLS_MODES else None,
                servers=nodes,
                maxconn=hub_maxconn(cfg, hub),
                allowed_networks=tuple(str(n) for n in hub.allowed_networks),
                proxy_protocol=proxy,
                forwarded_for=cfg.traffic.client_address != "none" and not proxy,
            )
        )
    return routes


def timing_from_config(cfg: PlatformConfig) -> HubTiming:
    return HubTiming(cfg.traffic.websocket_timeout_seconds, cfg.traffic.health_check_interval_ms)
