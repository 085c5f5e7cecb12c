"""The shared GPU pool: how GPU nodes are described, shared and exposed to the scheduler.

The questions that need the whole platform (`gpu_seats`, `gpu_resource_name`, `gpu_nodes`...) live
in `config.gpu_queries`, the cross-section rules in `config.gpu_rules`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel
from config.fields import ChartVersion
from config.gpu_catalog import GpuModel

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
    operator_chart_version: ChartVersion = GPU_OPERATOR_VERSION
    """Pinned `gpu-operator` chart version (repo https://helm.ngc.nvidia.com/nvidia)."""
    device_plugin_chart_version: ChartVersion = DEVICE_PLUGIN_VERSION
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
