"""Warnings about a configuration that is valid but needs attention soon (never a failure).

Rules that warn define `<TOPIC>_WARNINGS` beside their `<TOPIC>_CHECKS` and register them in
`config.checks.WARNING_CHECKS`. `config.loader.load_platform` collects them into the list its caller
passes; `tools.render` prints them to stderr and `pulumi up` logs them as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigWarning:
    """Something to act on soon, located by its dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"warning: {self.path}: {self.message}"
