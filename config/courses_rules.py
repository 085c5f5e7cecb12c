"""Rules for courses and exam hubs that need the whole configuration (registered in `config.checks`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue, dotted
from config.gpu_queries import gpu_seats
from config.hub_groups import group_source

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# Authenticators whose login the platform cannot make demand a second factor (passwords checked by the hub
# itself or by an LDAP bind): an exam hub with them needs the explicit `not-enforced` acknowledgement.
NO_SECOND_FACTOR = ("native", "ldap")


def course_references(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Names unique, hubs exist, folders do not collide with the shared folders."""
    hubs = {h.name for h in cfg.hubs}
    shared = {f.name for f in cfg.nfs.shared_folders}
    seen: set[str] = set()
    for i, course in enumerate(cfg.courses.courses):
        base = ("courses", "courses", i)
        if course.name in seen:
            yield ConfigIssue(dotted(*base, "name"), f"course {course.name!r} is declared twice; give each course its own name")
        seen.add(course.name)
        for j, hub in enumerate(course.hubs):
            if hub not in hubs:
                yield ConfigIssue(
                    dotted(*base, "hubs", j), f"no hub named {hub!r}; write one of: {', '.join(sorted(hubs)) or '(no hubs)'}"
                )
        if course.grading_hub is not None and course.grading_hub not in hubs:
            yield ConfigIssue(
                dotted(*base, "grading_hub"), f"no hub named {course.grading_hub!r}; write one of: {', '.join(sorted(hubs))}"
            )
        if course.folder_name in shared:
            yield ConfigIssue(
                dotted(*base, "name"),
                f"its folder {course.folder_name!r} collides with nfs.shared_folders; rename the shared folder or the course",
            )
        if course.students == course.instructors:
            yield ConfigIssue(
                dotted(*base, "instructor_group"), "must differ from the student group (instructors write the material)"
            )


def course_profiles(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """The course queue exists and admits the course's groups; GPU courses need the GPU pool."""
    for i, course in enumerate(cfg.courses.courses):
        path = dotted("courses", "courses", i, "profile")
        for field, queue in (("queue", course.profile.queue), ("exam_queue", course.profile.exam_queue)):
            if queue is None:
                continue
            access = cfg.scheduler.submit_access(queue)
            if access is None:
                yield ConfigIssue(dotted(path, field), f"no queue {queue!r} in scheduler.queues; name a leaf queue")
                continue
            refused = [g for g in (course.students, course.instructors) if not access.everyone and g not in access.groups]
            if refused:
                yield ConfigIssue(
                    dotted(path, field),
                    f"its submit_acl refuses {', '.join(refused)}; add them to its submit_acl.groups or choose another queue",
                )
        if course.profile.gpu > 0 and gpu_seats(cfg) == 0:
            yield ConfigIssue(dotted(path, "gpu"), "the cluster has no GPU seats; add GPU nodes (inventory) or set gpu: 0")
        if course.profile.cpu_guarantee > course.profile.cpu_limit:
            yield ConfigIssue(dotted(path, "cpu_guarantee"), "must not exceed cpu_limit")
        if course.profile.mem_guarantee_gib > course.profile.mem_limit_gib:
            yield ConfigIssue(dotted(path, "mem_guarantee_gib"), "must not exceed mem_limit_gib")


def exam_queues(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A course on an exam hub and on a teaching hub keeps its exam servers (and the graders collecting the exam
    there) in a queue of their own: with one queue, a student's running teaching server holds the seat the
    queue's per-user limit leaves for the exam server. An exam queue on a course that no exam hub offers or
    grades is never used (refused, so nobody believes it applies)."""
    exam = {h.name for h in cfg.hubs if h.exam}
    for i, course in enumerate(cfg.courses.courses):
        path = dotted("courses", "courses", i, "profile", "exam_queue")
        on_exam = [h for h in course.hubs if h in exam]
        teaching = [h for h in course.hubs if h not in exam]
        spec = course.profile
        if on_exam and teaching and (spec.exam_queue is None or spec.exam_queue == spec.queue):
            yield ConfigIssue(
                path,
                f"the course is offered on exam hub {on_exam[0]!r} and on {teaching[0]!r}: give the exam a queue other "
                f"than {spec.queue!r} (e.g. root.exam) so a running teaching server does not take the exam's seat",
            )
        elif spec.exam_queue is not None and not on_exam and course.grader_hub not in exam:
            yield ConfigIssue(path, "no exam hub offers or grades the course, so it is never used; remove it")


def exam_hubs(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """An exam hub: source allowlist, network lockdown, only its courses' folders, a second factor."""
    for i, hub in enumerate(cfg.hubs):
        base = ("hubs", i)
        if not hub.exam:
            if hub.exam_second_factor is not None:
                yield ConfigIssue(dotted(*base, "exam_second_factor"), "only for exam hubs (exam: true); remove it")
            continue
        if not hub.allowed_networks:
            yield ConfigIssue(
                dotted(*base, "allowed_networks"),
                "an exam hub must be reachable only from the exam rooms; list their networks (CIDRs)",
            )
        if not hub.network.lockdown:
            yield ConfigIssue(
                dotted(*base, "network", "lockdown"), "an exam hub locks its servers' network down; write lockdown: true"
            )
        if hub.shared_folders:
            yield ConfigIssue(
                dotted(*base, "shared_folders"), "an exam hub mounts only its courses' folders; write shared_folders: false"
            )
        ack = hub.exam_second_factor
        if hub.auth.type in NO_SECOND_FACTOR and ack != "not-enforced":
            yield ConfigIssue(
                dotted(*base, "exam_second_factor"),
                f"the {hub.auth.type} authenticator cannot demand a second factor; use generic-oauth with an OTP flow at the "
                "identity provider, or write exam_second_factor: not-enforced to run the exam without one",
            )
        elif ack is None:
            yield ConfigIssue(
                dotted(*base, "exam_second_factor"),
                "an exam needs a second factor at the identity provider; configure it there (Keycloak: OTP required in the "
                "client's browser flow, see README) and write exam_second_factor: provider-enforced",
            )


def roster_needs_hub_managed_groups(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A roster fills groups only where the hub owns them: a provider that sends groups replaces them at login."""
    if cfg.courses.roster is None:
        return
    names = {h for c in cfg.courses.courses for h in (*c.hubs, c.grader_hub)}
    for i, hub in enumerate(cfg.hubs):
        if hub.name in names and group_source(hub.auth) != "admin":
            yield ConfigIssue(
                dotted("hubs", i, "auth"),
                f"its {hub.auth.type} login sets users' groups at every login, replacing the roster's; use the provider's "
                "groups (remove courses.roster) or let the hub manage groups (generic-oauth: groups_claim: null)",
            )


COURSES_CHECKS: list[Callable[[PlatformConfig], Iterator[ConfigIssue]]] = [
    course_references,
    course_profiles,
    exam_queues,
    exam_hubs,
    roster_needs_hub_managed_groups,
]
