"""Capacity report: how many servers of each profile the inventory holds, beside the queue limits (pure)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from config.gpu_queries import gpu_seats
from config.hub_queries import NodeCapacity, node_capacities
from config.hubs import HubProfile
from config.inventory import Role

if TYPE_CHECKING:
    from config.platform import PlatformConfig
    from config.scheduler import QueueConfig, Resources

GIB = 2**30


@dataclass(frozen=True)
class ProfileCapacity:
    hub: str
    profile: str
    queue: str
    guarantee: str
    servers_fit: int | None
    """Servers that fit at their guarantee on the nodes they may use; None when node sizes are unknown."""
    queue_guaranteed: str
    queue_max: str


def _reserve(cfg: PlatformConfig, node_name: str) -> tuple[float, float]:
    """CPUs and GiB a node keeps for itself (the scheduler section's reserves, when it exists)."""
    scheduler = getattr(cfg, "scheduler", None)
    if scheduler is None:
        return 0.0, 0.0
    amounts = scheduler.node_reserve.amounts()
    cpu, mem = amounts.get("vcore", 0) / 1000, amounts.get("memory", 0) / GIB
    node = next(n for n in cfg.inventory.nodes if n.name == node_name)
    if node.has(Role.CONTROL_PLANE):
        extra = scheduler.control_plane_reserve.amounts()
        cpu, mem = cpu + extra.get("vcore", 0) / 1000, mem + extra.get("memory", 0) / GIB
    return cpu, mem


def servers_on(cfg: PlatformConfig, node: NodeCapacity, profile: HubProfile) -> int:
    cpu_reserve, mem_reserve = _reserve(cfg, node.name)
    if (node.gpus > 0) != (profile.gpu > 0):
        return 0  # GPU nodes are tainted for GPU profiles; GPU profiles select GPU nodes
    by_cpu = math.floor((node.cpus - cpu_reserve) / profile.cpu_guarantee + 1e-9)
    by_mem = math.floor((node.memory_gib - mem_reserve) / profile.mem_guarantee_gib + 1e-9)
    return max(0, min(by_cpu, by_mem))


def _find_queue(cfg: PlatformConfig, path: str) -> QueueConfig | None:
    scheduler = getattr(cfg, "scheduler", None)
    if scheduler is None:
        return None
    level = scheduler.queues
    found = None
    for name in path.split("."):
        found = next((q for q in level if q.name == name), None)
        if found is None:
            return None
        level = found.queues
    return found


def _show(resources: Resources | None) -> str:
    if resources is None:
        return "-"
    parts = [f"{k}={v}" for k, v in resources.model_dump().items() if v is not None]
    return ", ".join(parts) or "-"


def capacity(cfg: PlatformConfig) -> list[ProfileCapacity]:
    nodes = node_capacities(cfg)
    sized = bool(nodes) and len(nodes) == len(cfg.inventory.schedulable_nodes)
    seats = gpu_seats(cfg)
    rows = []
    for hub in cfg.hubs:
        for p in hub.profiles:
            fit: int | None = None
            if sized:
                fit = sum(servers_on(cfg, n, p) for n in nodes)
                if p.gpu > 0:
                    fit = min(fit, seats // p.gpu)
            queue = _find_queue(cfg, p.queue)
            gpu = f", {p.gpu} GPU" if p.gpu else ""
            rows.append(
                ProfileCapacity(
                    hub=hub.name,
                    profile=p.slug,
                    queue=p.queue,
                    guarantee=f"{p.cpu_guarantee:g} CPU, {p.mem_guarantee_gib:g} GiB{gpu}",
                    servers_fit=fit,
                    queue_guaranteed=_show(queue.guaranteed) if queue else "?",
                    queue_max=_show(queue.max) if queue else "?",
                )
            )
    return rows


def capacity_output(cfg: PlatformConfig) -> list[dict[str, Any]]:
    """The `capacity` stack output."""
    return [asdict(r) for r in capacity(cfg)]


def capacity_markdown(cfg: PlatformConfig) -> str:
    """`reports/capacity.md` of the offline render."""
    lines = [
        "# Capacity per profile",
        "",
        "Servers that fit at each profile's guarantee if the whole inventory ran only that profile",
        "(after each node's reserve), beside its YuniKorn queue's guaranteed and max resources.",
        "",
        "| hub | profile | guarantee | servers fit | queue | queue guaranteed | queue max |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in capacity(cfg):
        fit = "unknown (give nodes `cpus` and `memory_gib`)" if r.servers_fit is None else str(r.servers_fit)
        lines.append(f"| {r.hub} | {r.profile} | {r.guarantee} | {fit} | {r.queue} | {r.queue_guaranteed} | {r.queue_max} |")
    return "\n".join(lines) + "\n"
