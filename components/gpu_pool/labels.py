"""Kubernetes labels and taints that make a GPU host part of the GPU pool (pure).

The cluster applies them when the node joins (`Node.labels`/`Node.taints` plus these); the pool
also keeps the labels that can change later (the MIG layout) in sync through a NodePatch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.gpu_catalog import GPU_MODELS
from config.gpu_queries import mig_config_name
from config.gpu_rules import GPU_TAINT_KEY, POOL_LABEL, POOL_VALUE
from config.inventory import Taint

if TYPE_CHECKING:
    from config.inventory import Node
    from config.platform import PlatformConfig

GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
"""Label the device-plugin chart's node affinity (and the GPU Operator's operands) select on."""
MODEL_LABEL = "node.jupyterhub-platform/gpu-model"
"""Our model label: stable, unlike `nvidia.com/gpu.product`, which varies by form factor and MIG mode."""
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
"""The MIG manager applies the named entry of its configuration to the node."""
GPU_TAINT = Taint(key=GPU_TAINT_KEY, value="present", effect="NoSchedule")
"""Only pods tolerating it (GPU notebooks, NVIDIA daemonsets) land on GPU nodes."""


def gpu_node_labels(node: Node, cfg: PlatformConfig, *, include_mig: bool = True) -> dict[str, str]:
    """Labels of a GPU node (empty for a node without GPUs).

    `include_mig=False` leaves out `nvidia.com/mig.config`, the one label that changes when the
    layout does: the pool keeps it in sync itself, so a new layout never re-runs a join step."""
    if node.gpu is None:
        return {}
    labels = {POOL_LABEL: POOL_VALUE, GPU_PRESENT_LABEL: "true", MODEL_LABEL: node.gpu.model}
    if include_mig and cfg.gpu.sharing.mode == "mig" and GPU_MODELS[node.gpu.model].supports_mig:
        labels[MIG_CONFIG_LABEL] = mig_config_name(cfg, node)
    return labels


def gpu_join_taints(node: Node) -> list[Taint]:
    """The GPU taint, unless the inventory already lists it for the node."""
    if node.gpu is None or any(t.key == GPU_TAINT.key and t.effect == GPU_TAINT.effect for t in node.taints):
        return []
    return [GPU_TAINT]


def gpu_node_labels_and_taints(node: Node, cfg: PlatformConfig) -> tuple[dict[str, str], list[Taint]]:
    """Labels and taints to apply when `node` joins, merged with its inventory `labels`/`taints`.

    For a node without GPUs this returns its inventory labels and taints unchanged."""
    return {**node.labels, **gpu_node_labels(node, cfg)}, [*node.taints, *gpu_join_taints(node)]
