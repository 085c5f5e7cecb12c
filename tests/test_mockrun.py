"""The mock runner gives every run the root stack of its own project and stack, whatever ran before."""

from __future__ import annotations

import gc

import pulumi

from tools import mockrun


def _parents_after(stack: str) -> set[str | None]:
    def program() -> dict[str, object]:
        pulumi.ComponentResource("test:index:Thing", "thing")
        return {}

    recorder = mockrun.run("jupyterhub-platform", stack, program)
    return {r.parent for r in recorder.registrations.values()}


def test_root_stack_follows_the_stack_of_each_run() -> None:
    # The first run in a process used to fix the root for all later ones (the suite depended on order).
    for stack in ("first", "second", "first"):
        root = f"urn:pulumi:{stack}::jupyterhub-platform::pulumi:pulumi:Stack::jupyterhub-platform-{stack}"
        assert _parents_after(stack) == {root}


def test_the_collector_is_paused_for_a_run_and_restored_after() -> None:
    seen: list[bool] = []

    def program() -> dict[str, object]:
        seen.append(gc.isenabled())
        return {}

    assert gc.isenabled()
    mockrun.run("jupyterhub-platform", "gc", program)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        mockrun.run("jupyterhub-platform", "gc", program)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
