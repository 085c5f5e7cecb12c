"""Fixtures: the committed stacks rendered once per session under Pulumi mocks."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*CopyToRemote.*")

from tests.helpers import ROOT  # noqa: E402
from tools import render as render_tool  # noqa: E402


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[dict, Path]]:
    """`rendered("prod")` -> (plan, output dir); each stack is rendered once per session."""
    cache: dict[str, tuple[dict, Path]] = {}

    def _render(stack: str) -> tuple[dict, Path]:
        if stack not in cache:
            out = tmp_path_factory.mktemp(f"render-{stack}")
            plan = render_tool.render(stack, ROOT / f"Pulumi.{stack}.yaml", out)
            cache[stack] = (plan, out)
        return cache[stack]

    return _render



def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: every tool is installed there, so nothing may skip."""
    from tests.helpers import IN_CI

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if IN_CI and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every tool must be present in CI", red=True)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Print the order's seed even under `-q` (the header that shows it is hidden then), so a failure
    that depends on the order can be replayed with `bash tools/test.sh --randomly-seed=<seed>`."""
    if config.pluginmanager.has_plugin("randomly"):
        seed = config.getoption("randomly_seed", default=None)
        terminalreporter.write_line(f"test order: random, seed {seed} (replay: bash tools/test.sh --randomly-seed={seed})")

