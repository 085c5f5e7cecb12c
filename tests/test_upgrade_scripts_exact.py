"""Upgrade renderers read back: the exported parameters of each node's upgrade step (parsed from the
rendered header with shlex), the batch gate, the upgrader's RBAC (parsed YAML: drain and announce,
nothing else) and the credentials step's embedded file; worker batches and node roles."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from components.k8s_cluster.upgrade_scripts import (
    batch_ready,
    node_role,
    upgrade_credentials,
    upgrade_node,
    upgrader_rbac,
    worker_batches,
)
from config.platform import PlatformConfig
from tests.helpers import script_exports as exports
from tests.hub_fixtures import HUB

ANNOUNCE = "Upgrade now."


def platform(max_unavailable: int | str = 2, workers: int = 5) -> PlatformConfig:
    nodes: list[dict[str, Any]] = [
        {"name": f"cp-{n}", "address": f"192.0.2.{20 + n}", "roles": ["control-plane"]} for n in (1, 2, 3)
    ]
    nodes += [{"name": f"w-{n}", "address": f"192.0.2.{30 + n}", "roles": ["worker"]} for n in range(1, workers + 1)]
    hubs = [copy.deepcopy(HUB), {**copy.deepcopy(HUB), "name": "exam", "host": "exam.example.org"}]
    cluster = {
        "kubernetes_version": "1.36.2",
        "calico_version": "v3.32.0",
        "join_timeout_seconds": 420,
        "endpoint": {"host": "api.example.org"},
        "upgrade": {
            "max_unavailable": max_unavailable,
            "drain_timeout_seconds": 600,
            "notebook_grace_seconds": 120,
            "announcement": ANNOUNCE,
        },
    }
    return PlatformConfig.model_validate(
        {"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}, "hubs": hubs, "cluster": cluster}
    )


def test_worker_batches_and_roles() -> None:
    cfg = platform()
    assert [[n.name for n in b] for b in worker_batches(cfg)] == [["w-1", "w-2"], ["w-3", "w-4"], ["w-5"]]
    assert [[n.name for n in b] for b in worker_batches(platform(max_unavailable="40%"))] == [
        ["w-1", "w-2"],
        ["w-3", "w-4"],
        ["w-5"],
    ]
    assert [[n.name for n in b] for b in worker_batches(platform(max_unavailable=5))] == [["w-1", "w-2", "w-3", "w-4", "w-5"]]
    roles = [node_role(cfg, n) for n in cfg.inventory.nodes]
    assert roles == ["first-control-plane", "control-plane", "control-plane", "worker", "worker", "worker", "worker", "worker"]


def test_a_workers_upgrade_parameters() -> None:
    cfg = platform()
    script = upgrade_node(cfg, cfg.inventory.nodes[4])
    assert script.name == "w-2/upgrade"
    assert exports(script.text) == {
        "STEP_NAME": "w-2/upgrade",
        "KUBE_DIR": "/etc/kubernetes",
        "NODE_NAME": "w-2",
        "NODE_ROLE": "worker",
        "TARGET_VERSION": "1.36.2",
        "TARGET_MINOR": "1.36",
        "PACKAGE_REPOSITORY": "https://pkgs.k8s.io/core:/stable:/v1.36/deb/",
        "MIN_CONTAINERD": "2.0.0",
        "DRAIN_TIMEOUT": "600",
        "GRACE_SECONDS": "120",
        "READY_TIMEOUT": "420",
        "HUB_NAMESPACES": "jhub-teaching jhub-exam",
        "ANNOUNCEMENT": ANNOUNCE,
        "STATE_DIR": "/var/lib/jupyterhub-platform/upgrade",
        "APT_KEYRING": "/etc/apt/keyrings/kubernetes-apt-keyring.gpg",
        "APT_SOURCES": "/etc/apt/sources.list.d/kubernetes.list",
    }
    assert not script.files


def test_control_planes_get_their_roles() -> None:
    cfg = platform()
    assert exports(upgrade_node(cfg, cfg.inventory.nodes[0]).text)["NODE_ROLE"] == "first-control-plane"
    assert exports(upgrade_node(cfg, cfg.inventory.nodes[2]).text)["NODE_ROLE"] == "control-plane"


def test_the_gate_between_batches() -> None:
    cfg = platform()
    batch = worker_batches(cfg)[1]
    gate = batch_ready(cfg, cfg.inventory.nodes[0], 1, batch)
    assert gate.name == "cp-1/upgrade-batch-1-ready"
    assert exports(gate.text) == {
        "STEP_NAME": "cp-1/upgrade-batch-1-ready",
        "KUBE_DIR": "/etc/kubernetes",
        "BATCH_NODES": "w-3 w-4",
        "TARGET_VERSION": "1.36.2",
        "READY_TIMEOUT": "420",
    }


def test_the_upgrader_may_drain_and_announce_only() -> None:
    documents = list(yaml.safe_load_all(upgrader_rbac()))
    assert documents == [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "jupyterhub-platform-upgrader", "namespace": "kube-system"},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "jupyterhub-platform-upgrader"},
            "rules": [
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "patch"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
                {"apiGroups": ["apps"], "resources": ["daemonsets", "replicasets", "statefulsets"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch", "delete"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "jupyterhub-platform-upgrader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "jupyterhub-platform-upgrader"},
            "subjects": [{"kind": "ServiceAccount", "name": "jupyterhub-platform-upgrader", "namespace": "kube-system"}],
        },
    ]


def test_the_credentials_step_installs_the_rbac_root_only() -> None:
    cfg = platform()
    script = upgrade_credentials(cfg.inventory.nodes[0])
    assert script.name == "cp-1/upgrade-credentials"
    header = exports(script.text)
    assert (header["KUBE_DIR"], header["TOKEN_DURATION"]) == ("/etc/kubernetes", "72h")
    (rbac,) = script.files.values()
    assert (rbac.path, rbac.content, rbac.mode) == ("/etc/kubernetes/jupyterhub-platform-upgrader.yaml", upgrader_rbac(), "0600")
    assert (header["RBAC_PATH"], header["RBAC_MODE"], header["RBAC"]) == (rbac.path, "0600", upgrader_rbac().rstrip("\n"))
