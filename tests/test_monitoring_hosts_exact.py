"""Monitoring's host steps and routes read back: which hosts get node-exporter (and with which
collectors, on which address), the VIP metric timer and service files, the Prometheus directory step,
Grafana's HTTPS-only route, the HAProxy exporter's source network and the in-cluster URLs."""

from __future__ import annotations

from typing import Any

from components.haproxy_lb.hub_routes import HubRoute
from components.monitoring.access import grafana_routes, haproxy_metrics, urls
from components.monitoring.hosts import directory_script, node_exporter_steps, vip_metric_script
from config.platform import PlatformConfig
from tests.helpers import script_exports

TEXTFILES = "/var/lib/prometheus/node-exporter"


def platform(monitoring: dict[str, Any] | None = None, vip: bool = True) -> PlatformConfig:
    nodes = [
        {"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane", "worker", "load-balancer"]},
        {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
        {"name": "both", "address": "192.0.2.12", "roles": ["load-balancer", "nfs"]},
        {"name": "w-1", "address": "192.0.2.31", "roles": ["worker"], "taints": [{"key": "x", "effect": "NoSchedule"}]},
    ]
    raw: dict[str, Any] = {"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}}
    if vip:
        raw["load_balancer"] = {"vip": "192.0.2.10"}
    if monitoring is not None:
        raw["monitoring"] = monitoring
    return PlatformConfig.model_validate(raw)


def test_node_exporter_on_hosts_outside_kubernetes() -> None:
    steps = node_exporter_steps(platform())
    assert [(s.node, s.step) for s in steps] == [
        ("lb-1", "node-exporter"),
        ("both", "node-exporter"),
        ("cp-1", "vip-metric"),
        ("lb-1", "vip-metric"),
        ("both", "vip-metric"),
    ]
    assert script_exports(steps[0].script.text) == {
        "STEP_NAME": "node-exporter",
        "LISTEN_ADDRESS": "192.0.2.11:9100",
        "COLLECTOR_ARGS": "",
        "TEXTFILE_DIR": TEXTFILES,
    }
    assert script_exports(steps[1].script.text)["COLLECTOR_ARGS"] == "--collector.nfsd"
    assert steps[2].script == vip_metric_script("192.0.2.10")
    assert [(s.node, s.step) for s in node_exporter_steps(platform(vip=False))] == [
        ("lb-1", "node-exporter"),
        ("both", "node-exporter"),
    ]


def test_the_vip_metric_timer() -> None:
    script = vip_metric_script("192.0.2.10")
    header = script_exports(script.text)
    assert (script.name, header["STEP_NAME"]) == ("vip-metric", "vip-metric")
    assert header["HOLDER_SCRIPT_PATH"] == "/usr/local/lib/jupyterhub-platform/vip-holder-metric.sh"
    files = {f.path: (f.content, f.mode) for f in script.files.values()}
    assert files == {
        "/etc/systemd/system/jhub-vip-metric.service": (
            "[Unit]\nDescription=Write whether this host holds the VIP 192.0.2.10 for node-exporter (jupyterhub-platform)\n\n"
            "[Service]\nType=oneshot\n"
            f"ExecStart=/usr/local/lib/jupyterhub-platform/vip-holder-metric.sh 192.0.2.10 {TEXTFILES}\nTimeoutStartSec=30\n",
            "0644",
        ),
        "/etc/systemd/system/jhub-vip-metric.timer": (
            "[Unit]\nDescription=Refresh the VIP holder metric (jupyterhub-platform)\n\n"
            "[Timer]\nOnBootSec=30s\nOnUnitActiveSec=15s\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n",
            "0644",
        ),
    }
    assert header["METRIC_SERVICE_PATH"] == "/etc/systemd/system/jhub-vip-metric.service"
    assert header["METRIC_TIMER_PATH"] == "/etc/systemd/system/jhub-vip-metric.timer"


def test_the_prometheus_directory_step() -> None:
    assert script_exports(directory_script().text) == {
        "STEP_NAME": "prometheus-dir",
        "DATA_DIR": "/var/lib/jupyterhub-platform/prometheus",
        "DATA_UID": "1000",
        "DATA_GID": "2000",
    }


def test_grafana_route_and_urls() -> None:
    cfg = platform({"grafana": {"host": "grafana.example.org", "https_node_port": 30950}})
    assert grafana_routes(cfg) == [
        HubRoute(
            name="grafana",
            host="grafana.example.org",
            http_port=None,
            https_port=30950,
            servers=(("cp-1", "192.0.2.21"),),
            maxconn=500,
        )
    ]
    assert urls(cfg) == {
        "grafana_url": "https://grafana.example.org/",
        "prometheus_url": "http://monitoring-prometheus.monitoring.svc:9090/",
        "alertmanager_url": "http://monitoring-alertmanager.monitoring.svc:9093/",
    }
    assert haproxy_metrics(cfg) == (8405, "192.0.2.0/24")


def test_without_grafana_or_monitoring() -> None:
    cfg = platform({})
    assert grafana_routes(cfg) == []
    assert urls(cfg)["grafana_url"] is None
    assert (grafana_routes(platform()), urls(platform()), haproxy_metrics(platform())) == ([], {}, None)
