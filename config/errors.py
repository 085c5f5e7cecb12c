"""Configuration problems, collected and reported all at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem with the stack configuration, located by its dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"error: {self.path}: {self.message}"


class ConfigError(Exception):
    """Raised with every configuration problem found, before any resource exists."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: Sequence[ConfigIssue] = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def lines(self) -> list[str]:
        return [str(i) for i in self.issues]


def dotted(*parts: str | int) -> str:
    """Join path parts the way errors name them: `inventory.nodes.2.address`."""
    return ".".join(str(p) for p in parts)
