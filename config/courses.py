"""Courses: who studies and teaches what, on which hubs, with which profile and folders.

Each course has two JupyterHub groups, `<name>-students` and `<name>-instructors` unless named otherwise:
filled by the identity provider's groups claim, by LDAP (`auth.groups`), or by the roster (a CSV file
named in `courses.roster`, loaded into the hubs' groups with `load_groups`; see `config.roster`).
Members of these groups see the course's profile on its hubs and get its material folder mounted
(`<export_path>/shared/course-<name>`, read-only for students, writable for instructors); nobody
else gets either. The nbgrader exchange is ngshare (a service of the hub), never a shared folder: under
the export's `all_squash` every user is the same uid, so a folder would let students read each other's
submissions.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from config.base import StrictModel
from config.fields import ImageReference

COURSE_NAME_PATTERN = r"^[a-z][a-z0-9]{1,15}$"
COURSE_FOLDER_PREFIX = "course-"
_MOUNT_ROOT = "/srv/courses"


class CourseProfile(StrictModel):
    """The spawn-page profile of a course (students and instructors of the course see it)."""

    queue: Annotated[str, Field(pattern=r"^root(\.[A-Za-z0-9_:#/@-]{1,64})+$")]
    """YuniKorn leaf queue of the course's servers: a queue of its own or a shared one (`root.students`)."""
    exam_queue: Annotated[str, Field(pattern=r"^root(\.[A-Za-z0-9_:#/@-]{1,64})+$")] | None = None
    """Queue on exam hubs (`hubs[].exam`), so a running teaching server does not hold the exam's seat; default `queue`."""
    image: ImageReference | None = None
    """Course image (must carry nbgrader and ngshare-exchange, see examples/course-image); default: the hub's."""
    cpu_guarantee: Annotated[float, Field(gt=0, le=512)] = 0.5
    """CPUs reserved per server."""
    cpu_limit: Annotated[float, Field(gt=0, le=512)] = 2
    """CPUs a server may burst to."""
    mem_guarantee_gib: Annotated[float, Field(gt=0, le=4096)] = 1
    """Memory reserved per server, GiB."""
    mem_limit_gib: Annotated[float, Field(gt=0, le=4096)] = 2
    """Memory limit per server, GiB."""
    gpu: Annotated[int, Field(ge=0, le=16)] = 0
    """GPUs (or slices) per server; needs the GPU pool."""


class Course(StrictModel):
    """One course: its groups, hubs, profile and folders."""

    name: Annotated[str, Field(pattern=COURSE_NAME_PATTERN)]
    """Short name (`cs101`): lower-case letter, then letters and digits; names its groups and folder."""
    title: Annotated[str, Field(min_length=1, max_length=120)]
    """Title on the spawn page (`Introduction to Programming`)."""
    student_group: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")] | None = None
    """JupyterHub group of the students; default `<name>-students`."""
    instructor_group: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")] | None = None
    """JupyterHub group of the instructors (and graders); default `<name>-instructors`."""
    hubs: Annotated[list[str], Field(min_length=1)]
    """Hubs that offer the course (their `name`s)."""
    grading_hub: str | None = None
    """Hub where instructors get the grader profile (formgrader, collection); default: the first of `hubs`."""
    profile: CourseProfile
    """Resources, image and queue of the course's servers."""
    material_mount_path: str | None = None
    """Where the course material appears in servers; default `/srv/courses/<name>`."""

    @field_validator("material_mount_path")
    @classmethod
    def _absolute(cls, path: str | None) -> str | None:
        if path is not None and (not path.startswith("/") or ".." in path or path.startswith("/home/jovyan")):
            raise ValueError(f"{path!r} must be an absolute path outside the home directory, e.g. /srv/courses/cs101")
        return path

    @property
    def students(self) -> str:
        return self.student_group or f"{self.name}-students"

    @property
    def instructors(self) -> str:
        return self.instructor_group or f"{self.name}-instructors"

    @property
    def folder_name(self) -> str:
        """Name of the course's NFS folder (`<export_path>/shared/course-<name>`) and of its claim."""
        return f"{COURSE_FOLDER_PREFIX}{self.name}"

    @property
    def mount_path(self) -> str:
        return self.material_mount_path or f"{_MOUNT_ROOT}/{self.name}"

    @property
    def grader_hub(self) -> str:
        return self.grading_hub or self.hubs[0]


# The ngshare service image. Its project publishes images as `libretexts/ngshare:v<version>` (the tag its
# chartpress sets); this one matches ngshare 0.6.0, the version tested here (requirements-nbgrader.txt).
NGSHARE_IMAGE = "libretexts/ngshare:v0.6.0"


class ExchangeConfig(StrictModel):
    """The nbgrader exchange: one ngshare service per hub that offers a course, its membership kept in sync."""

    image: ImageReference = NGSHARE_IMAGE
    """ngshare's image (also runs the membership sync: it has Python 3); pin a tag or digest your cluster can
    pull (mirror it into your registry where nodes have no internet)."""
    sync_every_minutes: Annotated[int, Field(ge=1, le=60)] = 10
    """How often the course groups are copied into ngshare (a CronJob per hub); a student removed from a
    course group loses the exchange at the next run."""


class CoursesConfig(StrictModel):
    """The courses the hubs offer, and where their membership comes from when the provider has no groups."""

    roster: str | None = None
    """CSV file (`user,course,role` with role `student` or `instructor`), relative to the Pulumi project
    directory, read at every `pulumi up` and render; its rows fill the course groups. Keep it out of git
    when it holds real names (it is read, never copied into outputs or the contract)."""
    courses: list[Course] = []
    """The courses."""
    exchange: ExchangeConfig = ExchangeConfig()
    """The ngshare exchange the platform deploys next to each hub that offers a course."""
