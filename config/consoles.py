"""Admin consoles: web UIs without a login of their own (the YuniKorn web UI and REST API first), each
behind an oauth2-proxy that admits only configured groups of the platform's identity provider and is
reached through the load-balancer hosts like a hub (TLS SNI on 443; on 80 HAProxy redirects to HTTPS).

Model only; the rules that need the whole platform (the identity hub, node ports and hosts shared with
the hubs, the load-balancer hosts) live in `config.consoles_rules`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, model_validator

from config.base import StrictModel
from config.hub_auth import GROUP_NAME

# Keep in step with tools/build_oauth2_proxy.sh (the live test builds this exact release).
OAUTH2_PROXY_VERSION = "v7.15.6"
OAUTH2_PROXY_IMAGE = f"quay.io/oauth2-proxy/oauth2-proxy:{OAUTH2_PROXY_VERSION}"
CONSOLE_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$"
HOST_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
# Every secret key a console can ask for (see console_secret_key); the client secret is shared.
CONSOLE_SECRET_KEY = re.compile(r"^console_[a-z0-9_]+_(tls_cert|tls_key)$")
CLIENT_SECRET_KEY = "consoles_oauth_client_secret"
# The applications a console can front; a later admin UI adds its name here and its upstreams in
# `components.consoles.upstreams`.
ConsoleApp = Literal["yunikorn"]


def console_secret_key(console_name: str, what: str) -> str:
    """Pulumi config key of one of a console's secrets, e.g. `console_yunikorn_tls_cert`."""
    return f"console_{console_name.replace('-', '_')}_{what}"


class ConsoleIdentity(StrictModel):
    """The OpenID Connect provider the consoles log in with: a hub's, or one named here."""

    hub: str | None = None
    """Name of a `generic-oauth` hub whose issuer and groups claim the consoles reuse (the usual case)."""
    issuer: HttpUrl | None = None
    """OIDC issuer when no hub's is used; an LDAP site names its OIDC front end here (Keycloak with LDAP
    user federation, Dex with its LDAP connector): oauth2-proxy speaks OIDC, not LDAP."""
    client_id: Annotated[str, Field(min_length=1)]
    """The consoles' own OIDC client (confidential; one redirect URI per console,
    `https://<console host>/oauth2/callback`); its secret is `consoles_oauth_client_secret`."""
    groups_claim: Annotated[str, Field(min_length=1)] | None = None
    """ID-token claim with the user's groups; default: the hub's `groups_claim`, else `groups`."""
    scope: list[str] | None = None
    """Scopes requested; default: the hub's, else `openid profile email` (add the one that releases groups)."""

    @model_validator(mode="after")
    def _one_source(self) -> ConsoleIdentity:
        if (self.hub is None) == (self.issuer is None):
            raise ValueError("give exactly one of `hub` (reuse that hub's identity provider) and `issuer`")
        return self


class Console(StrictModel):
    """One admin UI behind its own oauth2-proxy, at its own host name."""

    name: Annotated[str, Field(pattern=CONSOLE_NAME_PATTERN)]
    """Short name (`yunikorn`); names the resources and the secret keys `console_<name>_tls_cert`/`_tls_key`."""
    app: ConsoleApp
    """What is behind the proxy: `yunikorn` (the web UI, and the REST API under `/ws/`)."""
    host: Annotated[str, Field(pattern=HOST_PATTERN, max_length=253)]
    """Public DNS name (lower case); point it at the hubs' load-balancer address."""
    allowed_groups: list[GROUP_NAME] = []
    """Groups (from the groups claim) admitted; empty: `consoles.admin_groups` (the platform admins)."""
    allowed_networks: list[IPv4Network] = []
    """Client networks (CIDRs) allowed to reach this console at the load balancer; empty: everyone
    (the login still applies)."""
    https_node_port: Annotated[int, Field(ge=30000, le=32767)]
    """Node port of the proxy's HTTPS listener (HAProxy routes 443 here by SNI; TLS ends at the proxy).
    The proxy has no plain-HTTP listener: HAProxy answers port 80 for this host with a redirect to HTTPS."""


class ConsolesConfig(StrictModel):
    """Admin consoles behind the platform's login."""

    identity: ConsoleIdentity
    """Where administrators log in (see `ConsoleIdentity`)."""
    admin_groups: list[GROUP_NAME] = []
    """The platform admins, admitted to every console without its own `allowed_groups`; empty: the
    identity hub's `auth.admin_groups`."""
    apps: Annotated[list[Console], Field(min_length=1)]
    """The consoles."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "consoles"
    """Namespace of the proxies and their secrets."""
    image: Annotated[str, Field(pattern=r"^[^:\s@]+:[^:\s@]+$")] = OAUTH2_PROXY_IMAGE
    """oauth2-proxy image `name:tag` (an exact release tag)."""
    session_hours: Annotated[int, Field(ge=1, le=168)] = 8
    """A login lasts this long (cookie expiry); then the administrator logs in again."""
    refresh_minutes: Annotated[int, Field(ge=0, le=1440)] = 30
    """Re-check the session with the provider (refresh token) this often, so a removed admin loses access
    within this time; 0: only at expiry. Must be shorter than the session."""

    @model_validator(mode="after")
    def _refresh(self) -> ConsolesConfig:
        if self.refresh_minutes and self.refresh_minutes >= self.session_hours * 60:
            raise ValueError(
                f"refresh_minutes {self.refresh_minutes} must be below the session ({self.session_hours * 60} "
                "minutes): lower it, or 0 to check only at expiry"
            )
        return self
