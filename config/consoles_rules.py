"""Rules and facts for the admin consoles (appended to `config.platform.PLATFORM_CHECKS`).

The consoles log in with the hubs' identity provider and are reached through the load-balancer hosts, so
their rules look at the hubs (host names and node ports in one namespace) and the inventory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.consoles import Console, ConsolesConfig
from config.errors import ConfigIssue
from config.hub_auth import GenericOAuth
from config.hubs import HubConfig
from config.traffic_queries import haproxy_hubs, proxy_nodes

if TYPE_CHECKING:
    from config.platform import PlatformConfig

DEFAULT_SCOPE = ("openid", "profile", "email")


def identity_hub(cfg: PlatformConfig) -> HubConfig | None:
    consoles = cfg.consoles
    if consoles is None or consoles.identity.hub is None:
        return None
    return next((h for h in cfg.hubs if h.name == consoles.identity.hub), None)


def _hub_oauth(cfg: PlatformConfig) -> GenericOAuth | None:
    hub = identity_hub(cfg)
    return hub.auth if hub is not None and isinstance(hub.auth, GenericOAuth) else None


def issuer_url(cfg: PlatformConfig, consoles: ConsolesConfig) -> str:
    """The OIDC issuer (validated config: the hub's issuer or the one given)."""
    oauth = _hub_oauth(cfg)
    issuer = consoles.identity.issuer or (oauth.issuer if oauth is not None else None)
    return str(issuer).rstrip("/") if issuer is not None else ""


def groups_claim(cfg: PlatformConfig, consoles: ConsolesConfig) -> str:
    oauth = _hub_oauth(cfg)
    return consoles.identity.groups_claim or (oauth.groups_claim if oauth is not None else None) or "groups"


def scopes(cfg: PlatformConfig, consoles: ConsolesConfig) -> list[str]:
    oauth = _hub_oauth(cfg)
    if consoles.identity.scope is not None:
        return list(consoles.identity.scope)
    return list(oauth.scope) if oauth is not None else list(DEFAULT_SCOPE)


def admin_groups(cfg: PlatformConfig, consoles: ConsolesConfig) -> list[str]:
    """The platform admins: `consoles.admin_groups`, else the identity hub's admin groups."""
    if consoles.admin_groups:
        return list(consoles.admin_groups)
    oauth = _hub_oauth(cfg)
    return list(oauth.admin_groups) if oauth is not None else []


def allowed_groups(cfg: PlatformConfig, consoles: ConsolesConfig, console: Console) -> list[str]:
    return list(console.allowed_groups) or admin_groups(cfg, consoles)


# ---- rules ----


def _identity(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    consoles = cfg.consoles
    if consoles is None or consoles.identity.hub is None:
        return
    hub = identity_hub(cfg)
    names = ", ".join(h.name for h in cfg.hubs) or "none"
    if hub is None:
        yield ConfigIssue("consoles.identity.hub", f"no hub is named {consoles.identity.hub!r} (hubs: {names})")
        return
    oauth = _hub_oauth(cfg)
    if oauth is None:
        yield ConfigIssue(
            "consoles.identity.hub",
            f"hub {hub.name!r} logs in with {hub.auth.type}, not OpenID Connect: name a generic-oauth hub, or set "
            "consoles.identity.issuer to your OIDC provider (an LDAP site: its OIDC front end, e.g. Keycloak or Dex)",
        )
        return
    if oauth.issuer is None:
        yield ConfigIssue(
            "consoles.identity.hub",
            f"hub {hub.name!r} gives endpoint URLs, not an OIDC issuer: set consoles.identity.issuer",
        )
    if oauth.groups_claim is None and consoles.identity.groups_claim is None:
        yield ConfigIssue(
            "consoles.identity.groups_claim",
            f"hub {hub.name!r} reads no groups claim and the consoles admit by group: name the claim (e.g. groups)",
        )


def _groups(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    consoles = cfg.consoles
    if consoles is None or (consoles.identity.hub is not None and _hub_oauth(cfg) is None):
        return  # the identity hub's problem is reported by _identity; its admin groups are unknown
    for i, console in enumerate(consoles.apps):
        if not allowed_groups(cfg, consoles, console):
            yield ConfigIssue(
                f"consoles.apps.{i}.allowed_groups",
                "nobody would be admitted: set consoles.admin_groups (the platform admins) or this console's "
                "allowed_groups",
            )


def _names_hosts_ports(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    consoles = cfg.consoles
    if consoles is None:
        return
    taken: dict[tuple[str, object], str] = {}
    for i, hub in enumerate(cfg.hubs):
        for field, value in (("host", hub.host), ("port", hub.http_node_port), ("port", hub.https_node_port)):
            if value is not None:
                taken.setdefault((field, value), f"hubs.{i}")
    for i, console in enumerate(consoles.apps):
        keys: list[tuple[str, str, object]] = [("name", "name", console.name), ("host", "host", console.host)]
        keys.append(("https_node_port", "port", console.https_node_port))
        for field, kind, used in keys:
            if (kind, used) in taken:
                yield ConfigIssue(f"consoles.apps.{i}.{field}", f"{used!r} is also used by {taken[(kind, used)]}")
            taken.setdefault((kind, used), f"consoles.apps.{i}")


def _reach(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if cfg.consoles is None:
        return
    if not cfg.builds_cluster or not cfg.inventory.load_balancers:
        yield ConfigIssue(
            "consoles",
            "consoles are reached only through the load-balancer hosts (never a bare node port): give nodes the "
            "load-balancer role (kubeadm mode), or remove the consoles section",
        )
    elif not proxy_nodes(cfg) and not haproxy_hubs(cfg):  # with hubs there, the traffic rule says it already
        yield ConfigIssue("inventory.nodes", "no untainted worker without GPUs can run the consoles' proxy pods")


CONSOLES_CHECKS = [_identity, _groups, _names_hosts_ports, _reach]
