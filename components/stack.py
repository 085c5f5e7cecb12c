"""Compose the platform's components in dependency order and return the stack outputs.

`__main__.py` and `tools.render` both call `build_platform`, so the offline render shows exactly
what `pulumi up` would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common.remote import NodeAccess
from components.haproxy_lb.component import HaproxyLb
from components.k8s_cluster.component import K8sHACluster
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets


@dataclass
class ClusterHandle:
    """What the chart components need from the cluster, whichever way it was obtained."""

    provider: k8s.Provider
    """Provider for every Kubernetes resource and Release."""
    ready: list[pulumi.Resource]
    """Resources the charts wait for (nodes joined, CNI, nodes Ready); empty for an existing cluster."""
    access: dict[str, NodeAccess] = field(default_factory=dict)
    """SSH access to each node by name (empty for an existing cluster)."""
    cluster: K8sHACluster | None = None
    """The kubeadm cluster component, when this stack builds one."""


def _cluster(cfg: PlatformConfig, secrets: StackSecrets, outputs: dict[str, Any]) -> ClusterHandle:
    """Build the cluster (or, in `existing` mode, connect to one) and add its outputs."""
    if not cfg.builds_cluster:
        kubeconfig = secrets.require("kubeconfig")
        outputs.update(cluster_mode="existing", kubeconfig=kubeconfig)
        return ClusterHandle(k8s.Provider("existing-cluster", kubeconfig=kubeconfig), ready=[])
    key = secrets.require("ssh_private_key")
    access = {n.name: NodeAccess(n, cfg.ssh, key) for n in cfg.inventory.nodes}
    lb = None
    if cfg.inventory.load_balancers:
        lb = HaproxyLb(
            "api-lb",
            nodes=[access[n.name] for n in cfg.inventory.load_balancers],
            control_planes=cfg.inventory.control_planes,
            cluster=cfg.cluster,
            settings=cfg.load_balancer,
            frontend_port=cfg.api_endpoint_port(),
            auth_pass=secrets.get("keepalived_auth_pass"),
        )
        outputs["load_balancer"] = lb.summary
    cluster = K8sHACluster("cluster", cfg=cfg, access=access, load_balancer=lb)
    outputs.update(
        cluster_mode="kubeadm",
        api_endpoint=cluster.api_endpoint,
        kubeconfig=cluster.kubeconfig,
        control_plane_nodes=cluster.control_plane_nodes,
        worker_nodes=cluster.worker_nodes,
    )
    return ClusterHandle(cluster.provider, ready=cluster.ready, access=access, cluster=cluster)


def build_platform(cfg: PlatformConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Register every resource of the stack in dependency order; returns the outputs to export."""
    outputs: dict[str, Any] = {}
    cluster = _cluster(cfg, secrets, outputs)
    # Chart components (storage, scheduler, GPU pool, then the hubs) are composed below, each
    # with `provider=cluster.provider` and `depends_on=cluster.ready`.
    del cluster
    return outputs
