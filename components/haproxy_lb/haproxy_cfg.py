"""Render haproxy.cfg for the API load balancer (HAProxy 2.6 syntax, as on Debian 12).

Pure: no Pulumi import. Bind addresses and backend ports are parameters so the tests can run the
real config against local servers on 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import ip_address

from config.cluster import LoadBalancerConfig

Backend = tuple[str, str, int]
"""(server name, IP address, port) of one API server."""

FRONTEND_NAME = "kube-apiserver"
BACKEND_NAME = "kube-apiserver"
STATS_URI = "/stats"
HEALTH_PATH = "/readyz"
# A server is marked down after FALL failed checks in a row and up again after RISE good ones.
FALL = 3
RISE = 2
CONNECT_TIMEOUT_SECONDS = 5
CHECK_TIMEOUT_SECONDS = 5
RETRIES = 3
_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


def backends_from(nodes: Sequence[tuple[str, str]], port: int) -> list[Backend]:
    """(name, address) pairs of control planes -> backends on the API server port."""
    return [(name, address, port) for name, address in nodes]


def _check_backends(backends: Sequence[Backend]) -> None:
    if not backends:
        raise ValueError("the load balancer needs at least one control plane behind it")
    names = [b[0] for b in backends]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate backend server names: {names}")
    for name, address, port in backends:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a valid HAProxy server name")
        ip_address(address)  # IPs only: haproxy -c would otherwise resolve names at check time
        if not 1 <= port <= 65535:
            raise ValueError(f"backend port {port} of {name} is out of range")


def render_haproxy_cfg(
    backends: Sequence[Backend],
    frontend_bind: str,
    frontend_port: int,
    settings: LoadBalancerConfig,
    stats_bind: str = "127.0.0.1",
    *,
    log_target: str = "/dev/log",
    hub_sections: str = "",
    maxconn: int | None = None,
    metrics_section: str = "",
) -> str:
    """The complete haproxy.cfg: TCP frontend, TLS /readyz checks on every API server, local stats, and the
    hub frontends and backends (`hub_routes.render_hub_sections`) when there are hubs to route to."""
    _check_backends(backends)
    limit = f"    maxconn {maxconn}\n" if maxconn is not None else ""
    client = settings.timeout_client_seconds
    server = settings.timeout_server_seconds
    servers = "\n".join(f"    server {name} {address}:{port} check check-ssl verify none" for name, address, port in backends)
    return f"""\
# Rendered by jupyterhub-platform (HaproxyLb); change the stack configuration, not this file.
global
    log {log_target} local0 notice
    user haproxy
    group haproxy
{limit}
defaults
    mode tcp
    log global
    option dontlognull
    # A refused or timed-out connect is retried, each retry on another server, so a dead API
    # server costs no request in the window before its health check marks it down.
    retries {RETRIES}
    option redispatch 1
    timeout connect {CONNECT_TIMEOUT_SECONDS}s
    # Long idle timeouts: kubectl logs -f, exec and watches sit idle for a long time.
    timeout client {client}s
    timeout server {server}s
    # In TCP mode the tunnel timeout supersedes both of the above once set; keep it as long.
    timeout tunnel {max(client, server)}s
    timeout check {CHECK_TIMEOUT_SECONDS}s

frontend {FRONTEND_NAME}
    bind {frontend_bind}:{frontend_port}
    mode tcp
    option tcplog
    default_backend {BACKEND_NAME}

backend {BACKEND_NAME}
    mode tcp
    balance roundrobin
    # TLS check of /readyz; the API servers' certificates are not verified here (clients do that).
    option httpchk
    http-check connect ssl
    http-check send meth GET uri {HEALTH_PATH}
    http-check expect status 200
    # No "on-marked-down shutdown-sessions": it also kills a request that is between connect
    # retries at the moment its server is marked down (seen in the live failover test).
    default-server inter {settings.health_check_interval_ms}ms fall {FALL} rise {RISE}
{servers}

listen stats
    bind {stats_bind}:{settings.stats_port}
    mode http
    no log
    timeout client 30s
    timeout server 30s
    stats enable
    stats uri {STATS_URI}
    stats refresh 10s
{hub_sections}{metrics_section}"""


def render_metrics_section(bind: str, port: int, allowed_network: str) -> str:
    """HAProxy's built-in Prometheus exporter, answering only sources in the node network (Prometheus runs
    on a node; its pod traffic leaves the node with the node's address)."""
    return f"""
frontend prometheus-exporter
    bind {bind}:{port}
    mode http
    no log
    timeout client 30s
    tcp-request connection reject unless {{ src {allowed_network} }}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    http-request deny deny_status 404
"""
