"""Grafana's generic OAuth endpoints, taken from the hubs' identity provider (pure; used by the rules and
by the chart values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.hub_auth import GenericOAuth

if TYPE_CHECKING:
    from config.hubs import HubConfig
    from config.platform import PlatformConfig


@dataclass(frozen=True)
class GrafanaOAuth:
    hub: str
    auth_url: str
    token_url: str
    api_url: str
    groups_claim: str
    scopes: tuple[str, ...]


def oauth_hubs(cfg: PlatformConfig) -> list[HubConfig]:
    return [h for h in cfg.hubs if isinstance(h.auth, GenericOAuth)]


def grafana_oauth(cfg: PlatformConfig) -> GrafanaOAuth | None:
    """The endpoints Grafana uses, or None when they cannot be known (the rules report why)."""
    mon = cfg.monitoring
    if mon is None or mon.grafana is None:
        return None
    g = mon.grafana
    hubs = oauth_hubs(cfg)
    hub = next((h for h in hubs if h.name == g.oauth_hub), None) if g.oauth_hub else (hubs[0] if hubs else None)
    if hub is None or not isinstance(hub.auth, GenericOAuth):
        return None
    auth = hub.auth
    derived: tuple[str | None, str | None, str | None] = (
        str(auth.authorize_url) if auth.authorize_url else None,
        str(auth.token_url) if auth.token_url else None,
        str(auth.userdata_url) if auth.userdata_url else None,
    )
    if auth.issuer is not None and "/realms/" in str(auth.issuer):
        base = str(auth.issuer).rstrip("/") + "/protocol/openid-connect"
        derived = (f"{base}/auth", f"{base}/token", f"{base}/userinfo")
    urls = [
        str(given) if given else default for given, default in zip((g.auth_url, g.token_url, g.api_url), derived, strict=True)
    ]
    if not all(urls):
        return None
    scopes = tuple(dict.fromkeys([*auth.scope, "groups"] if auth.groups_claim == "groups" else auth.scope))
    return GrafanaOAuth(hub.name, urls[0] or "", urls[1] or "", urls[2] or "", auth.groups_claim or "groups", scopes)
