"""What Prometheus scrapes beyond the chart's own ServiceMonitors (pure).

The chart covers node-exporter on every Kubernetes node, kubelet/cAdvisor, kube-state-metrics, the API
servers, etcd, controller-manager and scheduler (the kubeadm config binds the last three on the node
address). Added here: static targets for the hosts that are not Kubernetes nodes (node-exporter on the
load-balancer and NFS hosts, HAProxy's exporter), the API through the load-balancer address, and
ServiceMonitors for every hub, YuniKorn and the DCGM exporter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.inventory import Node, Role

if TYPE_CHECKING:
    from config.platform import PlatformConfig

NODE_EXPORTER_PORT = 9100
# HAProxy's built-in exporter listens on this port of the node-network address only (haproxy_cfg).
HAPROXY_METRICS_PORT = 8405
API_VIP_JOB = "api-vip"
LB_JOB = "lb-hosts"
NFS_JOB = "nfs-host"
HAPROXY_JOB = "haproxy"
HUB_JOB = "hub"
HUB_PORT = 8081
# Key of the hub metrics token in the `hub-metrics-token` Secret each hub namespace gets.
HUB_TOKEN_SECRET = "hub-metrics-token"
HUB_TOKEN_KEY = "token"
# The service-account token Prometheus presents to the API server (the chart grants it /metrics).
SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SA_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"


def off_cluster(node: Node) -> bool:
    """Hosts outside Kubernetes get Debian's node-exporter; on a node the chart's DaemonSet already binds 9100."""
    return not (node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER))


def _static(job: str, targets: list[str]) -> dict[str, Any]:
    return {"job_name": job, "static_configs": [{"targets": targets}]}


def additional_scrape_configs(cfg: PlatformConfig) -> list[dict[str, Any]]:
    """`prometheus.prometheusSpec.additionalScrapeConfigs`: targets outside Kubernetes service discovery."""
    jobs: list[dict[str, Any]] = []
    lbs = cfg.inventory.load_balancers
    nfs = [n for n in cfg.inventory.with_role(Role.NFS) if off_cluster(n)]
    if lbs:
        jobs.append(_static(HAPROXY_JOB, [f"{n.address}:{HAPROXY_METRICS_PORT}" for n in lbs]))
    if [n for n in lbs if off_cluster(n)]:
        jobs.append(_static(LB_JOB, [f"{n.address}:{NODE_EXPORTER_PORT}" for n in lbs if off_cluster(n)]))
    if nfs:
        jobs.append(_static(NFS_JOB, [f"{n.address}:{NODE_EXPORTER_PORT}" for n in nfs]))
    if cfg.builds_cluster:
        # The API as users reach it (VIP or LB host); only `up` is kept, the servers' own job has the rest.
        jobs.append(
            {
                "job_name": API_VIP_JOB,
                "scheme": "https",
                "metrics_path": "/metrics",
                "authorization": {"credentials_file": SA_TOKEN},
                "tls_config": {"ca_file": SA_CA, "server_name": "kubernetes"},
                "static_configs": [{"targets": [cfg.api_endpoint()]}],
                "metric_relabel_configs": [
                    {"source_labels": ["__name__"], "regex": "process_start_time_seconds", "action": "keep"}
                ],
            }
        )
    return jobs


def _service_monitor(name: str, namespace: str, selector: dict[str, str], endpoint: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "jupyterhub-platform"}},
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [endpoint],
        },
    }


def hub_service_monitor(namespace: str) -> dict[str, Any]:
    """The hub's `/hub/metrics`, read with the hub's `read:metrics` service token (a Secret in its namespace).
    z2jh's `hub` Service carries the legacy labels `app`/`component` and leaves its one port unnamed, so the
    endpoint names the target port (8081)."""
    endpoint = {
        "targetPort": HUB_PORT,
        "path": "/hub/metrics",
        "authorization": {"type": "Bearer", "credentials": {"name": HUB_TOKEN_SECRET, "key": HUB_TOKEN_KEY}},
    }
    return _service_monitor(HUB_JOB, namespace, {"app": "jupyterhub", "component": "hub"}, endpoint)


def yunikorn_service_monitor(namespace: str) -> dict[str, Any]:
    """YuniKorn's metrics on its REST port: `/ws/v1/metrics` on port `yunikorn-core` (9080) of the chart's
    `yunikorn-service` Service (its port named `yunikorn-service`, 9889, is the web UI)."""
    return _service_monitor("yunikorn", namespace, {"app": "yunikorn"}, {"port": "yunikorn-core", "path": "/ws/v1/metrics"})


def dcgm_service_monitor(namespace: str) -> dict[str, Any]:
    """The GPU Operator's DCGM exporter (port 9400, `gpu-metrics`)."""
    return _service_monitor(
        "dcgm-exporter", namespace, {"app": "nvidia-dcgm-exporter"}, {"port": "gpu-metrics", "path": "/metrics"}
    )
