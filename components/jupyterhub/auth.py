"""Authenticator settings of one hub: plain traitlets config plus where its secrets come from (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.hub_auth import GenericOAuth, GitHubAuth, GlobusAuth, LdapAuth, NativeAuth
from config.hub_groups import GITHUB_PREFIX, github_group, ldap_group_names
from config.hubs import HubConfig

CLIENT_SECRET_ENV = "PLATFORM_OAUTH_CLIENT_SECRET"
BIND_PASSWORD_ENV = "PLATFORM_LDAP_BIND_PASSWORD"
# Keys of the platform's k8s Secret (beside the chart's own `hub.config...` keys it overrides).
CLIENT_SECRET_KEY = "platform.oauth-client-secret"
BIND_PASSWORD_KEY = "platform.ldap-bind-password"
GLOBUS_GROUPS_SCOPE = "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"


@dataclass(frozen=True)
class AuthValues:
    """What the values renderer puts under `hub.config`, `hub.extraEnv` and `custom.platform.auth`."""

    config: dict[str, dict[str, Any]]
    env_from_secret: dict[str, str] = field(default_factory=dict)
    """Environment variable -> key in the platform Secret."""
    custom: dict[str, Any] = field(default_factory=dict)


def callback_url(hub: HubConfig) -> str:
    return f"https://{hub.host}/hub/oauth_callback"


def _common(hub: HubConfig, allow_all: bool) -> dict[str, Any]:
    authenticator: dict[str, Any] = {"admin_users": sorted(hub.admin_users)}
    if allow_all:
        # JupyterHub 5 lets nobody in without an explicit allow rule.
        authenticator["allow_all"] = True
    return authenticator


def github_orgs(hub: HubConfig) -> list[str]:
    """Organisations whose membership the hub checks at login (for the `github_<org>` groups): the allowed
    ones and those profiles and staff name. Teams come from the user's team list, so they need no check."""
    assert isinstance(hub.auth, GitHubAuth)
    orgs = {spec.partition(":")[0].lower() for spec in hub.auth.allowed_organizations}
    named = {g for p in hub.profiles for g in p.allowed_groups} | set(hub.staff.groups)
    bare = (g.removeprefix(GITHUB_PREFIX) for g in named if g.startswith(GITHUB_PREFIX))
    orgs |= {org for org in bare if "_" not in org}
    return sorted(orgs)


