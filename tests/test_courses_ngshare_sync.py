"""The membership sync (components/courses/ngshare_sync.py) against the real ngshare: it creates the course
from the hub's groups, a second run changes nothing, a student removed from the group can no longer fetch
with the real nbgrader and ngshare-exchange, and an instructor is instructor in ngshare (see
tests/ngshare_harness.py for the stubbed hub calls)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import requests

from components.courses import ngshare_sync
from components.courses.ngshare import SYNC_SERVICE
from components.courses.ngshare_sync import Changes
from tests.ngshare_harness import hub_user_stub, nbgrader, nbgrader_python, ngshare_server, ok, release_ps1

SYNC = SYNC_SERVICE  # the name the platform gives the sync service (ngshare's admin)
TOKENS = {
    "tok-sync": SYNC,
    "tok-teacher": "teacher1",
    "tok-s1": "student1",
    "tok-s2": "student2",
    "tok-s3": "student3",
    "tok-teacher2": "teacher2",
}
COURSES = [{"course": "cs101", "instructors": "cs101-instructors", "students": "cs101-students"}]


def members(url: str, token: str, kind: str) -> list[str]:
    body = requests.get(f"{url}/{kind}/cs101", headers={"Authorization": f"token {token}"}, timeout=30).json()
    assert body["success"], body
    return sorted(m["username"] for m in body[kind])


def run_cli(tmp_path: Path, hub_api: str, url: str) -> subprocess.CompletedProcess[str]:
    """The sync as the CronJob runs it: ngshare's Python, the courses file, the token in a file."""
    (tmp_path / "courses.json").write_text(json.dumps(COURSES))
    token = tmp_path / "token"
    token.write_text("tok-sync\n")
    token.chmod(0o400)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HUB_API_URL": hub_api, "NGSHARE_URL": url, "TOKEN_FILE": str(token)}
    script = Path(ngshare_sync.__file__)
    return subprocess.run(
        [str(nbgrader_python()), str(script), str(tmp_path / "courses.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sync_is_idempotent_and_removal_ends_the_exchange(tmp_path: Path) -> None:
    groups = {"cs101-instructors": ["teacher1"], "cs101-students": ["student1", "student2", "teacher1"]}
    with hub_user_stub(TOKENS, groups, services=frozenset({SYNC})) as hub_api, ngshare_server(tmp_path, hub_api, [SYNC]) as url:
        first = run_cli(tmp_path, hub_api, url)
        ok(first)
        assert first.stdout == "ngshare-sync: cs101: created=True instructors +0 -0 students +2 -0\n"
        # No user name in the job's log (personal data).
        assert not any(name in first.stdout + first.stderr for name in ("teacher1", "student1", "student2"))
        # Second run with the same groups: nothing changes.
        assert ngshare_sync.sync(hub_api, url, "tok-sync", COURSES) == {"cs101": Changes()}
        # teacher1 (in both groups) is instructor, not student: ngshare lets them list the students.
        assert members(url, "tok-teacher", "instructors") == ["teacher1"]
        assert members(url, "tok-teacher", "students") == ["student1", "student2"]

        homes = release_ps1(tmp_path, ["teacher1", "student1", "student2", "student3"], url)
        ok(nbgrader(homes["student2"], "student2", "tok-s2", "fetch_assignment", "ps1", "--course", "cs101"))
        assert (homes["student2"] / "ps1" / "problem.ipynb").exists()

        # student2 leaves the course, student3 joins, teacher1 stops teaching: one sync applies all of it.
        groups["cs101-students"] = ["student1", "student3"]
        groups["cs101-instructors"] = ["teacher2"]
        assert ngshare_sync.sync(hub_api, url, "tok-sync", COURSES) == {
            "cs101": Changes(instructors_added=1, instructors_removed=1, students_added=1, students_removed=1)
        }
        assert ngshare_sync.sync(hub_api, url, "tok-sync", COURSES) == {"cs101": Changes()}
        admin = "tok-sync"
        assert members(url, admin, "instructors") == ["teacher2"]
        assert members(url, admin, "students") == ["student1", "student3"]

        # The removed student can no longer fetch: nbgrader reports ngshare's refusal (it exits 0 regardless)
        # and writes nothing; ngshare refuses the download itself too.
        shutil.rmtree(homes["student2"] / "ps1")
        refused = nbgrader(homes["student2"], "student2", "tok-s2", "fetch_assignment", "ps1", "--course", "cs101")
        assert "ngshare endpoint /assignment/cs101/ps1 returned failure: Permission denied" in refused.stderr, refused
        assert not (homes["student2"] / "ps1").exists()
        direct = requests.get(f"{url}/assignment/cs101/ps1", headers={"Authorization": "token tok-s2"}, timeout=30)
        assert direct.status_code == 403 and not direct.json()["success"]
        # The former instructor lost the course; the one who joined sees it; the new student fetches.
        listed = requests.get(f"{url}/students/cs101", headers={"Authorization": "token tok-teacher"}, timeout=30)
        assert listed.status_code == 403
        ok(nbgrader(homes["student3"], "student3", "tok-s3", "fetch_assignment", "ps1", "--course", "cs101"))


def test_a_refused_group_fails_the_run_and_names_the_course_only(tmp_path: Path) -> None:
    """A token the hub does not let read groups (here: a user's): the job fails (the CronJob shows it) and says
    which course and group, never a member."""
    groups = {"cs101-instructors": ["teacher1"], "cs101-students": ["student1"]}
    with hub_user_stub({"tok-sync": "student1"}, groups) as hub_api:
        result = run_cli(tmp_path, hub_api, "http://127.0.0.1:9/services/ngshare")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "ngshare-sync: cs101: hub refused group 'cs101-instructors' (HTTP 403)\nngshare-sync: courses not synced: cs101\n"
    )
