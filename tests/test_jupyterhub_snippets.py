"""The hub.extraConfig snippets inside a real JupyterHub with the real authenticators: secrets and OIDC
discovery, groups from every kind of authenticator, and profile filtering against queue ACLs.

Identity providers cannot run here: GitHub's REST API is a small HTTP server on 127.0.0.1 (port 0), the
LDAP directory's answer is the auth model LDAPAuthenticator.authenticate returns, and the OIDC discovery
document comes from `tests.test_hub_real._discovery`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jupyterhub import orm
from jupyterhub.app import JupyterHub
from tornado import web

from components.jupyterhub.values import EXTRA_CONFIG, HubStorage, render_values
from config.hub_groups import github_group
from config.platform import PlatformConfig
from tests import real_hub
from tests.hub_fixtures import platform, raw
from tests.test_hub_real import STORAGE, in_hub

LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LDAP = {
    "type": "ldap",
    "server_address": "ldap.uni.edu",
    "lookup_dn": True,
    "user_search_base": "ou=people,dc=uni,dc=edu",
    "lookup_dn_search_user": "cn=svc,dc=uni,dc=edu",
}
STUDENTS_DN = "cn=Students,ou=groups,dc=uni,dc=edu"
STAFF_DN = "cn=Teaching Staff,ou=groups,dc=uni,dc=edu"


def values_of(cfg: PlatformConfig) -> dict[str, Any]:
    return render_values(cfg, cfg.hubs[0], STORAGE)


def test_every_snippet_compiles_and_is_rendered_in_order() -> None:
    extra = values_of(platform())["hub"]["extraConfig"]
    assert list(extra) == sorted(EXTRA_CONFIG)
    for key, code in extra.items():
        compile(code, key, "exec")
        assert "# ruff:" not in code


def test_oidc_secret_from_the_environment_and_endpoints_from_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = platform()

    async def body(app: JupyterHub) -> tuple[str, str, str, bool]:
        a = app.authenticator
        return a.client_secret, a.authorize_url, a.userdata_url, a.manage_groups

    secret, authorize, userdata, managed = in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch)
    assert secret == "client-secret"
    assert authorize == "https://idp.example.org/realms/uni/auth"
    assert userdata == "https://idp.example.org/realms/uni/me"
    assert managed is True


def test_app_ids_differ_per_server_and_per_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = platform()

    async def body(app: JupyterHub) -> list[str]:
        user = real_hub.add_user(app, "x" * 200, ["staff"])
        pods = [await real_hub.pod_for(app, user, "small"), await real_hub.pod_for(app, user, "small")]
        pods.append(await real_hub.pod_for(app, user, "small", server="gpu"))
        return [p.metadata.labels["yunikorn.apache.org/app-id"] for p in pods]

    ids = in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch)
    assert len(set(ids)) == 3 and all(LABEL_VALUE.match(i) and len(i) <= 63 for i in ids)


def test_profiles_whose_queue_refuses_the_user_are_hidden_from_admins_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`small` in an open queue, `large` (staff) in `root.staff`, which admits only the group `staff`."""
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
    values = render_values(cfg, cfg.hubs[0], HubStorage("homes"))

    async def body(app: JupyterHub) -> list[list[str]]:
        users = [("a", [], True), ("b", ["staff"], True), ("t", ["staff"], False), ("s", ["students"], False)]
        return [
            [p["slug"] for p in await real_hub.offered_profiles(app, real_hub.add_user(app, name, groups, admin))]
            for name, groups, admin in users
        ]

    assert in_hub(tmp_path, cfg.hubs[0], values, body, monkeypatch) == [
        ["small"],
        ["small", "large"],
        ["small", "large"],
        ["small"],
    ]


def test_no_visible_profile_refuses_the_spawn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = [{"slug": "staff", "display_name": "Staff", "queue": "root.users", "allowed_groups": ["staff"]}]
    cfg = platform(profiles=profiles)

    async def body(app: JupyterHub) -> int:
        with pytest.raises(web.HTTPError) as err:
            await real_hub.offered_profiles(app, real_hub.add_user(app, "s", ["students"]))
        return err.value.status_code

    assert in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch) == 403


# ---- LDAP ----


def _ldap_login(app: JupyterHub, monkeypatch: pytest.MonkeyPatch, member_of: list[str]) -> Any:
    """LDAPAuthenticator's own login path, with the directory's answer for a user in `member_of` (its
    authenticate returns exactly this shape: the looked-up DNs of `allowed_groups` in auth_state)."""

    async def directory(self: Any, handler: Any, data: dict[str, str]) -> dict[str, Any]:
        return {"name": data["username"], "auth_state": {"ldap_groups": member_of, "user_attributes": {}}}

    monkeypatch.setattr(type(app.authenticator), "authenticate", directory)
    return app.authenticator.get_authenticated_user(None, {"username": "Ada", "password": "pw"})


