"""Hub configuration: models, platform rules (exact dotted paths) and required secrets."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.secrets import known_secret_keys
from tests.hub_fixtures import HUB, raw


def issues(config: dict[str, Any], secrets: set[str] | None = None) -> dict[str, str]:
    """path -> message of every problem (`{}` when the config loads)."""
    if secrets is None:
        secrets = {"ssh_private_key", "hub_teaching_oauth_client_secret"}
    values = {**config, **{k: "x" for k in secrets}}
    try:
        load_platform(values, secrets)
    except ConfigError as err:
        return {i.path: i.message for i in err.issues}
    return {}


def test_reference_hub_loads() -> None:
    assert issues(raw()) == {}


def test_dummy_authenticator_is_refused_at_auth_type() -> None:
    found = issues(raw(auth={"type": "dummy"}))
    assert "accepts any password" in found["hubs.0.auth.type"]


def test_unknown_authenticator_type_is_rejected() -> None:
    found = issues(raw(auth={"type": "shared-password"}))
    assert any(path.startswith("hubs.0.auth") for path in found)


def test_oauth_client_secret_missing_prints_the_command() -> None:
    found = issues(raw(), secrets={"ssh_private_key"})
    assert found["hub_teaching_oauth_client_secret"].endswith(
        "pulumi config set --secret hub_teaching_oauth_client_secret '<client secret>'"
    )


def test_hub_secret_keys_are_known_and_typos_are_not() -> None:
    known = known_secret_keys()
    assert "hub_teaching_oauth_client_secret" in known
    assert "hub_exam_ldap_bind_password" in known
    found = issues(raw(), secrets={"ssh_private_key", "hub_teaching_oauth_client_secret", "hub_teaching_oauth_secret"})
    assert found == {"hub_teaching_oauth_secret": "unknown secret config key"}


def test_ldap_search_user_needs_bind_password_secret() -> None:
    ldap = {
        "type": "ldap",
        "server_address": "ldap.example.org",
        "lookup_dn": True,
        "user_search_base": "ou=people,dc=example,dc=org",
        "lookup_dn_search_user": "cn=jupyter,ou=services,dc=example,dc=org",
    }
    found = issues(raw(auth=ldap), secrets={"ssh_private_key"})
    assert "pulumi config set --secret hub_teaching_ldap_bind_password" in found["hub_teaching_ldap_bind_password"]
    found = issues(raw(auth={**ldap, "lookup_dn_search_user": None}), secrets={"ssh_private_key"})
    assert "hubs.0.auth.lookup_dn_search_user" in found


def test_tls_secret_mode_needs_cert_and_key() -> None:
    found = issues(raw(https={"mode": "secret"}))
    assert found["hub_teaching_tls_cert"].endswith("pulumi config set --secret hub_teaching_tls_cert < fullchain.pem")
    assert "hub_teaching_tls_key" in found


def test_letsencrypt_needs_contact_email_and_host() -> None:
    found = issues(raw(https={"mode": "letsencrypt"}, host=None))
    assert "hubs.0.https.contact_email" in found
    assert "hubs.0.host" in found


def test_unknown_queue_is_reported_at_its_profile() -> None:
    profiles = [*HUB["profiles"], {"slug": "x", "display_name": "X", "queue": "root.nowhere"}]
    found = issues(raw(profiles=profiles))
    assert "root.nowhere" in found["hubs.0.profiles.2.queue"]


def test_gpu_profile_without_gpu_pool_is_rejected() -> None:
    profiles = [*HUB["profiles"], {"slug": "gpu", "display_name": "GPU", "queue": "root.users", "gpu": 1}]
    found = issues(raw(profiles=profiles))
    assert "no GPU" in found["hubs.0.profiles.2.gpu"]


def test_duplicate_slugs_defaults_and_hub_names() -> None:
    profiles = [{**p, "slug": "same", "default": True} for p in HUB["profiles"]]
    found = issues(raw(profiles=profiles))
    assert "hubs.0.profiles.1.slug" in found
    assert "hubs.0.profiles.1.default" in found
    config = raw()
    config["hubs"].append({**config["hubs"][0]})
    found = issues(config)
    assert "hubs.1.name" in found and "hubs.1.namespace" in found and "hubs.1.host" in found


def test_profile_larger_than_any_node_is_rejected() -> None:
    profiles = [{"slug": "huge", "display_name": "Huge", "queue": "root.users", "cpu_guarantee": 64, "cpu_limit": 64}]
    found = issues(raw(profiles=profiles))
    assert "wait forever" in found["hubs.0.profiles.0.cpu_guarantee"]


def test_limits_below_guarantees_are_rejected() -> None:
    profiles = [{"slug": "bad", "display_name": "Bad", "queue": "root.users", "cpu_guarantee": 4, "cpu_limit": 1}]
    found = issues(raw(profiles=profiles))
    assert found["hubs.0.profiles.0.cpu_limit"] == "1 is below cpu_guarantee 4"


@pytest.mark.parametrize(
    ("database", "path"),
    [
        ({"type": "postgres"}, "hubs.0.database.url"),
        ({"type": "postgres", "url": "postgresql://jhub:hunter2@db/x"}, "hubs.0.database.url"),
        ({"storage_class": "nfs-csi"}, "hubs.0.database.storage_class"),
    ],
)
def test_database_rules(database: dict[str, Any], path: str) -> None:
    assert path in issues(raw(database=database))


def test_postgres_needs_password_secret() -> None:
    found = issues(raw(database={"type": "postgres", "url": "postgresql://jhub@db.example.org/teaching"}))
    assert "hub_teaching_db_password" in found


def test_native_needs_an_admin_and_oauth_needs_a_host() -> None:
    found = issues(raw(auth={"type": "native"}, admin_users=[]), secrets={"ssh_private_key"})
    assert "hubs.0.admin_users" in found
    found = issues(raw(host=None, https={"mode": "none"}))
    assert "callback" in found["hubs.0.host"]


def test_github_requires_an_organisation() -> None:
    found = issues(raw(auth={"type": "github", "client_id": "x", "allowed_organizations": []}))
    assert found["hubs.0.auth.allowed_organizations"] == "needs at least 1 item(s)"  # no union tag in the path


def test_generic_oauth_needs_issuer_or_endpoints() -> None:
    found = issues(raw(auth={"type": "generic-oauth", "client_id": "x"}))
    assert any(p.startswith("hubs.0.auth") and "issuer" in m for p, m in found.items())
