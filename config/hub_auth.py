"""How users of one hub log in: a typed union of the authenticators the platform supports.

The `dummy` authenticator exists in the union only so the platform rule can refuse it with a clear
message at `hubs.N.auth.type` (it accepts any password).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from config.base import StrictModel
from config.fields import HttpsUrl, ldap_host

GROUP_NAME = Annotated[str, Field(min_length=1, max_length=255)]


class GenericOAuth(StrictModel):
    """OpenID Connect / OAuth2 against the institution's identity provider (Keycloak, Entra ID, Shibboleth OIDC...)."""

    type: Literal["generic-oauth"]
    """Discriminator."""
    client_id: Annotated[str, Field(min_length=1)]
    """OAuth client id registered at the identity provider (the secret is `hub_<name>_oauth_client_secret`)."""
    issuer: HttpsUrl | None = None
    """OIDC issuer; the hub reads `<issuer>/.well-known/openid-configuration` at start-up for the endpoints.
    Give either this or all three endpoint URLs."""
    authorize_url: HttpsUrl | None = None
    """Authorization endpoint (when there is no `issuer`)."""
    token_url: HttpsUrl | None = None
    """Token endpoint (when there is no `issuer`)."""
    userdata_url: HttpsUrl | None = None
    """Userinfo endpoint (when there is no `issuer`)."""
    username_claim: str = "preferred_username"
    """Claim that becomes the JupyterHub user name (stable, unique, human-readable)."""
    scope: list[str] = ["openid", "profile", "email"]
    """Scopes requested; add the one that releases the groups claim if your provider needs it."""
    groups_claim: str | None = "groups"
    """Claim with the user's groups; JupyterHub groups are then managed from it (`manage_groups`).
    None: groups are managed by hub admins instead."""
    allowed_groups: list[GROUP_NAME] = []
    """Only members of these groups may log in (empty: everyone the provider authenticates)."""
    admin_groups: list[GROUP_NAME] = []
    """Members of these groups are hub admins."""
    login_service: str = "institution login"
    """Text of the login button ("Sign in with ...")."""

    @model_validator(mode="after")
    def _endpoints(self) -> GenericOAuth:
        urls = (self.authorize_url, self.token_url, self.userdata_url)
        if self.issuer is None and not all(urls):
            raise ValueError("give `issuer` (OIDC discovery) or all of authorize_url, token_url and userdata_url")
        if self.issuer is not None and any(urls):
            raise ValueError("give either `issuer` or the endpoint URLs, not both")
        return self


class GitHubAuth(StrictModel):
    """GitHub OAuth app; organisations and teams become JupyterHub groups `github_<org>` and
    `github_<org>_<team-slug>` (lower case; see `config.hub_groups`)."""

    type: Literal["github"]
    """Discriminator."""
    client_id: Annotated[str, Field(min_length=1)]
    """OAuth app client id (the secret is `hub_<name>_oauth_client_secret`)."""
    allowed_organizations: Annotated[list[str], Field(min_length=1)]
    """Organisations (`org`) or teams (`org:team-slug`) whose members may log in. Required: an open
    GitHub login would let anyone on the internet use the cluster."""
    admin_teams: list[str] = []
    """Teams (`org:team-slug`) whose members are hub admins (their group is `github_<org>_<team-slug>`)."""


class GlobusAuth(StrictModel):
    """Globus Auth (research identity federation); the user's Globus Groups become JupyterHub groups
    `globus_<group uuid>`."""

    type: Literal["globus"]
    """Discriminator."""
    client_id: Annotated[str, Field(min_length=1)]
    """Globus app client id (the secret is `hub_<name>_oauth_client_secret`)."""
    identity_provider: str = ""
    """Only identities of this domain may log in (e.g. `university.edu`); empty: any Globus identity."""
    allowed_globus_groups: list[str] = []
    """Globus group UUIDs whose members may log in."""
    admin_globus_groups: list[str] = []
    """Globus group UUIDs whose members are hub admins."""

    @model_validator(mode="after")
    def _restricted(self) -> GlobusAuth:
        if not self.identity_provider and not self.allowed_globus_groups:
            raise ValueError("restrict logins with identity_provider or allowed_globus_groups")
        return self


class LdapAuth(StrictModel):
    """LDAP / Active Directory bind (LDAPAuthenticator)."""

    type: Literal["ldap"]
    """Discriminator."""
    server_address: Annotated[str, BeforeValidator(ldap_host)]
    """LDAP server host name (TLS is chosen by `tls_strategy`, so no `ldaps://` in front)."""
    server_port: Annotated[int, Field(ge=1, le=65535)] = 636
    """LDAP port (636 for LDAPS)."""
    tls_strategy: Literal["on_connect", "before_bind"] = "on_connect"
    """`on_connect` (LDAPS) or `before_bind` (StartTLS). Plain-text LDAP is not offered: passwords cross it."""
    bind_dn_template: list[str] = []
    """DN templates tried for the user, with `{username}`, e.g. `uid={username},ou=people,dc=uni,dc=edu`."""
    lookup_dn: bool = False
    """Search the user's DN first (AD style) instead of using `bind_dn_template`."""
    lookup_dn_search_user: str | None = None
    """DN of the service account used for the search (its password is `hub_<name>_ldap_bind_password`)."""
    user_search_base: str | None = None
    """Search base for users when `lookup_dn` is on."""
    user_attribute: str = "uid"
    """Attribute matched against the typed user name (`sAMAccountName` on AD)."""
    lookup_dn_user_dn_attribute: str = "uid"
    """Attribute whose value becomes the JupyterHub user name after a DN lookup."""
    allowed_groups: list[str] = []
    """Group DNs whose members may log in (empty: every user the directory authenticates)."""
    groups: dict[GROUP_NAME, Annotated[str, Field(min_length=3)]] = {}
    """JupyterHub group name -> group DN, e.g. `gpu-users: cn=GPU Users,ou=groups,dc=uni,dc=edu`: members
    of each DN get that JupyterHub group at every login (LDAPAuthenticator reports membership only of the
    DNs it is told about). Name the `allowed_groups` DNs here too to give them a group."""

    @model_validator(mode="after")
    def _binding(self) -> LdapAuth:
        if not self.lookup_dn and not self.bind_dn_template:
            raise ValueError("set bind_dn_template, or lookup_dn with user_search_base")
        if self.lookup_dn and not self.user_search_base:
            raise ValueError("lookup_dn needs user_search_base")
        return self


class NativeAuth(StrictModel):
    """NativeAuthenticator: accounts kept in the hub database, each authorised by an admin."""

    type: Literal["native"]
    """Discriminator."""
    open_signup: bool = False
    """Let new accounts log in without an admin authorising them (off: an admin approves each one)."""
    minimum_password_length: Annotated[int, Field(ge=8)] = 12
    """Shortest password accepted at sign-up."""
    check_common_password: bool = True
    """Refuse passwords from the common-password list."""
    allowed_failed_logins: Annotated[int, Field(ge=0)] = 5
    """Failed logins before a temporary block (0: never block)."""


class DummyAuth(StrictModel):
    """Accepted by the parser only to be refused by a rule with a clear message."""

    type: Literal["dummy"]
    """Discriminator."""


HubAuth = Annotated[GenericOAuth | GitHubAuth | GlobusAuth | LdapAuth | NativeAuth | DummyAuth, Field(discriminator="type")]

OAUTH_TYPES = ("generic-oauth", "github", "globus")
