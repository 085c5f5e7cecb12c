"""Consoles rules (config.consoles_rules, config.consoles): exact dotted paths and messages."""

from __future__ import annotations

from typing import Any

from config.consoles_rules import admin_groups, allowed_groups, groups_claim, issuer_url, scopes
from config.platform import PlatformConfig
from config.secrets import known_secret_keys, required_secrets
from tests.test_config_rules import dev, prod
from tests.test_traffic_config import issues


def consoles(raw: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = raw["consoles"]
    return section


def test_prod_console_resolves_the_teaching_hubs_provider() -> None:
    cfg = PlatformConfig.model_validate(prod())
    assert cfg.consoles is not None
    console = cfg.consoles.apps[0]
    assert issuer_url(cfg, cfg.consoles) == "https://login.example.org/realms/university"
    assert groups_claim(cfg, cfg.consoles) == "groups"
    assert scopes(cfg, cfg.consoles) == ["openid", "profile", "email"]
    # Default: the platform admins are the identity hub's admin groups.
    assert admin_groups(cfg, cfg.consoles) == ["admins"]
    assert allowed_groups(cfg, cfg.consoles, console) == ["admins"]


def test_console_secrets_print_the_exact_commands() -> None:
    cfg = PlatformConfig.model_validate(prod())
    found = {r.key: r.example for r in required_secrets(cfg) if "console" in r.key}
    assert found == {
        "consoles_oauth_client_secret": "pulumi config set --secret consoles_oauth_client_secret '<client secret>'",
        "console_yunikorn_tls_cert": "pulumi config set --secret console_yunikorn_tls_cert < fullchain.pem",
        "console_yunikorn_tls_key": "pulumi config set --secret console_yunikorn_tls_key < privkey.pem",
    }
    known = known_secret_keys()
    assert "console_yunikorn_tls_cert" in known and "consoles_oauth_client_secret" in known
    assert "console_yunikorn_password" not in known


def test_missing_console_secret_is_reported_with_its_command() -> None:
    from config.errors import ConfigError
    from config.loader import load_platform
    from tests.test_config_rules import SECRETS

    try:
        load_platform(prod(), SECRETS - {"console_yunikorn_tls_key"})
    except ConfigError as err:
        lines = err.lines()
    else:
        raise AssertionError("a missing console secret was accepted")
    command = "pulumi config set --secret console_yunikorn_tls_key < privkey.pem"
    assert any(line.startswith("error: console_yunikorn_tls_key: ") and command in line for line in lines), lines


def test_identity_hub_must_exist() -> None:
    raw = prod()
    consoles(raw)["identity"]["hub"] = "teachng"
    assert issues(raw) == {"consoles.identity.hub": ["no hub is named 'teachng' (hubs: teaching, exam, grading)"]}


def test_identity_hub_must_speak_oidc() -> None:
    raw = prod()
    raw["hubs"][0]["auth"] = {"type": "native"}
    raw["hubs"][0]["admin_users"] = ["root"]
    found = issues(raw)
    assert found["consoles.identity.hub"] == [
        "hub 'teaching' logs in with native, not OpenID Connect: name a generic-oauth hub, or set "
        "consoles.identity.issuer to your OIDC provider (an LDAP site: its OIDC front end, e.g. Keycloak or Dex)"
    ]


def test_identity_hub_needs_an_issuer_and_a_groups_claim() -> None:
    raw = prod()
    auth = raw["hubs"][0]["auth"]
    del auth["issuer"]
    auth.update(
        authorize_url="https://login.example.org/auth",
        token_url="https://login.example.org/token",
        userdata_url="https://login.example.org/userinfo",
        groups_claim=None,
    )
    found = issues(raw)
    assert found["consoles.identity.hub"] == [
        "hub 'teaching' gives endpoint URLs, not an OIDC issuer: set consoles.identity.issuer"
    ]
    assert found["consoles.identity.groups_claim"] == [
        "hub 'teaching' reads no groups claim and the consoles admit by group: name the claim (e.g. groups)"
    ]


def test_hub_or_issuer_not_both() -> None:
    raw = prod()
    consoles(raw)["identity"]["issuer"] = "https://dex.example.org"
    assert issues(raw) == {
        "consoles.identity": ["give exactly one of `hub` (reuse that hub's identity provider) and `issuer`"]
    }
    del consoles(raw)["identity"]["hub"]
    # An issuer of its own (an LDAP site's OIDC front end) has no hub admin groups to default to.
    assert list(issues(raw)) == ["consoles.apps.0.allowed_groups"]
    consoles(raw)["admin_groups"] = ["platform-admins"]
    assert issues(raw) == {}


def test_somebody_must_be_admitted() -> None:
    raw = prod()
    raw["hubs"][0]["auth"]["admin_groups"] = []
    assert issues(raw) == {
        "consoles.apps.0.allowed_groups": [
            "nobody would be admitted: set consoles.admin_groups (the platform admins) or this console's allowed_groups"
        ]
    }
    consoles(raw)["admin_groups"] = ["platform-admins"]
    assert issues(raw) == {}


def test_hosts_and_node_ports_are_not_shared_with_hubs() -> None:
    raw = prod()
    app = consoles(raw)["apps"][0]
    app.update(host="exam.example.org", https_node_port=30081)
    assert issues(raw) == {
        "consoles.apps.0.host": ["'exam.example.org' is also used by hubs.1"],
        "consoles.apps.0.https_node_port": ["30081 is also used by hubs.1"],
    }


def test_two_consoles_need_distinct_names_hosts_and_ports() -> None:
    raw = prod()
    apps = consoles(raw)["apps"]
    apps.append(dict(apps[0]))
    assert issues(raw) == {
        "consoles.apps.1.name": ["'yunikorn' is also used by consoles.apps.0"],
        "consoles.apps.1.host": ["'queues.example.org' is also used by consoles.apps.0"],
        "consoles.apps.1.https_node_port": ["30450 is also used by consoles.apps.0"],
    }


def test_consoles_need_the_load_balancer_hosts() -> None:
    raw = dev()
    raw["consoles"] = consoles(prod())
    raw["consoles"]["identity"] = {"issuer": "https://login.example.org/realms/dev", "client_id": "consoles"}
    raw["consoles"]["admin_groups"] = ["admins"]
    assert issues(raw) == {
        "consoles": [
            "consoles are reached only through the load-balancer hosts (never a bare node port): give nodes the "
            "load-balancer role (kubeadm mode), or remove the consoles section"
        ]
    }


def test_refresh_shorter_than_the_session() -> None:
    raw = prod()
    consoles(raw).update(session_hours=1, refresh_minutes=60)
    assert issues(raw) == {
        "consoles": ["refresh_minutes 60 must be below the session (60 minutes): lower it, or 0 to check only at expiry"]
    }


def test_unknown_app_and_bad_host_are_refused() -> None:
    raw = prod()
    consoles(raw)["apps"][0].update(app="grafana", host="Queues.Example.org")
    found = issues(raw)
    assert found["consoles.apps.0.app"] == ["must be one of 'yunikorn'"]
    assert list(found) == ["consoles.apps.0.app", "consoles.apps.0.host"]


def test_consoles_need_a_node_for_their_proxy() -> None:
    raw = prod()
    for node in raw["inventory"]["nodes"]:
        if node["name"].startswith("worker-"):
            node["taints"] = [{"key": "dedicated", "value": "batch"}]
    for hub in raw["hubs"]:  # no hub behind the load balancer: the consoles' own rule speaks
        hub.update(service_type="ClusterIP", allowed_networks=[])
    assert issues(raw)["inventory.nodes"] == ["no untainted worker without GPUs can run the consoles' proxy pods"]