def auth_values(hub: HubConfig) -> AuthValues:
    auth = hub.auth
    if isinstance(auth, GenericOAuth):
        cls = "GenericOAuthenticator"
        settings: dict[str, Any] = {
            "client_id": auth.client_id,
            "oauth_callback_url": callback_url(hub),
            "username_claim": auth.username_claim,
            "scope": list(auth.scope),
            "login_service": auth.login_service,
        }
        for key in ("authorize_url", "token_url", "userdata_url"):
            if getattr(auth, key) is not None:
                settings[key] = str(getattr(auth, key))
        if auth.groups_claim:
            settings["manage_groups"] = True
            settings["auth_state_groups_key"] = f"oauth_user.{auth.groups_claim}"
        if auth.allowed_groups:
            settings["allowed_groups"] = sorted(auth.allowed_groups)
        if auth.admin_groups:
            settings["admin_groups"] = sorted(auth.admin_groups)
        custom = {"class": cls, "clientSecretEnv": CLIENT_SECRET_ENV}
        if auth.issuer is not None:
            custom["oidcIssuer"] = str(auth.issuer)
        return AuthValues(
            {
                "JupyterHub": {"authenticator_class": "oauthenticator.generic.GenericOAuthenticator"},
                "Authenticator": {**_common(hub, not auth.allowed_groups), "enable_auth_state": True},
                cls: settings,
            },
            {CLIENT_SECRET_ENV: CLIENT_SECRET_KEY},
            custom,
        )
    if isinstance(auth, GitHubAuth):
        cls = "GitHubOAuthenticator"
        settings = {
            "client_id": auth.client_id,
            "oauth_callback_url": callback_url(hub),
            "allowed_organizations": sorted(auth.allowed_organizations),
            "populate_teams_in_auth_state": True,
            "manage_groups": True,
            "scope": ["read:org"],
        }
        if auth.admin_teams:
            settings["admin_groups"] = sorted(github_group(t) for t in auth.admin_teams)
        return AuthValues(
            {
                "JupyterHub": {"authenticator_class": "oauthenticator.github.GitHubOAuthenticator"},
                "Authenticator": {**_common(hub, False), "enable_auth_state": True},
                cls: settings,
            },
            {CLIENT_SECRET_ENV: CLIENT_SECRET_KEY},
            {"class": cls, "clientSecretEnv": CLIENT_SECRET_ENV, "githubGroups": True, "githubOrgs": github_orgs(hub)},
        )
    if isinstance(auth, GlobusAuth):
        cls = "GlobusOAuthenticator"
        settings = {
            "client_id": auth.client_id,
            "oauth_callback_url": callback_url(hub),
            # The groups scope (the authenticator asks for it only with allowed/admin groups): every user's
            # Globus Groups become JupyterHub groups.
            "scope": ["openid", "profile", "email", GLOBUS_GROUPS_SCOPE],
            "manage_groups": True,
        }
        if auth.identity_provider:
            settings["identity_provider"] = auth.identity_provider
        if auth.allowed_globus_groups:
            settings["allowed_globus_groups"] = sorted(auth.allowed_globus_groups)
        if auth.admin_globus_groups:
            settings["admin_globus_groups"] = sorted(auth.admin_globus_groups)
        return AuthValues(
            {
                "JupyterHub": {"authenticator_class": "oauthenticator.globus.GlobusOAuthenticator"},
                "Authenticator": {**_common(hub, not auth.allowed_globus_groups), "enable_auth_state": True},
                cls: settings,
            },
            {CLIENT_SECRET_ENV: CLIENT_SECRET_KEY},
            {"class": cls, "clientSecretEnv": CLIENT_SECRET_ENV, "globusGroups": True},
        )
    if isinstance(auth, LdapAuth):
        cls = "LDAPAuthenticator"
        settings = {
            "server_address": auth.server_address,
            "server_port": auth.server_port,
            "tls_strategy": auth.tls_strategy,
            "user_attribute": auth.user_attribute,
            "manage_groups": True,
        }
        if auth.bind_dn_template:
            settings["bind_dn_template"] = list(auth.bind_dn_template)
        if auth.lookup_dn:
            settings.update(
                lookup_dn=True,
                user_search_base=auth.user_search_base,
                lookup_dn_search_user=auth.lookup_dn_search_user,
                lookup_dn_user_dn_attribute=auth.lookup_dn_user_dn_attribute,
            )
        # LDAPAuthenticator looks up membership only of its `allowed_groups` (into auth_state["ldap_groups"])
        # and admits members of any of them: the group DNs go there too, and the hub's post-auth hook keeps
        # the login rule to the configured `allowed_groups` and names the groups.
        group_dns = list(dict.fromkeys([*auth.allowed_groups, *auth.groups.values()]))
        if group_dns:
            settings["allowed_groups"] = group_dns
        env = {BIND_PASSWORD_ENV: BIND_PASSWORD_KEY} if auth.lookup_dn_search_user else {}
        ldap_custom: dict[str, Any] = {
            "class": cls,
            "ldapGroups": ldap_group_names(auth),
            "ldapLoginGroups": list(auth.allowed_groups),
        }
        if env:
            ldap_custom["bindPasswordEnv"] = BIND_PASSWORD_ENV
        return AuthValues(
            {
                "JupyterHub": {"authenticator_class": "ldapauthenticator.LDAPAuthenticator"},
                "Authenticator": _common(hub, not auth.allowed_groups),
                cls: settings,
            },
            env,
            ldap_custom,
        )
    if isinstance(auth, NativeAuth):
        cls = "NativeAuthenticator"
        settings = {
            "open_signup": auth.open_signup,
            "minimum_password_length": auth.minimum_password_length,
            "check_common_password": auth.check_common_password,
            "allowed_failed_logins": auth.allowed_failed_logins,
        }
        return AuthValues(
            {
                "JupyterHub": {"authenticator_class": "nativeauthenticator.NativeAuthenticator"},
                # NativeAuthenticator's own admin approval is the gate; allow_all only lets approved users in.
                "Authenticator": _common(hub, True),
                cls: settings,
            },
            {},
            {"class": cls},
        )
    raise ValueError(f"hub {hub.name}: authenticator {auth.type!r} is not deployable")
