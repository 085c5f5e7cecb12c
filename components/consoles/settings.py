"""From the validated config to what each console's proxy and the load balancer need (pure).

The YuniKorn chart's Service `yunikorn-service` stays `ClusterIP` (set explicitly in the scheduler's values):
its web UI (9889) and REST API (9080, under `/ws/`) are reached only through the console's proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.consoles.proxy import ProxySettings
from components.haproxy_lb.hub_routes import HubRoute
from config.consoles import Console, ConsolesConfig
from config.consoles_rules import allowed_groups, groups_claim, issuer_url, scopes
from config.traffic_queries import proxy_nodes

if TYPE_CHECKING:
    from config.platform import PlatformConfig

YUNIKORN_SERVICE = "yunikorn-service"
YUNIKORN_WEB_PORT = 9889
YUNIKORN_REST_PORT = 9080
# The REST API of each app (no login redirect there: 401).
API_ROUTES = {"yunikorn": ("^/ws/",)}
# Connections one console's backend may hold at the load balancer (a handful of administrators).
CONSOLE_MAXCONN = 200


def upstreams(cfg: PlatformConfig, console: Console) -> tuple[str, ...]:
    """Where the proxy sends admitted requests, by path (each app a later console adds gets a branch here)."""
    if console.app == "yunikorn":
        service = f"{YUNIKORN_SERVICE}.{cfg.scheduler.namespace}.svc"
        return (f"http://{service}:{YUNIKORN_WEB_PORT}/", f"http://{service}:{YUNIKORN_REST_PORT}/ws/")
    raise ValueError(f"no upstream known for console app {console.app!r}")


def proxy_settings(cfg: PlatformConfig, consoles: ConsolesConfig, console: Console) -> ProxySettings:
    return ProxySettings(
        name=console.name,
        host=console.host,
        issuer=issuer_url(cfg, consoles),
        client_id=consoles.identity.client_id,
        groups_claim=groups_claim(cfg, consoles),
        scopes=tuple(scopes(cfg, consoles)),
        allowed_groups=tuple(allowed_groups(cfg, consoles, console)),
        upstreams=upstreams(cfg, console),
        session_hours=consoles.session_hours,
        refresh_minutes=consoles.refresh_minutes,
        api_routes=API_ROUTES[console.app],
    )


def console_routes(cfg: PlatformConfig) -> list[HubRoute]:
    """The consoles as the load balancer's hub frontends see them: TLS passthrough by SNI to the proxy's
    HTTPS node port; on 80 HAProxy redirects to HTTPS. No PROXY protocol (oauth2-proxy does not read it)."""
    consoles = cfg.consoles
    if consoles is None or not cfg.builds_cluster or not cfg.inventory.load_balancers:
        return []
    nodes = tuple(proxy_nodes(cfg))
    return [
        HubRoute(
            name=f"console-{c.name}",
            host=c.host,
            http_port=None,
            https_port=c.https_node_port,
            servers=nodes,
            maxconn=CONSOLE_MAXCONN,
            allowed_networks=tuple(str(n) for n in c.allowed_networks),
        )
        for c in consoles.apps
    ]
