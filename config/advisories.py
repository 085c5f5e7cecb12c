"""Warnings about a configuration that is valid but needs attention soon (never a failure).

Rules register here the way error rules register in `config.platform.PLATFORM_CHECKS`:
`WARNING_CHECKS.extend(<TOPIC>_WARNINGS)`. `config.loader.load_platform` collects them into the
list its caller passes; `tools.render` prints them to stderr and `pulumi up` logs them as warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.platform import PlatformConfig


@dataclass(frozen=True, order=True)
class ConfigWarning:
    """Something to act on soon, located by its dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"warning: {self.path}: {self.message}"


WarningCheck = Callable[["PlatformConfig"], Iterator[ConfigWarning]]
WARNING_CHECKS: list[WarningCheck] = []


def platform_warnings(cfg: PlatformConfig) -> list[ConfigWarning]:
    return [warning for check in WARNING_CHECKS for warning in check(cfg)]
