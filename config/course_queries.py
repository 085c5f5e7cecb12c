"""Questions about courses that need the whole platform: a hub's courses, their profiles and folders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.hub_groups import group_source
from config.hubs import HubConfig, HubProfile
from config.nfs import NfsConfig, SharedFolder

if TYPE_CHECKING:
    from config.courses import Course
    from config.platform import PlatformConfig


def course_folders(cfg: PlatformConfig) -> list[SharedFolder]:
    """Each course's material folder (`<export_path>/shared/course-<name>`); read-only for users by default,
    the hub makes it writable for the course's instructors."""
    return [SharedFolder(name=c.folder_name, mount_path=c.mount_path) for c in cfg.courses.courses]


def nfs_with_courses(cfg: PlatformConfig) -> NfsConfig:
    """The NFS settings the storage component works from: the shared folders plus every course folder."""
    return cfg.nfs.model_copy(update={"shared_folders": [*cfg.nfs.shared_folders, *course_folders(cfg)]})


def hub_courses(cfg: PlatformConfig, hub: HubConfig) -> list[Course]:
    """Courses offered on the hub or graded there."""
    return [c for c in cfg.courses.courses if hub.name in c.hubs or c.grader_hub == hub.name]


def exchange_courses(cfg: PlatformConfig, hub: HubConfig) -> list[Course]:
    """Courses whose students work on the hub: its ngshare exchange holds them (ngshare knows users by their
    token of this hub, so students submit, and instructors release and collect, on the hub that offers it)."""
    return [c for c in cfg.courses.courses if hub.name in c.hubs]


def exchange_hubs(cfg: PlatformConfig) -> list[HubConfig]:
    """Hubs that run an ngshare exchange: those offering at least one course."""
    return [h for h in cfg.hubs if exchange_courses(cfg, h)]


def course_profiles(cfg: PlatformConfig, hub: HubConfig) -> list[HubProfile]:
    """The course profile (students and instructors) on hubs offering it; the grader profile (instructors
    only) on its grading hub."""
    profiles = []
    for course in cfg.courses.courses:
        spec = course.profile
        resources = spec.model_dump(exclude={"queue", "exam_queue"})  # the HubProfile fields of the same names
        queue = spec.exam_queue or spec.queue if hub.exam else spec.queue
        if hub.name in course.hubs:
            profiles.append(
                HubProfile(
                    slug=f"course-{course.name}",
                    display_name=course.title,
                    description=f"Course {course.name}: material in {course.mount_path}, assignments through nbgrader",
                    queue=queue,
                    allowed_groups=[course.students, course.instructors],
                    **resources,
                )
            )
        if course.grader_hub == hub.name:
            # Grading on an exam hub runs where the exam's servers run (its exam queue), like the course profile.
            profiles.append(
                HubProfile(
                    slug=f"grader-{course.name}",
                    display_name=f"Grader: {course.title}",
                    description=f"Release, collect and grade {course.name} assignments (formgrader)",
                    queue=queue,
                    allowed_groups=[course.instructors],
                    **resources,
                )
            )
    return profiles


def hub_profiles(cfg: PlatformConfig, hub: HubConfig) -> list[HubProfile]:
    """Every profile of the hub: its own, then its courses'."""
    return [*hub.profiles, *course_profiles(cfg, hub)]


def roster_hubs(cfg: PlatformConfig) -> list[HubConfig]:
    """Hubs whose course groups the roster fills (where hub admins, not the provider, own the groups)."""
    names = {h for c in cfg.courses.courses for h in (*c.hubs, c.grader_hub)}
    return [h for h in cfg.hubs if h.name in names and group_source(h.auth) == "admin"]
