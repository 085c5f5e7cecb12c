"""kube-prometheus-stack values compared whole, for a small config with Grafana and one without:
every key the platform sets, including the security ones (Grafana's login form off, strict roles, PKCE,
TLS from mounted files, secrets as `$__file{...}` references)."""

from __future__ import annotations

import copy
from typing import Any

from components.monitoring.scrape import additional_scrape_configs
from components.monitoring.values import chart_values
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

KEYCLOAK = "https://idp.example.org/realms/uni/protocol/openid-connect"
NODE_EXPORTER_ARGS = [
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl"
    "|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$",
    "--collector.mountstats",
    "--collector.textfile.directory=/host/root/var/lib/prometheus/node-exporter",
]
BASE_GRAFANA = {
    "admin": {"existingSecret": "grafana-admin"},
    "defaultDashboardsEnabled": False,
    "sidecar": {
        "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "monitoring"}
    },
}


def platform(**monitoring: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append({"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]})
    return PlatformConfig.model_validate({"inventory": inventory, "hubs": [copy.deepcopy(HUB)], "monitoring": monitoring})


def prometheus_spec(cfg: PlatformConfig, **extra: Any) -> dict[str, Any]:
    return {
        "scrapeInterval": "15s",
        "evaluationInterval": "15s",
        "retention": "10d",
        "retentionSize": "20GB",
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "storageSpec": {
            "volumeClaimTemplate": {
                "spec": {
                    "storageClassName": "monitoring-local",
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "30Gi"}},
                    "selector": {"matchLabels": {"jupyterhub-platform/monitoring-volume": "prometheus"}},
                }
            }
        },
        "additionalScrapeConfigs": additional_scrape_configs(cfg),
        # The capacity report's memory estimate for this three-node inventory, rounded up to MiB.
        "resources": {"requests": {"memory": "629Mi"}},
        **extra,
    }


def whole(cfg: PlatformConfig, spec: dict[str, Any], grafana: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullnameOverride": "monitoring",
        "crds": {"upgradeJob": {"enabled": True}},
        "kubeProxy": {"enabled": False},
        "alertmanager": {"alertmanagerSpec": {"useExistingSecret": True, "configSecret": "alertmanager-platform"}},
        "prometheus": {"prometheusSpec": spec},
        "grafana": grafana,
        "prometheus-node-exporter": {"extraArgs": NODE_EXPORTER_ARGS},
        "kube-state-metrics": {"metricLabelsAllowlist": ["pods=[component,yunikorn.apache.org/queue]"]},
    }


SIZES = {"scrape_interval_seconds": 15, "retention_days": 10, "retention_size_gib": 20, "volume_gib": 30}


def test_values_without_grafana() -> None:
    cfg = platform(**SIZES)
    assert additional_scrape_configs(cfg)  # the scrape jobs are compared as the scrape module renders them
    assert chart_values(cfg) == whole(cfg, prometheus_spec(cfg), BASE_GRAFANA)


def test_values_with_grafana_logging_in_through_the_hubs_keycloak() -> None:
    grafana = {
        "host": "grafana.example.org",
        "allowed_groups": ["staff", "admins"],
        "admin_group": "ops",
        "https_node_port": 30950,
    }
    cfg = platform(**SIZES, grafana=grafana)
    expected_grafana = {
        **BASE_GRAFANA,
        "service": {"type": "NodePort", "port": 443, "nodePort": 30950},
        "extraSecretMounts": [
            {"name": "tls", "secretName": "grafana-tls", "mountPath": "/etc/secrets/tls", "readOnly": True},
            {"name": "oauth", "secretName": "grafana-oauth", "mountPath": "/etc/secrets/oauth", "readOnly": True},
        ],
        "grafana.ini": {
            "server": {
                "protocol": "https",
                "domain": "grafana.example.org",
                "root_url": "https://grafana.example.org/",
                "cert_file": "/etc/secrets/tls/tls.crt",
                "cert_key": "/etc/secrets/tls/tls.key",
            },
            "auth": {"disable_login_form": True},
            "auth.generic_oauth": {
                "enabled": True,
                "name": "institution login",
                "client_id": "grafana",
                "client_secret": "$__file{/etc/secrets/oauth/client_secret}",
                "scopes": "openid profile email groups",
                "auth_url": f"{KEYCLOAK}/auth",
                "token_url": f"{KEYCLOAK}/token",
                "api_url": f"{KEYCLOAK}/userinfo",
                "use_pkce": True,
                "groups_attribute_path": "groups",
                # The admin group may always log in; everyone else needs an allowed group.
                "allowed_groups": "admins ops staff",
                "role_attribute_path": "contains(groups[*], 'ops') && 'Admin' || 'Viewer'",
                "role_attribute_strict": True,
            },
        },
    }
    spec = prometheus_spec(cfg, externalUrl="https://grafana.example.org")
    assert chart_values(cfg) == whole(cfg, spec, expected_grafana)


def test_grafana_without_known_endpoints_keeps_the_base_values() -> None:
    # The rules refuse this config (no Keycloak realm to derive the endpoints from); the values stay safe.
    hub = copy.deepcopy(HUB)
    hub["auth"]["issuer"] = "https://login.example.org/"
    inventory = copy.deepcopy(INVENTORY)
    cfg = PlatformConfig.model_validate(
        {"inventory": inventory, "hubs": [hub], "monitoring": {"grafana": {"host": "grafana.example.org"}}}
    )
    assert chart_values(cfg)["grafana"] == BASE_GRAFANA
