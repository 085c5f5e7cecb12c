"""Course and exam-hub rules called directly, each case compared with the EXACT set of (path, message)
it yields; the guarantee/limit rules have their boundary case (equal passes).

Base: the two-node inventory and hub `teaching` of `tests.hub_fixtures`, a second hub `exam`, and a
scheduler with `root.open` and `root.exam` (everyone) and `root.cs` (groups cs101-students,
cs101-instructors)."""

from __future__ import annotations

import copy
from typing import Any

from config.courses_rules import COURSES_CHECKS
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

SCHEDULER = {
    "queues": [
        {
            "name": "root",
            "queues": [
                {"name": "open", "submit_acl": {"everyone": True}},
                {"name": "cs", "submit_acl": {"groups": ["cs101-students", "cs101-instructors"]}},
                {"name": "exam", "submit_acl": {"everyone": True}},
            ],
        }
    ]
}
C0 = "courses.courses.0"
OTP = (
    "an exam needs a second factor at the identity provider; configure it there (Keycloak: OTP required in the "
    "client's browser flow, see README) and write exam_second_factor: provider-enforced"
)


def course(name: str = "cs101", **fields: Any) -> dict[str, Any]:
    profile = {"queue": "root.cs", **fields.pop("profile", {})}
    return {"name": name, "title": name.upper(), "hubs": ["teaching"], "profile": profile, **fields}


def exam_hub(**changes: Any) -> dict[str, Any]:
    hub = {
        **copy.deepcopy(HUB),
        "name": "exam",
        "host": "exam.example.org",
        "exam": True,
        "allowed_networks": ["198.51.100.0/24"],
        "network": {"lockdown": True},
        "shared_folders": False,
        "exam_second_factor": "provider-enforced",
        "https": {"mode": "secret"},
    }
    hub.update(changes)
    return hub


