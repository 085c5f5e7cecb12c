"""JupyterHub roles and admin-managed groups of one hub (`hub.loadRoles`, `load_groups`; pure).

JupyterHub 5 ignores `admin_access`: the built-in `admin` role always holds `access:servers`. So the
platform admins (`admin_users`) keep that role, and course staff get a `staff` role that manages users
and servers with `access:servers` only where the hub allows it (`staff.access_servers`).
"""

from __future__ import annotations

from typing import Any

from config.hub_groups import group_source
from config.hubs import HubConfig

STAFF_ROLE = "staff"
# Manage users and servers: the admin page, user models (not their auth state or tokens: `admin:users`
# would include OAuth tokens in auth_state), starting and stopping servers, reading groups.
STAFF_SCOPES = ["admin-ui", "list:users", "users", "servers", "list:groups", "read:groups"]
# Where groups are not supplied by the authenticator, staff keep membership up to date themselves.
ADMIN_MANAGED_GROUP_SCOPES = ["groups"]
OPEN_SERVERS_SCOPE = "access:servers"


def staff_scopes(hub: HubConfig) -> list[str]:
    scopes = list(STAFF_SCOPES)
    if group_source(hub.auth) == "admin":
        scopes += ADMIN_MANAGED_GROUP_SCOPES
    if hub.staff.access_servers:
        scopes.append(OPEN_SERVERS_SCOPE)
    return scopes


def load_roles(hub: HubConfig) -> dict[str, dict[str, Any]]:
    """`hub.loadRoles` (the chart turns the dict into `JupyterHub.load_roles`)."""
    roles: dict[str, dict[str, Any]] = {}
    # No entry for the built-in `admin` role: its scopes and description cannot be changed, JupyterHub 5.5
    # crashes at start-up when it is given to a group, and it warns when it names users beside admin_users.
    # Platform admins stay `admin_users` and the authenticator's admin groups.
    if hub.staff.defined:
        opens = "may open users' servers" if hub.staff.access_servers else "may not open users' servers (privacy)"
        roles[STAFF_ROLE] = {
            "description": f"Course staff: manage users and start or stop their servers; {opens}",
            "scopes": staff_scopes(hub),
            "users": sorted(hub.staff.users),
            "groups": sorted(hub.staff.groups),
        }
    return roles


def admin_managed_groups(hub: HubConfig) -> dict[str, dict[str, list[str]]]:
    """`JupyterHub.load_groups` where hub admins manage membership: every group a profile or the staff role
    names exists (empty) from the start, so it can be filled on the admin page. Loading only adds."""
    if group_source(hub.auth) != "admin":
        return {}
    names = {g for p in hub.profiles for g in p.allowed_groups} | set(hub.staff.groups)
    return {name: {"users": []} for name in sorted(names)}
