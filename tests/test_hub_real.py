"""The hub configuration in the real software: JupyterHub 5.5.0, KubeSpawner 7.0.0, OAuthenticator 17.4.0,
LDAPAuthenticator 2.0.2, NativeAuthenticator 1.3.0 and jupyterhub-idle-culler 1.4.0 (see tests/real_hub.py
for what is not real, and why)."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from jupyterhub import orm
from jupyterhub.app import JupyterHub
from jupyterhub.scopes import get_scopes_for
from kubernetes_asyncio.client import ApiClient
from tornado import web

from components.jupyterhub.values import HubStorage, SharedMount, render_values
from config.hubs import HubConfig
from config.scheduler import NOTEBOOK_GROUP
from tests import real_hub
from tests.helpers import stack_platform

LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
CRYPT_KEY = "ab" * 32
STORAGE = HubStorage("homes", (SharedMount("course", "shared-course", "/home/jovyan/shared", True),))


def _discovery(url: str, timeout: float) -> io.BytesIO:
    """The identity provider's OIDC discovery document (no identity provider runs here)."""
    base = url.removesuffix("/.well-known/openid-configuration")
    doc = {"authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/me"}
    return io.BytesIO(json.dumps(doc).encode())


def prod_hub(name: str) -> tuple[HubConfig, dict[str, Any]]:
    cfg = stack_platform("prod")
    hub = next(h for h in cfg.hubs if h.name == name)
    return hub, render_values(cfg, hub, STORAGE)


async def _with_hub(tmp: Path, hub: HubConfig, values: dict[str, Any], body: Any) -> Any:
    env = {"PLATFORM_OAUTH_CLIENT_SECRET": "client-secret", "JUPYTERHUB_CRYPT_KEY": CRYPT_KEY}
    with real_hub.hub_environment(tmp, values, env):
        app = await real_hub.start_hub(values, hub.k8s_namespace, tmp)
        try:
            return await body(app)
        finally:
            app.db.close()


