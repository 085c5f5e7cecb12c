"""An exact, linear-time stand-in for the Pulumi SDK's dependency-cycle check, for runs under mocks.

For every dependency edge A -> B it registers, the SDK (pulumi 3.272,
`pulumi/runtime/resource_cycle_breaker.py`) walks everything B depends on, transitively, to make
sure A is not among it. When many resources depend on something that comes after every node (the
join material, an upgrade gate), each of those edges walks the whole cluster: the render grows with
the square of the workers (1,000 workers: 8.4 million visits, about 10 s of a 25 s render).

A Python program can only name a resource that already exists, so nearly every edge points from a
resource to one constructed before it. Resources are numbered as they are constructed (in this run).
While every edge recorded so far points to a lower number, nothing reachable from B has a number
above B's, so an edge A -> B with B below A cannot close a cycle and is recorded without the walk.
The first edge that points the other way (a dependency on a component whose children were created
later, a resource from an earlier run or one never numbered, such as `get_resource`'s) is checked by
the SDK's own walk, and so is every edge after it in that run. The SDK's walk recurses once per
resource on a dependency chain and fails (RecursionError) on a chain longer than Python's recursion
limit allows; the length of the longest chain below each resource is kept, and an edge onto a chain
that long is also handed to the SDK's walk. The answer is therefore always the SDK's, and so is
what the SDK does with a cycle or a chain too deep for it (its error).

Only the offline render and the tests use this (`tools.mockrun`); a real `pulumi up` runs the SDK
unchanged. If the pinned SDK ever stops having the functions this wraps, nothing is installed and
only speed changes.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pulumi.resource as resource_module
from pulumi.runtime import resource_cycle_breaker as cycle_breaker
from pulumi.runtime import rpc

ORDER_ATTRIBUTE = "_jupyterhub_platform_construction_order"
CHAIN_ATTRIBUTE = "_jupyterhub_platform_chain_below"
# Frames the SDK's walk needs besides one per resource on the chain (the event loop, the SDK's own
# registration code): an edge onto a chain within this many of the recursion limit is walked.
FRAME_MARGIN = 200
_NUMBERS = itertools.count()


@dataclass
class EdgeCounts:
    """Edges recorded in the current run: without the walk, and by the SDK's walk."""

    unwalked: int = 0
    walked: int = 0
    forward_seen: bool = False
    first_number: int = 0
    """Resources numbered below this belong to an earlier run: edges touching them are walked."""
    disabled: bool = False
    """Every edge to the SDK's walk (the bench counts what a real run pays)."""


COUNTS = EdgeCounts()
_ORIGINALS: dict[str, Callable[..., Any]] = {}


def _numbered(register: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the SDK's register/read call, which a resource's constructor makes first thing (all but
    those adopted by URN, which stay unnumbered)."""

    def numbered(res: Any, *args: Any, **kwargs: Any) -> Any:
        setattr(res, ORDER_ATTRIBUTE, next(_NUMBERS))
        return register(res, *args, **kwargs)

    return numbered


def declare_dependency(from_resource: Any, to_resource: Any) -> bool:
    """Same contract as the SDK's: record from -> to and return True, or False if it closes a cycle."""
    later = getattr(from_resource, ORDER_ATTRIBUTE, None)
    earlier = getattr(to_resource, ORDER_ATTRIBUTE, None)
    backward = later is not None and earlier is not None and COUNTS.first_number <= earlier < later
    chain = getattr(to_resource, CHAIN_ATTRIBUTE, 0) + 1
    shallow = chain + FRAME_MARGIN < sys.getrecursionlimit()
    if backward and shallow and not COUNTS.forward_seen and not COUNTS.disabled:
        cycle_breaker._add_dep(from_resource, to_resource)
        COUNTS.unwalked += 1
        recorded = True
    else:
        COUNTS.walked += 1
        recorded = cycle_breaker.declare_dependency(from_resource, to_resource)
        COUNTS.forward_seen |= recorded and not backward
    if recorded:
        setattr(from_resource, CHAIN_ATTRIBUTE, max(getattr(from_resource, CHAIN_ATTRIBUTE, 0), chain))
    return recorded


def reset() -> None:
    """Start a run: counts to zero, the fast path allowed again for the resources this run numbers."""
    COUNTS.unwalked = COUNTS.walked = 0
    COUNTS.forward_seen = False
    COUNTS.first_number = next(_NUMBERS)


@contextmanager
def sdk_walk() -> Iterator[None]:
    """Every edge checked by the SDK's own walk while inside (measuring what a real run pays)."""
    COUNTS.disabled = True
    try:
        yield
    finally:
        COUNTS.disabled = False


def install() -> bool:
    """Put the check in place of the SDK's (once per process); False when the SDK lacks the hooks."""
    if _ORIGINALS:
        return True
    hooks = (
        (resource_module, "register_resource"),
        (resource_module, "read_resource"),
        (rpc, "declare_dependency"),
        (cycle_breaker, "_add_dep"),
    )
    if not all(callable(getattr(module, name, None)) for module, name in hooks):
        return False
    _ORIGINALS["register_resource"] = resource_module.register_resource
    _ORIGINALS["read_resource"] = resource_module.read_resource
    _ORIGINALS["declare_dependency"] = rpc.declare_dependency
    resource_module.register_resource = _numbered(resource_module.register_resource)
    resource_module.read_resource = _numbered(resource_module.read_resource)
    rpc.declare_dependency = declare_dependency
    return True


def uninstall() -> None:
    """The SDK's own check again (tests compare the two)."""
    if not _ORIGINALS:
        return
    resource_module.register_resource = _ORIGINALS.pop("register_resource")
    resource_module.read_resource = _ORIGINALS.pop("read_resource")
    rpc.declare_dependency = _ORIGINALS.pop("declare_dependency")
