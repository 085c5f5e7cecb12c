"""The mock runner gives every run the root stack of its own project and stack, whatever ran before."""

from __future__ import annotations

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
