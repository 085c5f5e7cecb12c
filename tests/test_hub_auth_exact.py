"""Authenticator settings of each login type compared whole: the traitlets config (class, callback,
scopes, groups, admins, `allow_all` only where nothing else restricts logins), which secret each
environment variable comes from, and the hub's custom values. Secrets never appear in the values."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.jupyterhub.auth import AuthValues, auth_values, callback_url, github_orgs
from config.hubs import HubConfig
from tests.hub_fixtures import HUB

CALLBACK = "https://hub.example.org/hub/oauth_callback"
SECRET_ENV = {"PLATFORM_OAUTH_CLIENT_SECRET": "platform.oauth-client-secret"}


def hub(auth: dict[str, Any], **changes: Any) -> HubConfig:
    return HubConfig.model_validate({**copy.deepcopy(HUB), "auth": auth, "admin_users": ["zed", "alice"], **changes})


def test_callback_url() -> None:
    assert callback_url(hub(HUB["auth"])) == CALLBACK


def test_generic_oauth_with_an_issuer() -> None:
    auth = {**HUB["auth"], "admin_groups": ["ops", "admins"]}
    assert auth_values(hub(auth)) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "oauthenticator.generic.GenericOAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"], "allow_all": True, "enable_auth_state": True},
            "GenericOAuthenticator": {
                "client_id": "jupyter",
                "oauth_callback_url": CALLBACK,
                "username_claim": "preferred_username",
                "scope": ["openid", "profile", "email"],
                "login_service": "institution login",
                "manage_groups": True,
                "auth_state_groups_key": "oauth_user.groups",
                "admin_groups": ["admins", "ops"],
            },
        },
        SECRET_ENV,
        {
            "class": "GenericOAuthenticator",
            "clientSecretEnv": "PLATFORM_OAUTH_CLIENT_SECRET",
            "oidcIssuer": "https://idp.example.org/realms/uni",
        },
    )


def test_generic_oauth_with_endpoints_and_allowed_groups() -> None:
    auth = {
        "type": "generic-oauth",
        "client_id": "c",
        "authorize_url": "https://idp.example.org/auth",
        "token_url": "https://idp.example.org/token",
        "userdata_url": "https://idp.example.org/userinfo",
        "groups_claim": None,
        "allowed_groups": ["students", "staff"],
    }
    values = auth_values(hub(auth))
    assert values.config["Authenticator"] == {"admin_users": ["alice", "zed"], "enable_auth_state": True}
    assert values.config["GenericOAuthenticator"] == {
        "client_id": "c",
        "oauth_callback_url": CALLBACK,
        "username_claim": "preferred_username",
        "scope": ["openid", "profile", "email"],
        "login_service": "institution login",
        "authorize_url": "https://idp.example.org/auth",
        "token_url": "https://idp.example.org/token",
        "userdata_url": "https://idp.example.org/userinfo",
        "allowed_groups": ["staff", "students"],
    }
    assert values.custom == {"class": "GenericOAuthenticator", "clientSecretEnv": "PLATFORM_OAUTH_CLIENT_SECRET"}


def test_github() -> None:
    auth = {"type": "github", "client_id": "gh", "allowed_organizations": ["Uni:TAs", "uni"], "admin_teams": ["uni:ops"]}
    profiles = [{**HUB["profiles"][1], "allowed_groups": ["github_other", "github_uni_tas", "staff"]}]
    configured = hub(auth, profiles=profiles, staff={"groups": ["github_third"]})
    assert github_orgs(configured) == ["other", "third", "uni"]
    assert auth_values(configured) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "oauthenticator.github.GitHubOAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"], "enable_auth_state": True},
            "GitHubOAuthenticator": {
                "client_id": "gh",
                "oauth_callback_url": CALLBACK,
                "allowed_organizations": ["Uni:TAs", "uni"],
                "populate_teams_in_auth_state": True,
                "manage_groups": True,
                "scope": ["read:org"],
                "admin_groups": ["github_uni_ops"],
            },
        },
        SECRET_ENV,
        {
            "class": "GitHubOAuthenticator",
            "clientSecretEnv": "PLATFORM_OAUTH_CLIENT_SECRET",
            "githubGroups": True,
            "githubOrgs": ["other", "third", "uni"],
        },
    )
    plain = auth_values(hub({"type": "github", "client_id": "gh", "allowed_organizations": ["uni"]}))
    assert "admin_groups" not in plain.config["GitHubOAuthenticator"]


def test_globus() -> None:
    scope = ["openid", "profile", "email", "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"]
    auth = {
        "type": "globus",
        "client_id": "g",
        "identity_provider": "uni.edu",
        "allowed_globus_groups": ["b", "a"],
        "admin_globus_groups": ["z", "y"],
    }
    assert auth_values(hub(auth)) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "oauthenticator.globus.GlobusOAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"], "enable_auth_state": True},
            "GlobusOAuthenticator": {
                "client_id": "g",
                "oauth_callback_url": CALLBACK,
                "scope": scope,
                "manage_groups": True,
                "identity_provider": "uni.edu",
                "allowed_globus_groups": ["a", "b"],
                "admin_globus_groups": ["y", "z"],
            },
        },
        SECRET_ENV,
        {"class": "GlobusOAuthenticator", "clientSecretEnv": "PLATFORM_OAUTH_CLIENT_SECRET", "globusGroups": True},
    )
    by_provider = auth_values(hub({"type": "globus", "client_id": "g", "identity_provider": "uni.edu"}))
    assert by_provider.config["Authenticator"] == {"admin_users": ["alice", "zed"], "allow_all": True, "enable_auth_state": True}
    assert by_provider.config["GlobusOAuthenticator"] == {
        "client_id": "g",
        "oauth_callback_url": CALLBACK,
        "scope": scope,
        "manage_groups": True,
        "identity_provider": "uni.edu",
    }


def test_ldap_with_a_search_user() -> None:
    auth = {
        "type": "ldap",
        "server_address": "ldap.example.org",
        "lookup_dn": True,
        "user_search_base": "ou=people,dc=uni",
        "lookup_dn_search_user": "cn=reader,dc=uni",
        "allowed_groups": ["cn=students,dc=uni"],
        "groups": {"staff": "cn=staff,dc=uni", "students": "cn=students,dc=uni"},
    }
    assert auth_values(hub(auth)) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "ldapauthenticator.LDAPAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"]},
            "LDAPAuthenticator": {
                "server_address": "ldap.example.org",
                "server_port": 636,
                "tls_strategy": "on_connect",
                "user_attribute": "uid",
                "manage_groups": True,
                "lookup_dn": True,
                "user_search_base": "ou=people,dc=uni",
                "lookup_dn_search_user": "cn=reader,dc=uni",
                "lookup_dn_user_dn_attribute": "uid",
                "allowed_groups": ["cn=students,dc=uni", "cn=staff,dc=uni"],
            },
        },
        {"PLATFORM_LDAP_BIND_PASSWORD": "platform.ldap-bind-password"},
        {
            "class": "LDAPAuthenticator",
            "ldapGroups": {"cn=staff,dc=uni": "staff", "cn=students,dc=uni": "students"},
            "ldapLoginGroups": ["cn=students,dc=uni"],
            "bindPasswordEnv": "PLATFORM_LDAP_BIND_PASSWORD",
        },
    )


def test_ldap_with_a_bind_template() -> None:
    auth = {"type": "ldap", "server_address": "ldap.example.org", "bind_dn_template": ["uid={username},ou=people"]}
    assert auth_values(hub(auth)) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "ldapauthenticator.LDAPAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"], "allow_all": True},
            "LDAPAuthenticator": {
                "server_address": "ldap.example.org",
                "server_port": 636,
                "tls_strategy": "on_connect",
                "user_attribute": "uid",
                "manage_groups": True,
                "bind_dn_template": ["uid={username},ou=people"],
            },
        },
        {},
        {"class": "LDAPAuthenticator", "ldapGroups": {}, "ldapLoginGroups": []},
    )


def test_native() -> None:
    auth = {
        "type": "native",
        "open_signup": True,
        "minimum_password_length": 14,
        "check_common_password": False,
        "allowed_failed_logins": 3,
    }
    assert auth_values(hub(auth)) == AuthValues(
        {
            "JupyterHub": {"authenticator_class": "nativeauthenticator.NativeAuthenticator"},
            "Authenticator": {"admin_users": ["alice", "zed"], "allow_all": True},
            "NativeAuthenticator": {
                "open_signup": True,
                "minimum_password_length": 14,
                "check_common_password": False,
                "allowed_failed_logins": 3,
            },
        },
        {},
        {"class": "NativeAuthenticator"},
    )


def test_dummy_is_not_deployable() -> None:
    with pytest.raises(ValueError, match=r"^hub teaching: authenticator 'dummy' is not deployable$"):
        auth_values(hub({"type": "dummy"}))
