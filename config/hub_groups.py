"""Where a hub's JupyterHub groups come from, and the names they get.

A notebook's JupyterHub groups go verbatim into its YuniKorn `user.info`, and queue ACLs hold only
names matching `config.scheduler.ACL_GROUP_PATTERN` (a letter or `_` first, then letters, digits, `_`,
`-`): YuniKorn silently drops any other name from an ACL. So every authenticator's groups get names of
that shape, and profiles, staff and queue ACLs are written with exactly those names:

- `generic-oauth` with `groups_claim`: the claim's values, as the provider sends them (checked ACL-safe);
- `generic-oauth` without `groups_claim`, and `native`: managed by hub admins on the admin page; any
  ACL-safe name; the groups profiles and staff name are created (empty) at start-up;
- `ldap`: membership of the DNs named in `auth.groups`, under the name given there
  (`gpu-users: cn=GPU Users,ou=groups,dc=uni,dc=edu`);
- `github`: the user's organisations and teams, organisation `Uni` -> `github_uni`, team
  `Uni:CS101-Staff` -> `github_uni_cs101-staff`;
- `globus`: the user's Globus Groups, group id `4c2e...` -> `globus_4c2e...`.

The GitHub mapping is collision-free: organisation logins contain no `_`, so the first `_` after the
prefix ends the organisation. The hub applies the same mapping (`snippets/platform_auth.py`; a test keeps
the two equal), and the queue-ACL rules use these functions.
"""

from __future__ import annotations

from typing import Literal

from config.hub_auth import GenericOAuth, GitHubAuth, GlobusAuth, HubAuth, LdapAuth, NativeAuth

GITHUB_PREFIX = "github_"
GLOBUS_PREFIX = "globus_"

GroupSource = Literal["claim", "admin", "ldap", "github", "globus", "none"]


def github_group(spec: str) -> str:
    """JupyterHub group of a GitHub organisation (`org`) or team (`org:team-slug`)."""
    org, _, team = spec.partition(":")
    return (f"{GITHUB_PREFIX}{org}_{team}" if team else f"{GITHUB_PREFIX}{org}").lower()


def globus_group(group_id: str) -> str:
    """JupyterHub group of a Globus group (its UUID)."""
    return f"{GLOBUS_PREFIX}{group_id}".lower()


def group_source(auth: HubAuth) -> GroupSource:
    """Who decides a user's JupyterHub groups on a hub with this authenticator."""
    if isinstance(auth, GenericOAuth):
        return "claim" if auth.groups_claim else "admin"
    if isinstance(auth, NativeAuth):
        return "admin"
    if isinstance(auth, LdapAuth):
        return "ldap"
    if isinstance(auth, GitHubAuth):
        return "github"
    if isinstance(auth, GlobusAuth):
        return "globus"
    return "none"


def ldap_group_names(auth: LdapAuth) -> dict[str, str]:
    """Group DN -> JupyterHub group name (only the DNs named in `auth.groups`)."""
    return {dn: name for name, dn in auth.groups.items()}


def login_groups(auth: HubAuth) -> list[str] | None:
    """JupyterHub groups one of which every user of the hub belongs to; None: no such list (anyone the
    authenticator admits, or a login rule that gives no group)."""
    if isinstance(auth, GenericOAuth) and auth.groups_claim and auth.allowed_groups:
        return list(auth.allowed_groups)
    if isinstance(auth, GitHubAuth):
        return [github_group(spec) for spec in auth.allowed_organizations]
    if isinstance(auth, GlobusAuth) and auth.allowed_globus_groups and not auth.identity_provider:
        return [globus_group(g) for g in auth.allowed_globus_groups]
    if isinstance(auth, LdapAuth) and auth.allowed_groups:
        names = ldap_group_names(auth)
        if all(dn in names for dn in auth.allowed_groups):
            return [names[dn] for dn in auth.allowed_groups]
    return None


def admin_groups(auth: HubAuth) -> list[str]:
    """JupyterHub groups whose members are admins of the hub."""
    if isinstance(auth, GenericOAuth) and auth.groups_claim:
        return list(auth.admin_groups)
    if isinstance(auth, GitHubAuth):
        return [github_group(spec) for spec in auth.admin_teams]
    if isinstance(auth, GlobusAuth):
        return [globus_group(g) for g in auth.admin_globus_groups]
    return []
