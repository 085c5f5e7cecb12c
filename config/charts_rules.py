"""Rules for `charts`: each override names a chart the platform installs and a usable repository; the
local folder exists. Problems are located at `charts.repository_overrides.<chart>` / `charts.local_dir`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from config.charts import local_dir_problem, repository_problem
from config.errors import ConfigIssue, dotted

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def _chart_sources(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for chart, url in sorted(cfg.charts.repository_overrides.items()):
        problem = repository_problem(chart, url)
        if problem:
            yield ConfigIssue(dotted("charts", "repository_overrides", chart), problem)
    if cfg.charts.local_dir is not None:
        problem = local_dir_problem(cfg.charts.local_dir)
        if problem:
            yield ConfigIssue(dotted("charts", "local_dir"), problem)


CHARTS_CHECKS: list[Callable[[PlatformConfig], Iterator[ConfigIssue]]] = [_chart_sources]
