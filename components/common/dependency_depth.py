"""Room for the Pulumi SDK's dependency check on long chains of resources (one call, at start-up).

For every dependency edge the Python SDK (3.272, `runtime/resource_cycle_breaker.py`) walks what the
target depends on recursively, one Python frame per resource on the longest chain below it. Python's
default limit of 1,000 frames is reached by valid stacks: a rolling upgrade of 600 workers one at a
time (`cluster.upgrade.max_unavailable: 1`), or 1,000 workers behind a bastion in 2 SSH lanes, end in
a RecursionError in the middle of `pulumi up`. The walk needs about 400 bytes of C stack per frame;
on an 8 MiB main-thread stack it crashed the interpreter between 20,000 and 30,000 frames (measured
with the SDK's own walk), so the limit is raised to a quarter of that range's start.
"""

from __future__ import annotations

import sys

RECURSION_LIMIT = 5_000


def allow_long_dependency_chains() -> None:
    """Raise the interpreter's recursion limit to RECURSION_LIMIT (never lowers it)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
