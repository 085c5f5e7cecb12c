"""A hub's JupyterHub roles and admin-managed groups compared whole: the staff role's exact scopes (with
and without `access:servers`, with groups managed on the hub or by the provider) and the groups that exist
from the start."""

from __future__ import annotations

import copy
from typing import Any

from components.jupyterhub.roles import admin_managed_groups, load_roles, staff_scopes
from config.hubs import HubConfig
from tests.hub_fixtures import HUB

BASE = ["admin-ui", "list:users", "users", "servers", "list:groups", "read:groups"]


def hub(claim: str | None = "groups", **changes: Any) -> HubConfig:
    raw = {**copy.deepcopy(HUB), **changes}
    raw["auth"]["groups_claim"] = claim
    return HubConfig.model_validate(raw)


def test_no_staff_no_roles() -> None:
    assert load_roles(hub()) == {}


def test_staff_that_may_open_servers_with_provider_groups() -> None:
    staffed = hub(staff={"users": ["zoe", "bob"], "groups": ["tas", "lecturers"]})
    assert staff_scopes(staffed) == [*BASE, "access:servers"]
    assert load_roles(staffed) == {
        "staff": {
            "description": "Course staff: manage users and start or stop their servers; may open users' servers",
            "scopes": [*BASE, "access:servers"],
            "users": ["bob", "zoe"],
            "groups": ["lecturers", "tas"],
        }
    }


def test_staff_without_access_on_a_hub_that_manages_groups() -> None:
    private = hub(claim=None, staff={"users": ["bob"], "access_servers": False})
    assert staff_scopes(private) == [*BASE, "groups"]
    assert load_roles(private) == {
        "staff": {
            "description": "Course staff: manage users and start or stop their servers; may not open users' servers (privacy)",
            "scopes": [*BASE, "groups"],
            "users": ["bob"],
            "groups": [],
        }
    }


def test_groups_created_empty_where_the_hub_manages_them() -> None:
    # Profile groups (the fixture's `large` profile admits `staff`) and the staff role's groups.
    managed = hub(claim=None, staff={"groups": ["tas"]})
    assert admin_managed_groups(managed) == {"staff": {"users": []}, "tas": {"users": []}}
    assert admin_managed_groups(hub(staff={"groups": ["tas"]})) == {}
