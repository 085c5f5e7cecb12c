"""The cluster's resource graph under Pulumi mocks: order, secrets, protection, deletion paths."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.graph import Graph

COMMAND = "command:remote:Command"
NODE_PATCH = "kubernetes:core/v1:NodePatch"
NODES = {
    "cp-1": "192.0.2.21",
    "cp-2": "192.0.2.22",
    "cp-3": "192.0.2.23",
    "worker-1": "192.0.2.31",
    "worker-2": "192.0.2.32",
    "gpu-1": "192.0.2.41",
}
Rendered = Callable[[str], tuple[dict[str, Any], Path]]


@pytest.fixture(scope="module")
def prod(rendered: Rendered) -> dict[str, Any]:
    return rendered("prod")[0]


def commands(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in plan["resources"] if r["type"] == COMMAND}


def test_every_kubernetes_node_is_checked_and_prepared_in_one_step(prod: dict[str, Any], rendered: Rendered) -> None:
    names = commands(prod)
    files = rendered("prod")[1] / "files" / "nodes"
    for node in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "gpu-1"]:
        assert f"{node}-prepare" in names and f"{node}-preflight" not in names and f"{node}-nfs-client" not in names
        text = (files / node / "prepare.sh").read_text()
        # Sections in order, each in its own subshell: preflight refuses the host before anything changes.
        # (lifecycle pins packages through pin_packages; the bootstrap work installs through lib.sh's apt_install)
        marks = ["preflight passed", 'pin_packages "${KUBERNETES_VERSION}-" kubeadm', "sshd_bin=", "apt_install nfs-common"]
        positions = [text.index(m) for m in marks]
        assert positions == sorted(positions), node
        assert text.count("\n(\n") == 4, node
    assert "lb-1-prepare" not in names and "nfs-1-kubeadm-join" not in names


def test_load_balancer_before_first_control_plane(prod: dict[str, Any]) -> None:
    graph = Graph(prod["resources"])
    # Monitoring's node-exporter and VIP metric steps on the LB hosts come late (after the hubs): not the API's.
    lb_steps = [n for n in commands(prod) if n.startswith("lb-") and not n.endswith(("-node-exporter", "-vip-metric"))]
    assert lb_steps, "no load balancer steps"
    for step in lb_steps:
        assert graph.waits_for("cp-1-kubeadm-init", step)


def test_control_plane_joins_are_chained_and_workers_are_not(prod: dict[str, Any]) -> None:
    graph = Graph(prod["resources"])
    assert graph.waits_for("cp-2-kubeadm-join", "cp-1-kubeadm-init")
    assert graph.waits_for("cp-3-kubeadm-join", "cp-2-kubeadm-join")
    for worker in ["worker-1", "worker-2", "gpu-1"]:
        assert graph.waits_for(f"{worker}-kubeadm-join", "cp-1-kubeadm-init")
        others = {f"{w}-kubeadm-join" for w in ["worker-1", "worker-2", "gpu-1", "cp-2", "cp-3"]} - {f"{worker}-kubeadm-join"}
        assert not graph.ancestors(f"{worker}-kubeadm-join") & others


def test_join_material_is_minted_once_for_every_join(prod: dict[str, Any]) -> None:
    graph = Graph(prod["resources"])
    cmds = commands(prod)
    mint = cmds["cp-1-mint-join"]
    assert not [n for n in cmds if n.startswith("cp-1-mint-join-")], "one mint per update, not one per node"
    assert sorted(mint["additional_secret_outputs"]) == ["connection", "stderr", "stdout"]
    assert mint["inputs"]["logging"] == "none"
    # A new mint whenever the node list changes (nodes join), and never otherwise.
    assert mint["inputs"]["triggers"][2:] == [f"{n}={a}" for n, a in NODES.items()]
    # Minted once the first control plane is up. Merged design: the unique-hosts check compares every
    # node's identity (printed by its prepare step) and must pass before kubeadm init and before any
    # join, so the mint, after init, waits for every preparation too. That barrier is the safety
    # guarantee (no two nodes share a product_uuid or MAC); it costs one resource with N
    # dependencies, not one per worker. Each join reaches the mint through its stdin only (one edge:
    # every edge into a resource after all nodes costs the SDK a walk over all of them).
    assert graph.ancestors("cp-1-mint-join") >= {"cp-1-kubeadm-init", "cp-1-drain-removed-nodes", "cp-1-unique-hosts"}
    assert graph.waits_for("cp-1-mint-join", "worker-1-prepare")
    for node in ["cp-2", "cp-3", "worker-1", "worker-2", "gpu-1"]:
        join = cmds[f"{node}-kubeadm-join"]
        assert graph.waits_for(f"{node}-kubeadm-join", "cp-1-mint-join")
        assert graph.waits_for(f"{node}-kubeadm-join", f"{node}-prepare")
        assert join["inputs"]["stdin"] == "[secret]"
        # Material minted for later joins must not re-run the joins of nodes already in the cluster.
        assert join["ignore_changes"] == ["stdin"]


def test_no_worker_step_runs_on_the_first_control_plane(prod: dict[str, Any]) -> None:
    # cp-1 carries cluster-wide steps (bootstrap, backup, upgrade gates per BATCH, encryption,
    # certificates), but none that exists once per worker: none names another node.
    cp1 = sorted(n for n in commands(prod) if n.startswith("cp-1-"))
    others = [n for n in NODES if n != "cp-1"]
    assert {"cp-1-prepare", "cp-1-kubeadm-init", "cp-1-mint-join", "cp-1-unique-hosts"} <= set(cp1)
    assert not [n for n in cp1 if any(re.search(rf"\b{o}\b", n) for o in others)], cp1
    gates = [n for n in cp1 if re.fullmatch(r"cp-1-upgrade-batch-\d+-ready", n)]
    assert len(gates) < len(others) - 2  # one gate per batch of workers, fewer than the workers


def test_labels_go_through_the_kubernetes_api(prod: dict[str, Any]) -> None:
    graph = Graph(prod["resources"])
    provider = next(r for r in prod["resources"] if r["name"] == "cluster-provider")
    patches = {r["name"]: r for r in prod["resources"] if r["type"] == NODE_PATCH and r["name"].endswith("-labels")}
    assert set(patches) == {f"{n}-labels" for n in NODES}
    for node, address in NODES.items():
        patch = patches[f"{node}-labels"]
        meta = patch["inputs"]["metadata"]
        assert meta["name"] == node and meta["labels"]["node.jupyterhub-platform/managed"] == "true"
        assert meta["annotations"] == {
            "pulumi.com/patchFieldManager": "jupyterhub-platform",
            "pulumi.com/patchForce": "true",
            "node.jupyterhub-platform/address": address,
        }
        assert patch["provider"].startswith(provider["urn"])
        assert graph.waits_for(f"{node}-labels", "cp-1-kubeadm-init" if node == "cp-1" else f"{node}-kubeadm-join")
    assert patches["worker-1-labels"]["inputs"]["metadata"]["labels"]["node-role.kubernetes.io/worker"] == ""
    assert "node-role.kubernetes.io/worker" not in patches["cp-1-labels"]["inputs"]["metadata"]["labels"]


def test_first_control_plane_is_protected_and_never_reset(prod: dict[str, Any]) -> None:
    cmds = commands(prod)
    init = cmds["cp-1-kubeadm-init"]
    assert init["protect"] is True
    assert "create" in init["ignore_changes"]
    assert "delete" not in init["inputs"]
    # The init step may tell the operator when a reset is safe, but never runs one itself.
    runs_reset = re.compile(r"^\s*(timeout \S+ )?kubeadm reset")
    assert not [line for line in init["inputs"]["create"].splitlines() if runs_reset.match(line)]
    assert "'kubeadm reset -f' on ${NODE_NAME} is safe" in init["inputs"]["create"]
    assert "cp-1-kubeadm-join" not in cmds


def test_removed_nodes_are_drained_before_any_join_or_reset(prod: dict[str, Any], rendered: Rendered) -> None:
    graph = Graph(prod["resources"])
    cmds = commands(prod)
    drain = cmds["cp-1-drain-removed-nodes"]
    assert drain["inputs"]["triggers"][2:] == [f"{n}={a}" for n, a in NODES.items()]
    script = (rendered("prod")[1] / "files/nodes/cp-1/drain-removed-nodes.sh").read_text()
    assert "kubectl drain" in script and "export MANAGED_LABEL=node.jupyterhub-platform/managed" in script
    assert "delete" not in drain["inputs"]
    # Before the mint, so before every join of the update; resets are deletions, which the engine
    # runs after every create and update.
    assert graph.waits_for("cp-1-mint-join", "cp-1-drain-removed-nodes")
    for node in ["cp-2", "worker-1", "gpu-1"]:
        join = cmds[f"{node}-kubeadm-join"]
        assert "kubeadm reset" in join["inputs"]["delete"] and join["delete_before_replace"]
        assert graph.waits_for(f"{node}-kubeadm-join", "cp-1-drain-removed-nodes")


def test_no_secret_in_any_command_line(rendered: Rendered) -> None:
    for stack in ("dev", "prod"):
        plan = rendered(stack)[0]
        for res in plan["resources"]:
            for field in ("create", "delete", "update"):
                text = res["inputs"].get(field)
                if isinstance(text, str):
                    assert "placeholder-" not in text and "[secret]" not in text, (stack, res["name"], field)
            if res["type"] == COMMAND:
                assert res["inputs"]["connection"] == "[secret]"
                assert "connection" in res["additional_secret_outputs"]


def test_kubeconfig_output_is_secret_and_provider_uses_it(prod: dict[str, Any]) -> None:
    assert prod["outputs"]["kubeconfig"] == "[secret]"
    provider = next(r for r in prod["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert Graph(prod["resources"]).waits_for(provider["name"], "cp-1-admin-kubeconfig")
    releases = [r for r in prod["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"]
    assert releases and all(r["provider"] and r["provider"].startswith(provider["urn"]) for r in releases)


def test_calico_after_every_join_and_nodes_ready_after_calico(prod: dict[str, Any]) -> None:
    graph = Graph(prod["resources"])
    for node in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "gpu-1"]:
        assert graph.waits_for("cluster-calico", f"{node}-labels")
    assert graph.waits_for("cp-1-wait-nodes-ready", "cluster-calico")
    calico = next(r for r in prod["resources"] if r["name"] == "cluster-calico")
    pools = calico["inputs"]["values"]["installation"]["calicoNetwork"]["ipPools"]
    assert pools[0]["cidr"] == "10.244.0.0/16"
    assert calico["inputs"]["version"] and calico["inputs"]["chart"] == "tigera-operator"


def test_every_command_has_explicit_triggers_with_node_identity(prod: dict[str, Any]) -> None:
    for name, res in commands(prod).items():
        node = res["inputs"]["triggers"][0]
        assert name.startswith(node + "-"), name
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", res["inputs"]["triggers"][1])


def test_dev_stack_is_a_single_node_cluster(rendered: Rendered) -> None:
    plan = rendered("dev")[0]
    cmds = commands(plan)
    assert "dev-1-kubeadm-init" in cmds
    assert not any("kubeadm-join" in n for n in cmds)
    assert not any(n.startswith("lb-") for n in cmds)
    assert plan["outputs"]["api_endpoint"] == "192.0.2.100:6443"