def in_hub(tmp: Path, hub: HubConfig, values: dict[str, Any], body: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(urllib.request, "urlopen", _discovery)
    return real_hub.run(_with_hub(tmp, hub, values, body))


def _slugs(profiles: list[dict[str, Any]]) -> list[str]:
    return [p["slug"] for p in profiles]


def test_profiles_offered_per_kind_of_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, values = prod_hub("teaching")

    async def body(app: JupyterHub) -> dict[str, Any]:
        seen = {}
        for name, groups, admin in [
            ("student", ["students"], False),
            ("researcher", ["researchers"], False),
            ("gpu-user", ["students", "gpu-users"], False),
            ("admin", ["admins"], True),
        ]:
            user = real_hub.add_user(app, name, groups, admin)
            seen[name] = _slugs(await real_hub.offered_profiles(app, user))
        staff = real_hub.add_user(app, "ta", ["teaching-staff"])
        with pytest.raises(web.HTTPError) as refused:
            await real_hub.offered_profiles(app, staff)
        seen["staff-status"] = refused.value.status_code
        return seen

    seen = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert seen == {
        "student": ["small", "medium"],
        "researcher": ["large"],
        "gpu-user": ["small", "medium", "gpu"],
        # root.* admits `admins` everywhere; the course profiles are restricted to their groups (admins see them)
        "admin": ["small", "medium", "large", "gpu", "course-cs101", "course-ml201"],
        "staff-status": 403,  # staff manage users; no queue admits them
    }


def test_a_hidden_profile_cannot_be_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, values = prod_hub("teaching")

    async def body(app: JupyterHub) -> str:
        user = real_hub.add_user(app, "student", ["students"])
        with pytest.raises(ValueError) as err:
            await real_hub.pod_for(app, user, "gpu")
        return str(err.value)

    assert "gpu" in in_hub(tmp_path, hub, values, body, monkeypatch)


def test_the_pod_after_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, values = prod_hub("teaching")

    async def body(app: JupyterHub) -> tuple[Any, Any, Any, dict[str, Any]]:
        student = real_hub.add_user(app, "Ada.Lovelace", ["students", "gpu-users"])
        cpu_pod = await real_hub.pod_for(app, student, "medium")
        gpu_pod = await real_hub.pod_for(app, student, "gpu", server="")
        admin_pod = await real_hub.pod_for(app, real_hub.add_user(app, "root-admin", ["admins"], True), "small")
        async with ApiClient() as api:
            return cpu_pod, gpu_pod, admin_pod, api.sanitize_for_serialization(cpu_pod)

    cpu_pod, gpu_pod, admin_pod, cpu_manifest = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert cpu_pod.spec.scheduler_name == "yunikorn"
    labels, annotations = cpu_pod.metadata.labels, cpu_pod.metadata.annotations
    app_id = labels["yunikorn.apache.org/app-id"]
    assert LABEL_VALUE.match(app_id) and len(app_id) <= 63 and app_id.startswith("jupyter-ada-lovelace-")
    assert labels["yunikorn.apache.org/queue"] == "root.students"
    assert json.loads(annotations["yunikorn.apache.org/user.info"]) == {
        "user": "ada.lovelace",  # the authenticator normalises names to lower case
        "groups": ["gpu-users", "students", NOTEBOOK_GROUP],
    }
    assert annotations["yunikorn.apache.org/allow-preemption"] == "false"
    container = cpu_pod.spec.containers[0]
    assert container.resources.requests == {"cpu": 1.0, "memory": 4 * 2**30}
    assert container.resources.limits == {"cpu": 2.0, "memory": 8 * 2**30}
    assert "nvidia.com/gpu" not in (container.resources.limits or {})
    assert {e.name: e.value for e in container.env}["NVIDIA_VISIBLE_DEVICES"] == "void"
    mounts = {m.name: m for m in container.volume_mounts}
    # KubeSpawner 7's safe slug of the user name: each user has their own folder of the homes claim.
    assert (mounts["home"].mount_path, mounts["home"].sub_path) == ("/home/jovyan", "ada-lovelace---d239a0a8")
    assert mounts["shared-course"].read_only is True
    volumes = {v["name"]: v for v in cpu_manifest["spec"]["volumes"]}
    assert volumes["home"]["persistentVolumeClaim"] == {"claimName": "homes"}
    assert volumes["shared-course"]["persistentVolumeClaim"] == {"claimName": "shared-course"}

    gpu = gpu_pod.spec.containers[0]
    assert gpu_pod.metadata.labels["yunikorn.apache.org/queue"] == "root.gpu"
    assert gpu.resources.limits["nvidia.com/gpu"] == 1 and gpu.resources.requests["cpu"] == 3.0
    assert any(t.key == "nvidia.com/gpu" for t in gpu_pod.spec.tolerations)
    assert gpu.image == "quay.io/jupyter/pytorch-notebook:cuda12-2025-10-20"
    # The GPU profile's own idle limit reaches the server's command line (needs the chart's `cmd`).
    assert gpu.args[0] == "jupyterhub-singleuser"
    assert any(a.startswith("--ServerApp.shutdown_no_activity_timeout=") for a in gpu.args)
    assert gpu_pod.metadata.labels["yunikorn.apache.org/app-id"] != app_id

    admin_mounts = {m.name: m for m in admin_pod.spec.containers[0].volume_mounts}
    assert admin_mounts["shared-course"].read_only is False  # admins maintain the shared folders


def test_the_hook_refuses_the_fallback_queue_and_a_forged_marker_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, values = prod_hub("teaching")
    values["singleuser"]["profileList"][0]["kubespawner_override"]["extra_labels"]["yunikorn.apache.org/queue"] = (
        "root.system"
    )

    async def body(app: JupyterHub) -> tuple[str, list[str]]:
        with pytest.raises(ValueError) as err:
            await real_hub.pod_for(app, real_hub.add_user(app, "s", ["students"]), "small")
        forger = real_hub.add_user(app, "f", ["students", NOTEBOOK_GROUP])
        pod = await real_hub.pod_for(app, forger, "medium")
        return str(err.value), json.loads(pod.metadata.annotations["yunikorn.apache.org/user.info"])["groups"]

    message, groups = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert "fallback queue" in message
    assert groups == ["students", NOTEBOOK_GROUP]


def _scopes(app: JupyterHub, name: str) -> set[str]:
    return set(get_scopes_for(orm.User.find(app.db, name)))


@pytest.mark.parametrize(("hub_name", "staff_open"), [("teaching", True), ("exam", False), ("grading", False)])
def test_roles_in_jupyterhubs_own_role_machinery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_name: str, staff_open: bool
) -> None:
    """JupyterHub creates the roles (it refuses unknown scopes and any change to `admin`) and expands them:
    staff manage users and servers, and open servers only where the hub allows it; admins always can."""
    hub, values = prod_hub(hub_name)

    async def body(app: JupyterHub) -> tuple[set[str], set[str], bool]:
        real_hub.add_user(app, "ta", ["teaching-staff"])
        real_hub.add_user(app, "ops", ["admins"], admin=True)
        return _scopes(app, "ta"), _scopes(app, "ops"), JupyterHub.admin_access.default_value

    staff, admin, _ = in_hub(tmp_path, hub, values, body, monkeypatch)
    assert {"admin-ui", "list:users", "read:users", "servers", "delete:servers", "read:groups"} <= staff
    assert ("access:servers" in staff) is staff_open
    assert "admin:auth_state" not in staff and "delete:users" not in staff  # no OAuth tokens, no deletions
    assert "access:servers" in admin and "admin:users" in admin
    exchange = {"ngshare-sync"} if hub_name != "grading" else set()  # the sync of the hubs offering courses
    assert set(values["hub"]["loadRoles"]) == {"staff", *exchange}


def test_culler_flags_parsed_by_the_cullers_own_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart turns `cull` into the culler's command line; the culler's `main` parses it and hands the
    settings to its cull loop (captured here instead of contacting a hub)."""
    import jupyterhub_idle_culler as culler
    from tornado.options import OptionParser

    _, values = prod_hub("exam")
    command = real_hub.culler_command(values["cull"])
    parser = OptionParser()
    captured: dict[str, Any] = {}

    class Loop:
        def add_callback(self, callback: Any) -> None:
            callback()

        def start(self) -> None:
            return None

    class Periodic:
        def __init__(self, callback: Any, every_ms: float) -> None:
            captured["every_ms"] = every_ms

        def start(self) -> None:
            return None

    monkeypatch.setattr(culler, "define", parser.define)
    monkeypatch.setattr(culler, "options", parser)
    monkeypatch.setattr(culler, "parse_command_line", lambda: parser.parse_command_line(command[2:]))
    monkeypatch.setattr(culler, "cull_idle", lambda **kwargs: captured.update(kwargs))
    monkeypatch.setattr(culler.IOLoop, "current", staticmethod(lambda: Loop()))
    monkeypatch.setattr(culler, "PeriodicCallback", Periodic)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token")
    culler.main()
    assert captured["inactive_limit"] == 30 * 60
    assert captured["max_age"] == 4 * 3600
    assert captured["every_ms"] == 10 * 60 * 1000
    assert captured["cull_users"] is False and captured["remove_named_servers"] is False
    assert captured["cull_admin_users"] is True
