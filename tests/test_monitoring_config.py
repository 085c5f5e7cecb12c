"""Monitoring rules (config.monitoring_rules) and secrets: exact dotted paths and messages."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.monitoring_sizing_queries import prometheus_sizing
from config.platform import PlatformConfig
from config.secrets import known_secret_keys, required_secrets
from tests.test_config_rules import SECRETS, dev, prod
from tests.test_traffic_config import issues


def test_prod_is_valid_and_dev_has_no_monitoring() -> None:
    assert issues(prod()) == {}
    assert PlatformConfig.model_validate(dev()).monitoring is None


def test_retention_size_must_fit_the_volume() -> None:
    raw = prod()
    raw["monitoring"]["retention_size_gib"] = 95
    assert issues(raw) == {
        "monitoring.retention_size_gib": [
            "95 GiB does not fit a 100 GiB volume with room for the WAL and compaction; use at most 85 or raise "
            "monitoring.volume_gib to 112"
        ]
    }


def test_retention_days_the_volume_cannot_hold_are_refused() -> None:
    raw = prod()
    raw["monitoring"]["retention_days"] = 365
    cfg = PlatformConfig.model_validate(raw)
    sizing = prometheus_sizing(cfg, cfg.monitoring)
    needed = sizing.disk_gib(365)
    assert needed > 80  # the premise: a year of prod's series does not fit 80 GiB
    assert issues(raw) == {
        "monitoring.retention_days": [
            f"365 days of ~{sizing.total_series} series every 30s need ~{needed:.0f} GiB but only 80 GiB may be used "
            f"(retention_size_gib, volume_gib); lower it to {sizing.days_held(80)} or raise monitoring.volume_gib to "
            f"{-(-needed // 0.85):.0f} and retention_size_gib to {-(-needed // 1):.0f}"
        ]
    }


def test_prometheus_node_must_be_a_worker() -> None:
    raw = prod()
    raw["monitoring"]["node"] = "nfs-1"
    assert issues(raw) == {
        "monitoring.node": ["'nfs-1' is not a node with the worker role; use one of: worker-1, worker-2, gpu-1"]
    }


def test_grafana_host_and_port_must_not_collide_with_a_hub() -> None:
    raw = prod()
    raw["monitoring"]["grafana"].update(host="jupyter.example.org", https_node_port=30443)
    assert issues(raw) == {
        "monitoring.grafana.host": ["jupyter.example.org is also the host of hubs.0 (teaching)"],
        "monitoring.grafana.https_node_port": ["30443 is a node port of hubs.0 (teaching)"],
    }


def test_grafana_needs_a_generic_oauth_hub() -> None:
    raw = prod()
    raw["monitoring"]["grafana"]["oauth_hub"] = "nope"
    assert issues(raw) == {
        "monitoring.grafana.oauth_hub": ["'nope' is not a generic-oauth hub (those are: teaching, exam, grading)"]
    }


def test_grafana_endpoints_must_be_given_for_a_non_keycloak_issuer() -> None:
    raw = prod()
    for hub in raw["hubs"]:
        hub["auth"]["issuer"] = "https://login.example.org/oidc"
    assert issues(raw) == {
        "monitoring.grafana.auth_url": [
            "the hub's issuer is not a Keycloak realm, so Grafana's endpoints cannot be derived: "
            "set monitoring.grafana.auth_url, token_url and api_url"
        ]
    }
    raw["monitoring"]["grafana"].update(
        auth_url="https://login.example.org/oidc/auth",
        token_url="https://login.example.org/oidc/token",
        api_url="https://login.example.org/oidc/userinfo",
    )
    assert issues(raw) == {}


def test_monitoring_needs_kubeadm_mode() -> None:
    raw = dev()
    raw["monitoring"] = {}
    raw["cluster"] = {**raw.get("cluster", {}), "mode": "existing"}
    found = issues(raw)
    assert found["monitoring"] == ["monitoring needs kubeadm mode (Prometheus' local volume is made over SSH)"]


def test_receiver_names_are_unique() -> None:
    raw = prod()
    raw["monitoring"]["receivers"][1]["name"] = "platform-team"
    assert list(issues(raw)) == ["monitoring.receivers"]


def test_secrets_are_required_with_the_exact_command() -> None:
    cfg = PlatformConfig.model_validate(prod())
    required = {r.key: r.example for r in required_secrets(cfg)}
    assert required["monitoring_grafana_oauth_client_secret"] == (
        "pulumi config set --secret monitoring_grafana_oauth_client_secret '<client secret>'"
    )
    assert required["monitoring_grafana_tls_cert"] == "pulumi config set --secret monitoring_grafana_tls_cert < fullchain.pem"
    assert required["monitoring_smtp_password"] == "pulumi config set --secret monitoring_smtp_password '<password>'"
    assert required["monitoring_webhook_chat_url"] == "pulumi config set --secret monitoring_webhook_chat_url 'https://...'"
    known = known_secret_keys()
    assert "monitoring_webhook_chat_url" in known and "monitoring_webhok_chat_url" not in known
    with pytest.raises(ConfigError, match="monitoring_smtp_password"):
        load_platform(prod(), SECRETS - {"monitoring_smtp_password"})


def test_sizing_grows_with_the_inventory() -> None:
    cfg = PlatformConfig.model_validate(prod())
    small = prometheus_sizing(cfg, cfg.monitoring)
    raw: dict[str, Any] = prod()
    worker = next(n for n in raw["inventory"]["nodes"] if n["name"] == "worker-1")
    raw["inventory"]["nodes"] += [{**worker, "name": f"w-{i}", "address": f"192.0.2.{100 + i}"} for i in range(10)]
    big_cfg = PlatformConfig.model_validate(raw)
    big = prometheus_sizing(big_cfg, big_cfg.monitoring)
    assert big.total_series > small.total_series and big.memory_bytes > small.memory_bytes
    assert big.disk_bytes_per_day == pytest.approx(big.total_series / 30 * 86400 * 2)
