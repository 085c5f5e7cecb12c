"""Which per-node step waits for which: the bound on SSH sessions, as plain data. Pure.

Pulumi runs every resource whose dependencies are done, with no limit of its own (unless the
operator passes `pulumi up --parallel N`). To bound the sessions through a bastion the program
chains the per-node steps of a stage into `width` lanes: the k-th node's step waits for the
(k - width)-th node's step, so at most `width` of them can ever run at once, whatever the engine's
parallelism. Each lane is a chain, so no set of steps that can run together is larger than the
number of lanes.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.inventory import Node, Role
from config.platform import PlatformConfig


def lane_predecessors(names: Sequence[str], width: int | None) -> dict[str, str | None]:
    """For each name, the one before it in its lane (None: first in its lane, or no bound)."""
    if width is None:
        return dict.fromkeys(names)
    return {name: (names[i - width] if i >= width else None) for i, name in enumerate(names)}


def prepare_order(cfg: PlatformConfig) -> list[str]:
    """Control planes first (the first one's init waits for its preparation), then workers."""
    nodes = cfg.inventory.kubernetes_nodes
    return [n.name for n in nodes if n.has(Role.CONTROL_PLANE)] + [n.name for n in nodes if not n.has(Role.CONTROL_PLANE)]


def join_order(cfg: PlatformConfig) -> list[Node]:
    """Nodes that join (every Kubernetes node but the first control plane), control planes first."""
    return [*cfg.inventory.control_planes[1:], *cfg.inventory.workers]


def prepare_waits(cfg: PlatformConfig) -> dict[str, list[str]]:
    """Node -> nodes whose preparation its own preparation waits for."""
    before = lane_predecessors(prepare_order(cfg), cfg.ssh.session_lanes())
    return {name: [p] if p else [] for name, p in before.items()}


def join_waits(cfg: PlatformConfig) -> dict[str, list[str]]:
    """Node -> nodes whose join its own join waits for.

    Control planes join one after another (etcd membership changes must not overlap); workers
    join in parallel, in at most `ssh.session_lanes()` lanes shared with the control planes.
    """
    joining = join_order(cfg)
    before = lane_predecessors([n.name for n in joining], cfg.ssh.session_lanes())
    waits: dict[str, list[str]] = {}
    previous_cp: str | None = None
    for node in joining:
        deps = [p for p in (before[node.name],) if p]
        if node.has(Role.CONTROL_PLANE):
            if previous_cp is not None and previous_cp not in deps:
                deps.append(previous_cp)
            previous_cp = node.name
        waits[node.name] = deps
    return waits
