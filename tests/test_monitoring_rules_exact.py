"""Monitoring rules called directly, each case compared with the EXACT set of (path, message) it yields:
the Prometheus node, retention against the volume (equal passes, one more GiB or day does not), and
Grafana against the hubs and the load balancers.

Base: the two-node inventory and hub `teaching` of `tests.hub_fixtures` (about 31000 series at the
default 30 s scrape: 5 days fit in 1 GiB, 6 days need 1.001 GiB), plus two load-balancer hosts."""

from __future__ import annotations

import copy
from typing import Any

from config.monitoring_rules import MONITORING_CHECKS, prometheus_node
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

LBS = [
    {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
    {"name": "lb-2", "address": "192.0.2.12", "roles": ["load-balancer"]},
]
GRAFANA = {"host": "grafana.example.org"}


def config(monitoring: dict[str, Any] | None = None, lbs: bool = True, **sections: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    raw: dict[str, Any] = {"inventory": inventory, "hubs": [copy.deepcopy(HUB)]}
    if lbs:
        inventory["nodes"] += copy.deepcopy(LBS)
        raw["load_balancer"] = {"vip": "192.0.2.10"}
    if monitoring is not None:
        raw["monitoring"] = monitoring
    raw.update(sections)
    return PlatformConfig.model_validate(raw)


def issues(*args: Any, **kwargs: Any) -> set[tuple[str, str]]:
    cfg = config(*args, **kwargs)
    found = [(i.path, i.message) for check in MONITORING_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def node_name(cfg: PlatformConfig) -> str | None:
    node = prometheus_node(cfg)
    return node.name if node is not None else None


def test_no_section_no_rules() -> None:
    assert issues() == set()
    assert node_name(config()) is None


def test_the_defaults_are_valid_on_the_first_worker() -> None:
    assert issues({}) == set()
    assert node_name(config({})) == "cp-1"
    assert node_name(config({"node": "worker-1"})) == "worker-1"
    assert issues({"node": "worker-1"}) == set()


def test_the_first_worker_without_gpus() -> None:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"][0]["roles"] = ["control-plane", "nfs"]
    inventory["nodes"].insert(
        1, {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "T4", "count": 1}}
    )
    assert node_name(config({}, lbs=False, inventory=inventory)) == "worker-1"
    inventory["nodes"].pop()
    assert node_name(config({}, lbs=False, inventory=inventory)) is None
    assert issues({}, lbs=False, inventory=inventory) == {
        ("monitoring.node", "no worker without GPUs to hold Prometheus' volume; name a worker here"),
    }
    # A named GPU worker is allowed (the operator chose it).
    assert issues({"node": "gpu-1"}, lbs=False, inventory=inventory) == set()


def test_a_named_node_must_be_a_worker() -> None:
    assert issues({"node": "nope"}) == {
        ("monitoring.node", "'nope' is not a node with the worker role; use one of: cp-1, worker-1"),
    }
    assert issues({"node": "lb-1"}) == {
        ("monitoring.node", "'lb-1' is not a node with the worker role; use one of: cp-1, worker-1"),
    }


def test_an_existing_cluster() -> None:
    existing = {"cluster": {"mode": "existing"}, "nfs": {"mode": "external", "server": "nas.example.org"}}
    assert issues({"node": "nope"}, lbs=False, **existing) == {
        ("monitoring", "monitoring needs kubeadm mode (Prometheus' local volume is made over SSH)"),
    }


def test_retention_size_against_the_volume_boundary() -> None:
    # 85% of 20 GiB is usable: 17 fits, 18 does not.
    assert issues({"volume_gib": 20, "retention_size_gib": 17}) == set()
    assert issues({"volume_gib": 20, "retention_size_gib": 18}) == {
        (
            "monitoring.retention_size_gib",
            "18 GiB does not fit a 20 GiB volume with room for the WAL and compaction; use at most 17 or raise "
            "monitoring.volume_gib to 22",
        ),
    }


def test_retention_days_against_the_size_boundary() -> None:
    assert issues({"retention_size_gib": 1, "retention_days": 5}) == set()
    assert issues({"retention_size_gib": 1, "retention_days": 6}) == {
        (
            "monitoring.retention_days",
            "6 days of ~31110 series every 30s need ~1 GiB but only 1 GiB may be used (retention_size_gib, volume_gib); "
            "lower it to 5 or raise monitoring.volume_gib to 2 and retention_size_gib to 2",
        ),
    }


def test_retention_days_are_held_by_the_smaller_of_size_and_volume() -> None:
    # A retention size above the volume: both rules speak, the days measured against the usable 4.25 GiB.
    assert issues({"volume_gib": 5, "retention_size_gib": 40, "retention_days": 30, "scrape_interval_seconds": 10}) == {
        (
            "monitoring.retention_size_gib",
            "40 GiB does not fit a 5 GiB volume with room for the WAL and compaction; use at most 4 or raise "
            "monitoring.volume_gib to 48",
        ),
        (
            "monitoring.retention_days",
            "30 days of ~31110 series every 10s need ~15 GiB but only 4 GiB may be used (retention_size_gib, volume_gib); "
            "lower it to 8 or raise monitoring.volume_gib to 18 and retention_size_gib to 16",
        ),
    }


def test_grafana_is_valid_with_a_keycloak_hub() -> None:
    assert issues({"grafana": GRAFANA}) == set()


def test_grafana_host_and_port_against_the_hubs() -> None:
    hubs = [
        {**copy.deepcopy(HUB), "host": "grafana.example.org", "http_node_port": 30943},
        {**copy.deepcopy(HUB), "name": "b", "host": "b.example.org", "https_node_port": 30943},
    ]
    assert issues({"grafana": GRAFANA}, hubs=hubs) == {
        ("monitoring.grafana.host", "grafana.example.org is also the host of hubs.0 (teaching)"),
        ("monitoring.grafana.https_node_port", "30943 is a node port of hubs.0 (teaching)"),
        ("monitoring.grafana.https_node_port", "30943 is a node port of hubs.1 (b)"),
    }
    assert issues({"grafana": {**GRAFANA, "https_node_port": 30944}}, hubs=hubs) == {
        ("monitoring.grafana.host", "grafana.example.org is also the host of hubs.0 (teaching)"),
    }


def test_grafana_needs_load_balancers() -> None:
    assert issues({"grafana": GRAFANA}, lbs=False) == {
        ("monitoring.grafana", "Grafana is reached through the load-balancer hosts; none is in the inventory"),
    }


def test_grafana_identity_provider() -> None:
    assert issues({"grafana": {**GRAFANA, "oauth_hub": "teaching"}}) == set()
    assert issues({"grafana": {**GRAFANA, "oauth_hub": "nope"}}) == {
        ("monitoring.grafana.oauth_hub", "'nope' is not a generic-oauth hub (those are: teaching)"),
    }
    native = [{**copy.deepcopy(HUB), "auth": {"type": "native"}}]
    assert issues({"grafana": {**GRAFANA, "oauth_hub": "teaching"}}, hubs=native) == {
        ("monitoring.grafana.oauth_hub", "'teaching' is not a generic-oauth hub (those are: none)"),
    }
    assert issues({"grafana": GRAFANA}, hubs=native) == {
        ("monitoring.grafana", "Grafana logs in through a hub's identity provider: no hub uses generic-oauth"),
    }


def test_grafana_endpoints_from_a_non_keycloak_issuer() -> None:
    other = copy.deepcopy(HUB)
    other["auth"]["issuer"] = "https://login.example.org/"
    derived = (
        "monitoring.grafana.auth_url",
        "the hub's issuer is not a Keycloak realm, so Grafana's endpoints cannot be derived: "
        "set monitoring.grafana.auth_url, token_url and api_url",
    )
    assert issues({"grafana": GRAFANA}, hubs=[other]) == {derived}
    endpoints = {
        "auth_url": "https://login.example.org/authorize",
        "token_url": "https://login.example.org/token",
        "api_url": "https://login.example.org/userinfo",
    }
    assert issues({"grafana": {**GRAFANA, **endpoints}}, hubs=[other]) == set()


DEFAULT_TEXTFILES = "/var/lib/prometheus/node-exporter"


def test_backup_and_quota_metrics_must_land_where_node_exporter_reads() -> None:
    backup = {"s3": {"bucket": "backups"}, "metrics_dir": "/srv/metrics"}
    quotas = {"metrics_dir": "/srv/quota-metrics"}
    assert issues({}, backup=backup, quotas=quotas) == {
        (
            "backup.metrics_dir",
            f"the platform's node-exporters read {DEFAULT_TEXTFILES} only: remove backup.metrics_dir "
            f"(or set it to {DEFAULT_TEXTFILES}) while `monitoring` is on",
        ),
        (
            "quotas.metrics_dir",
            f"the platform's node-exporters read {DEFAULT_TEXTFILES} only: remove quotas.metrics_dir "
            f"(or set it to {DEFAULT_TEXTFILES}) while `monitoring` is on",
        ),
    }
    cluster = {"certificates": {"textfile_directory": "/srv/certs"}}
    assert issues({}, cluster=cluster) == {
        (
            "cluster.certificates.textfile_directory",
            f"the platform's node-exporters read {DEFAULT_TEXTFILES} only: remove cluster.certificates.textfile_directory "
            f"(or set it to {DEFAULT_TEXTFILES}) while `monitoring` is on",
        )
    }
    # The default, written out, is fine; without the platform's monitoring any directory is.
    assert issues({}, backup={**backup, "metrics_dir": DEFAULT_TEXTFILES}, quotas={}) == set()
    assert issues(None, backup=backup, quotas=quotas, cluster=cluster) == set()
