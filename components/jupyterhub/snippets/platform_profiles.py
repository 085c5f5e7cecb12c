# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: each user sees only the profiles of their JupyterHub groups (admins see all).
# Rendered into hub.extraConfig by jupyterhub-platform; runs inside the chart's jupyterhub_config.py.
import copy

from tornado import web
from z2jh import get_config

_platform_all_profiles = get_config("singleuser.profileList", []) or []
_platform_profile_groups = get_config("custom.platform.profileGroups", {}) or {}


def platform_visible_profiles(profiles, user_groups, is_admin, groups_by_slug):
    """Profiles open to everyone or to one of `user_groups`; every profile for admins."""
    visible = []
    for profile in profiles:
        allowed = set(groups_by_slug.get(profile["slug"], []))
        if is_admin or not allowed or allowed & set(user_groups):
            visible.append(copy.deepcopy(profile))
    if visible and not any(p.get("default") for p in visible):
        visible[0]["default"] = True
    return visible


def platform_profile_list(spawner):
    groups = {g.name for g in spawner.user.groups}
    visible = platform_visible_profiles(_platform_all_profiles, groups, bool(spawner.user.admin), _platform_profile_groups)
    if not visible:
        # An empty list would silently spawn with the chart's defaults, outside every queue rule.
        raise web.HTTPError(403, "No server profile is available to your groups; ask your course staff.")
    return visible


c.KubeSpawner.profile_list = platform_profile_list
