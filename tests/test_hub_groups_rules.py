"""Groups a profile or the staff role names must be groups the hub's authenticator can give its users;
the removed admin privacy switch is refused with what to write instead."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.hub_groups import admin_groups, github_group, globus_group, login_groups
from config.loader import load_platform
from tests.hub_fixtures import platform, raw

STUDENTS_DN = "cn=Students,ou=groups,dc=uni,dc=edu"
LDAP = {"type": "ldap", "server_address": "ldap.uni.edu", "bind_dn_template": ["uid={username},ou=people,dc=uni,dc=edu"]}
GLOBUS_ID = "4c2e6b8a-1f0d-4b7e-9a3c-5d6e7f8a9b0c"


def errors(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(config, set(), missing_secrets_ok=True)
    return caught.value.lines()


def profile(*groups: str) -> list[dict[str, Any]]:
    return [{"slug": "s", "display_name": "S", "queue": "root.users", "allowed_groups": list(groups)}]


def test_ldap_profile_groups_must_be_named_dns() -> None:
    lines = errors(raw(auth=LDAP, profiles=profile("students"), staff={"groups": ["tutors"]}))
    assert lines == [
        "error: hubs.0.profiles.0.allowed_groups: 'students': LDAP users carry only the groups named in "
        "hubs.0.auth.groups; add `students: <group DN>` there (the DN whose members get this group)",
        "error: hubs.0.staff.groups: 'tutors': LDAP users carry only the groups named in hubs.0.auth.groups; "
        "add `tutors: <group DN>` there (the DN whose members get this group)",
    ]
    platform(auth={**LDAP, "groups": {"students": STUDENTS_DN}}, profiles=profile("students"))  # accepted


def test_ldap_dn_mapped_twice_is_refused() -> None:
    auth = {**LDAP, "groups": {"students": STUDENTS_DN, "learners": STUDENTS_DN.upper()}}
    assert errors(raw(auth=auth, profiles=profile("students"))) == [
        "error: hubs.0.auth.groups.learners: the DN is also mapped to 'students': map each DN once"
    ]


@pytest.mark.parametrize(
    ("group", "hint"),
    [
        ("uni:cs101-staff", "write 'github_uni_cs101-staff'"),
        ("GitHub_Uni", "write 'github_uni'"),
        ("staff", "e.g. 'github_my-org_staff'"),
    ],
)
def test_github_profile_groups_use_the_mapped_names(group: str, hint: str) -> None:
    auth = {"type": "github", "client_id": "c", "allowed_organizations": ["uni"]}
    lines = [line for line in errors(raw(auth=auth, profiles=profile(group))) if ".allowed_groups:" in line]
    assert len(lines) == 1  # one error per group, not one per rule
    assert lines[0] == (
        f"error: hubs.0.profiles.0.allowed_groups: {group!r}: GitHub users carry only the groups `github_<org>` "
        f"and `github_<org>_<team-slug>` (lower case); {hint}"
    )


def test_globus_profile_groups_are_prefixed_uuids() -> None:
    auth = {"type": "globus", "client_id": "c", "allowed_globus_groups": [GLOBUS_ID]}
    assert errors(raw(auth=auth, profiles=profile(GLOBUS_ID))) == [
        f"error: hubs.0.profiles.0.allowed_groups: {GLOBUS_ID!r}: Globus users carry only the groups "
        "`globus_<Globus group UUID>` (lower case), e.g. 'globus_4c2e6b8a-1f0d-4b7e-9a3c-5d6e7f8a9b0c'",
    ]
    cfg = platform(auth=auth, profiles=profile(globus_group(GLOBUS_ID)))
    assert login_groups(cfg.hubs[0].auth) == [f"globus_{GLOBUS_ID}"]


def test_admin_managed_groups_may_have_any_acl_safe_name() -> None:
    platform(auth={"type": "native"}, profiles=profile("cs101"), staff={"groups": ["tutors"]})
    oidc = {"type": "generic-oauth", "client_id": "c", "issuer": "https://idp.example.org", "groups_claim": None}
    platform(auth=oidc, profiles=profile("cs101"))


def test_admin_access_is_refused_with_the_staff_role_instead() -> None:
    assert errors(raw(admin_access=False)) == [
        "error: hubs.0.admin_access: JupyterHub 5 ignores admin_access (admins can always open users' servers): "
        "remove it, keep admin_users to the platform team and give course staff "
        "`staff: {groups: [...], access_servers: false}`"
    ]


def test_github_mapping_and_login_and_admin_groups() -> None:
    assert github_group("Uni") == "github_uni"
    assert github_group("Uni:CS101-Staff") == "github_uni_cs101-staff"
    # Organisation logins hold no `_`: an org ending where a team begins cannot collide.
    assert github_group("a-b:c") != github_group("a:b-c")
    auth = {"type": "github", "client_id": "c", "allowed_organizations": ["uni:cs101"], "admin_teams": ["uni:ops"]}
    cfg = platform(auth=auth, profiles=profile("github_uni_cs101"))
    assert login_groups(cfg.hubs[0].auth) == ["github_uni_cs101"]
    assert admin_groups(cfg.hubs[0].auth) == ["github_uni_ops"]
