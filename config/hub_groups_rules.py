"""Rules on hubs' groups and roles: a group a profile or the staff role names must be one the hub's
authenticator can give its users (`config.hub_groups`), and the removed admin privacy switch is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.hub_auth import LdapAuth
from config.hub_groups import GITHUB_PREFIX, GLOBUS_PREFIX, github_group, group_source

if TYPE_CHECKING:
    from config.hubs import HubConfig
    from config.platform import PlatformConfig

_GITHUB_GROUP = re.compile(rf"^{GITHUB_PREFIX}[a-z0-9-]+(_[a-z0-9_-]+)?$")
_GLOBUS_GROUP = re.compile(rf"^{GLOBUS_PREFIX}[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$")


def _named_groups(i: int, hub: HubConfig) -> Iterator[tuple[str, str]]:
    """(dotted path, group) for every group the hub's profiles and staff role restrict to."""
    for j, profile in enumerate(hub.profiles):
        for group in profile.allowed_groups:
            yield f"hubs.{i}.profiles.{j}.allowed_groups", group
    for group in hub.staff.groups:
        yield f"hubs.{i}.staff.groups", group


def _unsupplied(hub: HubConfig, i: int, group: str) -> str | None:
    """Why no user of this hub can ever carry `group`, or None."""
    source = group_source(hub.auth)
    if source == "ldap" and isinstance(hub.auth, LdapAuth) and group not in hub.auth.groups:
        return (
            f"LDAP users carry only the groups named in hubs.{i}.auth.groups; add `{group}: <group DN>` there "
            "(the DN whose members get this group)"
        )
    if source == "github" and not _GITHUB_GROUP.match(group):
        if group.lower().startswith(GITHUB_PREFIX):
            instead = f"write {group.lower()!r}"
        elif ":" in group:
            instead = f"write {github_group(group)!r}"
        else:
            instead = f"e.g. {github_group('my-org:' + group)!r}"
        return (
            f"GitHub users carry only the groups `github_<org>` and `github_<org>_<team-slug>` (lower case); {instead}"
        )
    if source == "globus" and not _GLOBUS_GROUP.match(group):
        return "Globus users carry only the groups `globus_<Globus group UUID>` (lower case), e.g. " + repr(
            GLOBUS_PREFIX + "4c2e6b8a-1f0d-4b7e-9a3c-5d6e7f8a9b0c"
        )
    return None


def _groups_supplied(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A profile restricted to a group no user can carry is offered to nobody but admins (a silent 403)."""
    for i, hub in enumerate(cfg.hubs):
        reported: set[tuple[str, str]] = set()
        for path, group in _named_groups(i, hub):
            problem = _unsupplied(hub, i, group)
            if problem and (path, problem) not in reported:
                reported.add((path, problem))
                yield ConfigIssue(path, f"{group!r}: {problem}")


def _ldap_group_dns(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """One JupyterHub group per LDAP group DN (the hub maps each DN to exactly one name)."""
    for i, hub in enumerate(cfg.hubs):
        if not isinstance(hub.auth, LdapAuth):
            continue
        seen: dict[str, str] = {}
        for name, dn in hub.auth.groups.items():
            key = dn.strip().lower()
            if key in seen:
                yield ConfigIssue(f"hubs.{i}.auth.groups.{name}", f"the DN is also mapped to {seen[key]!r}: map each DN once")
            seen.setdefault(key, name)


def _admin_access_removed(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for i, hub in enumerate(cfg.hubs):
        if hub.admin_access is not None:
            yield ConfigIssue(
                f"hubs.{i}.admin_access",
                "JupyterHub 5 ignores admin_access (admins can always open users' servers): remove it, keep "
                "admin_users to the platform team and give course staff `staff: {groups: [...], access_servers: false}`",
            )


HUB_GROUPS_CHECKS = [_groups_supplied, _ldap_group_dns, _admin_access_removed]
