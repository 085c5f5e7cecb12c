"""The hub.extraConfig snippets: they compile, and run against fake spawner/user/pod objects the way
the chart's jupyterhub_config.py runs them (exec with `c` and the `z2jh` helpers)."""

from __future__ import annotations

import io
import json
import re
import sys
import types
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.jupyterhub.values import EXTRA_CONFIG, HubStorage, SharedMount, render_values
from config.scheduler import NOTEBOOK_GROUP
from tests.hub_fixtures import platform, raw

LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


class FakeHTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Section(dict[str, Any]):
    """A traitlets config section: attribute writes land in the dict."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


class FakeConfig(dict[str, Section]):
    def __getitem__(self, name: str) -> Section:
        return self.setdefault(name, Section())

    def __getattr__(self, name: str) -> Section:
        return self[name]


@dataclass
class Group:
    name: str


@dataclass
class User:
    name: str
    groups: list[Group] = field(default_factory=list)
    admin: bool = False


@dataclass
class Spawner:
    user: User
    name: str = ""


@dataclass
class Mount:
    name: str
    read_only: bool | None = None


@dataclass
class Container:
    volume_mounts: list[Mount]


@dataclass
class Meta:
    labels: dict[str, str] | None
    annotations: dict[str, str] | None = None


@dataclass
class PodSpec:
    containers: list[Container]


@dataclass
class Pod:
    metadata: Meta
    spec: PodSpec


DISCOVERED: list[tuple[str, float]] = []


def _fake_discovery(url: str, timeout: float) -> io.BytesIO:
    """The identity provider's discovery document, without a network."""
    DISCOVERED.append((url, timeout))
    base = url.removesuffix("/.well-known/openid-configuration")
    doc = {"authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/me"}
    return io.BytesIO(json.dumps(doc).encode())


def load(monkeypatch: pytest.MonkeyPatch, values: dict[str, Any], env: dict[str, str] | None = None) -> FakeConfig:
    """Exec every extraConfig snippet of `values` in key order, as the chart does; return `c`."""

    def get_config(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    monkeypatch.setitem(sys.modules, "z2jh", types.SimpleNamespace(get_config=get_config))
    web = types.SimpleNamespace(HTTPError=FakeHTTPError)
    monkeypatch.setitem(sys.modules, "tornado", types.SimpleNamespace(web=web))
    monkeypatch.setitem(sys.modules, "tornado.web", web)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(urllib.request, "urlopen", _fake_discovery)
    c = FakeConfig()
    for key, code in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(code, key, "exec"), {"c": c})  # the chart execs them the same way
    return c


def hub_values(**changes: Any) -> dict[str, Any]:
    cfg = platform(**changes)
    storage = HubStorage("homes", (SharedMount("course", "shared-course", "/home/jovyan/shared", True),))
    return render_values(cfg, cfg.hubs[0], storage)


def test_every_snippet_compiles_and_is_rendered_in_order() -> None:
    extra = hub_values()["hub"]["extraConfig"]
    assert list(extra) == sorted(EXTRA_CONFIG)
    for key, code in extra.items():
        compile(code, key, "exec")
        assert "# ruff:" not in code


def _pod() -> Pod:
    mounts = [Mount("home"), Mount("shared-course", read_only=True)]
    return Pod(Meta(labels={"yunikorn.apache.org/queue": "root.users"}), PodSpec([Container(mounts)]))


def test_modify_pod_hook_sets_yunikorn_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s3cret"})
    hook: Callable[[Spawner, Pod], Pod] = c.KubeSpawner.modify_pod_hook
    user = User("Ada.Lovelace@uni.example", [Group("students"), Group("cs101")])
    pod = hook(Spawner(user, name="Project #1"), _pod())
    labels, annotations = pod.metadata.labels or {}, pod.metadata.annotations or {}
    app_id = labels["yunikorn.apache.org/app-id"]
    assert LABEL_VALUE.match(app_id) and len(app_id) <= 63 and app_id.startswith("jupyter-ada-lovelace")
    assert labels["yunikorn.apache.org/queue"] == "root.users"
    assert json.loads(annotations["yunikorn.apache.org/user.info"]) == {
        "user": "Ada.Lovelace@uni.example",
        "groups": ["cs101", "students", NOTEBOOK_GROUP],  # the marker last: it keeps the pod out of root.system
    }
    assert annotations["yunikorn.apache.org/allow-preemption"] == "false"
    assert pod.spec.containers[0].volume_mounts[1].read_only is True  # not an admin


def test_app_ids_differ_per_server_and_per_start(monkeypatch: pytest.MonkeyPatch) -> None:
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    hook = c.KubeSpawner.modify_pod_hook
    long_name = "x" * 200
    ids = [
        hook(Spawner(User(long_name)), _pod()).metadata.labels["yunikorn.apache.org/app-id"],
        hook(Spawner(User(long_name)), _pod()).metadata.labels["yunikorn.apache.org/app-id"],
        hook(Spawner(User(long_name), name="gpu"), _pod()).metadata.labels["yunikorn.apache.org/app-id"],
    ]
    assert len(set(ids)) == 3 and all(LABEL_VALUE.match(i) and len(i) <= 63 for i in ids)