def issues(*courses: dict[str, Any], hubs: list[dict[str, Any]] | None = None, **sections: Any) -> set[tuple[str, str]]:
    raw: dict[str, Any] = {
        "inventory": copy.deepcopy(INVENTORY),
        "scheduler": copy.deepcopy(SCHEDULER),
        "hubs": hubs if hubs is not None else [copy.deepcopy(HUB), exam_hub()],
        "courses": {"courses": list(courses), **sections.pop("courses", {})},
        **sections,
    }
    cfg = PlatformConfig.model_validate(raw)
    found = [(i.path, i.message) for check in COURSES_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def test_a_course_on_its_queue_and_a_complete_exam_hub_are_valid() -> None:
    assert (
        issues(
            course(),
            course(
                "ml", hubs=["teaching", "exam"], grading_hub="teaching", profile={"queue": "root.open", "exam_queue": "root.exam"}
            ),
        )
        == set()
    )


def test_names_hubs_and_folders() -> None:
    assert issues(course(), course(hubs=["teaching", "nowhere"], grading_hub="gone")) == {
        ("courses.courses.1.name", "course 'cs101' is declared twice; give each course its own name"),
        ("courses.courses.1.hubs.1", "no hub named 'nowhere'; write one of: exam, teaching"),
        ("courses.courses.1.grading_hub", "no hub named 'gone'; write one of: exam, teaching"),
    }
    assert issues(course(hubs=["x"]), hubs=[]) == {(f"{C0}.hubs.0", "no hub named 'x'; write one of: (no hubs)")}
    folders = {"shared_folders": [{"name": "course-cs101", "mount_path": "/srv/x"}]}
    assert issues(course(), nfs=folders) == {
        (f"{C0}.name", "its folder 'course-cs101' collides with nfs.shared_folders; rename the shared folder or the course"),
    }


def test_students_and_instructors_differ() -> None:
    same = course(student_group="cs101-students", instructor_group="cs101-students")
    assert issues(same) == {(f"{C0}.instructor_group", "must differ from the student group (instructors write the material)")}


def test_course_queues() -> None:
    # An exam queue is for courses an exam hub offers or grades; on one it must differ from the course queue.
    unused = (f"{C0}.profile.exam_queue", "no exam hub offers or grades the course, so it is never used; remove it")
    assert issues(course(profile={"queue": "root.nope", "exam_queue": "root.cs.deeper"})) == {
        unused,
        (f"{C0}.profile.queue", "no queue 'root.nope' in scheduler.queues; name a leaf queue"),
        (f"{C0}.profile.exam_queue", "no queue 'root.cs.deeper' in scheduler.queues; name a leaf queue"),
    }
    assert issues(course(profile={"exam_queue": "root.open"})) == {unused}
    assert issues(course(hubs=["teaching", "exam"], profile={"exam_queue": "root.exam"})) == set()
    assert issues(course(grading_hub="exam", profile={"exam_queue": "root.exam"})) == set()
    same = "the course is offered on exam hub 'exam' and on 'teaching': give the exam a queue other than 'root.cs'"
    same += " (e.g. root.exam) so a running teaching server does not take the exam's seat"
    assert issues(course(hubs=["teaching", "exam"], profile={"exam_queue": "root.cs"})) == {(f"{C0}.profile.exam_queue", same)}
    assert issues(course(hubs=["teaching", "exam"])) == {(f"{C0}.profile.exam_queue", same)}
    assert issues(course(hubs=["exam"], profile={"queue": "root.exam"})) == set()
    assert issues(course(student_group="other-students")) == {
        (
            f"{C0}.profile.queue",
            "its submit_acl refuses other-students; add them to its submit_acl.groups or choose another queue",
        ),
    }
    assert issues(course("ml", profile={"exam_queue": "root.cs"})) == {
        (
            f"{C0}.profile.queue",
            "its submit_acl refuses ml-students, ml-instructors; add them to its submit_acl.groups or choose another queue",
        ),
        (
            f"{C0}.profile.exam_queue",
            "its submit_acl refuses ml-students, ml-instructors; add them to its submit_acl.groups or choose another queue",
        ),
        unused,
    }


def test_gpu_courses_need_gpu_seats() -> None:
    assert issues(course(profile={"gpu": 1})) == {
        (f"{C0}.profile.gpu", "the cluster has no GPU seats; add GPU nodes (inventory) or set gpu: 0"),
    }
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append({"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "T4", "count": 1}})
    assert issues(course(profile={"gpu": 1}), inventory=inventory) == set()


def test_guarantees_against_limits_boundary() -> None:
    assert issues(course(profile={"cpu_guarantee": 2, "cpu_limit": 2, "mem_guarantee_gib": 3, "mem_limit_gib": 3})) == set()
    assert issues(course(profile={"cpu_guarantee": 2.5, "cpu_limit": 2, "mem_guarantee_gib": 3.5, "mem_limit_gib": 3})) == {
        (f"{C0}.profile.cpu_guarantee", "must not exceed cpu_limit"),
        (f"{C0}.profile.mem_guarantee_gib", "must not exceed mem_limit_gib"),
    }


def test_an_incomplete_exam_hub() -> None:
    bare = exam_hub(allowed_networks=[], network={"lockdown": False}, shared_folders=True, exam_second_factor=None)
    assert issues(hubs=[copy.deepcopy(HUB), bare]) == {
        ("hubs.1.allowed_networks", "an exam hub must be reachable only from the exam rooms; list their networks (CIDRs)"),
        ("hubs.1.network.lockdown", "an exam hub locks its servers' network down; write lockdown: true"),
        ("hubs.1.shared_folders", "an exam hub mounts only its courses' folders; write shared_folders: false"),
        ("hubs.1.exam_second_factor", OTP),
    }


def test_second_factor_by_authenticator() -> None:
    native = {"type": "native"}
    no_factor = (
        "hubs.1.exam_second_factor",
        "the native authenticator cannot demand a second factor; use generic-oauth with an OTP flow at the identity "
        "provider, or write exam_second_factor: not-enforced to run the exam without one",
    )
    assert issues(hubs=[copy.deepcopy(HUB), exam_hub(auth=native)]) == {no_factor}
    assert issues(hubs=[copy.deepcopy(HUB), exam_hub(auth=native, exam_second_factor=None)]) == {no_factor}
    assert issues(hubs=[copy.deepcopy(HUB), exam_hub(auth=native, exam_second_factor="not-enforced")]) == set()
    assert issues(hubs=[copy.deepcopy(HUB), exam_hub(exam_second_factor="not-enforced")]) == set()


def test_second_factor_only_on_exam_hubs() -> None:
    assert issues(hubs=[{**copy.deepcopy(HUB), "exam_second_factor": "not-enforced"}]) == {
        ("hubs.0.exam_second_factor", "only for exam hubs (exam: true); remove it"),
    }


def test_a_roster_needs_hub_managed_groups() -> None:
    claim = (
        "hubs.0.auth",
        "its generic-oauth login sets users' groups at every login, replacing the roster's; use the provider's groups "
        "(remove courses.roster) or let the hub manage groups (generic-oauth: groups_claim: null)",
    )
    roster = {"courses": {"roster": "rosters/students.csv"}}
    assert issues(course(), **roster) == {claim}
    assert issues(course()) == set()
    # The grading hub counts; a hub no course uses does not.
    assert issues(course(hubs=["exam"], grading_hub="teaching", profile={"queue": "root.open"}), **roster) == {
        claim,
        ("hubs.1.auth", claim[1]),
    }
    assert issues(course(hubs=["exam"], profile={"queue": "root.open"}), **roster) == {("hubs.1.auth", claim[1])}
    managed = copy.deepcopy(HUB)
    managed["auth"]["groups_claim"] = None
    assert issues(course(), hubs=[managed, exam_hub()], **roster) == set()


def test_ldap_cannot_demand_a_second_factor_either() -> None:
    ldap = {"type": "ldap", "server_address": "ldap.example.org", "bind_dn_template": ["uid={username},ou=people"]}
    assert issues(hubs=[copy.deepcopy(HUB), exam_hub(auth=ldap)]) == {
        (
            "hubs.1.exam_second_factor",
            "the ldap authenticator cannot demand a second factor; use generic-oauth with an OTP flow at the identity "
            "provider, or write exam_second_factor: not-enforced to run the exam without one",
        ),
    }
