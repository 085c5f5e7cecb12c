"""Prometheus' extra scrape jobs and ServiceMonitors compared whole: which hosts get a static job (only
hosts outside Kubernetes get node-exporter targets; every load balancer gets HAProxy's exporter), the API
job's TLS and token settings, and the hub, YuniKorn and DCGM monitors."""

from __future__ import annotations

from typing import Any

from components.monitoring.scrape import (
    additional_scrape_configs,
    dcgm_service_monitor,
    hub_service_monitor,
    yunikorn_service_monitor,
)
from config.platform import PlatformConfig

PART_OF = {"app.kubernetes.io/part-of": "jupyterhub-platform"}


def platform(*nodes: tuple[str, int, list[str]], existing: bool = False) -> PlatformConfig:
    raw: dict[str, Any] = {
        "inventory": {
            "node_network": "192.0.2.0/24",
            "nodes": [{"name": n, "address": f"192.0.2.{a}", "roles": r} for n, a, r in nodes],
        },
        "cluster": {"endpoint": {"host": "api.example.org", "port": 8443}},
    }
    if existing:
        raw["cluster"]["mode"] = "existing"
    return PlatformConfig.model_validate(raw)


API_JOB = {
    "job_name": "api-vip",
    "scheme": "https",
    "metrics_path": "/metrics",
    "authorization": {"credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"},
    "tls_config": {"ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "server_name": "kubernetes"},
    "static_configs": [{"targets": ["api.example.org:8443"]}],
    "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "process_start_time_seconds", "action": "keep"}],
}


def test_jobs_for_hosts_outside_kubernetes() -> None:
    cfg = platform(
        ("cp-1", 21, ["control-plane", "worker", "load-balancer"]),
        ("lb-1", 11, ["load-balancer"]),
        ("lb-2", 12, ["load-balancer"]),
        ("nfs-1", 51, ["nfs"]),
    )
    assert additional_scrape_configs(cfg) == [
        {"job_name": "haproxy", "static_configs": [{"targets": ["192.0.2.21:8405", "192.0.2.11:8405", "192.0.2.12:8405"]}]},
        {"job_name": "lb-hosts", "static_configs": [{"targets": ["192.0.2.11:9100", "192.0.2.12:9100"]}]},
        {"job_name": "nfs-host", "static_configs": [{"targets": ["192.0.2.51:9100"]}]},
        API_JOB,
    ]


def test_hosts_inside_kubernetes_get_no_static_node_exporter() -> None:
    cfg = platform(("cp-1", 21, ["control-plane", "worker", "nfs", "load-balancer"]), ("w-1", 31, ["worker", "load-balancer"]))
    assert additional_scrape_configs(cfg) == [
        {"job_name": "haproxy", "static_configs": [{"targets": ["192.0.2.21:8405", "192.0.2.31:8405"]}]},
        API_JOB,
    ]
    assert additional_scrape_configs(platform(("cp-1", 21, ["control-plane", "worker"]))) == [API_JOB]


def test_an_existing_cluster_gets_no_api_job() -> None:
    assert additional_scrape_configs(platform(("n-1", 21, ["worker"]), existing=True)) == []


def monitor(name: str, namespace: str, selector: dict[str, str], endpoint: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": PART_OF},
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [endpoint],
        },
    }


def test_service_monitors() -> None:
    assert hub_service_monitor("jhub-a") == monitor(
        "hub",
        "jhub-a",
        {"app": "jupyterhub", "component": "hub"},
        {
            "targetPort": 8081,
            "path": "/hub/metrics",
            "authorization": {"type": "Bearer", "credentials": {"name": "hub-metrics-token", "key": "token"}},
        },
    )
    assert yunikorn_service_monitor("yk") == monitor(
        "yunikorn", "yk", {"app": "yunikorn"}, {"port": "yunikorn-core", "path": "/ws/v1/metrics"}
    )
    assert dcgm_service_monitor("gpu") == monitor(
        "dcgm-exporter", "gpu", {"app": "nvidia-dcgm-exporter"}, {"port": "gpu-metrics", "path": "/metrics"}
    )
