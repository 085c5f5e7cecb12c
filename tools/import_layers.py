"""An import-linter contract whose layers may name modules by pattern (`*_rules`), for `lint-imports`.

import-linter's own `layers` contract needs every module spelled out, so each new rule module
(`config/<topic>_rules.py`) would have to be added to pyproject.toml by hand and a forgotten one
would silently escape the contract. Here a layer entry may be an fnmatch pattern over the
container's children: `*_rules` places every rule module in the rules layer by its name, and a
lone `*` takes every child no other entry names (the section models). Exact names win over
patterns, patterns over `*`. Modules a pattern places in one layer are independent siblings
(they may not import each other) when the layer joins its entries with `|`; the `*` layer's
modules may import each other. The check itself is import-linter's (the version is pinned).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import cast

import grimp
from importlinter.contracts.layers import Layer, LayersContract, ModuleTail
from importlinter.domain.contract import ContractCheck
from importlinter.domain.imports import ModuleExpression

REST = "*"


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


def expand_layers(layers: list[Layer], children: set[str]) -> list[Layer]:
    """Replace pattern entries by the child module names (tails) they match, most specific first."""
    claimed = {t.name for layer in layers for t in layer.module_tails if not _is_pattern(t.name)}
    matches: dict[str, set[str]] = {}
    patterns = [t.name for layer in layers for t in layer.module_tails if _is_pattern(t.name)]
    for pattern in sorted(patterns, key=lambda p: p == REST):  # the catch-all last
        found = {c for c in children - claimed if fnmatchcase(c, pattern)}
        matches[pattern] = found
        claimed |= found
    expanded = []
    for layer in layers:
        tails: set[ModuleTail] = set()
        for tail in layer.module_tails:
            if _is_pattern(tail.name):
                tails |= {ModuleTail(name) for name in matches[tail.name]}
            else:
                tails.add(tail)
        only_rest = {t.name for t in layer.module_tails} == {REST}
        expanded.append(Layer(tails, is_independent=layer.is_independent and not only_rest))
    return [layer for layer in expanded if layer.module_tails]


class PatternLayersContract(LayersContract):
    """`layers` whose entries may be patterns over the children of `containers` (which it requires)."""

    type_name = "pattern_layers"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        # import-linter declares the options as field descriptors; on the instance they hold parsed values.
        containers = cast(list[ModuleExpression], self.containers or [])
        children = {
            child.rpartition(".")[-1] for container in containers for child in graph.find_children(container.expression)
        }
        self.layers = expand_layers(cast(list[Layer], self.layers), children)  # type: ignore[assignment]
        return super().check(graph, verbose)
