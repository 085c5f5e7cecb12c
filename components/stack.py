"""Compose the platform's components in dependency order and return the stack outputs.

`__main__.py` and `tools.render` both call `build_platform`, so the offline render shows exactly
what `pulumi up` would do.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common.remote import NodeAccess
from components.haproxy_lb.component import HaproxyLb
from components.k8s_cluster.component import K8sHACluster
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets


def _cluster_provider(cfg: PlatformConfig, secrets: StackSecrets) -> tuple[k8s.Provider, dict[str, Any]]:
    """Build (or, in `existing` mode, connect to) the cluster; return its provider and outputs."""
    if not cfg.builds_cluster:
        kubeconfig = secrets.require("kubeconfig")
        provider = k8s.Provider("existing-cluster", kubeconfig=kubeconfig)
        return provider, {"kubeconfig": kubeconfig, "cluster_mode": "existing"}
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
    cluster = K8sHACluster("cluster", cfg=cfg, access=access, load_balancer=lb)
    outputs: dict[str, Any] = {
        "cluster_mode": "kubeadm",
        "api_endpoint": cluster.api_endpoint,
        "kubeconfig": cluster.kubeconfig,
        "control_plane_nodes": cluster.control_plane_nodes,
        "worker_nodes": cluster.worker_nodes,
    }
    if lb is not None:
        outputs["load_balancer"] = lb.summary
    return cluster.provider, outputs


def build_platform(cfg: PlatformConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Register every resource of the stack; returns the outputs to export."""
    provider, outputs = _cluster_provider(cfg, secrets)
    pulumi.Output.from_input(provider.id)  # the provider is used by every chart component below
    return outputs
