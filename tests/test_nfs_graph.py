"""NfsStorage under Pulumi mocks: what it registers, where, what waits for what, what is protected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.common.remote import NodeAccess
from components.nfs_storage.component import NfsClaims, NfsStorage, SharedFolderClaim, nfs_client_extras
from config.loader import load_platform
from config.platform import PlatformConfig
from tests.graph import Graph
from tests.helpers import run_stack
from tools import mockrun

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----test-key"


def platform(workers: int, nfs_node: bool = True, **nfs: Any) -> PlatformConfig:
    nodes = [{"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane"]}]
    nodes += [{"name": f"w-{i}", "address": f"192.0.2.{100 + i}", "roles": ["worker"]} for i in range(workers)]
    if nfs_node:
        nodes.append({"name": "nfs-1", "address": "192.0.2.51", "roles": ["nfs"]})
    raw = {"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}, "nfs": nfs}
    return load_platform(raw, set(), missing_secrets_ok=True)


def run(cfg: PlatformConfig, namespaces: tuple[str, ...] = ("jhub-a",)) -> tuple[mockrun.Recorder, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        # Resource options never reach the mock monitor's request except protect; read them here.
        seen[args.name] = args.opts
        return None

    def program() -> Mapping[str, Any]:
        pulumi.runtime.register_stack_transformation(record)
        provider = k8s.Provider("test", kubeconfig="x")
        key = pulumi.Output.secret(KEY)
        access = {n.name: NodeAccess(n, cfg.ssh, key) for n in cfg.inventory.nodes} if cfg.builds_cluster else {}
        storage = NfsStorage.from_config("nfs", cfg, access=access, provider=provider)
        claims = [storage.claims_for_namespace(ns, []) for ns in namespaces]
        seen["claims"] = claims
        return {"storage_class": storage.storage_class_name}

    return mockrun.run("jupyterhub-platform", "test", program), seen


def plan(recorder: mockrun.Recorder) -> list[dict[str, Any]]:
    return [r.to_plan() for r in recorder.registrations.values()]


def test_what_is_registered_and_where() -> None:
    recorder, seen = run(platform(2))
    component = recorder.named("nfs")
    assert component.type == "jupyterhub-platform:storage:NfsStorage"
    release = recorder.named("nfs-csi-driver")
    assert release.inputs["chart"] == "csi-driver-nfs" and release.inputs["version"] == "4.13.4"
    assert release.inputs["repositoryOpts"]["repo"] == "https://kubernetes-csi.github.io/csi-driver-nfs"
    assert release.inputs["namespace"] == "kube-system"
    sc = recorder.named("nfs-storage-class")
    assert sc.inputs["reclaimPolicy"] == "Retain" and sc.inputs["metadata"]["name"] == "nfs-retain"
    pvcs = recorder.by_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert {r.inputs["metadata"]["namespace"] for r in pvcs} == {"jhub-a"}
    assert {r.inputs["metadata"]["name"] for r in pvcs} == {"homes", "shared-datasets", "shared-course-material"}
    for reg in recorder.registrations.values():
        if reg.type.startswith("kubernetes:") and reg.custom:
            assert reg.provider and "::test::" in reg.provider, reg.name
        if reg.name != "nfs" and reg.type != "pulumi:providers:kubernetes":
            assert reg.parent == component.urn, reg.name
    claims: NfsClaims = seen["claims"][0]
    assert claims.home_claim == "homes"
    assert claims.shared[0] == SharedFolderClaim("datasets", "shared-datasets", "/srv/shared/datasets", True)


def test_user_data_is_protected_and_retained() -> None:
    recorder, seen = run(platform(2))
    volumes = recorder.by_type("kubernetes:core/v1:PersistentVolume") + recorder.by_type(
        "kubernetes:core/v1:PersistentVolumeClaim"
    )
    assert len(volumes) == 6
    for reg in volumes:
        assert reg.protect, reg.name
        assert seen[reg.name].retain_on_delete is True, reg.name
    for reg in recorder.by_type("kubernetes:core/v1:PersistentVolume"):
        assert reg.inputs["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    # Host steps never delete anything (no delete command).
    for reg in recorder.by_type("command:remote:Command"):
        assert not reg.inputs.get("delete"), reg.name


def test_host_steps_and_ordering() -> None:
    recorder, _ = run(platform(2), namespaces=("jhub-a", "jhub-b"))
    graph = Graph(plan(recorder))
    steps = sorted(r.name for r in recorder.by_type("command:remote:Command"))
    # The clients are part of each node's preparation (nfs_client_extras), not steps of their own.
    assert steps == ["nfs-1-nfs-homes-jhub-a", "nfs-1-nfs-homes-jhub-b", "nfs-1-nfs-server"]
    assert recorder.named("nfs-1-nfs-server").depends_on == []  # parallel with node preparation
    assert graph.waits_for("nfs-1-nfs-homes-jhub-a", "nfs-1-nfs-server")
    for name in ("nfs-jhub-a-homes-pvc", "nfs-jhub-b-shared-datasets-pv", "nfs-csi-driver"):
        assert graph.waits_for(name, "nfs-1-nfs-server"), name
    assert graph.waits_for("nfs-jhub-a-homes-pvc", "nfs-jhub-a-homes-pv")
    assert graph.waits_for("nfs-jhub-b-homes-pv", "nfs-1-nfs-homes-jhub-b")
    assert not graph.waits_for("nfs-jhub-a-homes-pv", "nfs-1-nfs-homes-jhub-b")


def test_longest_chain_does_not_grow_with_nodes() -> None:
    small = Graph(plan(run(platform(2))[0])).longest_chain()
    large = Graph(plan(run(platform(20))[0])).longest_chain()
    assert small == large


def test_no_secret_in_scripts_or_commands() -> None:
    recorder, _ = run(platform(1))
    for reg in recorder.by_type("command:remote:Command"):
        assert KEY not in str(reg.inputs.get("create")), reg.name
        assert reg.inputs["connection"]["privateKey"] == KEY  # the key travels only in the (secret) connection
        assert mockrun.redact(reg.raw_inputs)["connection"] == mockrun.SECRET_MARK


def test_external_nas_has_no_server_steps() -> None:
    cfg = platform(1, nfs_node=False, mode="external", server="nas.example.org")
    recorder, _ = run(cfg)
    assert not recorder.by_type("command:remote:Command")
    # Clients still go on every Kubernetes node, inside its preparation.
    assert set(nfs_client_extras(cfg)) == {"cp-1", "w-0"}
    pv = recorder.named("nfs-jhub-a-homes-pv")
    assert pv.inputs["spec"]["nfs"] == {"server": "nas.example.org", "path": "/srv/nfs/jupyterhub/homes/jhub-a"}


def test_prod_stack_wiring() -> None:
    recorder = run_stack("prod")
    graph = Graph(plan(recorder))
    pvcs = recorder.by_type("kubernetes:core/v1:PersistentVolumeClaim")
    namespaces = {r.inputs["metadata"]["namespace"] for r in pvcs}
    assert namespaces and all(ns.startswith("jhub-") for ns in namespaces)
    assert all(r.protect for r in pvcs)
    # The charts wait for the cluster; the hubs' claims come after the NFS server and every client.
    release = "nfs-csi-driver"
    cluster_ready = {n for n in graph.ancestors(release) if n.startswith("cp-1-")}
    assert cluster_ready, "the CSI driver must wait for the cluster"
    homes = [r.name for r in pvcs if r.name.endswith("-homes-pvc")]
    for name in homes:
        # The client installed in each node's preparation, which everything on the cluster waits for.
        assert graph.waits_for(name, "nfs-1-nfs-server") and graph.waits_for(name, "worker-1-prepare")
    assert recorder.outputs["storage"] == {
        "nfs_server": "192.0.2.51",
        "export_path": "/srv/nfs/jupyterhub",
        "storage_class": "nfs-retain",
    }


def test_registered_manifests_validate_strictly() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    recorder = run_stack("prod")
    kinds = {"PersistentVolume", "PersistentVolumeClaim", "StorageClass", "ConfigMap", "Namespace"}
    mine = [r for r in recorder.registrations.values() if r.name.startswith(("nfs-", "yunikorn-")) and r.custom]
    checked = 0
    for reg in mine:
        if reg.inputs.get("kind") in kinds:
            kubernetes_validate.validate(reg.inputs, "1.34", strict=True)
            checked += 1
    assert checked >= 20