def test_ldap_groups_become_jupyterhub_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {**LDAP, "groups": {"students": STUDENTS_DN, "teaching-staff": STAFF_DN}}
    profiles = [{"slug": "s", "display_name": "S", "queue": "root.users", "allowed_groups": ["students"]}]
    cfg = platform(auth=auth, profiles=profiles)
    values = values_of(cfg)

    async def body(app: JupyterHub) -> tuple[Any, Any, list[str], str]:
        both = await _ldap_login(app, monkeypatch, [STUDENTS_DN, STAFF_DN])
        none = await _ldap_login(app, monkeypatch, [])
        return both, none, list(app.authenticator.allowed_groups), app.authenticator.lookup_dn_search_password

    monkeypatch.setenv("PLATFORM_LDAP_BIND_PASSWORD", "bind-secret")
    both, none, asked, password = in_hub(tmp_path, cfg.hubs[0], values, body, monkeypatch)
    assert asked == [STUDENTS_DN, STAFF_DN]  # the authenticator looks membership up for these DNs
    assert both["name"] == "ada" and both["groups"] == ["students", "teaching-staff"]
    assert none["groups"] == []  # no login rule: everyone the directory knows, without groups
    assert password == "bind-secret"


def test_ldap_login_rule_stays_the_allowed_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Group DNs are looked up through LDAPAuthenticator.allowed_groups, which admits members of any of them;
    the hub keeps logins to the configured `allowed_groups`."""
    auth = {**LDAP, "allowed_groups": [STUDENTS_DN], "groups": {"students": STUDENTS_DN, "teaching-staff": STAFF_DN}}
    cfg = platform(auth=auth, profiles=[{"slug": "s", "display_name": "S", "queue": "root.users"}])
    monkeypatch.setenv("PLATFORM_LDAP_BIND_PASSWORD", "bind-secret")

    async def body(app: JupyterHub) -> tuple[Any, Any]:
        return await _ldap_login(app, monkeypatch, [STAFF_DN]), await _ldap_login(app, monkeypatch, [STUDENTS_DN])

    staff_only, student = in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch)
    assert staff_only is None
    assert student["groups"] == ["students"]


# ---- GitHub ----


class FakeGitHub(BaseHTTPRequestHandler):
    """GitHub's REST API for one user, Ada: member of the organisation `Uni` (teams cs101-staff) only."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0].lower()
        if self.headers.get("Authorization", "").lower() != "bearer gh-token":
            self._reply(401, {"message": "Bad credentials"})
        elif path == "/api/v3/user":
            self._reply(200, {"login": "Ada", "id": 7, "name": "Ada", "email": None})
        elif path == "/api/v3/user/teams":
            self._reply(200, [{"organization": {"login": "Uni"}, "slug": "cs101-staff", "name": "CS101 Staff"}])
        elif path == "/api/v3/orgs/uni/members/ada":
            self._reply(204, None)
        else:
            self._reply(404, {"message": "Not Found"})

    def _reply(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def github() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_github_organisations_and_teams_become_acl_safe_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: str
) -> None:
    auth = {"type": "github", "client_id": "c", "allowed_organizations": ["Uni", "other"], "admin_teams": ["Uni:CS101-Staff"]}
    profiles = [{"slug": "s", "display_name": "S", "queue": "root.users", "allowed_groups": ["github_uni"]}]
    cfg = platform(auth=auth, profiles=profiles)
    values = values_of(cfg)
    values["hub"]["config"]["GitHubOAuthenticator"]["github_url"] = github

    async def body(app: JupyterHub) -> tuple[dict[str, Any], bool, Any]:
        a = app.authenticator
        model = await a._token_to_auth_model({"access_token": "gh-token", "token_type": "bearer", "scope": "read:org"})
        mapping = a.auth_state_groups_key.__globals__["platform_github_group"]
        return model, await a.check_allowed(model["name"], model), mapping

    model, allowed, snippet_mapping = in_hub(tmp_path, cfg.hubs[0], values, body, monkeypatch)
    assert model["name"] == "ada" and allowed is True
    assert model["groups"] == ["github_uni", "github_uni_cs101-staff"]
    assert model["admin"] is True  # admin_teams, mapped the same way
    # The hub's mapping and the config's (used by profile and queue-ACL rules) are the same function.
    for spec in ["uni", "Uni:CS101-Staff", "4dn-dcic:core_team", "a-b:c", "a:b-c"]:
        org, _, team = spec.partition(":")
        assert snippet_mapping(org, team or None) == github_group(spec)


# ---- Globus and admin-managed groups ----


def test_globus_groups_become_jupyterhub_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = "4C2E6B8A-1F0D-4B7E-9A3C-5D6E7F8A9B0C"
    auth = {"type": "globus", "client_id": "c", "identity_provider": "uni.edu"}
    cfg = platform(auth=auth, profiles=[{"slug": "s", "display_name": "S", "queue": "root.users"}])

    async def body(app: JupyterHub) -> tuple[set[str], list[str], bool]:
        a = app.authenticator
        return await a.get_user_groups({"globus_groups": [group]}), list(a.scope), a.manage_groups

    groups, scope, managed = in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch)
    assert groups == {"globus_" + group.lower()}
    assert "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships" in scope
    assert managed is True


def test_native_hubs_start_with_the_groups_admins_fill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = [{"slug": "s", "display_name": "S", "queue": "root.users", "allowed_groups": ["cs101"]}]
    cfg = platform(auth={"type": "native"}, profiles=profiles, staff={"groups": ["tutors"], "access_servers": False})

    async def body(app: JupyterHub) -> tuple[list[str], bool]:
        names = sorted(g.name for g in app.db.query(orm.Group))
        return names, app.authenticator.manage_groups

    names, managed = in_hub(tmp_path, cfg.hubs[0], values_of(cfg), body, monkeypatch)
    assert names == ["cs101", "tutors"] and managed is False
    assert values_of(cfg)["hub"]["loadRoles"]["staff"]["scopes"][-1] == "groups"  # staff fill them