def test_hook_defaults_the_queue_and_gives_admins_writable_shared_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    pod = Pod(Meta(labels=None), PodSpec([Container([Mount("home"), Mount("shared-course", read_only=True)])]))
    pod = c.KubeSpawner.modify_pod_hook(Spawner(User("prof", admin=True)), pod)
    assert pod.metadata.labels["yunikorn.apache.org/queue"] == "root.users"
    assert pod.spec.containers[0].volume_mounts[1].read_only is False


def test_profiles_are_filtered_by_group_and_admins_see_all(monkeypatch: pytest.MonkeyPatch) -> None:
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    profile_list = c.KubeSpawner.profile_list
    student = [p["slug"] for p in profile_list(Spawner(User("s", [Group("students")])))]
    staff = [p["slug"] for p in profile_list(Spawner(User("t", [Group("staff")])))]
    admin = [p["slug"] for p in profile_list(Spawner(User("a", admin=True)))]
    assert (student, staff, admin) == (["small"], ["small", "large"], ["small", "large"])


def test_the_hook_refuses_the_fallback_queue_and_a_forged_marker_group(monkeypatch: pytest.MonkeyPatch) -> None:
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    hook = c.KubeSpawner.modify_pod_hook
    pod = Pod(Meta(labels={"yunikorn.apache.org/queue": "root.system"}), PodSpec([Container([])]))
    with pytest.raises(ValueError, match="fallback queue"):
        hook(Spawner(User("s")), pod)
    pod = hook(Spawner(User("s", [Group(NOTEBOOK_GROUP), Group("a")])), _pod())
    assert json.loads(pod.metadata.annotations["yunikorn.apache.org/user.info"])["groups"] == ["a", NOTEBOOK_GROUP]


def _restricted_queue_values() -> dict[str, Any]:
    """`small` in an open queue, `large` (staff) in `root.staff`, which admits only the group `staff`."""
    from components.jupyterhub.values import render_values
    from config.platform import PlatformConfig

    config = raw()
    config["hubs"][0]["profiles"][1]["queue"] = "root.staff"
    config["scheduler"] = {
        "queues": [
            {
                "name": "root",
                "queues": [
                    {"name": "users", "submit_acl": {"everyone": True}},
                    {"name": "staff", "submit_acl": {"groups": ["staff"]}},
                ],
            }
        ]
    }
    cfg = PlatformConfig.model_validate(config)
    return render_values(cfg, cfg.hubs[0], HubStorage("homes"))


def test_profiles_whose_queue_refuses_the_user_are_hidden_from_admins_too(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _restricted_queue_values()
    assert values["custom"]["platform"]["queueAccess"]["large"] == {"everyone": False, "users": [], "groups": ["staff"]}
    c = load(monkeypatch, values, env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    profile_list = c.KubeSpawner.profile_list
    admin = [p["slug"] for p in profile_list(Spawner(User("a", admin=True)))]
    staff_admin = [p["slug"] for p in profile_list(Spawner(User("b", [Group("staff")], admin=True)))]
    staff = [p["slug"] for p in profile_list(Spawner(User("t", [Group("staff")])))]
    assert (admin, staff_admin, staff) == (["small"], ["small", "large"], ["small", "large"])


def test_no_visible_profile_refuses_the_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = [{"slug": "staff", "display_name": "Staff", "queue": "root.users", "allowed_groups": ["staff"]}]
    c = load(monkeypatch, hub_values(profiles=profiles), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    with pytest.raises(FakeHTTPError) as err:
        c.KubeSpawner.profile_list(Spawner(User("s", [Group("students")])))
    assert err.value.status == 403


def test_auth_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = hub_values(
        auth={"type": "generic-oauth", "client_id": "c", "authorize_url": "https://i/a", "token_url": "https://i/t",
              "userdata_url": "https://i/u"},
    )  # fmt: skip
    c = load(monkeypatch, values, env={"PLATFORM_OAUTH_CLIENT_SECRET": "from-env"})
    assert c.GenericOAuthenticator.client_secret == "from-env"
    ldap = {
        "type": "ldap",
        "server_address": "ldap.uni.edu",
        "lookup_dn": True,
        "user_search_base": "ou=people,dc=uni,dc=edu",
        "lookup_dn_search_user": "cn=svc,dc=uni,dc=edu",
    }
    c = load(monkeypatch, hub_values(auth=ldap), env={"PLATFORM_LDAP_BIND_PASSWORD": "bind"})
    assert c.LDAPAuthenticator.lookup_dn_search_password == "bind"


def test_github_teams_become_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {"type": "github", "client_id": "c", "allowed_organizations": ["uni"]}
    c = load(monkeypatch, hub_values(auth=auth), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    groups = c.GitHubOAuthenticator.auth_state_groups_key
    state = {"teams": [{"organization": {"login": "uni"}, "slug": "cs101-staff"}]}
    assert groups(state) == ["uni:cs101-staff"]


def test_oidc_discovery_sets_the_endpoints_with_a_bounded_request(monkeypatch: pytest.MonkeyPatch) -> None:
    DISCOVERED.clear()
    c = load(monkeypatch, hub_values(), env={"PLATFORM_OAUTH_CLIENT_SECRET": "s"})
    assert DISCOVERED == [("https://idp.example.org/realms/uni/.well-known/openid-configuration", 20)]
    assert c.GenericOAuthenticator.authorize_url == "https://idp.example.org/realms/uni/auth"
    assert c.GenericOAuthenticator.userdata_url == "https://idp.example.org/realms/uni/me"
