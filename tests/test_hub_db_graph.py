"""The hub databases' local volumes in the stack graph under Pulumi mocks: which node, in which order,
protected, never deleted; none in `existing` mode."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.jupyterhub.component import TYPE as HUB_TYPE
from components.jupyterhub.hub_db_volumes import TYPE
from tests.helpers import ROOT, run_stack
from tools.mockrun import Registration

COMMAND = "command:remote:Command"
PV = "kubernetes:core/v1:PersistentVolume"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_PATCH = "kubernetes:core/v1:NodePatch"
PROD_NODES = {hub: ("worker-1", "192.0.2.31") for hub in ("teaching", "exam", "grading")}  # default: first CPU worker


class Stack:
    """A copy of one run's registrations (a Recorder is cleared by the next run) with graph queries."""

    def __init__(self, registrations: dict[str, Registration], pv_options: dict[str, pulumi.ResourceOptions]) -> None:
        self.regs = registrations
        self.pv_options = pv_options

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.regs.values() if r.type == typ]

    def one(self, name: str, typ: str) -> Registration:
        (found,) = [r for r in self.regs.values() if r.name == name and r.type == typ]
        return found

    def waits_for(self, later: Registration, earlier: Registration) -> bool:
        seen: set[str] = set()
        todo = [later.urn]
        while todo:
            for dep in self.regs[todo.pop()].depends_on:
                if dep not in seen and dep in self.regs:
                    seen.add(dep)
                    todo.append(dep)
        return earlier.urn in seen


