"""Very large clusters: the program's longest chain of resources must stay walkable by the Pulumi SDK.

For every dependency edge, the Python SDK walks what the target depends on recursively, one Python
frame per resource on the longest chain below it; past the interpreter's recursion limit `pulumi up`
dies with a RecursionError part-way through. The program raises that limit to 5,000
(components/common/dependency_depth.py); this rule keeps the longest chain under
MAX_DEPENDENCY_CHAIN, leaving the rest for the frames of the walk's callers. Two settings make the
chain grow with the cluster: SSH lanes (every per-node step waits for the one `lanes` places before
it) and the rolling upgrade (an upgrade step and a gate per worker batch, one batch after another).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue

if TYPE_CHECKING:
    from config.platform import PlatformConfig

MAX_DEPENDENCY_CHAIN = 4_000
# Resources on the longest chain that grow with neither lanes nor batches: the load balancer, init,
# the mint, the control planes' joins and upgrades, Calico, readiness (prod-shaped stacks measure 10
# to 12 with one lane and one batch; tests/test_scale_rules.py compares with rendered graphs).
FIXED_CHAIN = 14


def node_steps(cfg: PlatformConfig) -> int:
    """Per-node SSH steps the lanes chain: a preparation per node, a join per node but the first."""
    return 2 * len(cfg.inventory.kubernetes_nodes) - 1


def lane_chain(cfg: PlatformConfig) -> int:
    lanes = cfg.ssh.session_lanes()
    return 2 if lanes is None else math.ceil(node_steps(cfg) / lanes)


def upgrade_chain(cfg: PlatformConfig) -> int:
    workers = len(cfg.inventory.workers)
    if workers == 0:
        return 0
    return 2 * math.ceil(workers / cfg.cluster.upgrade.batch_size(workers))


def longest_chain(cfg: PlatformConfig) -> int:
    """An upper estimate of the most resources on one dependency chain of the rendered graph."""
    return lane_chain(cfg) + upgrade_chain(cfg) + FIXED_CHAIN


def _dependency_chain(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.builds_cluster:
        return
    lanes, upgrade = lane_chain(cfg), upgrade_chain(cfg)
    total = lanes + upgrade + FIXED_CHAIN
    if total <= MAX_DEPENDENCY_CHAIN:
        return
    room = MAX_DEPENDENCY_CHAIN - FIXED_CHAIN
    why = (
        f"about {total} resources would wait for each other in one chain, more than the "
        f"{MAX_DEPENDENCY_CHAIN} the Pulumi SDK's dependency check can walk (it recurses once per resource)"
    )
    if upgrade >= lanes:
        workers = len(cfg.inventory.workers)
        batches = max(1, (room - lanes) // 2)
        size = math.ceil(workers / batches)
        percent = math.ceil(100 * size / workers)
        yield ConfigIssue(
            "cluster.upgrade.max_unavailable",
            f"upgrading {workers} workers {cfg.cluster.upgrade.batch_size(workers)} at a time takes {upgrade // 2} "
            f"batches one after another: {why}; use at least {size} (or {percent}%)",
        )
    else:
        needed = math.ceil(node_steps(cfg) / max(1, room - upgrade))
        yield ConfigIssue(
            "ssh.max_parallel_sessions",
            f"{cfg.ssh.session_lanes()} SSH lane(s) put {node_steps(cfg)} per-node steps one after another: {why}; "
            f"use at least {needed}",
        )


SCALE_CHECKS = [_dependency_chain]
