"""Courses and exam hubs: every rule's dotted path and message, and the roster's validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from config.checks import check_platform
from config.errors import ConfigError, ConfigIssue
from config.platform import PlatformConfig
from config.roster_queries import parse_roster, roster_groups
from tests.helpers import ROOT, stack_raw


def prod(edit: Any = None) -> PlatformConfig:
    raw = copy.deepcopy(stack_raw("prod")[0])
    if edit is not None:
        edit(raw)
    return PlatformConfig.model_validate(raw)


def issues(cfg: PlatformConfig) -> list[ConfigIssue]:
    return [i for i in check_platform(cfg) if i.path.startswith(("courses.", "hubs.1.")) or "exam" in i.path]


def test_prod_and_dev_courses_are_valid() -> None:
    cfg = prod()
    assert [c.name for c in cfg.courses.courses] == ["cs101", "ml201"]
    assert check_platform(cfg) == []
    exam = next(h for h in cfg.hubs if h.name == "exam")
    assert exam.exam and not exam.shared_folders


def test_unknown_hub_duplicate_course_and_folder_collision() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][1]["hubs"] = ["teaching", "nowhere"]
        raw["courses"]["courses"].append({**raw["courses"]["courses"][0], "grading_hub": "gone"})
        raw["nfs"]["shared_folders"].append({"name": "course-ml201", "mount_path": "/srv/x"})

    found = issues(prod(edit))
    assert ConfigIssue("courses.courses.1.hubs.1", "no hub named 'nowhere'; write one of: exam, grading, teaching") in found
    assert ConfigIssue("courses.courses.2.name", "course 'cs101' is declared twice; give each course its own name") in found
    assert ConfigIssue("courses.courses.2.grading_hub", "no hub named 'gone'; write one of: exam, grading, teaching") in found
    assert (
        ConfigIssue(
            "courses.courses.1.name",
            "its folder 'course-ml201' collides with nfs.shared_folders; rename the shared folder or the course",
        )
        in found
    )


def test_queue_must_admit_the_course_groups_and_gpu_needs_seats() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][0]["profile"]["queue"] = "root.researchers"
        raw["courses"]["courses"][0]["profile"]["exam_queue"] = "root.nope"

    found = issues(prod(edit))
    assert (
        ConfigIssue(
            "courses.courses.0.profile.queue",
            "its submit_acl refuses cs101-students, cs101-instructors; add them to its submit_acl.groups or choose another queue",
        )
        in found
    )
    assert (
        ConfigIssue("courses.courses.0.profile.exam_queue", "no queue 'root.nope' in scheduler.queues; name a leaf queue")
        in found
    )


def test_exam_hub_needs_allowlist_lockdown_own_folders_and_second_factor() -> None:
    def edit(raw: dict[str, Any]) -> None:
        exam = raw["hubs"][1]
        exam["allowed_networks"] = []
        exam["network"] = {"lockdown": False}
        exam["shared_folders"] = True
        del exam["exam_second_factor"]
        raw["hubs"][0]["exam_second_factor"] = "provider-enforced"

    found = issues(prod(edit))
    assert (
        ConfigIssue(
            "hubs.1.allowed_networks", "an exam hub must be reachable only from the exam rooms; list their networks (CIDRs)"
        )
        in found
    )
    assert ConfigIssue("hubs.1.network.lockdown", "an exam hub locks its servers' network down; write lockdown: true") in found
    assert (
        ConfigIssue("hubs.1.shared_folders", "an exam hub mounts only its courses' folders; write shared_folders: false") in found
    )
    assert any(i.path == "hubs.1.exam_second_factor" and "provider-enforced" in i.message for i in found)
    assert ConfigIssue("hubs.0.exam_second_factor", "only for exam hubs (exam: true); remove it") in check_platform(prod(edit))


@pytest.mark.parametrize("ack", ["provider-enforced", None])
def test_an_authenticator_without_second_factor_needs_the_explicit_override(ack: str | None) -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["hubs"][1]["auth"] = {"type": "native"}
        raw["hubs"][1]["exam_second_factor"] = ack

    found = [i for i in check_platform(prod(edit)) if i.path == "hubs.1.exam_second_factor"]
    assert len(found) == 1 and found[0].message.startswith("the native authenticator cannot demand a second factor")

    def override(raw: dict[str, Any]) -> None:
        raw["hubs"][1]["auth"] = {"type": "native"}
        raw["hubs"][1]["exam_second_factor"] = "not-enforced"

    assert not [i for i in check_platform(prod(override)) if i.path == "hubs.1.exam_second_factor"]


COURSES = {"cs101": ("cs101-students", "cs101-instructors"), "ml201": ("ml201-students", "ml201-instructors")}


def test_roster_every_problem_at_once_without_names() -> None:
    text = "user,course,role\nalice,cs101,student\nbob,ml201,instructor\nalice,cs101,student\nBob Smith,cs999,tutor\n\nx,y\n"
    groups, found = parse_roster(text, COURSES)
    assert groups == {"cs101-instructors": [], "cs101-students": ["alice"], "ml201-instructors": ["bob"], "ml201-students": []}
    assert found == [
        ConfigIssue("courses.roster:4", "duplicate of line 2 (one row per user and course)"),
        ConfigIssue(
            "courses.roster:5", "malformed user name (lower-case letters, digits and . _ @ + -; as the hub's login gives it)"
        ),
        ConfigIssue("courses.roster:5", "unknown course 'cs999'; write one of: cs101, ml201"),
        ConfigIssue("courses.roster:5", "unknown role 'tutor'; write student or instructor"),
        ConfigIssue("courses.roster:7", "expected 3 columns (user,course,role), found 2"),
    ]
    assert not any("Bob" in str(i) or "alice" in str(i) for i in found)


def test_roster_header_and_file(tmp_path: Path) -> None:
    assert parse_roster("alice,cs101,student\n", COURSES)[1] == [
        ConfigIssue("courses.roster:1", "the first line must be the header `user,course,role`")
    ]
    cfg = PlatformConfig.model_validate(stack_raw("dev")[0])
    assert roster_groups(cfg, ROOT) == {"cs101-instructors": ["teacher1"], "cs101-students": ["student1", "student2"]}
    with pytest.raises(ConfigError) as err:
        roster_groups(cfg, tmp_path)
    assert [i.path for i in err.value.issues] == ["courses.roster"]
    assert "cannot read 'rosters/dev.csv'" in err.value.issues[0].message


SEAT = (
    "the course is offered on exam hub 'exam' and on 'teaching': give the exam a queue other than 'root.students' "
    "(e.g. root.exam) so a running teaching server does not take the exam's seat"
)
UNUSED = "no exam hub offers or grades the course, so it is never used; remove it"


def exam_queue_issues(cfg: PlatformConfig) -> list[ConfigIssue]:
    return [i for i in check_platform(cfg) if i.path.endswith("profile.exam_queue")]


@pytest.mark.parametrize(
    ("exam_queue", "expected"),
    [("root.exam", []), ("root.students", [SEAT]), (None, [SEAT])],  # boundary: the same queue as teaching
)
def test_a_course_on_exam_and_teaching_hubs_needs_its_own_exam_queue(exam_queue: str | None, expected: list[str]) -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][0]["profile"]["exam_queue"] = exam_queue

    assert exam_queue_issues(prod(edit)) == [ConfigIssue("courses.courses.0.profile.exam_queue", m) for m in expected]


def test_exam_only_course_needs_no_exam_queue_and_an_unused_one_is_refused() -> None:
    def exam_only(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][0]["hubs"] = ["exam"]
        del raw["courses"]["courses"][0]["profile"]["exam_queue"]

    assert exam_queue_issues(prod(exam_only)) == []

    def unused(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][1]["profile"]["exam_queue"] = "root.gpu"

    assert exam_queue_issues(prod(unused)) == [ConfigIssue("courses.courses.1.profile.exam_queue", UNUSED)]

    def graded_on_exam(raw: dict[str, Any]) -> None:  # boundary: no exam hub offers it, but it is graded on one
        raw["courses"]["courses"][1]["profile"]["exam_queue"] = "root.gpu"
        raw["courses"]["courses"][1]["grading_hub"] = "exam"

    assert exam_queue_issues(prod(graded_on_exam)) == []


def test_grading_on_an_exam_hub_runs_in_the_exam_queue() -> None:
    from config.course_queries import course_profiles

    def edit(raw: dict[str, Any]) -> None:
        raw["courses"]["courses"][0]["grading_hub"] = "exam"

    cfg = prod(edit)
    exam = next(h for h in cfg.hubs if h.name == "exam")
    grading = next(h for h in cfg.hubs if h.name == "grading")
    on_exam = [(p.slug, p.queue) for p in course_profiles(cfg, exam)]
    assert on_exam == [("course-cs101", "root.exam"), ("grader-cs101", "root.exam")]
    assert [p.slug for p in course_profiles(cfg, grading)] == ["grader-ml201"]
    assert [(p.slug, p.queue) for p in course_profiles(prod(), grading)] == [
        ("grader-cs101", "root.students"),
        ("grader-ml201", "root.gpu"),
    ]
