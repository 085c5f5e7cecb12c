"""Copy each course's JupyterHub groups into the hub's ngshare exchange (runs in the ngshare image: Python 3
standard library only; shipped in a ConfigMap and run by a CronJob in the hub's namespace).

ngshare keeps its own lists of courses, instructors and students and serves a course's files only to
them; the platform's truth is the hub's groups (`<course>-instructors`, `<course>-students`, from the
identity provider, LDAP or the roster). Each run, per course: create it if missing, remove students and
instructors who are no longer in the groups, add the missing ones. A second run with the same groups
changes nothing. An instructor who is also in the student group is an instructor (ngshare refuses both).

Identity: the hub service `ngshare-Sync` (no user can have that name: the hub lower-cases user names),
whose token (a file only the job's user reads) reads only the course groups, and which ngshare lists as its
admin. The log holds counts, never user names.

Usage: ngshare_sync.py COURSES_JSON   (a list of {"course", "instructors", "students"}: group names)
Environment: HUB_API_URL, NGSHARE_URL, TOKEN_FILE.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 30
# ngshare insists on the three fields; the platform keeps names and e-mail addresses out of it.
BLANK = {"first_name": "", "last_name": "", "email": ""}


class SyncError(Exception):
    """A request the sync needed was refused."""


@dataclass
class Changes:
    created: bool = False
    instructors_added: int = 0
    instructors_removed: int = 0
    students_added: int = 0
    students_removed: int = 0

    @property
    def any(self) -> bool:
        return self.created or any((self.instructors_added, self.instructors_removed, self.students_added, self.students_removed))


def _call(method: str, url: str, token: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"null")
        except ValueError:
            return error.code, None


def _name(user: str) -> str:
    return urllib.parse.quote(user, safe="")


def group_members(hub_api: str, token: str, group: str) -> set[str]:
    """Members of a hub group; a group nobody has joined yet (404) has none."""
    status, body = _call("GET", f"{hub_api}/groups/{_name(group)}", token)
    if status == 404:
        return set()
    if status != 200 or not isinstance(body, dict):
        raise SyncError(f"hub refused group {group!r} (HTTP {status})")
    return set(body.get("users", []))


class Ngshare:
    """ngshare's REST API as its admin."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> dict[str, Any]:
        status, body = _call(method, f"{self.url}/{path}", self.token, form)
        if not isinstance(body, dict) or not body.get("success"):
            message = body.get("message") if isinstance(body, dict) else None
            raise SyncError(f"ngshare {method} /{path.split('/')[0]}: HTTP {status} {message or ''}".rstrip())
        return body

    def courses(self) -> set[str]:
        return set(self.request("GET", "courses")["courses"])

    def members(self, kind: str, course: str) -> set[str]:
        """`instructors` or `students` of a course."""
        return {m["username"] for m in self.request("GET", f"{kind}/{_name(course)}")[kind]}


def sync_course(ng: Ngshare, course: str, instructors: set[str], students: set[str]) -> Changes:
    """Make ngshare's lists of the course equal the groups (instructors win over the student group)."""
    changes = Changes()
    students = students - instructors
    if course not in ng.courses():
        ng.request("POST", f"course/{_name(course)}", {"instructors": json.dumps(sorted(instructors))})
        changes.created = True
    have_students = ng.members("students", course)
    have_instructors = ng.members("instructors", course)
    # Removals first: a student who became an instructor must leave the student list before being added.
    for user in sorted(have_students - students):
        ng.request("DELETE", f"student/{_name(course)}/{_name(user)}")
        changes.students_removed += 1
    for user in sorted(have_instructors - instructors):
        ng.request("DELETE", f"instructor/{_name(course)}/{_name(user)}")
        changes.instructors_removed += 1
    for user in sorted(instructors - have_instructors):
        ng.request("POST", f"instructor/{_name(course)}/{_name(user)}", BLANK)
        changes.instructors_added += 1
    missing = sorted(students - have_students)
    if missing:
        body = ng.request(
            "POST", f"students/{_name(course)}", {"students": json.dumps([{"username": u, **BLANK} for u in missing])}
        )
        refused = [s for s in body.get("status", []) if not s.get("success")]
        if refused:
            raise SyncError(f"ngshare refused {len(refused)} of {len(missing)} students of {course}")
        changes.students_added += len(missing)
    return changes


def sync(hub_api: str, ngshare_url: str, token: str, courses: list[dict[str, str]]) -> dict[str, Changes]:
    """Sync every course; one course's failure does not stop the others (raised at the end)."""
    ng = Ngshare(ngshare_url, token)
    done: dict[str, Changes] = {}
    failed: list[str] = []
    for course in courses:
        name = course["course"]
        try:
            instructors = group_members(hub_api, token, course["instructors"])
            students = group_members(hub_api, token, course["students"])
            done[name] = sync_course(ng, name, instructors, students)
        except (SyncError, urllib.error.URLError, OSError, KeyError, ValueError) as error:
            print(f"ngshare-sync: {name}: {error}", file=sys.stderr)
            failed.append(name)
    if failed:
        raise SyncError(f"courses not synced: {', '.join(failed)}")
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: ngshare_sync.py COURSES_JSON", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        courses = json.load(f)
    with open(os.environ["TOKEN_FILE"]) as f:
        token = f.read().strip()
    try:
        done = sync(os.environ["HUB_API_URL"].rstrip("/"), os.environ["NGSHARE_URL"], token, courses)
    except SyncError as error:
        print(f"ngshare-sync: {error}", file=sys.stderr)
        return 1
    for name, c in sorted(done.items()):
        print(
            f"ngshare-sync: {name}: created={c.created} instructors +{c.instructors_added} -{c.instructors_removed} "
            f"students +{c.students_added} -{c.students_removed}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
