"""The shared GPU pool: how GPU nodes are described, shared and exposed to the scheduler.

Other sections import `gpu_resource_name`, `gpu_resource_names`, `gpu_seats` and `gpu_nodes`
so JupyterHub profiles, YuniKorn queues and the device plugin always agree on one resource name.
The cross-section rules live in `config.gpu_rules`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel
from config.gpu_catalog import GPU_MODELS, GpuModel, named_layouts, smallest_profile

if TYPE_CHECKING:
    from config.inventory import Node
    from config.platform import PlatformConfig

GPU_OPERATOR_VERSION = "v26.7.0"
DEVICE_PLUGIN_VERSION = "0.20.0"
CONTAINER_TOOLKIT_VERSION = "1.18.0"
MIN_CONTAINER_TOOLKIT = (1, 18, 0)
"""First nvidia-container-toolkit release whose `nvidia-ctk runtime configure` has `--drop-in-config`."""
WHOLE_GPU_RESOURCE = "nvidia.com/gpu"
SHARED_GPU_RESOURCE = "nvidia.com/gpu.shared"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
LAYOUT_NAME_PATTERN = r"^all-[0-9a-z.]+$"

MigLayout = Annotated[str, Field(pattern=LAYOUT_NAME_PATTERN)] | dict[str, Annotated[int, Field(ge=1, le=7)]]
"""A named layout (`all-1g.10gb`, `all-balanced`) or explicit instances per GPU (`{"1g.10gb": 3, "2g.20gb": 2}`)."""


class NodeGpu(StrictModel):
    """The GPUs of one inventory node; the node joins the GPU pool (tainted, labelled)."""

    model: GpuModel
    """GPU model: H100-80GB, A100-80GB, A100-40GB, A30 (MIG capable), L40S, L40, L4, A10, T4."""
    count: Annotated[int, Field(ge=1, le=16)]
    """Number of GPUs in the machine; the host check refuses a node with fewer."""
    mig_layout: MigLayout | None = None
    """MIG layout of every GPU of this node (only with `gpu.sharing.mode: mig`); defaults to
    `gpu.sharing.mig.layout`."""


class TimeSlicing(StrictModel):
    """Time-slicing: each GPU is advertised several times; no memory isolation between users."""

    replicas: Annotated[int, Field(ge=2, le=48)] = 4
    """Notebooks that share one GPU."""
    rename_shared: bool = False
    """Advertise shared GPUs as `nvidia.com/gpu.shared` instead of `nvidia.com/gpu`."""
    fail_requests_greater_than_one: bool = True
    """Refuse pods asking for more than one replica (two replicas of one GPU give no more compute)."""


class MigSharing(StrictModel):
    """MIG: each H100/A100/A30 is cut into isolated instances by the GPU Operator's MIG manager."""

    strategy: Literal["single", "mixed"] = "single"
    """`single`: one profile per node, advertised as `nvidia.com/gpu` (simple quotas); `mixed`:
    each profile is its own resource `nvidia.com/mig-<profile>`."""
    layout: MigLayout | None = None
    """Default layout for GPU nodes without `gpu.mig_layout`; unset: as many of the model's
    smallest profile as fit (`all-1g.10gb` on an H100 80GB)."""
    default_profile: str | None = None
    """Mixed strategy: the profile GPU notebooks and queues use by default; unset: the smallest
    profile in the layouts."""


class GpuSharing(StrictModel):
    """How each physical GPU is shared between notebooks."""

    mode: Literal["none", "time-slicing", "mig"] = "none"
    """`none` (one notebook per GPU), `time-slicing` or `mig`."""
    time_slicing: TimeSlicing = TimeSlicing()
    """Settings for `mode: time-slicing`."""
    mig: MigSharing = MigSharing()
    """Settings for `mode: mig`."""


