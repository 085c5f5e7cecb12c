"""The course roster: a CSV file (`user,course,role`) turned into course group membership.

Read at every `pulumi up` and render (`courses.roster`, relative to the project directory). Every problem
is reported at once, located as `courses.roster:<line>`; messages never repeat a user name (the roster is
personal data: it goes into the hub as a secret values file, never into outputs, the contract or logs).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from config.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# JupyterHub user names as the platform's authenticators produce them (lower case; e-mail style allowed).
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")
ROLES = ("student", "instructor")
HEADER = ["user", "course", "role"]
ROSTER_PATH = "courses.roster"
# The Pulumi project directory (Pulumi.yaml): `pulumi up` and `python -m tools.render` read the roster from here.
PROJECT_DIR = Path(__file__).resolve().parents[1]


def parse_roster(text: str, courses: dict[str, tuple[str, str]]) -> tuple[dict[str, list[str]], list[ConfigIssue]]:
    """Group -> sorted members, and every problem. `courses`: course name -> (student group, instructor group)."""
    issues: list[ConfigIssue] = []
    members: dict[str, set[str]] = {g: set() for pair in courses.values() for g in pair}
    seen: dict[tuple[str, str], int] = {}
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        return {}, [ConfigIssue(f"{ROSTER_PATH}:1", "the first line must be the header `user,course,role`")]
    for line, row in enumerate(rows[1:], start=2):
        where = f"{ROSTER_PATH}:{line}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            issues.append(ConfigIssue(where, f"expected 3 columns (user,course,role), found {len(row)}"))
            continue
        user, course, role = (cell.strip() for cell in row)
        problems = []
        if not USER_NAME.match(user):
            problems.append("malformed user name (lower-case letters, digits and . _ @ + -; as the hub's login gives it)")
        if course not in courses:
            problems.append(f"unknown course {course!r}; write one of: {', '.join(sorted(courses)) or '(no courses)'}")
        if role not in ROLES:
            problems.append(f"unknown role {role!r}; write student or instructor")
        if (user, course) in seen:
            problems.append(f"duplicate of line {seen[(user, course)]} (one row per user and course)")
        issues.extend(ConfigIssue(where, p) for p in problems)
        if problems:
            continue
        seen[(user, course)] = line
        students, instructors = courses[course]
        members[students if role == "student" else instructors].add(user)
    return {g: sorted(m) for g, m in sorted(members.items())}, issues


def roster_groups(cfg: PlatformConfig, project_dir: Path = PROJECT_DIR) -> dict[str, list[str]]:
    """Course group -> members from the configured roster ({} without one); raises ConfigError with every problem."""
    if cfg.courses.roster is None:
        return {}
    path = project_dir / cfg.courses.roster
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "not readable as UTF-8 text"
        raise ConfigError(
            [
                ConfigIssue(
                    ROSTER_PATH, f"cannot read {cfg.courses.roster!r} ({reason}); give a CSV file path relative to the project"
                )
            ]
        ) from None
    courses = {c.name: (c.students, c.instructors) for c in cfg.courses.courses}
    groups, issues = parse_roster(text, courses)
    if issues:
        raise ConfigError(issues)
    return groups
