"""What JupyterHub's GPU profiles need from the GPU pool (pure; the hub imports it).

KubeSpawner replaces a trait with a `kubespawner_override` value; the hub merges these fragments
into its own base values (tolerations, node selector, environment) where it sets any.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.gpu_pool.labels import GPU_TAINT, MODEL_LABEL
from config.gpu_catalog import GPU_MODELS
from config.gpu_queries import gpu_request_problem, gpu_resource_name, gpu_resource_names
from config.gpu_rules import POOL_LABEL, POOL_VALUE

if TYPE_CHECKING:
    from config.platform import PlatformConfig

PRODUCT_LABEL = "nvidia.com/gpu.product"
"""Set by GPU feature discovery, e.g. `NVIDIA-H100-80GB-HBM3` (gains a `-MIG-...` suffix in single-strategy MIG)."""

CPU_ONLY_ENVIRONMENT: dict[str, str] = {"NVIDIA_VISIBLE_DEVICES": "void"}
"""For profiles without GPUs: CUDA images set NVIDIA_VISIBLE_DEVICES=all, and a pod that requests no
GPU would otherwise see every GPU of its node (k8s-device-plugin#87)."""

GPU_ENVIRONMENT: dict[str, str] = {
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
    "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True",
}
"""Frameworks allocate memory as needed instead of grabbing the whole (possibly shared) GPU."""

GPU_RUNTIME_CLASS: str | None = None
"""No runtime class: on GPU nodes containerd's default runtime is the NVIDIA one (host toolkit with
`--set-as-default`, or the operator's toolkit), so GPU pods need no `runtimeClassName`."""


def gpu_toleration() -> dict[str, str]:
    """The toleration of the GPU pool's taint, in KubeSpawner's (Kubernetes) form."""
    return {"key": GPU_TAINT.key, "operator": "Equal", "value": GPU_TAINT.value, "effect": GPU_TAINT.effect}


def gpu_node_selector(product: str | None) -> dict[str, str]:
    """Select the pool; `product` narrows it: one of our model names (`H100-80GB`, matched on our own
    model label) or a raw GPU feature discovery product (`NVIDIA-L40S`, matched on `nvidia.com/gpu.product`)."""
    selector = {POOL_LABEL: POOL_VALUE}
    if product in GPU_MODELS:
        selector[MODEL_LABEL] = product
    elif product:
        selector[PRODUCT_LABEL] = product
    return selector


def gpu_profile_override(
    cfg: PlatformConfig, count: int, product: str | None = None, *, resource: str | None = None
) -> dict[str, Any]:
    """The `kubespawner_override` fragment of a profile with `count` GPU seats.

    `resource` picks another advertised name (mixed-strategy MIG with several profiles); by default
    the pool's `gpu_resource_name`. Raises ValueError for a request the pool cannot satisfy."""
    name = resource or gpu_resource_name(cfg)
    if name not in gpu_resource_names(cfg):
        raise ValueError(f"the GPU pool does not advertise {name!r} (it has: {', '.join(gpu_resource_names(cfg))})")
    problem = gpu_request_problem(cfg, count)
    if problem:
        raise ValueError(problem)
    override: dict[str, Any] = {
        "extra_resource_limits": {name: count},
        "tolerations": [gpu_toleration()],
        "node_selector": gpu_node_selector(product),
        "environment": dict(GPU_ENVIRONMENT),
    }
    if GPU_RUNTIME_CLASS:
        override["extra_pod_config"] = {"runtimeClassName": GPU_RUNTIME_CLASS}
    return override


def gpu_idle_timeout_seconds(cfg: PlatformConfig) -> int:
    """How long a GPU notebook server may stay idle before it is stopped (`gpu.idle_cull_minutes`)."""
    return cfg.gpu.idle_cull_minutes * 60


def gpu_idle_server_args(cfg: PlatformConfig) -> list[str]:
    """Jupyter Server arguments for GPU profiles (KubeSpawner `args`): the server itself culls idle
    kernels, which hold GPU memory even with a browser tab open, and stops when nothing runs.

    The hub-wide idle culler has one timeout for everyone; these give GPU servers a shorter one."""
    seconds = gpu_idle_timeout_seconds(cfg)
    return [
        f"--MappingKernelManager.cull_idle_timeout={seconds}",
        "--MappingKernelManager.cull_interval=300",
        "--MappingKernelManager.cull_connected=True",
        f"--ServerApp.shutdown_no_activity_timeout={seconds}",
    ]
