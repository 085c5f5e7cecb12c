"""Questions about the GPU pool that need the whole platform: which nodes, how many seats, which resource name.

JupyterHub profiles, YuniKorn queues and the device plugin import these so they always agree on one
resource name. The rules of the pool live in `config.gpu_rules`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from config.gpu import MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE, WHOLE_GPU_RESOURCE
from config.gpu_catalog import GPU_MODELS, named_layouts, smallest_profile

if TYPE_CHECKING:
    from config.inventory import Node
    from config.platform import PlatformConfig


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
