"""Rules tying each hub's audience to YuniKorn: who can see a profile must be admitted by its queue,
and group names must be names a YuniKorn ACL can hold (see `config.hub_groups`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.hub_auth import GenericOAuth, LdapAuth
from config.hub_groups import admin_groups, group_source, login_groups
from config.hubs import HubConfig
from config.scheduler import ACL_GROUP_PATTERN

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def hub_login_groups(hub: HubConfig) -> list[str] | None:
    """The JupyterHub groups every user of the hub belongs to one of; None: anyone may log in (or the
    login rule gives users no JupyterHub group)."""
    return login_groups(hub.auth)


def hub_admin_groups(hub: HubConfig) -> list[str]:
    """JupyterHub groups whose members are admins of the hub."""
    return admin_groups(hub.auth)


def _queue_admits_audience(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Everyone who can see a profile is admitted by its queue's submit ACL.

    YuniKorn does not refuse a server whose queue's ACL refuses the user: it tries the next placement rule.
    Whoever sees a profile (its allowed groups, else the hub's login groups, plus the hub's admins) must
    therefore be granted by the queue (or an ancestor), or their server is rejected at spawn."""
    scheduler = getattr(cfg, "scheduler", None)
    if scheduler is None:
        return
    for i, hub in enumerate(cfg.hubs):
        admins = hub_admin_groups(hub)
        for j, profile in enumerate(hub.profiles):
            access = scheduler.submit_access(profile.queue)
            if access is None or access.everyone:
                continue
            refused: list[str] = []
            groups = list(profile.allowed_groups) or hub_login_groups(hub)
            if groups is None:
                refused.append("every user of the hub (no allowed groups restrict who sees this profile)")
            else:
                refused += [f"group {g!r}" for g in groups if not access.admits_group(g)]
            refused += [f"admin user {u!r}" for u in hub.admin_users if not access.admits_user(u)]
            refused += [f"admin group {g!r}" for g in admins if not access.admits_group(g) and g not in (groups or [])]
            if refused:
                yield ConfigIssue(
                    f"hubs.{i}.profiles.{j}.queue",
                    f"{profile.queue} would refuse {', '.join(refused)}, who can see this profile: YuniKorn would "
                    "reject their servers. Grant them in the queue's submit_acl or narrow the profile's allowed_groups",
                )


def _group_names(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Group names in the config must be names a YuniKorn ACL can hold (not Keycloak paths like `/students`)."""
    for i, hub in enumerate(cfg.hubs):
        auth = hub.auth
        lists: list[tuple[str, list[str]]] = []
        if group_source(auth) in ("claim", "admin"):
            # Other authenticators' group names have a fixed shape (`config.hub_groups_rules` checks it).
            lists += [(f"hubs.{i}.profiles.{j}.allowed_groups", p.allowed_groups) for j, p in enumerate(hub.profiles)]
            lists.append((f"hubs.{i}.staff.groups", hub.staff.groups))
        if isinstance(auth, GenericOAuth):
            lists += [(f"hubs.{i}.auth.allowed_groups", auth.allowed_groups), (f"hubs.{i}.auth.admin_groups", auth.admin_groups)]
        if isinstance(auth, LdapAuth):
            lists.append((f"hubs.{i}.auth.groups", list(auth.groups)))
        for path, names in lists:
            bad = [g for g in names if not ACL_GROUP_PATTERN.match(g)]
            if bad:
                hint = " (Keycloak: turn off 'Full group path' in the groups mapper)" if any("/" in g for g in bad) else ""
                yield ConfigIssue(
                    path,
                    f"{', '.join(repr(g) for g in bad)} cannot be matched by YuniKorn's queue ACLs: use a letter first, "
                    f"then letters, digits, `_` and `-` only, e.g. `gpu-users`{hint}",
                )


HUB_ACCESS_CHECKS = [_queue_admits_audience, _group_names]
