"""GpuNodePool: the runbook of the shared GPU pool.

host check and NVIDIA runtime (per GPU node, before it joins: run by the cluster as a `before_join`
step, see `gpu_node_extras`) ▸ join with the pool's labels and taint ▸ namespace, sharing and MIG
ConfigMaps, MIG layout labels ▸ GPU Operator (or device plugin) release ▸ outputs: nodes, resource
names, seats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.gpu_pool import values
from components.gpu_pool.host import STEP, gpu_host_script
from components.gpu_pool.labels import gpu_join_taints, gpu_node_labels
from components.k8s_cluster.component import NodeExtras
from config.gpu_queries import gpu_nodes, gpu_resource_name, gpu_resource_names, gpu_seats, gpu_seats_by_resource
from config.platform import PlatformConfig


def gpu_node_extras(cfg: PlatformConfig) -> dict[str, NodeExtras]:
    """What K8sHACluster adds to each GPU node's join: the host step before it, labels, the taint."""
    return {
        node.name: NodeExtras(
            labels=gpu_node_labels(node, cfg, include_mig=False),
            taints=gpu_join_taints(node),
            before_join=[(STEP, gpu_host_script(node, cfg))],
        )
        for node in gpu_nodes(cfg)
    }


def gpu_pool_outputs(cfg: PlatformConfig) -> dict[str, Any]:
    """The stack outputs of the pool (also valid without GPU nodes: seats 0)."""
    return {
        "gpu_nodes": [n.name for n in gpu_nodes(cfg)],
        "gpu_resource_name": gpu_resource_name(cfg),
        "gpu_resource_names": gpu_resource_names(cfg) if gpu_nodes(cfg) else [],
        "gpu_seats": gpu_seats(cfg),
        "gpu_seats_by_resource": gpu_seats_by_resource(cfg),
        "gpu_sharing": cfg.gpu.sharing.mode,
    }


def _config_map(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.core.v1.ConfigMap:
    return k8s.core.v1.ConfigMap(name, metadata=manifest["metadata"], data=manifest["data"], opts=opts)


class GpuNodePool(pulumi.ComponentResource):
    """NVIDIA GPU Operator (or device plugin) with the configured sharing on the GPU nodes."""

    ready: list[pulumi.Resource]
    outputs: dict[str, Any]

    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        host_access: Mapping[str, NodeAccess] | None = None,
        host_depends_on: Mapping[str, Sequence[pulumi.Resource]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`host_access`: run the host step here (only when the cluster did not run it before the
        joins, e.g. nodes joined by other means); `host_depends_on[node]` orders it after containerd."""
        super().__init__("jupyterhub-platform:gpu:GpuNodePool", name, None, opts)
        gpu = cfg.gpu
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(depends_on))
        host_steps: list[pulumi.Resource] = []
        for node in gpu_nodes(cfg) if host_access else []:
            assert host_access is not None
            after = list((host_depends_on or {}).get(node.name, ()))
            host_steps.append(run_step(host_access[node.name], STEP, gpu_host_script(node, cfg), parent=self, depends_on=after))

        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata=values.namespace_manifest(cfg)["metadata"], opts=k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace, *depends_on])
        config_maps = [
            _config_map(
                f"{name}-sharing-config",
                values.configmap(values.SHARING_CONFIGMAP, gpu.namespace, values.SHARING_KEY, values.sharing_config(cfg)),
                in_ns,
            )
        ]
        if gpu.sharing.mode == "mig":
            manifest = values.configmap(values.MIG_CONFIGMAP, gpu.namespace, values.MIG_KEY, values.mig_config(cfg))
            config_maps.append(_config_map(f"{name}-mig-config", manifest, in_ns))
        # Labels the pool owns on each node (the MIG layout label may change after the join; a patch
        # does not re-run any join step). Forced: the join step set some of them first.
        patches = [
            k8s.core.v1.NodePatch(
                f"{name}-labels-{node.name}",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=node.name,
                    labels=gpu_node_labels(node, cfg),
                    annotations={"pulumi.com/patchForce": "true"},
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*depends_on, *host_steps]),
            )
            for node in gpu_nodes(cfg)
        ]
        chart_opts = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=[namespace, *config_maps, *patches, *depends_on]
        )
        operator = gpu.provider == "gpu-operator"
        release = pinned_release(
            f"{name}-gpu-operator" if operator else f"{name}-device-plugin",
            release="gpu-operator" if operator else "nvidia-device-plugin",
            chart="gpu-operator" if operator else "nvidia-device-plugin",
            version=gpu.operator_chart_version if operator else gpu.device_plugin_chart_version,
            repo=values.OPERATOR_REPO if operator else values.DEVICE_PLUGIN_REPO,
            sources=cfg.charts,
            namespace=gpu.namespace,
            values=values.operator_values(cfg) if operator else values.device_plugin_values(cfg),
            timeout=gpu.release_timeout_seconds,
            opts=chart_opts,
        )
        self.ready = [release]
        self.outputs = gpu_pool_outputs(cfg)
        self.register_outputs(self.outputs)
