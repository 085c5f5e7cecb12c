"""Compose the platform's components in dependency order and return the stack outputs.

`__main__.py` and `tools.render` both call `build_platform`, so the offline render shows exactly
what `pulumi up` would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common import artifacts
from components.common.remote import NodeAccess
from components.contract.component import platform_contract
from components.gpu_pool.component import GpuNodePool, gpu_node_extras, gpu_pool_outputs
from components.haproxy_lb.component import HaproxyLb
from components.jupyterhub.capacity import capacity_markdown, capacity_output
from components.jupyterhub.component import JupyterHubRelease
from components.jupyterhub.hub_db_volumes import hub_database_volumes
from components.k8s_cluster.component import K8sHACluster
from components.nfs_storage.component import NfsStorage
from components.yunikorn.component import YuniKornScheduler
from config.gpu import gpu_nodes, gpu_resource_name
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
    cluster = K8sHACluster("cluster", cfg=cfg, access=access, load_balancer=lb, extras=gpu_node_extras(cfg))
    outputs.update(
        cluster_mode="kubeadm",
        api_endpoint=cluster.api_endpoint,
        kubeconfig=cluster.kubeconfig,
        control_plane_nodes=cluster.control_plane_nodes,
        worker_nodes=cluster.worker_nodes,
    )
    return ClusterHandle(cluster.provider, ready=cluster.ready, access=access, cluster=cluster)


def _gpu_pool(cfg: PlatformConfig, cluster: ClusterHandle, outputs: dict[str, Any]) -> list[pulumi.Resource]:
    """GPU pool after the cluster (its host steps already ran before each GPU node joined)."""
    outputs.update(gpu_pool_outputs(cfg))
    if not gpu_nodes(cfg):
        return []
    return GpuNodePool("gpu-pool", cfg=cfg, provider=cluster.provider, depends_on=cluster.ready).ready


def _storage_and_scheduler(
    cfg: PlatformConfig, cluster: ClusterHandle, outputs: dict[str, Any]
) -> tuple[NfsStorage, YuniKornScheduler]:
    """NFS storage and YuniKorn, in parallel once the cluster is ready; the hubs use both."""
    storage = NfsStorage.from_config("nfs", cfg, access=cluster.access, provider=cluster.provider, depends_on=cluster.ready)
    scheduler = YuniKornScheduler(
        "yunikorn",
        settings=cfg.scheduler,
        charts=cfg.charts,
        gpu_resource=gpu_resource_name(cfg),
        hub_namespaces=[hub.k8s_namespace for hub in cfg.hubs],
        provider=cluster.provider,
        depends_on=cluster.ready,
    )
    outputs["storage"] = {
        "nfs_server": storage.server_address,
        "export_path": cfg.nfs.export_path,
        "storage_class": storage.storage_class_name,
    }
    outputs["scheduler"] = {"namespace": scheduler.namespace, "queues": scheduler.queue_paths}
    return storage, scheduler


def _hubs(
    cfg: PlatformConfig,
    secrets: StackSecrets,
    cluster: ClusterHandle,
    storage: NfsStorage,
    after: list[pulumi.Resource],
    outputs: dict[str, Any],
) -> None:
    """Each hub after storage (its claims), the scheduler and the GPU pool; plus the capacity report."""
    hubs = {}
    # kubeadm mode: each SQLite hub database gets a local volume on its node (directory made over SSH).
    joined = cluster.cluster.joined if cluster.cluster is not None else {}
    databases = hub_database_volumes(
        cfg, access=cluster.access, joined=joined, provider=cluster.provider, depends_on=cluster.ready
    )
    for hub in cfg.hubs:
        release = JupyterHubRelease(
            f"hub-{hub.name}",
            cfg=cfg,
            hub=hub,
            storage=storage,
            secrets=secrets,
            provider=cluster.provider,
            depends_on=[*cluster.ready, *after],
            database=databases.get(hub.name, []),
        )
        hubs[hub.name] = release.summary()
    outputs["hubs"] = hubs
    outputs["capacity"] = capacity_output(cfg)
    artifacts.record("reports/capacity.md", capacity_markdown(cfg))


def build_platform(cfg: PlatformConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Register every resource of the stack in dependency order; returns the outputs to export."""
    outputs: dict[str, Any] = {}
    cluster = _cluster(cfg, secrets, outputs)
    # Chart components (storage, scheduler, GPU pool, then the hubs) are composed below, each
    # with `provider=cluster.provider` and `depends_on=cluster.ready`.
    gpu_ready = _gpu_pool(cfg, cluster, outputs)  # the hubs wait for it (GPU profiles need the resource)
    storage, scheduler = _storage_and_scheduler(cfg, cluster, outputs)
    _hubs(cfg, secrets, cluster, storage, [scheduler, *gpu_ready], outputs)
    # The stack contract last: published (when configured) once what it describes is up.
    contract = platform_contract(cfg, secrets, after=[*cluster.ready, storage, scheduler, *gpu_ready])
    outputs["platform"] = contract.document
    return outputs
