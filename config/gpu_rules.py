"""Cross-section rules of the GPU pool (registered in `config.checks`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.gpu import MIG_RESOURCE_PREFIX
from config.gpu_catalog import GPU_MODELS, layout_problems, named_layouts
from config.gpu_queries import gpu_nodes, gpu_resource_names, gpu_seats_on, node_mig_layout
from config.inventory import Role
from config.scheduler import node_reserve_amounts

if TYPE_CHECKING:
    from config.gpu import MigLayout
    from config.hubs import HubProfile
    from config.inventory import Node
    from config.platform import PlatformConfig

POOL_LABEL = "node.jupyterhub-platform/pool"
POOL_VALUE = "gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
_GIB = 2**30


def _layout_issues(path: str, model: str, layout: MigLayout) -> Iterator[ConfigIssue]:
    if isinstance(layout, str):
        names = named_layouts(model)
        if layout not in names:
            yield ConfigIssue(path, f"{model} has no MIG layout {layout!r} (known: {', '.join(names)})")
        return
    for problem in layout_problems(model, layout):
        yield ConfigIssue(path, problem)


def gpu_node_rules(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """GPU nodes are workers; their MIG layouts fit their cards; their labels do not fight the pool's."""
    sharing = cfg.gpu.sharing
    for i, node in enumerate(cfg.inventory.nodes):
        if node.gpu is None:
            continue
        base = f"inventory.nodes.{i}"
        info = GPU_MODELS[node.gpu.model]
        if not node.has(Role.WORKER):
            yield ConfigIssue(f"{base}.roles", "a node with GPUs must have the worker role to join the GPU pool")
        if node.labels.get(POOL_LABEL, POOL_VALUE) != POOL_VALUE:
            yield ConfigIssue(f"{base}.labels", f"GPU nodes carry {POOL_LABEL}={POOL_VALUE}; remove the other value")
        layout = node.gpu.mig_layout
        if sharing.mode != "mig":
            if layout is not None:
                yield ConfigIssue(f"{base}.gpu.mig_layout", "a MIG layout needs gpu.sharing.mode: mig")
            continue
        if not info.supports_mig:
            yield ConfigIssue(
                f"{base}.gpu.model",
                f"{node.gpu.model} has no MIG (H100/A100/A30 do); use gpu.sharing.mode time-slicing or none",
            )
            continue
        if layout is not None:
            found = list(_layout_issues(f"{base}.gpu.mig_layout", node.gpu.model, layout))
            yield from found
        else:
            default = sharing.mig.layout
            found = list(_layout_issues("gpu.sharing.mig.layout", node.gpu.model, default)) if default else []
            yield from (ConfigIssue(f.path, f"{f.message} (default layout of node {node.name!r})") for f in found)
        if not found and sharing.mig.strategy == "single" and len(node_mig_layout(cfg, node)) > 1:
            path = f"{base}.gpu.mig_layout" if layout is not None else "gpu.sharing.mig.layout"
            yield ConfigIssue(
                path,
                f"MIG strategy single needs one profile per node (node {node.name!r}); "
                "use one profile or gpu.sharing.mig.strategy: mixed",
            )


def _layouts_valid(cfg: PlatformConfig) -> bool:
    return not any(gpu_node_rules(cfg))


def gpu_section_rules(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Provider and sharing settings agree with each other and with the pool."""
    gpu, sharing = cfg.gpu, cfg.gpu.sharing
    if gpu.provider == "device-plugin" and gpu.container_toolkit == "operator":
        yield ConfigIssue("gpu.container_toolkit", "the device-plugin provider needs the host toolkit (`host`)")
    if sharing.mode == "mig" and gpu.provider != "gpu-operator":
        yield ConfigIssue("gpu.provider", "MIG layouts are applied by the GPU Operator's MIG manager: use gpu-operator")
    mig = sharing.mig
    if mig.default_profile is not None:
        if sharing.mode != "mig" or mig.strategy != "mixed":
            yield ConfigIssue("gpu.sharing.mig.default_profile", "only used with mode mig and strategy mixed")
        elif _layouts_valid(cfg):
            advertised = [n for n in gpu_resource_names(cfg) if n.startswith(MIG_RESOURCE_PREFIX)]
            if advertised and MIG_RESOURCE_PREFIX + mig.default_profile not in advertised:
                profiles = ", ".join(n.removeprefix(MIG_RESOURCE_PREFIX) for n in advertised)
                yield ConfigIssue(
                    "gpu.sharing.mig.default_profile",
                    f"no GPU node is cut into {mig.default_profile!r} (layouts give: {profiles})",
                )


def _may_land_on(node: Node, profile: HubProfile) -> bool:
    # Mirrors the profile's node selector: one of our model names narrows to those nodes; a raw
    # feature-discovery product is only known on the live node, so every GPU node counts.
    assert node.gpu is not None
    return profile.gpu_product not in GPU_MODELS or profile.gpu_product == node.gpu.model


def gpu_profile_capacity(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A GPU profile's CPU and memory guarantees, times the servers a GPU node's seats allow, fit that node
    after `scheduler.node_reserve`: otherwise some GPU seats can never be used by that profile (GPU nodes
    are tainted, so the GPU profiles are all that runs there)."""
    for i, hub in enumerate(cfg.hubs):
        for j, profile in enumerate(hub.profiles):
            if profile.gpu < 1:
                continue
            reported: set[str] = set()
            for node in gpu_nodes(cfg):
                servers = gpu_seats_on(cfg, node) // profile.gpu
                if servers == 0 or not _may_land_on(node, profile):
                    continue
                reserve = node_reserve_amounts(cfg.scheduler, node)
                checks = [
                    ("cpu_guarantee", "CPUs", node.cpus, reserve.get("vcore", 0) / 1000, profile.cpu_guarantee),
                    ("mem_guarantee_gib", "GiB", node.memory_gib, reserve.get("memory", 0) / _GIB, profile.mem_guarantee_gib),
                ]
                for field, unit, size, kept, guarantee in checks:
                    if size is None or field in reported:
                        continue
                    free = size - kept
                    if servers * guarantee <= free + 1e-9:
                        continue
                    reported.add(field)
                    usable = max(0, int(free // guarantee + 1e-9)) * profile.gpu
                    yield ConfigIssue(
                        f"hubs.{i}.profiles.{j}.{field}",
                        f"{servers} servers fill the {servers * profile.gpu} GPU seats of node {node.name!r} and guarantee "
                        f"{servers * guarantee:g} {unit}, but it has {size:g} - {kept:g} reserved = {free:g}: only {usable} "
                        f"seats are usable; lower it to at most {int(free / servers * 100) / 100:g}",
                    )


GPU_CHECKS = [gpu_node_rules, gpu_section_rules, gpu_profile_capacity]
