"""MonitoringStack in the rendered stacks: what exists, what waits for what, what is protected or secret,
the files the render writes, the host scripts (shellcheck, run twice in a scratch root)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from components.k8s_cluster.kubeadm_config import render_init_config
from components.monitoring.hosts import directory_script
from tests.graph import Graph
from tests.helpers import require_tool, shellcheck, stack_platform

Rendered = Callable[[str], tuple[dict[str, Any], Path]]
TYPE = "jupyterhub-platform:monitoring:MonitoringStack"


def _by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in plan["resources"]}


def test_dev_has_no_monitoring(rendered: Rendered) -> None:
    plan, out = rendered("dev")
    assert not [r for r in plan["resources"] if r["type"] == TYPE]
    assert not (out / "files" / "monitoring").exists()
    assert plan["outputs"]["platform"]["monitoring"] is None
    init = render_init_config(stack_platform("dev"), stack_platform("dev").inventory.control_planes[0])
    assert "bind-address" not in init and "listen-metrics-urls" not in init


def test_prod_monitoring_waits_for_the_hubs_and_the_volume(rendered: Rendered) -> None:
    plan, _ = rendered("prod")
    graph, res = Graph(plan["resources"]), _by_name(plan)
    assert [r["name"] for r in plan["resources"] if r["type"] == TYPE] == ["monitoring"]
    release = res["monitoring-kube-prometheus-stack"]
    assert release["inputs"]["version"] == "88.5.3" and release["inputs"]["chart"] == "kube-prometheus-stack"
    hub_releases = [r for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release" and r["name"].startswith("hub-")]
    assert len(hub_releases) == 3
    for hub in hub_releases:
        assert hub["urn"] in _all_deps(graph, "monitoring-namespace")
    assert graph.waits_for("monitoring-prometheus-volume", "worker-1-prometheus-dir")
    assert graph.waits_for("worker-1-prometheus-dir", "worker-1-kubeadm-join")
    assert graph.waits_for("monitoring-rules-nodes", "monitoring-kube-prometheus-stack")  # CRDs come with the release
    volume = res["monitoring-prometheus-volume"]
    assert volume["protect"] is True
    assert volume["inputs"]["spec"]["local"]["path"] == "/var/lib/jupyterhub-platform/prometheus"


def _all_deps(graph: Graph, name: str) -> set[str]:
    """URNs `name` waits for, directly or not (hub releases share their component's name)."""
    seen: set[str] = set()
    stack = [graph.urn(name)]
    while stack:
        for dep in graph.edges.get(stack.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def test_secrets_stay_secret(rendered: Rendered) -> None:
    plan, out = rendered("prod")
    res = _by_name(plan)
    for name in ("monitoring-alertmanager-config", "monitoring-grafana-oauth", "monitoring-grafana-tls",
                 "hub-teaching-metrics-token-secret"):  # fmt: skip
        assert json.dumps(res[name]["inputs"]).count("[secret]") >= 1, name
    values = (out / "files" / "releases" / "monitoring-kube-prometheus-stack" / "values.yaml").read_text()
    assert "client_secret: $__file{/etc/secrets/oauth/client_secret}" in values
    assert "smtp" not in values.lower() or "auth_password" not in values


def test_render_writes_rules_and_dashboards(rendered: Rendered) -> None:
    _, out = rendered("prod")
    rules = sorted(p.stem for p in (out / "files" / "monitoring" / "rules").glob("*.yaml"))
    assert rules == ["backups", "control-plane", "gpus", "hubs", "nodes", "prometheus", "storage"]
    for path in (out / "files" / "monitoring" / "rules").glob("*.yaml"):
        assert list(yaml.safe_load(path.read_text())) == ["groups"]
    dashboards = sorted(p.stem for p in (out / "files" / "monitoring" / "dashboards").glob("*.json"))
    assert dashboards == ["control-plane", "gpus", "nfs", "nodes", "platform-overview", "queues"]
    report = (out / "files" / "reports" / "capacity.md").read_text()
    assert "# Prometheus sizing" in report and "| **total** |" in report


def test_hosts_outside_kubernetes_get_node_exporter(rendered: Rendered) -> None:
    plan, out = rendered("prod")
    res = _by_name(plan)
    assert {n for n in res if n.endswith("-node-exporter")} == {"lb-1-node-exporter", "lb-2-node-exporter", "nfs-1-node-exporter"}
    assert Graph(plan["resources"]).waits_for("lb-1-vip-metric", "lb-1-node-exporter")
    nfs = (out / "files" / "nodes" / "nfs-1" / "node-exporter.sh").read_text()
    assert "export LISTEN_ADDRESS=192.0.2.51:9100" in nfs and "--collector.nfsd" in nfs
    haproxy_cfg = (out / "files" / "nodes" / "lb-1" / "etc" / "haproxy" / "haproxy.cfg").read_text()
    assert "tcp-request connection reject unless { src 192.0.2.0/24 }" in haproxy_cfg
    assert "use_backend hub-grafana-https if { req_ssl_sni -i grafana.example.org }" in haproxy_cfg
    assert "backend hub-grafana-http\n" not in haproxy_cfg  # HTTPS only


def test_host_scripts_pass_shellcheck(rendered: Rendered, tmp_path: Path) -> None:
    _, out = rendered("prod")
    for path in [*out.glob("files/nodes/*/node-exporter.sh"), *out.glob("files/nodes/*/vip-metric.sh"),
                 *out.glob("files/nodes/*/prometheus-dir.sh")]:  # fmt: skip
        shellcheck(path.read_text(), tmp_path, path.name)


def test_prometheus_dir_is_created_once_and_kept(tmp_path: Path) -> None:
    """The directory step in a scratch root (HOST_ROOT): creates, then a second run changes nothing."""
    bash = require_tool("bash")
    script = tmp_path / "step.sh"
    uid, gid = os.getuid(), os.getgid()
    text = directory_script().text.replace("DATA_UID=1000", f"DATA_UID={uid}").replace("DATA_GID=2000", f"DATA_GID={gid}")
    script.write_text(text)
    root = tmp_path / "root"
    root.mkdir()
    env = {**os.environ, "HOST_ROOT": str(root)}
    first = subprocess.run([bash, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    data = root / "var/lib/jupyterhub-platform/prometheus"
    assert data.is_dir() and "created" in first.stderr
    (data / "wal").mkdir()
    second = subprocess.run([bash, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert second.returncode == 0 and "created" not in second.stderr
    assert (data / "wal").is_dir() and oct(data.stat().st_mode & 0o777) == "0o770"
    (data / "wal").rmdir()
    data.rmdir()
    data.symlink_to(tmp_path)
    refused = subprocess.run([bash, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode != 0 and "symbolic link" in refused.stderr


def test_service_monitors_reach_the_hubs_yunikorn_and_dcgm(rendered: Rendered) -> None:
    _, out = rendered("prod")
    manifests = out / "files" / "manifests"
    hub = yaml.safe_load((manifests / "ServiceMonitor-jhub-teaching-hub.yaml").read_text())
    endpoint = hub["spec"]["endpoints"][0]
    assert endpoint["targetPort"] == 8081 and endpoint["path"] == "/hub/metrics"
    assert endpoint["authorization"]["credentials"] == {"name": "hub-metrics-token", "key": "token"}
    assert hub["spec"]["namespaceSelector"] == {"matchNames": ["jhub-teaching"]}
    yunikorn = yaml.safe_load((manifests / "ServiceMonitor-yunikorn-yunikorn.yaml").read_text())
    assert yunikorn["spec"]["endpoints"] == [{"port": "yunikorn-core", "path": "/ws/v1/metrics"}]  # 9080, not the web UI
    dcgm = yaml.safe_load((manifests / "ServiceMonitor-gpu-operator-dcgm-exporter.yaml").read_text())
    assert dcgm["spec"]["endpoints"][0]["port"] == "gpu-metrics"
