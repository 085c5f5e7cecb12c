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
from itertools import pairwise

from config.inventory import Node, Role
from config.platform import PlatformConfig

PREPARE, JOIN = "prepare", "kubeadm-join"
Step = tuple[str, str]
"""(stage, node name): one per-node step (a node's preparation counts as one, GPU host step included)."""


def lane_predecessors(items: Sequence[Step], width: int | None) -> dict[Step, Step | None]:
    """For each item, the one before it in its lane (None: first in its lane, or no bound)."""
    if width is None:
        return dict.fromkeys(items)
    return {item: (items[i - width] if i >= width else None) for i, item in enumerate(items)}


def prepare_order(cfg: PlatformConfig) -> list[str]:
    """Control planes first (the first one's init waits for its preparation), then workers."""
    nodes = cfg.inventory.kubernetes_nodes
    return [n.name for n in nodes if n.has(Role.CONTROL_PLANE)] + [n.name for n in nodes if not n.has(Role.CONTROL_PLANE)]


def join_order(cfg: PlatformConfig) -> list[Node]:
    """Nodes that join (every Kubernetes node but the first control plane), control planes first."""
    return [*cfg.inventory.control_planes[1:], *cfg.inventory.workers]


def step_sequence(cfg: PlatformConfig) -> list[Step]:
    """Every per-node step in the order the program registers them: all preparations, then joins."""
    return [(PREPARE, n) for n in prepare_order(cfg)] + [(JOIN, n.name) for n in join_order(cfg)]


def step_waits(cfg: PlatformConfig) -> dict[Step, list[Step]]:
    """Per-node step -> the per-node steps it waits for besides its own node's earlier steps.

    One sequence of lanes runs through both stages, so preparations and joins together never
    exceed `ssh.session_lanes()` at once. Control planes join one after another (etcd membership
    changes must not overlap) whatever the bound; without a bound, nothing else is chained.
    """
    sequence = step_sequence(cfg)
    before = lane_predecessors(sequence, cfg.ssh.session_lanes())
    waits = {step: [p] if p else [] for step, p in before.items()}
    control_planes = [(JOIN, n.name) for n in join_order(cfg) if n.has(Role.CONTROL_PLANE)]
    for earlier, later in pairwise(control_planes):
        if earlier not in waits[later]:
            waits[later].append(earlier)
    return waits
