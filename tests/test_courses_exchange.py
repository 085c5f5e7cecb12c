"""The nbgrader exchange of a course through the real ngshare: release, fetch and submit as two students,
collect as the instructor, and one student cannot read the other's submission (see tests/ngshare_harness.py
for the single stubbed hub call)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from tests.helpers import ROOT
from tests.ngshare_harness import hub_user_stub, nbgrader, ngshare_server, ok, release_ps1

TOKENS = {"tok-teacher": "teacher1", "tok-s1": "student1", "tok-s2": "student2", "tok-admin": "platform-admin"}


def test_two_students_submit_and_cannot_read_each_other(tmp_path: Path) -> None:
    with hub_user_stub(TOKENS) as hub_api, ngshare_server(tmp_path, hub_api, admins=["platform-admin"]) as url:
        admin = {"Authorization": "token tok-admin"}
        r = requests.post(f"{url}/course/cs101", data={"instructors": json.dumps(["teacher1"])}, headers=admin, timeout=30)
        assert r.json()["success"], r.text
        teacher = {"Authorization": "token tok-teacher"}
        for student in ("student1", "student2"):
            # ngshare insists on the three fields; the platform keeps names and e-mail out (empty, not personal data).
            blank = {"first_name": "", "last_name": "", "email": ""}
            assert requests.post(f"{url}/student/cs101/{student}", data=blank, headers=teacher, timeout=30).json()["success"]

        homes = release_ps1(tmp_path, ["teacher1", "student1", "student2"], url)

        for student, token in (("student1", "tok-s1"), ("student2", "tok-s2")):
            ok(nbgrader(homes[student], student, token, "fetch_assignment", "ps1", "--course", "cs101"))
            fetched = homes[student] / "ps1" / "problem.ipynb"
            nb = json.loads(fetched.read_text())
            nb["cells"][0]["source"] = f"answer = 'secret of {student}'"
            fetched.write_text(json.dumps(nb))
            ok(nbgrader(homes[student], student, token, "submit", "ps1", "--course", "cs101"))

        ok(nbgrader(homes["teacher1"], "teacher1", "tok-teacher", "collect", "ps1"))
        for student in ("student1", "student2"):
            collected = homes["teacher1"] / "submitted" / student / "ps1" / "problem.ipynb"
            assert f"secret of {student}" in collected.read_text()

        # Exam mode: the collection's checksums, beside the gradebook, verified by sha256sum -c.
        script = ROOT / "examples" / "course-image" / "record_checksums.py"
        recorded = subprocess.run(
            [sys.executable, str(script), "ps1"], cwd=homes["teacher1"], capture_output=True, text=True, timeout=60, check=True
        )
        record = Path(recorded.stdout.strip())
        assert record == homes["teacher1"] / "checksums" / "ps1.sha256"
        assert (homes["teacher1"] / "gradebook.db").exists()
        lines = record.read_text().splitlines()
        assert len(lines) >= 2 and any("submitted/student1/ps1/problem.ipynb" in line for line in lines)
        subprocess.run(["sha256sum", "-c", "--quiet", str(record)], cwd=homes["teacher1"], check=True, timeout=60)
        tampered = homes["teacher1"] / "submitted" / "student2" / "ps1" / "problem.ipynb"
        tampered.write_text(tampered.read_text().replace("secret of student2", "changed later"))
        check = subprocess.run(
            ["sha256sum", "-c", "--quiet", str(record)], cwd=homes["teacher1"], capture_output=True, timeout=60
        )
        assert check.returncode != 0 and b"student2/ps1/problem.ipynb: FAILED" in check.stdout

        # student2 asks ngshare for student1's submission, and for the list of all submissions: refused.
        s2 = {"Authorization": "token tok-s2"}
        other = requests.get(f"{url}/submission/cs101/ps1/student1", headers=s2, timeout=30)
        assert not other.json()["success"], other.text
        assert "secret of student1" not in other.text
        listing = requests.get(f"{url}/submissions/cs101/ps1", headers=s2, timeout=30)
        assert not listing.json()["success"], listing.text
        # ...while the instructor may (the same request with the instructor's token succeeds).
        mine = requests.get(f"{url}/submission/cs101/ps1/student1", headers=teacher, timeout=30)
        assert mine.json()["success"] and mine.json()["files"], mine.text
        # A user outside the course sees nothing of it.
        # A token the hub does not know: sent to the hub's login, never an answer.
        unknown = {"Authorization": "token tok-unknown"}
        r = requests.get(f"{url}/assignments/cs101", headers=unknown, timeout=30, allow_redirects=False)
        assert r.status_code in (302, 403), r.text
