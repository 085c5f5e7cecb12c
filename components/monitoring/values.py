"""kube-prometheus-stack values (pure). Every key set here is listed, with where the pinned chart defines
it, in `chart_keys.yaml` beside this file; tests/test_monitoring_values.py checks the two agree.

Secrets never appear here: Alertmanager reads its configuration from a Secret the component makes, Grafana
its admin password and OAuth client secret from Secrets, mounted as files.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from components.monitoring import naming
from components.monitoring.backup_metrics import TEXTFILE_DIR
from components.monitoring.scrape import additional_scrape_configs
from config.monitoring_oauth_queries import grafana_oauth
from config.monitoring_sizing_queries import prometheus_sizing

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# kps' node-exporter defaults (values.yaml `prometheus-node-exporter.extraArgs`), kept when adding mountstats
# (NFS client latency per mount, off by default in node_exporter).
NODE_EXPORTER_DEFAULT_ARGS = [
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl"
    "|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$",
]
GRAFANA_SECRETS_DIR = "/etc/secrets"
# Where the chart's node-exporter sees the host's root file system.
HOST_ROOT = "/host/root"


def _prometheus(cfg: PlatformConfig) -> dict[str, Any]:
    mon = cfg.monitoring
    assert mon is not None
    interval = f"{mon.scrape_interval_seconds}s"
    return {
        "prometheusSpec": {
            "scrapeInterval": interval,
            "evaluationInterval": interval,
            "retention": f"{mon.retention_days}d",
            "retentionSize": f"{mon.retention_size_gib}GB",
            # Select every ServiceMonitor and PrometheusRule, not only those labelled with this release.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "storageSpec": {
                "volumeClaimTemplate": {
                    "spec": {
                        "storageClassName": naming.STORAGE_CLASS,
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": f"{mon.volume_gib}Gi"}},
                        "selector": {"matchLabels": {naming.VOLUME_LABEL: "prometheus"}},
                    }
                }
            },
            "additionalScrapeConfigs": additional_scrape_configs(cfg),
            # The memory the sizing estimates for this inventory (capacity report), requested up front.
            "resources": {"requests": {"memory": f"{math.ceil(prometheus_sizing(cfg, mon).memory_bytes / 2**20)}Mi"}},
            **({"externalUrl": f"https://{mon.grafana.host}"} if mon.grafana is not None else {}),
        }
    }


def _grafana(cfg: PlatformConfig) -> dict[str, Any]:
    mon = cfg.monitoring
    assert mon is not None
    values: dict[str, Any] = {
        "admin": {"existingSecret": naming.GRAFANA_ADMIN_SECRET},
        # Only the platform's dashboards (ConfigMaps labelled grafana_dashboard=1 in `monitoring`).
        "defaultDashboardsEnabled": False,
        "sidecar": {
            "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": naming.NAMESPACE}
        },
    }
    g, oauth = mon.grafana, grafana_oauth(cfg)
    if g is None or oauth is None:
        return values
    admins = g.admin_group
    allowed = sorted({admins, *g.allowed_groups})
    values.update(
        {
            "service": {"type": "NodePort", "port": 443, "nodePort": g.https_node_port},
            "extraSecretMounts": [
                {
                    "name": "tls",
                    "secretName": naming.GRAFANA_TLS_SECRET,
                    "mountPath": f"{GRAFANA_SECRETS_DIR}/tls",
                    "readOnly": True,
                },
                {
                    "name": "oauth",
                    "secretName": naming.GRAFANA_OAUTH_SECRET,
                    "mountPath": f"{GRAFANA_SECRETS_DIR}/oauth",
                    "readOnly": True,
                },
            ],
            "grafana.ini": {
                "server": {
                    "protocol": "https",
                    "domain": g.host,
                    "root_url": f"https://{g.host}/",
                    "cert_file": f"{GRAFANA_SECRETS_DIR}/tls/tls.crt",
                    "cert_key": f"{GRAFANA_SECRETS_DIR}/tls/tls.key",
                },
                "auth": {"disable_login_form": True},
                "auth.generic_oauth": {
                    "enabled": True,
                    "name": "institution login",
                    "client_id": g.oauth_client_id,
                    "client_secret": f"$__file{{{GRAFANA_SECRETS_DIR}/oauth/client_secret}}",
                    "scopes": " ".join(oauth.scopes),
                    "auth_url": oauth.auth_url,
                    "token_url": oauth.token_url,
                    "api_url": oauth.api_url,
                    "use_pkce": True,
                    "groups_attribute_path": oauth.groups_claim,
                    "allowed_groups": " ".join(allowed),
                    "role_attribute_path": f"contains({oauth.groups_claim}[*], '{admins}') && 'Admin' || 'Viewer'",
                    "role_attribute_strict": True,
                },
            },
        }
    )
    return values


def chart_values(cfg: PlatformConfig) -> dict[str, Any]:
    """Values of the `kube-prometheus-stack` release."""
    return {
        "fullnameOverride": naming.FULLNAME,
        # CRDs ship in the chart's `crds` subchart; Helm installs but never upgrades them, so the chart's
        # documented upgrade job applies the new ones before the operator starts (UPGRADE.md).
        "crds": {"upgradeJob": {"enabled": True}},
        # kube-proxy runs in Calico's cluster with its metrics on 127.0.0.1: not scraped (no alert uses it).
        "kubeProxy": {"enabled": False},
        "alertmanager": {"alertmanagerSpec": {"useExistingSecret": True, "configSecret": naming.ALERTMANAGER_SECRET}},
        "prometheus": _prometheus(cfg),
        "grafana": _grafana(cfg),
        "prometheus-node-exporter": {
            "extraArgs": [
                *NODE_EXPORTER_DEFAULT_ARGS,
                "--collector.mountstats",
                # Backups and quota reports on cluster nodes write *.prom files on the host; the chart
                # mounts the host's / read-only at /host/root (hostRootFsMount, on by default).
                f"--collector.textfile.directory={HOST_ROOT}{TEXTFILE_DIR}",
            ]
        },
        # Pod labels the dashboards group by: z2jh's component and the YuniKorn queue the hub sets on each notebook
        # (kube-state-metrics exposes them as label_component and label_yunikorn_apache_org_queue).
        "kube-state-metrics": {"metricLabelsAllowlist": ["pods=[component,yunikorn.apache.org/queue]"]},
    }