class GpuConfig(StrictModel):
    """NVIDIA stack of the GPU pool (active when inventory nodes have a `gpu` entry)."""

    provider: Literal["gpu-operator", "device-plugin"] = "gpu-operator"
    """`gpu-operator` (device plugin, feature discovery, DCGM exporter, MIG manager) or the bare
    `device-plugin` chart (no MIG, no DCGM exporter)."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "gpu-operator"
    """Namespace of the NVIDIA components."""
    operator_chart_version: str = GPU_OPERATOR_VERSION
    """Pinned `gpu-operator` chart version (repo https://helm.ngc.nvidia.com/nvidia)."""
    device_plugin_chart_version: str = DEVICE_PLUGIN_VERSION
    """Pinned `nvidia-device-plugin` chart version (repo https://nvidia.github.io/k8s-device-plugin)."""
    container_toolkit: Literal["host", "operator"] = "host"
    """Who configures containerd for GPUs: `host` (the node step installs nvidia-container-toolkit
    before the node joins, so containerd restarts only on an empty node) or `operator` (the GPU
    Operator's toolkit daemonset, which restarts containerd whenever it rolls)."""
    container_toolkit_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = CONTAINER_TOOLKIT_VERSION
    """nvidia-container-toolkit version installed and held on GPU hosts (`host` toolkit; the Debian/Ubuntu
    packages are `<version>-1`). At least 1.18.0: the host step writes containerd's drop-in with
    `nvidia-ctk runtime configure --drop-in-config`, which older releases do not have."""
    min_driver_major: Annotated[int, Field(ge=400)] = 535
    """The host check refuses a driver older than this branch (drivers are installed on the host)."""
    sharing: GpuSharing = GpuSharing()
    """Whole GPUs, time-slicing or MIG."""
    idle_cull_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    """GPU notebook servers idle this long are stopped (shorter than CPU servers: GPUs are scarce)."""
    release_timeout_seconds: Annotated[int, Field(ge=300, le=3600)] = 900
    """Helm wait bound for the NVIDIA release (operator pods pull large images)."""

    @field_validator("container_toolkit_version")
    @classmethod
    def _drop_in_capable(cls, version: str) -> str:
        if tuple(int(p) for p in version.split(".")) < MIN_CONTAINER_TOOLKIT:
            minimum = ".".join(map(str, MIN_CONTAINER_TOOLKIT))
            raise ValueError(f"{version} is older than {minimum}, the first release with `nvidia-ctk ... --drop-in-config`")
        return version


def gpu_nodes(cfg: PlatformConfig) -> list[Node]:
    """Inventory nodes with GPUs, in inventory order."""
    return [n for n in cfg.inventory.nodes if n.gpu is not None]


def node_mig_layout(cfg: PlatformConfig, node: Node) -> dict[str, int]:
    """The resolved MIG layout (profile -> instances per GPU) of a GPU node in `mig` mode.

    Empty for a layout name the model does not have (the config rules report it; other sections'
    rules may still ask for seats of an invalid config)."""
    assert node.gpu is not None
    layout = node.gpu.mig_layout if node.gpu.mig_layout is not None else cfg.gpu.sharing.mig.layout
    if layout is None:
        layout = f"all-{smallest_profile(node.gpu.model)}"
    if isinstance(layout, str):
        return dict(named_layouts(node.gpu.model).get(layout, {}))
    return dict(layout)


def mig_config_name(cfg: PlatformConfig, node: Node) -> str:
    """Name of the node's entry in the MIG manager configuration (the `nvidia.com/mig.config` label).

    Named per model because the same layout name means different profiles on different cards."""
    assert node.gpu is not None
    layout = node.gpu.mig_layout if node.gpu.mig_layout is not None else cfg.gpu.sharing.mig.layout
    model = node.gpu.model.lower()
    if layout is None or isinstance(layout, str):
        return f"{model}-{layout or 'all-' + smallest_profile(node.gpu.model)}"
    parts = "-".join(f"{count}x{name}" for name, count in sorted(layout.items()))
    name = f"{model}-{parts}"
    if len(name) > 63 or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        name = f"{model}-custom-{hashlib.sha256(parts.encode()).hexdigest()[:10]}"
    return name


def gpu_seats_by_resource(cfg: PlatformConfig) -> dict[str, int]:
    """Seats (schedulable units) per extended resource name across the pool; empty without GPU nodes."""
    seats: dict[str, int] = {}
    sharing = cfg.gpu.sharing
    for node in gpu_nodes(cfg):
        assert node.gpu is not None
        if sharing.mode == "mig" and GPU_MODELS[node.gpu.model].supports_mig:
            for profile, count in node_mig_layout(cfg, node).items():
                name = WHOLE_GPU_RESOURCE if sharing.mig.strategy == "single" else MIG_RESOURCE_PREFIX + profile
                seats[name] = seats.get(name, 0) + count * node.gpu.count
        elif sharing.mode == "time-slicing":
            name = SHARED_GPU_RESOURCE if sharing.time_slicing.rename_shared else WHOLE_GPU_RESOURCE
            seats[name] = seats.get(name, 0) + node.gpu.count * sharing.time_slicing.replicas
        else:
            seats[WHOLE_GPU_RESOURCE] = seats.get(WHOLE_GPU_RESOURCE, 0) + node.gpu.count
    return dict(sorted(seats.items()))


def gpu_seats(cfg: PlatformConfig) -> int:
    """All GPU seats of the pool: GPUs, GPUs x time-slicing replicas, or MIG instances; 0 without GPU nodes."""
    return sum(gpu_seats_by_resource(cfg).values())


def gpu_resource_names(cfg: PlatformConfig) -> list[str]:
    """Every extended resource name the pool advertises (several only with mixed-strategy MIG).

    Without GPU nodes: the name the configured sharing mode would advertise."""
    names = list(gpu_seats_by_resource(cfg))
    return names or [gpu_resource_name(cfg)]


def gpu_resource_name(cfg: PlatformConfig) -> str:
    """The one resource name GPU profiles request and YuniKorn queues limit.

    `nvidia.com/gpu` for whole GPUs, time-slicing and single-strategy MIG (`nvidia.com/gpu.shared`
    when time-sliced GPUs are renamed); with mixed-strategy MIG, `nvidia.com/mig-<profile>` of
    `gpu.sharing.mig.default_profile`, else of the smallest profile any GPU node is cut into."""
    sharing = cfg.gpu.sharing
    if sharing.mode == "time-slicing" and sharing.time_slicing.rename_shared:
        return SHARED_GPU_RESOURCE
    if sharing.mode != "mig" or sharing.mig.strategy == "single":
        return WHOLE_GPU_RESOURCE
    if sharing.mig.default_profile:
        return MIG_RESOURCE_PREFIX + sharing.mig.default_profile
    mig_names = [n for n in gpu_seats_by_resource(cfg) if n.startswith(MIG_RESOURCE_PREFIX)]
    if not mig_names:
        return WHOLE_GPU_RESOURCE
    # The smallest instance has the most seats per GPU: most notebooks fit on it.
    return min(mig_names, key=_profile_size)


def _profile_size(resource: str) -> tuple[int, int, str]:
    match = re.search(r"(\d+)g\.(\d+)gb", resource)
    return (int(match.group(1)), int(match.group(2)), resource) if match else (99, 999, resource)


def gpu_request_problem(cfg: PlatformConfig, count: int) -> str | None:
    """Why a notebook profile asking for `count` GPU seats cannot be satisfied, or None."""
    if count < 1:
        return "a GPU profile asks for at least one GPU"
    ts = cfg.gpu.sharing.time_slicing
    if cfg.gpu.sharing.mode == "time-slicing" and ts.fail_requests_greater_than_one and count > 1:
        return "time-sliced GPUs are handed out one replica per pod (gpu.sharing.time_slicing)"
    per_node = [gpu_seats_on(cfg, n) for n in gpu_nodes(cfg)]
    if per_node and count > max(per_node):
        return f"{count} GPU seats do not fit on any GPU node (largest has {max(per_node)})"
    return None


def gpu_seats_on(cfg: PlatformConfig, node: Node) -> int:
    """Seats of `gpu_resource_name` one GPU node advertises (what GPU profiles can request there)."""
    name = gpu_resource_name(cfg)
    assert node.gpu is not None
    sharing = cfg.gpu.sharing
    if sharing.mode == "mig" and GPU_MODELS[node.gpu.model].supports_mig:
        layout = node_mig_layout(cfg, node)
        if sharing.mig.strategy == "single":
            return sum(layout.values()) * node.gpu.count
        return layout.get(name.removeprefix(MIG_RESOURCE_PREFIX), 0) * node.gpu.count
    if sharing.mode == "time-slicing":
        return node.gpu.count * sharing.time_slicing.replicas
    return node.gpu.count
