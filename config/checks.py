"""Every cross-section rule, in one list: `PLATFORM_CHECKS`, run by `check_platform` after the models validate.

Layers of `config/` (bottom to top; a module imports only from layers below it, enforced by
import-linter, see `[tool.importlinter]` in pyproject.toml):
  base, errors  ->  section models (`inventory`, `hubs`, ...)  ->  `platform` (PlatformConfig)
  ->  `*_queries` (questions about the whole config)  ->  `*_rules`, `hub_access` (cross-section rules)
  ->  `checks` (this module)  ->  `secrets`  ->  `loader`  ->  `pulumi_source`.

A NEW RULE MODULE: write `config/<topic>_rules.py` defining `<TOPIC>_CHECKS: list[Check]` (functions
`(cfg: PlatformConfig) -> Iterator[ConfigIssue]`, PlatformConfig imported under `if TYPE_CHECKING:`)
and register it with one line at the end of the list below. The layer contract places every
`*_rules` module in the rules layer by its name; rule modules do not import each other (shared
helpers go to a `*_queries` module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from config.advisories import ConfigWarning
from config.backup_rules import BACKUP_CHECKS
from config.charts_rules import CHARTS_CHECKS
from config.cluster_rules import CLUSTER_CHECKS
from config.consoles_rules import CONSOLES_CHECKS
from config.courses_rules import COURSES_CHECKS
from config.errors import ConfigIssue
from config.gpu_rules import GPU_CHECKS
from config.hub_access import HUB_ACCESS_CHECKS
from config.hub_groups_rules import HUB_GROUPS_CHECKS
from config.hub_rules import HUB_CHECKS
from config.lifecycle_rules import LIFECYCLE_CHECKS, LIFECYCLE_WARNINGS
from config.monitoring_rules import MONITORING_CHECKS
from config.nfs_rules import NFS_CHECKS
from config.publish_rules import PUBLISH_CHECKS
from config.scale_rules import SCALE_CHECKS
from config.scheduler_rules import SCHEDULER_CHECKS
from config.traffic_rules import TRAFFIC_CHECKS

if TYPE_CHECKING:
    from config.platform import PlatformConfig

Check = Callable[["PlatformConfig"], Iterator[ConfigIssue]]

# Order only affects the order of the output. New rule modules register here, one line each.
PLATFORM_CHECKS: list[Check] = []
PLATFORM_CHECKS.extend(CLUSTER_CHECKS)
PLATFORM_CHECKS.extend(PUBLISH_CHECKS)
PLATFORM_CHECKS.extend(GPU_CHECKS)
PLATFORM_CHECKS.extend(HUB_CHECKS)
PLATFORM_CHECKS.extend(HUB_ACCESS_CHECKS)
PLATFORM_CHECKS.extend(NFS_CHECKS)
PLATFORM_CHECKS.extend(SCHEDULER_CHECKS)
PLATFORM_CHECKS.extend(HUB_GROUPS_CHECKS)
PLATFORM_CHECKS.extend(TRAFFIC_CHECKS)
PLATFORM_CHECKS.extend(LIFECYCLE_CHECKS)
PLATFORM_CHECKS.extend(BACKUP_CHECKS)
PLATFORM_CHECKS.extend(CONSOLES_CHECKS)
PLATFORM_CHECKS.extend(CHARTS_CHECKS)
PLATFORM_CHECKS.extend(MONITORING_CHECKS)
PLATFORM_CHECKS.extend(COURSES_CHECKS)
PLATFORM_CHECKS.extend(SCALE_CHECKS)

WarningCheck = Callable[["PlatformConfig"], Iterator[ConfigWarning]]
# Valid, but act soon (never a failure); registered like the rules, one line each.
WARNING_CHECKS: list[WarningCheck] = []
WARNING_CHECKS.extend(LIFECYCLE_WARNINGS)


def check_platform(cfg: PlatformConfig) -> list[ConfigIssue]:
    """Every cross-section rule, all problems at once, without cascades: once a rule has reported a field,
    later rules say nothing more about it (the first names the cause; the rest would be its consequences)."""
    issues: list[ConfigIssue] = []
    for check in PLATFORM_CHECKS:
        reported = {issue.path for issue in issues}
        issues.extend(issue for issue in check(cfg) if issue.path not in reported)
    return issues


def platform_warnings(cfg: PlatformConfig) -> list[ConfigWarning]:
    """Every warning rule's findings (the configuration is valid; these need attention soon)."""
    return [warning for check in WARNING_CHECKS for warning in check(cfg)]
