# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: each user sees only the profiles of their JupyterHub groups (admins see all of those) whose
# YuniKorn queue admits them: a server in a queue whose ACL refuses its user would be rejected.
# Rendered into hub.extraConfig by jupyterhub-platform; runs inside the chart's jupyterhub_config.py.
import copy

from tornado import web
from z2jh import get_config

_platform_all_profiles = get_config("singleuser.profileList", []) or []
_platform_profile_groups = get_config("custom.platform.profileGroups", {}) or {}
_platform_queue_access = get_config("custom.platform.queueAccess", {}) or {}


def platform_queue_admits(access, user_name, user_groups):
    """The queue's submit ACLs (leaf to root, as YuniKorn checks them) grant this user or one of its groups."""
    if access is None:
        return False
    return bool(access.get("everyone")) or user_name in access.get("users", []) or bool(
        set(access.get("groups", [])) & set(user_groups)
    )


def platform_visible_profiles(profiles, user_name, user_groups, is_admin, groups_by_slug, access_by_slug):
    """Profiles open to the user's groups (or to everyone; admins: all) whose queue admits the user."""
    visible = []
    for profile in profiles:
        allowed = set(groups_by_slug.get(profile["slug"], []))
        if not (is_admin or not allowed or allowed & set(user_groups)):
            continue
        if not platform_queue_admits(access_by_slug.get(profile["slug"]), user_name, user_groups):
            continue
        visible.append(copy.deepcopy(profile))
    if visible and not any(p.get("default") for p in visible):
        visible[0]["default"] = True
    return visible


def platform_profile_list(spawner):
    user = spawner.user
    groups = {g.name for g in user.groups}
    visible = platform_visible_profiles(
        _platform_all_profiles, user.name, groups, bool(user.admin), _platform_profile_groups, _platform_queue_access
    )
    if not visible:
        # An empty list would silently spawn with the chart's defaults, outside every queue rule.
        raise web.HTTPError(403, "No server profile is available to your groups; ask your course staff.")
    return visible


c.KubeSpawner.profile_list = platform_profile_list
