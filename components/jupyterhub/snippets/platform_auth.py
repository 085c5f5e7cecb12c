# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: authenticator secrets and discovery (rendered into hub.extraConfig by jupyterhub-platform).
# Secrets arrive as environment variables from the platform's own k8s Secret, never in Helm values.
# Runs inside the chart's jupyterhub_config.py, where `c` is the traitlets config.
import json
import os
import urllib.request

from z2jh import get_config

_platform_auth = get_config("custom.platform.auth", {}) or {}
_auth_class = _platform_auth.get("class")

if _platform_auth.get("clientSecretEnv"):
    c[_auth_class].client_secret = os.environ[_platform_auth["clientSecretEnv"]]

if _platform_auth.get("bindPasswordEnv"):
    c[_auth_class].lookup_dn_search_password = os.environ[_platform_auth["bindPasswordEnv"]]

if _platform_auth.get("oidcIssuer"):
    # OIDC discovery once at start-up; bounded, and a failure restarts the hub (which retries).
    _discovery_url = _platform_auth["oidcIssuer"].rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(_discovery_url, timeout=20) as _response:
        _discovery = json.load(_response)
    c[_auth_class].authorize_url = _discovery["authorization_endpoint"]
    c[_auth_class].token_url = _discovery["token_endpoint"]
    c[_auth_class].userdata_url = _discovery["userinfo_endpoint"]


# JupyterHub groups get names YuniKorn's queue ACLs can hold (a letter first; letters, digits, `_`, `-`):
# the mapping documented in the platform's config/hub_groups.py (a test keeps the two equal).
PLATFORM_GITHUB_PREFIX = "github_"
PLATFORM_GLOBUS_PREFIX = "globus_"


def platform_github_group(org, team=None):
    """Organisation `Uni` -> `github_uni`; team `Uni:CS101-Staff` -> `github_uni_cs101-staff`."""
    return (f"{PLATFORM_GITHUB_PREFIX}{org}_{team}" if team else f"{PLATFORM_GITHUB_PREFIX}{org}").lower()


def platform_github_groups(auth_state):
    """The user's GitHub teams (all of them) and the organisations the hub checked (see below)."""
    state = auth_state or {}
    teams = {platform_github_group(t["organization"]["login"], t["slug"]) for t in state.get("teams") or []}
    orgs = {platform_github_group(org) for org in state.get("platform_orgs") or []}
    return sorted(teams | orgs)


async def platform_github_orgs(authenticator, auth_state):
    """Before groups are computed: which of the organisations the config names the user belongs to, checked
    the way the authenticator checks `allowed_organizations` (a user in no team of an org has no team entry)."""
    token = auth_state["token_response"]
    login = auth_state["github_user"]["login"]
    member_of = []
    for org in _platform_auth.get("githubOrgs", []):
        if await authenticator._check_membership_allowed_organizations(
            org, login, token["access_token"], token.get("token_type", "bearer")
        ):
            member_of.append(org)
    auth_state["platform_orgs"] = member_of
    return auth_state


if _platform_auth.get("githubGroups"):
    c[_auth_class].modify_auth_state_hook = platform_github_orgs
    c[_auth_class].auth_state_groups_key = platform_github_groups


def platform_globus_groups(auth_state):
    """Globus group ids (fetched by the authenticator under manage_groups) -> `globus_<id>`."""
    return sorted(PLATFORM_GLOBUS_PREFIX + g.lower() for g in (auth_state or {}).get("globus_groups") or [])


if _platform_auth.get("globusGroups"):
    c[_auth_class].auth_state_groups_key = platform_globus_groups


def platform_ldap_groups(authenticator, handler, authentication):
    """LDAPAuthenticator reports membership of the configured group DNs in auth_state["ldap_groups"]; they
    become the JupyterHub groups named in the config. It admits members of any of those DNs, so the login
    rule (`allowed_groups`) is enforced here: None refuses the login."""
    member_of = set((authentication.get("auth_state") or {}).get("ldap_groups") or [])
    login_dns = _platform_auth.get("ldapLoginGroups") or []
    if login_dns and not member_of & set(login_dns):
        authenticator.log.warning("User %s is in none of the allowed LDAP groups", authentication["name"])
        return None
    names = _platform_auth.get("ldapGroups") or {}
    authentication["groups"] = sorted({names[dn] for dn in member_of if dn in names})
    return authentication


if _platform_auth.get("class") == "LDAPAuthenticator":
    c[_auth_class].post_auth_hook = platform_ldap_groups
