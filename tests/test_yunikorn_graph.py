"""YuniKornScheduler under Pulumi mocks and in the composed stacks."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pulumi_kubernetes as k8s
import yaml

from components.yunikorn.component import YuniKornScheduler
from config.loader import load_platform
from tests.graph import Graph
from tests.helpers import run_stack, stack_raw
from tools import mockrun


def run_component(hubs: list[str]) -> mockrun.Recorder:
    raw, _ = stack_raw("prod")
    cfg = load_platform(copy.deepcopy(raw), set(), missing_secrets_ok=True)

    def program() -> Mapping[str, Any]:
        provider = k8s.Provider("test", kubeconfig="x")
        ready = k8s.core.v1.Namespace("cluster-ready-marker", metadata={"name": "marker"}, opts=None)
        scheduler = YuniKornScheduler(
            "yunikorn",
            settings=cfg.scheduler,
            charts=cfg.charts,
            gpu_resource="nvidia.com/gpu",
            hub_namespaces=hubs,
            provider=provider,
            depends_on=[ready],
        )
        return {"queues": scheduler.queue_paths}

    return mockrun.run("jupyterhub-platform", "test", program)


def test_configmap_is_its_own_resource_before_the_pinned_release() -> None:
    recorder = run_component(["jhub-a"])
    component = recorder.named("yunikorn")
    assert component.type == "jupyterhub-platform:scheduler:YuniKornScheduler"
    cm = recorder.named("yunikorn-configs", "kubernetes:core/v1:ConfigMap")
    assert cm.inputs["metadata"] == {
        "name": "yunikorn-configs",
        "namespace": "yunikorn",
        "labels": {"app.kubernetes.io/managed-by": "jupyterhub-platform"},
    }
    document = yaml.safe_load(cm.inputs["data"]["queues.yaml"])
    assert document["partitions"][0]["queues"][0]["name"] == "root"
    release = recorder.named("yunikorn-release")
    assert release.inputs["chart"] == "yunikorn" and release.inputs["version"] == "1.9.0"
    assert release.inputs["repositoryOpts"]["repo"] == "https://apache.github.io/yunikorn-release"
    assert release.inputs["namespace"] == "yunikorn" and release.inputs["name"] == "yunikorn"
    graph = Graph([r.to_plan() for r in recorder.registrations.values()])
    assert graph.waits_for("yunikorn-release", "yunikorn-configs")
    assert graph.waits_for("yunikorn-configs", "yunikorn-namespace")
    assert graph.waits_for("yunikorn-namespace", "cluster-ready-marker")
    for name in ("yunikorn-namespace", "yunikorn-configs", "yunikorn-release"):
        reg = recorder.named(name)
        assert reg.parent == component.urn and reg.provider and "::test::" in reg.provider
    ns = recorder.named("yunikorn-namespace")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert recorder.outputs["queues"] == ["root.students", "root.researchers", "root.gpu", "root.exam"]


def test_hub_identity_reaches_the_admission_controller() -> None:
    values = run_component(["jhub-a", "jhub-b"]).named("yunikorn-release").inputs["values"]
    settings = values["yunikornDefaults"]
    assert settings["admissionController.accessControl.externalUsers"] == (
        "^system:serviceaccount:jhub-a:hub$,^system:serviceaccount:jhub-b:hub$"
    )
    assert settings["admissionController.filtering.processNamespaces"] == "^jhub-a$,^jhub-b$"


def test_stacks_compose_the_scheduler_from_the_hubs() -> None:
    for stack in ("dev", "prod"):
        recorder = run_stack(stack)
        raw, _ = stack_raw(stack)
        cfg = load_platform(copy.deepcopy(raw), set(), missing_secrets_ok=True)
        release = recorder.named("yunikorn-release")
        users = release.inputs["values"]["yunikornDefaults"]["admissionController.accessControl.externalUsers"]
        assert users.split(",") == [f"^system:serviceaccount:{h.k8s_namespace}:hub$" for h in cfg.hubs] or (
            not cfg.hubs and users == ""
        )
        graph = Graph([r.to_plan() for r in recorder.registrations.values()])
        first_cp = cfg.inventory.control_planes[0].name
        assert any(n.startswith(f"{first_cp}-") for n in graph.ancestors("yunikorn-release")), stack
        assert recorder.outputs["scheduler"]["namespace"] == "yunikorn"
        assert recorder.outputs["scheduler"]["queues"] == cfg.scheduler.leaf_queue_paths()
        assert mockrun.SECRET_MARK not in str(mockrun.redact(release.raw_inputs))  # no secret in the chart values
