"""Configuration problems, collected and reported all at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# `scheme://user:password@` or `user:password@host`: the user part of a URL may be a password.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?[^\s/@'\"`]+:[^\s/@'\"`]*@|(?P<s2>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@'\"`]+@")


def redact(text: str) -> str:
    """`text` with the user part of every URL replaced by `***`: no message repeats a credential, even one
    quoted by a check that did not expect it (a failed render's output ends up in pull-request comments)."""
    return _USERINFO.sub(lambda m: f"{m.group('scheme') or m.group('s2') or ''}***@", text)


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem with the stack configuration, located by its dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        return redact(f"error: {self.path}: {self.message}")


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
