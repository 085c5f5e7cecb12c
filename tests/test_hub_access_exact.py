"""Hub access rules run directly on a validated model: the EXACT issues, one case at a time."""

from __future__ import annotations

from typing import Any

from config.hub_access import HUB_ACCESS_CHECKS
from config.platform import PlatformConfig
from tests import hub_fixtures

RULE = "cannot be matched by YuniKorn's queue ACLs: use a letter first, then letters, digits, `_` and `-` only, e.g. `gpu-users`"
KEYCLOAK = " (Keycloak: turn off 'Full group path' in the groups mapper)"


def issues(raw: dict[str, Any]) -> set[tuple[str, str]]:
    cfg = PlatformConfig.model_validate(raw)
    return {(i.path, i.message) for check in HUB_ACCESS_CHECKS for i in check(cfg)}


def _raw(auth: dict[str, Any], **hub: Any) -> dict[str, Any]:
    return hub_fixtures.raw(auth={**hub_fixtures.HUB["auth"], **auth}, **hub)


def test_group_names_in_every_list_with_the_keycloak_hint_only_for_paths() -> None:
    profiles = [{**hub_fixtures.HUB["profiles"][0]}, {**hub_fixtures.HUB["profiles"][1], "allowed_groups": ["/uni/staff"]}]
    raw = _raw({"allowed_groups": ["1st-years"], "admin_groups": ["/admins"]}, profiles=profiles, staff={"groups": ["/tutors"]})
    assert issues(raw) == {
        ("hubs.0.profiles.1.allowed_groups", f"'/uni/staff' {RULE}{KEYCLOAK}"),
        ("hubs.0.staff.groups", f"'/tutors' {RULE}{KEYCLOAK}"),
        ("hubs.0.auth.allowed_groups", f"'1st-years' {RULE}"),
        ("hubs.0.auth.admin_groups", f"'/admins' {RULE}{KEYCLOAK}"),
    }


def test_groups_given_by_admins_are_checked_too() -> None:
    # No groups claim: JupyterHub admins assign the groups, and those names still meet the queue ACLs.
    profiles = [{**hub_fixtures.HUB["profiles"][0]}, {**hub_fixtures.HUB["profiles"][1], "allowed_groups": ["/staff"]}]
    raw = _raw({"groups_claim": None}, profiles=profiles, staff={"groups": ["ok", "/tutors"]})
    assert issues(raw) == {
        ("hubs.0.profiles.1.allowed_groups", f"'/staff' {RULE}{KEYCLOAK}"),
        ("hubs.0.staff.groups", f"'/tutors' {RULE}{KEYCLOAK}"),
    }


def _scheduler(acl: dict[str, Any]) -> dict[str, Any]:
    return {"queues": [{"name": "root", "queues": [{"name": "users", "submit_acl": acl}]}]}


def test_an_unknown_queue_is_left_to_the_queue_rule() -> None:
    profiles = [{**hub_fixtures.HUB["profiles"][0], "queue": "root.nowhere"}]
    raw = {**_raw({}, profiles=profiles), "scheduler": _scheduler({"groups": ["staff"]})}
    assert issues(raw) == set()


def test_an_admin_group_that_sees_the_profile_anyway_is_named_once() -> None:
    profiles = [{**hub_fixtures.HUB["profiles"][1], "allowed_groups": ["admins"], "default": True}]
    raw = {
        **_raw({"admin_groups": ["admins", "ops"]}, profiles=profiles, admin_users=[]),
        "scheduler": _scheduler({"groups": ["ops"]}),
    }
    assert issues(raw) == {
        (
            "hubs.0.profiles.0.queue",
            "root.users would refuse group 'admins', who can see this profile: YuniKorn would reject their servers. "
            "Grant them in the queue's submit_acl or narrow the profile's allowed_groups",
        )
    }


def test_everyone_who_sees_an_open_profile_is_listed() -> None:
    profiles = [{**hub_fixtures.HUB["profiles"][0], "allowed_groups": []}]
    auth = {"admin_groups": ["ops", "admins"]}
    raw = {
        **_raw(auth, profiles=profiles, admin_users=["alice", "bob"]),
        "scheduler": _scheduler({"users": ["bob"], "groups": ["staff"]}),
    }
    assert issues(raw) == {
        (
            "hubs.0.profiles.0.queue",
            "root.users would refuse every user of the hub (no allowed groups restrict who sees this profile), "
            "admin user 'alice', admin group 'ops', admin group 'admins', who can see this profile: YuniKorn would "
            "reject their servers. Grant them in the queue's submit_acl or narrow the profile's allowed_groups",
        )
    }


def test_several_bad_names_in_one_list() -> None:
    assert issues(_raw({"admin_groups": ["/a", "ok", "/b"]})) == {("hubs.0.auth.admin_groups", f"'/a', '/b' {RULE}{KEYCLOAK}")}
