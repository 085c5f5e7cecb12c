"""How Grafana and the HAProxy exporter are reached (pure): Grafana rides the hub route mechanism of the
load-balancer hosts (443 by SNI, TLS passed through to Grafana's HTTPS NodePort; no port-80 route), and
HAProxy's exporter listens for the node network only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.haproxy_lb.hub_routes import HubRoute
from components.monitoring import naming
from components.monitoring.scrape import HAPROXY_METRICS_PORT
from config.traffic_queries import proxy_nodes

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# Grafana serves few users at once (operators); its backend's connection limit.
GRAFANA_MAXCONN = 500


def grafana_routes(cfg: PlatformConfig) -> list[HubRoute]:
    """The Grafana route for HaproxyLb (empty when Grafana is not published)."""
    mon = cfg.monitoring
    if mon is None or mon.grafana is None or not cfg.inventory.load_balancers:
        return []
    # Every node answers a NodePort with the default externalTrafficPolicy; the proxy nodes suffice.
    return [
        HubRoute(
            name="grafana",
            host=mon.grafana.host,
            http_port=None,  # HTTPS only: HAProxy redirects port 80 to HTTPS
            https_port=mon.grafana.https_node_port,
            servers=tuple(proxy_nodes(cfg)),
            maxconn=GRAFANA_MAXCONN,
        )
    ]


def haproxy_metrics(cfg: PlatformConfig) -> tuple[int, str] | None:
    """(port, allowed source network) of HAProxy's exporter, or None without monitoring."""
    if cfg.monitoring is None:
        return None
    return HAPROXY_METRICS_PORT, str(cfg.inventory.node_network)


def urls(cfg: PlatformConfig) -> dict[str, str | None]:
    """Grafana's public URL, Prometheus' and Alertmanager's in-cluster URLs (for the stack contract)."""
    mon = cfg.monitoring
    if mon is None:
        return {}
    return {
        "grafana_url": f"https://{mon.grafana.host}/" if mon.grafana is not None else None,
        "prometheus_url": f"http://{naming.PROMETHEUS_SERVICE}.{naming.NAMESPACE}.svc:{naming.PROMETHEUS_PORT}/",
        "alertmanager_url": f"http://{naming.ALERTMANAGER_SERVICE}.{naming.NAMESPACE}.svc:{naming.ALERTMANAGER_PORT}/",
    }
