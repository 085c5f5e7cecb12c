"""Console rules and the identity facts they resolve, each rule case compared with the EXACT set of
(path, message) it yields.

Base: the two-node inventory and the generic-oauth hub `teaching` of `tests.hub_fixtures`, plus two
load-balancer hosts, and one console `yk` at yk.example.org:31443 admitting the group `admins`."""

from __future__ import annotations

import copy
from typing import Any

from config.consoles_rules import CONSOLES_CHECKS, admin_groups, allowed_groups, groups_claim, issuer_url, scopes
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

LBS = [
    {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
    {"name": "lb-2", "address": "192.0.2.12", "roles": ["load-balancer"]},
]
CONSOLE = {"name": "yk", "app": "yunikorn", "host": "yk.example.org", "https_node_port": 31443}
ISSUER = "https://idp.example.org/realms/uni"
NOBODY = "nobody would be admitted: set consoles.admin_groups (the platform admins) or this console's allowed_groups"
UNREACHABLE = (
    "consoles",
    "consoles are reached only through the load-balancer hosts (never a bare node port): give nodes the "
    "load-balancer role (kubeadm mode), or remove the consoles section",
)


def raw(
    identity: dict[str, Any] | None = None, apps: list[dict[str, Any]] | None = None, lbs: bool = True, **consoles: Any
) -> dict[str, Any]:
    inventory = copy.deepcopy(INVENTORY)
    if lbs:
        inventory["nodes"] += copy.deepcopy(LBS)
    section = {
        "identity": identity or {"hub": "teaching", "client_id": "consoles"},
        "apps": apps or [dict(CONSOLE)],
        "admin_groups": ["admins"],
        **consoles,
    }
    out: dict[str, Any] = {"inventory": inventory, "hubs": [copy.deepcopy(HUB)], "consoles": section}
    if lbs:
        out["load_balancer"] = {"vip": "192.0.2.10"}
    return out


def issues(config: dict[str, Any]) -> set[tuple[str, str]]:
    cfg = PlatformConfig.model_validate(config)
    found = [(i.path, i.message) for check in CONSOLES_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def with_hub_auth(config: dict[str, Any], **auth: Any) -> dict[str, Any]:
    config["hubs"][0]["auth"] = {**config["hubs"][0]["auth"], **auth}
    return config


def test_the_base_is_valid_and_uses_the_hubs_provider() -> None:
    config = with_hub_auth(raw(), scope=["openid", "groups"], groups_claim="roles", admin_groups=["ops"])
    assert issues(config) == set()
    cfg = PlatformConfig.model_validate(config)
    assert cfg.consoles is not None
    assert issuer_url(cfg, cfg.consoles) == ISSUER
    assert groups_claim(cfg, cfg.consoles) == "roles"
    assert scopes(cfg, cfg.consoles) == ["openid", "groups"]
    assert admin_groups(cfg, cfg.consoles) == ["admins"]
    assert allowed_groups(cfg, cfg.consoles, cfg.consoles.apps[0]) == ["admins"]


def test_the_hubs_admin_groups_are_the_default_admins() -> None:
    config = with_hub_auth(raw(admin_groups=[]), admin_groups=["ops"])
    cfg = PlatformConfig.model_validate(config)
    assert cfg.consoles is not None
    assert admin_groups(cfg, cfg.consoles) == ["ops"]
    assert allowed_groups(cfg, cfg.consoles, cfg.consoles.apps[0]) == ["ops"]
    assert issues(config) == set()


def test_a_consoles_own_groups_win() -> None:
    config = raw(apps=[{**CONSOLE, "allowed_groups": ["yk-admins"]}])
    cfg = PlatformConfig.model_validate(config)
    assert cfg.consoles is not None
    assert allowed_groups(cfg, cfg.consoles, cfg.consoles.apps[0]) == ["yk-admins"]


def test_an_issuer_of_its_own() -> None:
    own = {"issuer": "https://login.example.org/realms/ops/", "client_id": "consoles"}
    cfg = PlatformConfig.model_validate(raw(own))
    assert cfg.consoles is not None
    assert issuer_url(cfg, cfg.consoles) == "https://login.example.org/realms/ops"
    assert groups_claim(cfg, cfg.consoles) == "groups"
    assert scopes(cfg, cfg.consoles) == ["openid", "profile", "email"]
    assert issues(raw(own)) == set()
    assert issues(raw(own, admin_groups=[])) == {("consoles.apps.0.allowed_groups", NOBODY)}
    named = {**own, "groups_claim": "memberOf", "scope": ["openid"]}
    cfg = PlatformConfig.model_validate(raw(named))
    assert cfg.consoles is not None
    assert (groups_claim(cfg, cfg.consoles), scopes(cfg, cfg.consoles)) == ("memberOf", ["openid"])


def test_an_unknown_identity_hub() -> None:
    assert issues(raw({"hub": "nope", "client_id": "c"})) == {
        ("consoles.identity.hub", "no hub is named 'nope' (hubs: teaching)"),
    }
    config = raw({"hub": "nope", "client_id": "c"})
    config["hubs"] = []
    assert issues(config) == {("consoles.identity.hub", "no hub is named 'nope' (hubs: none)")}


def test_an_identity_hub_without_oidc() -> None:
    config = raw()
    config["hubs"][0]["auth"] = {"type": "native"}
    assert issues(config) == {
        (
            "consoles.identity.hub",
            "hub 'teaching' logs in with native, not OpenID Connect: name a generic-oauth hub, or set "
            "consoles.identity.issuer to your OIDC provider (an LDAP site: its OIDC front end, e.g. Keycloak or Dex)",
        ),
    }
    # Its admin groups are unknown, so "nobody admitted" is not reported on top.
    config["consoles"]["admin_groups"] = []
    assert len(issues(config)) == 1


def test_an_identity_hub_with_endpoint_urls_and_no_groups() -> None:
    endpoints = {
        "issuer": None,
        "authorize_url": "https://idp.example.org/auth",
        "token_url": "https://idp.example.org/token",
        "userdata_url": "https://idp.example.org/userinfo",
        "groups_claim": None,
    }
    assert issues(with_hub_auth(raw(), **endpoints)) == {
        ("consoles.identity.hub", "hub 'teaching' gives endpoint URLs, not an OIDC issuer: set consoles.identity.issuer"),
        (
            "consoles.identity.groups_claim",
            "hub 'teaching' reads no groups claim and the consoles admit by group: name the claim (e.g. groups)",
        ),
    }
    named = raw({"hub": "teaching", "client_id": "c", "groups_claim": "groups"})
    assert issues(with_hub_auth(named, groups_claim=None)) == set()


def test_nobody_admitted() -> None:
    apps = [dict(CONSOLE), {**CONSOLE, "name": "yk2", "host": "yk2.example.org", "https_node_port": 31444}]
    assert issues(raw(apps=apps, admin_groups=[])) == {
        ("consoles.apps.0.allowed_groups", NOBODY),
        ("consoles.apps.1.allowed_groups", NOBODY),
    }
    apps[1]["allowed_groups"] = ["ops"]
    assert issues(raw(apps=apps, admin_groups=[])) == {("consoles.apps.0.allowed_groups", NOBODY)}


def test_names_hosts_and_ports_are_unique_with_the_hubs() -> None:
    config = raw(
        apps=[
            {**CONSOLE, "host": "hub.example.org", "https_node_port": 30443},
            {**CONSOLE, "https_node_port": 30080},
            {**CONSOLE, "name": "other", "https_node_port": 31443},
        ]
    )
    config["hubs"][0].update(http_node_port=30080, https_node_port=30443)
    assert issues(config) == {
        ("consoles.apps.0.host", "'hub.example.org' is also used by hubs.0"),
        ("consoles.apps.0.https_node_port", "30443 is also used by hubs.0"),
        ("consoles.apps.1.name", "'yk' is also used by consoles.apps.0"),
        ("consoles.apps.1.https_node_port", "30080 is also used by hubs.0"),
        ("consoles.apps.2.host", "'yk.example.org' is also used by consoles.apps.1"),
    }


def test_a_name_equal_to_a_host_is_no_clash() -> None:
    # A console's name is its own space: a hub of the same name is no clash.
    config = raw({"hub": "hub", "client_id": "c"}, apps=[{**CONSOLE, "name": "hub"}])
    config["hubs"][0]["name"] = "hub"
    assert issues(config) == set()


def test_reached_only_through_load_balancers() -> None:
    assert issues(raw(lbs=False)) == {UNREACHABLE}
    existing = raw()
    existing["cluster"] = {"mode": "existing"}
    assert UNREACHABLE in issues(existing)


def test_proxy_pods_need_an_untainted_cpu_worker() -> None:
    config = raw()
    for node in config["inventory"]["nodes"][:2]:
        node["taints"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    assert issues(config) == {("inventory.nodes", "no untainted worker without GPUs can run the consoles' proxy pods")}
    # With a hub behind HAProxy the traffic rules report it already.
    config["hubs"][0].update(service_type="NodePort", http_node_port=30080, https_node_port=30443)
    assert issues(config) == set()


def test_an_issuer_loses_only_its_trailing_slash() -> None:
    own = {"issuer": "https://login.example.org/realms/APEX/", "client_id": "consoles"}
    cfg = PlatformConfig.model_validate(raw(own))
    assert cfg.consoles is not None
    assert issuer_url(cfg, cfg.consoles) == "https://login.example.org/realms/APEX"


def test_an_unknown_identity_hub_lists_every_hub() -> None:
    config = raw({"hub": "nope", "client_id": "c"})
    config["hubs"].append({**copy.deepcopy(HUB), "name": "exam", "host": "exam.example.org"})
    assert issues(config) == {("consoles.identity.hub", "no hub is named 'nope' (hubs: teaching, exam)")}
