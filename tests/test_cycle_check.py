"""The render's cycle check answers as the SDK's does, without the SDK's walk on backward edges."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from pulumi.runtime import resource_cycle_breaker as cycle_breaker

from components.common.dependency_depth import RECURSION_LIMIT, allow_long_dependency_chains
from tools import cycle_check
from tools.render import ROOT, render

SCALE_FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"


class Node:
    """A stand-in resource: the check only reads its number and its recorded dependencies. Numbered
    `offset` after the current run's first number (None: never numbered)."""

    def __init__(self, offset: int | None) -> None:
        if offset is not None:
            setattr(self, cycle_check.ORDER_ATTRIBUTE, cycle_check.COUNTS.first_number + offset)


@pytest.fixture
def fresh_counts() -> Iterator[None]:
    cycle_check.reset()
    yield
    cycle_check.reset()


def test_backward_edges_are_recorded_without_the_walk(fresh_counts: None) -> None:
    first, second, third = Node(1), Node(2), Node(3)
    assert cycle_check.declare_dependency(second, first)
    assert cycle_check.declare_dependency(third, second)
    assert cycle_check.COUNTS.unwalked == 2 and cycle_check.COUNTS.walked == 0
    assert cycle_breaker._deps(third) == {second}


def test_a_self_edge_is_walked_and_refused(fresh_counts: None) -> None:
    node = Node(5)
    assert not cycle_check.declare_dependency(node, node)
    assert cycle_check.COUNTS.walked == 1 and not cycle_check.COUNTS.forward_seen


def test_after_a_forward_edge_every_edge_is_walked_and_cycles_are_refused(fresh_counts: None) -> None:
    early, late = Node(1), Node(2)
    assert cycle_check.declare_dependency(early, late)  # forward: early waits for a later resource
    assert cycle_check.COUNTS.forward_seen and cycle_check.COUNTS.walked == 1
    # Backward by number, but it closes the cycle early -> late -> early: the walk must see it.
    assert not cycle_check.declare_dependency(late, early)
    assert cycle_check.COUNTS.walked == 2 and cycle_check.COUNTS.unwalked == 0


def test_an_unnumbered_dependent_is_walked(fresh_counts: None) -> None:
    # Resources adopted by URN (`get_resource`) are never numbered, yet declare edges.
    assert cycle_check.declare_dependency(Node(None), Node(1))
    assert cycle_check.COUNTS.walked == 1 and cycle_check.COUNTS.forward_seen


def test_resources_of_an_earlier_run_are_walked(fresh_counts: None) -> None:
    # A registration left pending by a failed run may declare edges in the next one.
    old = Node(0)
    cycle_check.reset()
    assert cycle_check.declare_dependency(Node(5), old)
    assert cycle_check.COUNTS.walked == 1 and cycle_check.COUNTS.unwalked == 0


def test_an_edge_onto_a_chain_near_the_recursion_limit_is_walked(fresh_counts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cycle_check.sys, "getrecursionlimit", lambda: cycle_check.FRAME_MARGIN + 100)
    chain = [Node(i) for i in range(1, 151)]
    for earlier, later in pairwise(chain):
        assert cycle_check.declare_dependency(later, earlier)
    # Chains of 1..99 below the new resource go without the walk; from 100 on the SDK's walk decides.
    assert (cycle_check.COUNTS.unwalked, cycle_check.COUNTS.walked) == (99, 50)
    assert getattr(chain[-1], cycle_check.CHAIN_ATTRIBUTE) == 149


def test_the_program_has_room_for_the_sdk_walk_on_long_chains() -> None:
    # 4,000 resources one after another (a serial rolling upgrade of thousands of workers): the SDK's
    # recursive walk fails at Python's default limit and passes with the program's.
    chain = [Node(i) for i in range(4000)]
    for earlier, later in pairwise(chain):
        cycle_breaker._add_dep(later, earlier)
    before = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(1000)
        with pytest.raises(RecursionError):
            cycle_breaker.declare_dependency(Node(None), chain[-1])
        allow_long_dependency_chains()
        assert sys.getrecursionlimit() == RECURSION_LIMIT
        assert cycle_breaker.declare_dependency(Node(None), chain[-1])
    finally:
        sys.setrecursionlimit(max(before, RECURSION_LIMIT))


def test_an_unnumbered_resource_is_walked(fresh_counts: None) -> None:
    numbered, unnumbered = Node(1), Node(None)
    assert cycle_check.declare_dependency(numbered, unnumbered)
    assert cycle_check.COUNTS.walked == 1 and cycle_check.COUNTS.forward_seen


# A child of the group that x waits for, itself waiting for x: a cycle through a later child. Run in
# a child process: a failed run leaves its error in the SDK's process-wide state for the next run.
CYCLE_PROGRAM = """
import sys
import pulumi
from tools import cycle_check, mockrun

def program():
    group = pulumi.ComponentResource("test:index:Group", "group")
    x = pulumi.CustomResource("test:index:Thing", "x", {}, opts=pulumi.ResourceOptions(depends_on=[group]))
    pulumi.CustomResource("test:index:Thing", "y", {}, opts=pulumi.ResourceOptions(parent=group, depends_on=[x]))
    return {}

mockrun.install("jupyterhub-platform", "cycle")
if sys.argv[1] == "sdk":
    cycle_check.uninstall()
try:
    mockrun.run("jupyterhub-platform", "cycle", program)
except RuntimeError as err:
    print(err)
print("walked", cycle_check.COUNTS.walked)
"""


@pytest.mark.parametrize("check", ["fast", "sdk"])
def test_a_cycle_is_refused_with_the_sdk_error(check: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CYCLE_PROGRAM, check], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert "circular dependency involving a resource of type test:index:Thing" in done.stdout
    assert ("walked 0" in done.stdout) == (check == "sdk")


STACKS = (("prod", ROOT / "Pulumi.prod.yaml"), ("scale", SCALE_FIXTURE))


def _plan(tmp_path: Path, stack: str, path: Path) -> str:
    return json.dumps(render(stack, path, tmp_path / stack), sort_keys=True)


@pytest.mark.parametrize(("stack", "path"), STACKS)
def test_every_edge_is_registered_without_the_walk(tmp_path: Path, stack: str, path: Path) -> None:
    _plan(tmp_path, stack, path)
    assert cycle_check.COUNTS.walked == 0
    assert cycle_check.COUNTS.unwalked > 300


@pytest.mark.parametrize(("stack", "path"), STACKS)
def test_same_plan_as_with_the_sdk_check(tmp_path: Path, stack: str, path: Path) -> None:
    fast = _plan(tmp_path / "fast", stack, path)
    cycle_check.uninstall()
    try:
        assert _plan(tmp_path / "sdk", stack, path) == fast
        assert cycle_check.COUNTS.unwalked == 0  # the SDK's check ran, not this one
    finally:
        assert cycle_check.install()
