"""GPU pool wiring under mocks: after the cluster, host step before the join, outputs, and the bare component."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.gpu_pool.component import GpuNodePool
from tests.graph import Graph
from tests.helpers import ROOT, run_stack
from tests.test_gpu_config import load
from tools import mockrun, render


def _plan(recorder: mockrun.Recorder) -> dict[str, Any]:
    return render.plan_document("prod", recorder)


def test_prod_gpu_pool_graph(rendered: Any) -> None:
    plan, out = rendered("prod")
    graph = Graph(plan["resources"])
    # The host step runs after containerd is prepared and before the node joins.
    assert graph.waits_for("gpu-1-gpu-host", "gpu-1-prepare")
    assert graph.waits_for("gpu-1-kubeadm-join", "gpu-1-gpu-host")
    # The operator waits for the cluster (CNI, nodes Ready), our ConfigMaps and the node labels.
    for earlier in (
        "cluster-calico",
        "cp-1-wait-nodes-ready",
        "gpu-pool-sharing-config",
        "gpu-pool-mig-config",
        "gpu-pool-labels-gpu-1",
    ):
        assert graph.waits_for("gpu-pool-gpu-operator", earlier), earlier
    release = next(r for r in plan["resources"] if r["name"] == "gpu-pool-gpu-operator")
    assert release["inputs"]["version"] == "v26.7.0"
    assert release["inputs"]["repositoryOpts"]["repo"] == "https://helm.ngc.nvidia.com/nvidia"
    assert release["inputs"]["values"]["driver"]["enabled"] is False
    pool = next(r for r in plan["resources"] if r["name"] == "gpu-pool")
    assert pool["type"] == "jupyterhub-platform:gpu:GpuNodePool"
    # Join taint and labels reach the cluster's join step and its labels patch.
    join_template = (out / "files/nodes/gpu-1/etc/kubernetes/join-template.yaml").read_text()
    assert "nvidia.com/gpu" in join_template and "present" in join_template
    labels = next(r for r in plan["resources"] if r["name"] == "gpu-1-labels")["inputs"]["metadata"]["labels"]
    assert labels["nvidia.com/gpu.present"] == "true" and "nvidia.com/mig.config" not in labels
    # Node patches are not manifests of their own in the render; their inputs are in plan.json.
    assert not (out / "files/manifests/Node-cluster-gpu-1.yaml").exists()
    patch = next(r for r in plan["resources"] if r["name"] == "gpu-pool-labels-gpu-1")["inputs"]
    assert patch["metadata"]["labels"]["nvidia.com/mig.config"] == "h100-80gb-all-1g.10gb"
    assert (out / "files/nodes/gpu-1/gpu-host.sh").is_file()
    assert plan["outputs"]["gpu_seats"] == 14
    assert plan["outputs"]["gpu_resource_name"] == "nvidia.com/gpu"
    assert plan["outputs"]["gpu_nodes"] == ["gpu-1"]


def test_dev_has_no_gpu_pool(rendered: Any) -> None:
    plan, _ = rendered("dev")
    assert not [r for r in plan["resources"] if r["type"] == "jupyterhub-platform:gpu:GpuNodePool"]
    assert plan["outputs"]["gpu_seats"] == 0


def test_time_slicing_device_plugin_stack(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    nodes = document["config"]["jupyterhub-platform:inventory"]["nodes"]
    next(n for n in nodes if n["name"] == "gpu-1")["gpu"] = {"model": "L40S", "count": 4}
    document["config"]["jupyterhub-platform:gpu"] = {
        "provider": "device-plugin",
        "sharing": {"mode": "time-slicing", "time_slicing": {"replicas": 4}},
    }
    # 16 seats on gpu-1: the GPU profile's guarantee must fit 16 times (config.gpu_rules.gpu_profile_capacity).
    hub = document["config"]["jupyterhub-platform:hubs"][0]
    next(p for p in hub["profiles"] if p.get("gpu")).update(cpu_guarantee=2, mem_guarantee_gib=16)
    stack_file = tmp_path / "Pulumi.ts.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    recorder = run_stack("ts", stack_file)
    release = recorder.named("gpu-pool-device-plugin")
    assert release.inputs["version"] == "0.20.0"
    assert release.inputs["values"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert not recorder.by_type("kubernetes:helm.sh/v3:Release") or all(
        r.name != "gpu-pool-gpu-operator" for r in recorder.by_type("kubernetes:helm.sh/v3:Release")
    )
    sharing = recorder.named("gpu-pool-sharing-config").inputs["data"]["default"]
    assert "replicas: 4" in sharing
    assert recorder.outputs["gpu_seats"] == 16


def test_component_waits_for_what_it_is_given() -> None:
    cfg = load([{"model": "H100-80GB", "count": 2}], {"sharing": {"mode": "mig"}})

    def program() -> dict[str, Any]:
        provider = k8s.Provider("test-provider", kubeconfig="{}")
        before = k8s.core.v1.ConfigMap("cluster-ready", metadata={"name": "x"}, opts=pulumi.ResourceOptions(provider=provider))
        pool = GpuNodePool("gpu-pool", cfg=cfg, provider=provider, depends_on=[before])
        return {"seats": pool.outputs["gpu_seats"]}

    recorder = mockrun.run("jupyterhub-platform", "test", program)
    graph = Graph(_plan(recorder)["resources"])
    for name in ("gpu-pool-gpu-operator", "gpu-pool-namespace", "gpu-pool-labels-gpu-1", "gpu-pool-sharing-config"):
        assert graph.waits_for(name, "cluster-ready"), name
    assert recorder.outputs["seats"] == 14
    release = recorder.named("gpu-pool-gpu-operator")
    assert release.provider and "test-provider" in release.provider


def test_hub_waits_for_the_gpu_pool(rendered: Any) -> None:
    import pytest

    plan, _ = rendered("prod")
    releases = [r for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"]
    hubs = [r for r in releases if r["inputs"].get("chart") == "jupyterhub"]
    if not hubs:
        pytest.skip("no JupyterHub release in the prod stack yet")
    edges = {r["urn"]: set(r["depends_on"]) for r in plan["resources"]}
    operator = next(r["urn"] for r in releases if r["name"] == "gpu-pool-gpu-operator")
    for hub in hubs:
        seen: set[str] = set()
        stack = [hub["urn"]]
        while stack:
            for dep in edges.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        assert operator in seen, hub["urn"]