def _run(stack: str, stack_file: Path | None = None) -> Stack:
    """Run the stack, recording the options every PersistentVolume was created with."""
    seen: dict[str, pulumi.ResourceOptions] = {}
    original = k8s.core.v1.PersistentVolume

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, resource_name: str, *args: Any, opts: pulumi.ResourceOptions | None = None, **kw: Any) -> None:
            seen[resource_name] = opts or pulumi.ResourceOptions()
            super().__init__(resource_name, *args, opts=opts, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(k8s.core.v1, "PersistentVolume", Spy)
        recorder = run_stack(stack, stack_file)
    return Stack(dict(recorder.registrations), seen)


@pytest.fixture(scope="module")
def prod() -> Iterator[Stack]:
    yield _run("prod")


def test_each_prod_hub_gets_a_directory_step_on_its_cpu_worker(prod: Stack) -> None:
    (component,) = prod.of_type(TYPE)
    steps = {r.name: r for r in prod.of_type(COMMAND) if "-hub-db-dir-" in r.name}
    assert set(steps) == {f"{node}-hub-db-dir-{hub}" for hub, (node, _) in PROD_NODES.items()}
    for hub, (node, address) in PROD_NODES.items():
        step = steps[f"{node}-hub-db-dir-{hub}"]
        assert step.parent == component.urn
        assert step.inputs["connection"]["host"] == address
        assert f"export DB_DIR=/var/lib/jupyterhub-platform/hub-db/{hub}" in step.inputs["create"]
        assert "delete" not in step.inputs, "the database directory is never removed by Pulumi"
    assert not [n for n in steps if n.startswith("gpu-1-")]


def test_directory_after_the_node_joined_and_before_the_hub_release(prod: Stack) -> None:
    for hub, (node, _) in PROD_NODES.items():
        step = prod.one(f"{node}-hub-db-dir-{hub}", COMMAND)
        volume = prod.one(f"hub-db-{hub}", PV)
        release = prod.one(f"hub-{hub}", RELEASE)
        assert prod.waits_for(step, prod.one(f"{node}-kubeadm-join", COMMAND))
        assert prod.waits_for(step, prod.one(f"{node}-labels", NODE_PATCH)), "the node must be registered first"
        assert step.urn in volume.depends_on and volume.urn in release.depends_on
        assert prod.waits_for(release, step)
        # Nothing that the hub release waits for is delayed by another hub's volume.
        others = {f"hub-db-{h}" for h in PROD_NODES if h != hub}
        assert not {prod.regs[d].name for d in release.depends_on if d in prod.regs and prod.regs[d].type == PV} & others


def test_volumes_are_protected_retained_and_pinned(prod: Stack) -> None:
    (storage_class,) = [r for r in prod.of_type(SC) if r.inputs["metadata"]["name"] == "hub-db-local"]
    for hub, (node, _) in PROD_NODES.items():
        volume = prod.one(f"hub-db-{hub}", PV)
        assert volume.protect, f"{hub}: the hub database volume must be protected"
        assert prod.pv_options[f"hub-db-{hub}"].retain_on_delete is True
        assert storage_class.urn in volume.depends_on and volume.provider
        spec = volume.inputs["spec"]
        assert spec["persistentVolumeReclaimPolicy"] == "Retain"
        assert spec["claimRef"]["namespace"] == f"jhub-{hub}" and spec["claimRef"]["name"] == "hub-db-dir"
        assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [node]
        component = prod.regs[volume.parent or ""]
        assert component.type == TYPE
        hub_component = [r for r in prod.of_type(HUB_TYPE) if r.name == f"hub-{hub}"]
        assert hub_component and volume.parent != hub_component[0].urn


def test_release_values_claim_the_platform_volume(prod: Stack) -> None:
    for hub in PROD_NODES:
        pvc = prod.one(f"hub-{hub}", RELEASE).inputs["values"]["hub"]["db"]["pvc"]
        assert pvc["storageClassName"] == "hub-db-local"
        assert pvc["selector"] == {"matchLabels": {"jupyterhub-platform/hub-db": hub}}


def test_dev_hub_database_on_dev_1_after_the_first_control_plane() -> None:
    dev = _run("dev")
    step = dev.one("dev-1-hub-db-dir-dev", COMMAND)
    assert dev.waits_for(step, dev.one("dev-1-kubeadm-init", COMMAND))
    assert dev.waits_for(dev.one("hub-dev", RELEASE), dev.one("hub-db-dev", PV))
    assert dev.one("hub-db-dev", PV).protect


def test_a_pinned_node_gets_the_step_and_the_volume(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    hubs = raw["config"]["jupyterhub-platform:hubs"]
    exam = next(h for h in hubs if h["name"] == "exam")
    exam["database"] = {"node": "worker-2", "size_gib": 3}
    path = tmp_path / "Pulumi.pinned.yaml"
    path.write_text(yaml.safe_dump(raw))
    pinned = _run("pinned", path)
    step = pinned.one("worker-2-hub-db-dir-exam", COMMAND)
    assert step.inputs["connection"]["host"] == "192.0.2.32"
    assert pinned.waits_for(step, pinned.one("worker-2-kubeadm-join", COMMAND))
    assert not pinned.waits_for(step, pinned.one("worker-1-kubeadm-join", COMMAND))
    spec = pinned.one("hub-db-exam", PV).inputs["spec"]
    assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["worker-2"]
    assert spec["capacity"] == {"storage": "3Gi"}
    assert pinned.one("hub-exam", RELEASE).inputs["values"]["hub"]["db"]["pvc"]["storage"] == "3Gi"


def test_existing_mode_creates_no_volume_and_uses_the_named_class(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    cfg = copy.deepcopy(raw)
    cfg["config"]["jupyterhub-platform:cluster"]["mode"] = "existing"
    cfg["config"]["jupyterhub-platform:inventory"]["nodes"][0]["roles"] = ["worker"]
    cfg["config"]["jupyterhub-platform:nfs"] = {"mode": "external", "server": "192.0.2.200", "export_path": "/export/hub"}
    cfg["config"]["jupyterhub-platform:hubs"][0]["database"] = {"storage_class": "standard"}
    cfg["config"]["jupyterhub-platform:traffic"] = {"external_load_balancer": True}  # the laptop cluster's own
    path = tmp_path / "Pulumi.laptop.yaml"
    path.write_text(yaml.safe_dump(cfg))
    laptop = _run("laptop", path)
    assert laptop.of_type(TYPE) == [] and not [r for r in laptop.of_type(SC) if r.name.startswith("hub-db")]
    assert laptop.one("hub-dev", RELEASE).inputs["values"]["hub"]["db"]["pvc"]["storageClassName"] == "standard"
