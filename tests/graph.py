"""Reachability questions on a recorded resource graph."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any


class Graph:
    """Dependency edges (resource -> what it waits for) of a plan's resources, by name."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self.by_urn = {r["urn"]: r for r in resources}
        self.edges = {urn: set(r["depends_on"]) for urn, r in self.by_urn.items()}

    def urn(self, name: str) -> str:
        found = [u for u, r in self.by_urn.items() if r["name"] == name]
        assert len(found) == 1, f"{len(found)} resources named {name}"
        return found[0]

    def ancestors(self, name: str) -> set[str]:
        """Names of everything `name` waits for, directly or not."""
        seen: set[str] = set()
        stack = [self.urn(name)]
        while stack:
            for dep in self.edges.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return {self.by_urn[u]["name"] for u in seen if u in self.by_urn}

    def waits_for(self, later: str, earlier: str) -> bool:
        return earlier in self.ancestors(later)

    def longest_chain(self) -> int:
        """Number of resources on the longest dependency chain (the number of sequential stages)."""

        @cache
        def depth(urn: str) -> int:
            return 1 + max((depth(d) for d in self.edges.get(urn, ()) if d in self.by_urn), default=0)

        return max(depth(u) for u in self.by_urn)
