"""Who can see a profile must be admitted by its queue; OIDC group names must fit YuniKorn's ACLs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from tests.helpers import stack_raw

TEACHING, EXAM = 0, 1
SMALL, LARGE, GPU_PROFILE = 0, 2, 3
GPU_QUEUE = "scheduler.queues.0.queues.2"


def prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    return copy.deepcopy(raw)


def errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, set(), missing_secrets_ok=True)
    return caught.value.lines()


def error_at(raw: dict[str, Any], path: str) -> str:
    found = [line for line in errors(raw) if line.startswith(f"error: {path}: ")]
    assert found, f"no error at {path}: {errors(raw)}"
    return found[0]


def test_prod_profiles_fit_their_queues() -> None:
    cfg = load_platform(prod(), set(), missing_secrets_ok=True)
    teaching, exam = cfg.hubs[TEACHING], cfg.hubs[EXAM]
    assert [p.allowed_groups for p in teaching.profiles[:2]] == [["students"], ["students"]]
    # The exam hub has its own one-server queue: a running teaching server does not block an exam.
    assert exam.profiles[0].queue == "root.exam" and "root.exam" not in {p.queue for p in teaching.profiles}
    exam_queue = next(q for q in cfg.scheduler.root().queues if q.name == "exam")
    assert [lim.max_servers for lim in exam_queue.user_limits] == [1]


def test_researchers_seeing_a_students_profile_would_be_refused() -> None:
    raw = prod()
    del raw["hubs"][TEACHING]["profiles"][SMALL]["allowed_groups"]  # back to the hub's login groups
    line = error_at(raw, f"hubs.{TEACHING}.profiles.{SMALL}.queue")
    assert "root.students would refuse group 'researchers', group 'gpu-users'" in line


def test_admins_seeing_the_gpu_profile_must_be_admitted() -> None:
    raw = prod()
    raw["scheduler"]["queues"][0]["queues"][2]["submit_acl"] = {"groups": ["gpu-users"]}
    line = error_at(raw, f"hubs.{TEACHING}.profiles.{GPU_PROFILE}.queue")
    assert "admin group 'admins'" in line and "gpu-users" not in line.split("refuse")[1].split(",")[0]


def test_named_admin_users_count_too() -> None:
    raw = prod()
    raw["hubs"][TEACHING]["admin_users"] = ["prof-x"]
    assert "admin user 'prof-x'" in error_at(raw, f"hubs.{TEACHING}.profiles.{LARGE}.queue")


def test_a_hub_whose_users_carry_no_groups_needs_open_queues() -> None:
    raw = prod()
    raw["hubs"][EXAM]["auth"] = {
        "type": "ldap", "server_address": "ldap.example.org", "bind_dn_template": ["uid={username},ou=people,dc=x"],
    }  # fmt: skip
    del raw["hubs"][EXAM]["profiles"][0]["allowed_groups"], raw["hubs"][EXAM]["staff"]
    assert "every user of the hub" in error_at(raw, f"hubs.{EXAM}.profiles.0.queue")


def test_keycloak_group_paths_are_refused_with_a_hint() -> None:
    raw = prod()
    raw["hubs"][EXAM]["auth"]["allowed_groups"] = ["/students", "admins"]
    raw["hubs"][EXAM]["profiles"][0]["allowed_groups"] = ["/students"]
    assert "Full group path" in error_at(raw, f"hubs.{EXAM}.auth.allowed_groups")
    assert "'/students'" in error_at(raw, f"hubs.{EXAM}.profiles.0.allowed_groups")


@pytest.mark.parametrize("group", ["system:authenticated", "uni:cs101", "dotted.group", "jupyterhub-platform-notebook"])
def test_acl_groups_yunikorn_would_drop_are_refused(group: str) -> None:
    raw = prod()
    raw["scheduler"]["queues"][0]["queues"][2]["submit_acl"] = {"groups": [group, "admins"]}
    assert error_at(raw, f"{GPU_QUEUE}.submit_acl.groups")
