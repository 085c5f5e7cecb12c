"""Courses in a real JupyterHub with the real KubeSpawner (tests/real_hub.py): a user's pod mounts only the
folders of their own courses, the exam hub only its course, and the roster loads into the hub's groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyterhub.app import JupyterHub

from components.jupyterhub.component import roster_load_groups, secret_chart_values
from components.jupyterhub.values import render_values
from tests import real_hub
from tests.helpers import stack_platform
from tests.test_hub_real import STORAGE, in_hub, prod_hub


def _course_mounts(pod: Any) -> dict[str, tuple[str, bool]]:
    return {m.name: (m.mount_path, m.read_only) for m in pod.spec.containers[0].volume_mounts if m.name.startswith("course-")}


def test_pods_mount_only_the_users_courses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, values = prod_hub("teaching")

    async def body(app: JupyterHub) -> dict[str, Any]:
        cs = real_hub.add_user(app, "cs-student", ["students", "cs101-students"])
        ml = real_hub.add_user(app, "ml-teacher", ["ml201-instructors"])
        other = real_hub.add_user(app, "plain-student", ["students"])
        return {
            "cs": await real_hub.pod_for(app, cs, "course-cs101"),
            "ml": await real_hub.pod_for(app, ml, "course-ml201"),
            "other": await real_hub.pod_for(app, other, "small"),
            "cs-profiles": [p["slug"] for p in await real_hub.offered_profiles(app, cs)],
        }

    seen = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert _course_mounts(seen["cs"]) == {"course-cs101": ("/srv/courses/cs101", True)}  # read-only for students
    assert _course_mounts(seen["ml"]) == {"course-ml201": ("/srv/courses/ml201", False)}  # instructors write
    assert _course_mounts(seen["other"]) == {}
    assert seen["cs-profiles"] == ["small", "medium", "course-cs101"]
    assert {v.name for v in seen["cs"].spec.volumes if v.name.startswith("course-")} == {"course-cs101"}
    assert seen["cs"].metadata.labels["yunikorn.apache.org/queue"] == "root.students"


def test_exam_hub_mounts_only_its_course_and_no_shared_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, values = prod_hub("exam")
    assert values["singleuser"]["storage"]["extraVolumes"] == []  # shared_folders: false

    async def body(app: JupyterHub) -> Any:
        both = real_hub.add_user(app, "both", ["students", "cs101-students", "ml201-students"])
        return await real_hub.pod_for(app, both, "course-cs101")

    pod = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert _course_mounts(pod) == {"course-cs101": ("/srv/courses/cs101", True)}
    assert pod.metadata.labels["yunikorn.apache.org/queue"] == "root.exam"


def test_roster_loads_into_the_hubs_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = stack_platform("dev")
    hub = cfg.hubs[0]
    values = render_values(cfg, hub, STORAGE)
    assert "student1" not in repr(values)  # the plain values never name a user
    roster = roster_load_groups(cfg, hub)
    secret = secret_chart_values("proxy-token", roster)
    values["hub"]["config"]["JupyterHub"]["load_groups"] = {
        **values["hub"]["config"]["JupyterHub"].get("load_groups", {}),
        **secret["hub"]["config"]["JupyterHub"]["load_groups"],
    }  # what Helm's merge of the secret values file does to this key

    async def body(app: JupyterHub) -> dict[str, list[str]]:
        from jupyterhub import orm

        return {g.name: sorted(u.name for u in g.users) for g in app.db.query(orm.Group) if g.name.startswith("cs101")}

    groups = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert groups == {"cs101-instructors": ["teacher1"], "cs101-students": ["student1", "student2"]}


def test_the_offline_render_names_no_roster_user(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import ROOT

    out = tmp_path / "render"
    subprocess.run([sys.executable, "-m", "tools.render", "dev", "--out", str(out)], cwd=ROOT, check=True, timeout=600)
    rendered = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert "course-cs101" in rendered  # the course is there...
    for user in ("student1", "student2", "teacher1"):  # ...its members are not (they travel as a secret)
        assert user not in rendered


def test_exchange_services_and_the_sync_role_in_a_real_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered values plus the secret values file: the real hub registers ngshare (routed at
    /services/ngshare/) and the sync service, whose token may read the course groups and nothing else."""
    from jupyterhub import orm
    from jupyterhub.scopes import get_scopes_for

    from components.courses import ngshare
    from components.jupyterhub.component import secret_values_file
    from components.monitoring.hub_metrics import merge

    cfg = stack_platform("dev")
    hub = cfg.hubs[0]
    plain = render_values(cfg, hub, STORAGE)
    assert "apiToken" not in repr(plain)  # tokens only in the secret values file
    values = merge(plain, secret_values_file(["proxy-token", "", "tok-ngshare", "tok-sync"], {}))

    async def body(app: JupyterHub) -> dict[str, Any]:
        sync = orm.APIToken.find(app.db, "tok-sync")
        service = orm.APIToken.find(app.db, "tok-ngshare")
        return {
            "services": {name: (s.url, s.prefix) for name, s in app._service_map.items() if name.startswith("ngshare")},
            "sync": (sync.service.name, sorted(get_scopes_for(sync))),
            "ngshare": (service.service.name, sorted(get_scopes_for(service))),
        }

    seen = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert seen["services"] == {
        "ngshare": ("http://ngshare:8080", "/services/ngshare/"),
        ngshare.SYNC_SERVICE: ("", "/services/ngshare-Sync/"),
    }
    name, scopes = seen["sync"]
    assert name == ngshare.SYNC_SERVICE
    granted = [s for s in scopes if not s.endswith(f"!service={ngshare.SYNC_SERVICE}")]  # its own identity
    assert granted == [
        "read:groups!group=cs101-instructors",
        "read:groups!group=cs101-students",
        "read:groups:name!group=cs101-instructors",
        "read:groups:name!group=cs101-students",
    ]
    assert seen["ngshare"][0] == "ngshare" and not [s for s in seen["ngshare"][1] if "groups" in s or "users" in s]
