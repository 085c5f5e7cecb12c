"""Compose the platform's components in dependency order and return the stack outputs.

`__main__.py` and `tools.render` both call `build_platform`, so the offline render shows exactly
what `pulumi up` would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.backup.component import PlatformBackups
from components.backup.quotas import quota_report
from components.common import artifacts
from components.common.remote import NodeAccess
from components.consoles.component import AdminConsoles
from components.consoles.settings import console_routes
from components.contract.component import platform_contract
from components.gpu_pool.component import GpuNodePool, gpu_node_extras, gpu_pool_outputs
from components.haproxy_lb.component import HaproxyLb
from components.haproxy_lb.hub_routes import routes_from_config, timing_from_config
from components.jupyterhub.capacity import capacity_markdown, capacity_output
from components.jupyterhub.component import JupyterHubRelease
from components.jupyterhub.hub_db_volumes import hub_database_volumes
from components.k8s_cluster.component import K8sHACluster, merge_extras
from components.metallb.component import MetalLb
from components.monitoring.access import grafana_routes, haproxy_metrics
from components.monitoring.component import MonitoringStack
from components.monitoring.sizing_report import sizing_markdown
from components.nfs_storage.component import NfsStorage, nfs_client_extras
from components.yunikorn.component import YuniKornScheduler
from config.gpu_queries import gpu_nodes, gpu_resource_name
from config.lifecycle import encryption_secret_key
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets
from config.traffic_queries import hub_entry


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
            # The admin consoles and Grafana ride the hub frontends: same SNI/Host routing, same allowlists.
            hubs=[*routes_from_config(cfg), *console_routes(cfg), *grafana_routes(cfg)],
            hub_timing=timing_from_config(cfg),
            maxconn=cfg.traffic.maxconn,
            hub_vip=str(cfg.traffic.hub_vip) if cfg.traffic.hub_vip is not None else None,
            metrics=haproxy_metrics(cfg),
        )
        outputs["load_balancer"] = lb.summary
    encryption = cfg.cluster.encryption_at_rest
    keys = {name: secrets.require(encryption_secret_key(name)) for name in (encryption.keys if encryption else [])}
    extras = merge_extras(gpu_node_extras(cfg), nfs_client_extras(cfg))
    cluster = K8sHACluster("cluster", cfg=cfg, access=access, load_balancer=lb, extras=extras, encryption_keys=keys)
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
    prepared = cluster.cluster.prepared if cluster.cluster is not None else {}
    storage = NfsStorage.from_config(
        "nfs", cfg, access=cluster.access, provider=cluster.provider, depends_on=cluster.ready, prepared=prepared
    )
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
) -> list[pulumi.Resource]:
    """Each hub after storage (its claims), the scheduler and the GPU pool; plus the capacity report."""
    hubs = {}
    releases: list[pulumi.Resource] = []
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
        releases.append(release)
    outputs["hubs"] = hubs
    outputs["capacity"] = capacity_output(cfg)
    artifacts.record("reports/capacity.md", capacity_markdown(cfg) + sizing_markdown(cfg))
    return releases


def _backups(
    cfg: PlatformConfig, secrets: StackSecrets, cluster: ClusterHandle, after: list[pulumi.Resource], outputs: dict[str, Any]
) -> None:
    """Backup jobs and home quotas once the cluster, the NFS server and the hubs (their databases) exist."""
    if cfg.quotas is not None:
        artifacts.record("reports/quotas.md", quota_report(cfg))
    if not cluster.access or (cfg.backup is None and cfg.quotas is None):
        return
    backups = PlatformBackups("backups", cfg=cfg, secrets=secrets, access=cluster.access, depends_on=[*cluster.ready, *after])
    outputs["backups"] = backups.jobs


def _monitoring(
    cfg: PlatformConfig,
    secrets: StackSecrets,
    cluster: ClusterHandle,
    scheduler: YuniKornScheduler,
    after: list[pulumi.Resource],
) -> None:
    """Prometheus, Alertmanager and Grafana once the hubs are up (it scrapes them); absent section: nothing."""
    if cfg.monitoring is None or cluster.cluster is None:
        return
    MonitoringStack(
        "monitoring",
        cfg=cfg,
        secrets=secrets,
        access=cluster.access,
        joined=cluster.cluster.joined,
        provider=cluster.provider,
        depends_on=[*cluster.ready, *after],
        hub_namespaces=[hub.k8s_namespace for hub in cfg.hubs],
        yunikorn_namespace=scheduler.namespace,
    )


def _traffic(cfg: PlatformConfig, cluster: ClusterHandle, outputs: dict[str, Any]) -> list[pulumi.Resource]:
    """MetalLB when configured (kubeadm mode), and where users reach each hub; the hubs wait for the pool."""
    outputs["hub_entry_points"] = {
        hub.name: {"via": entry.via, "address": entry.address} for hub in cfg.hubs for entry in [hub_entry(cfg, hub)]
    }
    if cfg.traffic.metallb is None or not cfg.builds_cluster:
        return []
    first = cfg.inventory.control_planes[0]
    metallb = MetalLb(
        "metallb",
        settings=cfg.traffic.metallb,
        first_control_plane=cluster.access[first.name],
        provider=cluster.provider,
        charts=cfg.charts,
        depends_on=cluster.ready,
    )
    return metallb.ready


def _consoles(
    cfg: PlatformConfig, secrets: StackSecrets, cluster: ClusterHandle, scheduler: YuniKornScheduler, outputs: dict[str, Any]
) -> None:
    """Admin consoles once their applications are installed (the YuniKorn UI comes with the scheduler)."""
    if cfg.consoles is None:
        return
    consoles = AdminConsoles(
        "consoles", cfg=cfg, secrets=secrets, provider=cluster.provider, depends_on=[*cluster.ready, scheduler]
    )
    outputs["consoles"] = consoles.summary


def build_platform(cfg: PlatformConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Register every resource of the stack in dependency order; returns the outputs to export."""
    outputs: dict[str, Any] = {}
    cluster = _cluster(cfg, secrets, outputs)
    # Chart components (storage, scheduler, GPU pool, then the hubs) are composed below, each
    # with `provider=cluster.provider` and `depends_on=cluster.ready`.
    gpu_ready = _gpu_pool(cfg, cluster, outputs)  # the hubs wait for it (GPU profiles need the resource)
    storage, scheduler = _storage_and_scheduler(cfg, cluster, outputs)
    traffic_ready = _traffic(cfg, cluster, outputs)
    _consoles(cfg, secrets, cluster, scheduler, outputs)
    releases = _hubs(cfg, secrets, cluster, storage, [scheduler, *gpu_ready, *traffic_ready], outputs)
    _backups(cfg, secrets, cluster, [storage, *releases], outputs)
    _monitoring(cfg, secrets, cluster, scheduler, releases)
    # The stack contract last: published (when configured) once what it describes is up.
    contract = platform_contract(cfg, secrets, after=[*cluster.ready, storage, scheduler, *gpu_ready])
    outputs["platform"] = contract.document
    return outputs
