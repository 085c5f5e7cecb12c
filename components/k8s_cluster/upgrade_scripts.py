"""Scripts of a rolling Kubernetes upgrade, and the order nodes are upgraded in. Pure: no Pulumi.

Order (kubeadm's): the first control plane (`kubeadm upgrade plan`, `kubeadm upgrade apply`), the
other control planes one at a time (`kubeadm upgrade node`), then the workers in batches of
`cluster.upgrade.max_unavailable`, each batch after the previous one is Ready.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from components.common.shell import HostFile, RenderedScript, render_script
from config.inventory import Node, Role
from config.kubernetes_versions import BY_MINOR, NEWEST
from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
KUBE_DIR = "/etc/kubernetes"
STATE_DIR = "/var/lib/jupyterhub-platform/upgrade"
UPGRADER = "jupyterhub-platform-upgrader"
# Long enough for a 200-worker rollout; an upgrade resumed later re-mints it (README).
TOKEN_DURATION = "72h"


def worker_batches(cfg: PlatformConfig) -> list[list[Node]]:
    """Workers in inventory order, cut into batches of at most `max_unavailable`."""
    workers = cfg.inventory.workers
    size = cfg.cluster.upgrade.batch_size(len(workers))
    return [workers[i : i + size] for i in range(0, len(workers), size)]


def node_role(cfg: PlatformConfig, node: Node) -> str:
    if node.has(Role.CONTROL_PLANE):
        return "first-control-plane" if node == cfg.inventory.control_planes[0] else "control-plane"
    return "worker"


def upgrade_node(cfg: PlatformConfig, node: Node) -> RenderedScript:
    """The one upgrade step of `node`: a no-op when it already runs `cluster.kubernetes_version`."""
    c = cfg.cluster
    minor = BY_MINOR.get(c.kubernetes_minor, NEWEST)
    return render_script(
        f"{node.name}/upgrade",
        SCRIPTS / "upgrade-node.sh",
        {
            "KUBE_DIR": KUBE_DIR,
            "NODE_NAME": node.name,
            "NODE_ROLE": node_role(cfg, node),
            "TARGET_VERSION": c.kubernetes_version,
            "TARGET_MINOR": c.kubernetes_minor,
            "PACKAGE_REPOSITORY": minor.package_repository,
            "MIN_CONTAINERD": minor.min_containerd,
            "DRAIN_TIMEOUT": c.upgrade.drain_timeout_seconds,
            "GRACE_SECONDS": c.upgrade.notebook_grace_seconds,
            "READY_TIMEOUT": c.join_timeout_seconds,
            "HUB_NAMESPACES": " ".join(hub.k8s_namespace for hub in cfg.hubs),
            "ANNOUNCEMENT": c.upgrade.announcement,
            "STATE_DIR": STATE_DIR,
            "APT_KEYRING": "/etc/apt/keyrings/kubernetes-apt-keyring.gpg",
            "APT_SOURCES": "/etc/apt/sources.list.d/kubernetes.list",
        },
    )


def batch_ready(cfg: PlatformConfig, first: Node, index: int, batch: list[Node]) -> RenderedScript:
    """The gate between batch `index` and the next: every node of the batch Ready at the version."""
    return render_script(
        f"{first.name}/upgrade-batch-{index}-ready",
        SCRIPTS / "upgrade-batch-ready.sh",
        {
            "KUBE_DIR": KUBE_DIR,
            "BATCH_NODES": " ".join(n.name for n in batch),
            "TARGET_VERSION": cfg.cluster.kubernetes_version,
            "READY_TIMEOUT": cfg.cluster.join_timeout_seconds,
        },
    )


def upgrader_rbac() -> str:
    """ServiceAccount and ClusterRole the workers' upgrade steps use: drain and announce, nothing else."""
    meta = {"name": UPGRADER}
    documents = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**meta, "namespace": "kube-system"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta,
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
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": UPGRADER},
            "subjects": [{"kind": "ServiceAccount", "name": UPGRADER, "namespace": "kube-system"}],
        },
    ]
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in documents)


def upgrade_credentials(first: Node) -> RenderedScript:
    return render_script(
        f"{first.name}/upgrade-credentials",
        SCRIPTS / "upgrade-credentials.sh",
        {"KUBE_DIR": KUBE_DIR, "TOKEN_DURATION": TOKEN_DURATION},
        {"RBAC": HostFile(f"{KUBE_DIR}/jupyterhub-platform-upgrader.yaml", upgrader_rbac(), "0600")},
    )
