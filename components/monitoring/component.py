"""MonitoringStack: Prometheus, Alertmanager and Grafana (kube-prometheus-stack) for the whole platform.

Runbook: namespace `monitoring` ▸ Prometheus' directory on its node (SSH) and the local volume ▸ the
Alertmanager configuration, Grafana's admin, TLS and OAuth secrets ▸ the pinned chart (its CRDs with it)
▸ alert rules, dashboards and the ServiceMonitors of the hubs, YuniKorn and DCGM ▸ node-exporter on the
load-balancer and NFS hosts. The volume is protected and kept if dropped; its directory is never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.common import artifacts
from components.common.charts import pinned_release
from components.common.generated_secret import GeneratedSecret
from components.common.remote import NodeAccess, run_step
from components.monitoring import manifests, naming, scrape
from components.monitoring.alertmanager import alertmanager_config, secret_keys
from components.monitoring.alerts import platform_alerts, rule_groups
from components.monitoring.dashboards import dashboard_json, dashboards
from components.monitoring.hosts import directory_script, node_exporter_steps
from components.monitoring.values import chart_values
from config.monitoring import GRAFANA_OAUTH_SECRET, GRAFANA_TLS_CERT_SECRET, GRAFANA_TLS_KEY_SECRET
from config.monitoring_rules import prometheus_node
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets

TYPE = "jupyterhub-platform:monitoring:MonitoringStack"
CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
RELEASE_TIMEOUT_SECONDS = 900


def _k8s(kind_api: Any, name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions, **extra: Any) -> Any:
    # Top-level fields become the SDK's snake_case arguments (reclaimPolicy -> reclaim_policy).
    fields = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return kind_api(name, **fields, opts=opts, **extra)


def _secret(value: Any) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


class MonitoringStack(pulumi.ComponentResource):
    """kube-prometheus-stack in `monitoring`, the platform's alerts and dashboards, node-exporter off-cluster."""

    def __init__(
        self,
        name: str,
        *,
        cfg: PlatformConfig,
        secrets: StackSecrets,
        access: Mapping[str, NodeAccess],
        joined: Mapping[str, pulumi.Resource],
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        hub_namespaces: Sequence[str] = (),
        yunikorn_namespace: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        mon = cfg.monitoring
        assert mon is not None, "MonitoringStack needs the monitoring section"
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(depends_on))
        ns = _k8s(k8s.core.v1.Namespace, f"{name}-namespace", manifests.namespace(), k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns])

        # Prometheus' data: a directory on its node, a local PV the chart's claim selects (never deleted).
        node = prometheus_node(cfg)
        assert node is not None  # config.monitoring_rules refuses a stack without one
        after_join = [joined[node.name]] if node.name in joined else list(depends_on)
        directory = run_step(access[node.name], "prometheus-dir", directory_script(), parent=self, depends_on=after_join)
        storage_class = _k8s(k8s.storage.v1.StorageClass, f"{name}-storage-class", manifests.storage_class(), k8s_opts)
        volume = _k8s(
            k8s.core.v1.PersistentVolume,
            f"{name}-prometheus-volume",
            manifests.persistent_volume(node.name, mon.volume_gib),
            pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[directory, storage_class], protect=True, retain_on_delete=True
            ),
        )

        # Secrets the chart only references by name.
        values_needed = {key: secrets.require(key) for key in secret_keys(mon)}
        am_config = pulumi.Output.all(**values_needed).apply(
            lambda given: yaml.safe_dump(alertmanager_config(mon, given), sort_keys=False)
        )
        prerequisites: list[pulumi.Resource] = [ns, volume]
        prerequisites.append(
            k8s.core.v1.Secret(
                f"{name}-alertmanager-config",
                metadata={"name": naming.ALERTMANAGER_SECRET, "namespace": naming.NAMESPACE},
                string_data={"alertmanager.yaml": _secret(am_config)},
                opts=in_ns,
            )
        )
        admin_password = GeneratedSecret(
            f"{name}-grafana-admin", alphabet="alphanumeric", length=32, opts=pulumi.ResourceOptions(parent=self)
        )
        prerequisites.append(
            k8s.core.v1.Secret(
                f"{name}-grafana-admin",
                metadata={"name": naming.GRAFANA_ADMIN_SECRET, "namespace": naming.NAMESPACE},
                string_data={"admin-user": "admin", "admin-password": admin_password.value},
                opts=in_ns,
            )
        )
        if mon.grafana is not None:
            prerequisites.append(
                k8s.core.v1.Secret(
                    f"{name}-grafana-tls",
                    metadata={"name": naming.GRAFANA_TLS_SECRET, "namespace": naming.NAMESPACE},
                    type="kubernetes.io/tls",
                    string_data={
                        "tls.crt": _secret(secrets.require(GRAFANA_TLS_CERT_SECRET)),
                        "tls.key": _secret(secrets.require(GRAFANA_TLS_KEY_SECRET)),
                    },
                    opts=in_ns,
                )
            )
            prerequisites.append(
                k8s.core.v1.Secret(
                    f"{name}-grafana-oauth",
                    metadata={"name": naming.GRAFANA_OAUTH_SECRET, "namespace": naming.NAMESPACE},
                    string_data={"client_secret": _secret(secrets.require(GRAFANA_OAUTH_SECRET))},
                    opts=in_ns,
                )
            )

        self.release = pinned_release(
            f"{name}-kube-prometheus-stack",
            release=naming.RELEASE,
            chart="kube-prometheus-stack",
            version=mon.chart_version,
            repo=CHART_REPOSITORY,
            sources=cfg.charts,
            namespace=naming.NAMESPACE,
            values=chart_values(cfg),
            timeout=RELEASE_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=prerequisites),
        )
        # Custom resources after the release (it brings their CRDs and the operator that reads them).
        after_release = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.release])
        for group, doc in rule_groups(platform_alerts(cfg, mon), mon.scrape_interval_seconds).items():
            artifacts.record(f"monitoring/rules/{group}.yaml", yaml.safe_dump(doc, sort_keys=False, width=1000))
            _k8s(
                k8s.apiextensions.CustomResource,
                f"{name}-rules-{group}",
                manifests.prometheus_rule(group, doc),
                after_release,
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
            )
        for spec in dashboards(cfg):
            text = dashboard_json(spec)
            artifacts.record(f"monitoring/dashboards/{spec.name}.json", text)
            _k8s(k8s.core.v1.ConfigMap, f"{name}-dashboard-{spec.name}", manifests.dashboard_config_map(spec.name, text), in_ns)
        monitors = [scrape.hub_service_monitor(n) for n in hub_namespaces]
        if yunikorn_namespace is not None:
            monitors.append(scrape.yunikorn_service_monitor(yunikorn_namespace))
        if any(n.gpu is not None for n in cfg.inventory.nodes) and cfg.gpu.provider == "gpu-operator":
            monitors.append(scrape.dcgm_service_monitor(cfg.gpu.namespace))
        for monitor in monitors:
            meta = monitor["metadata"]
            _k8s(
                k8s.apiextensions.CustomResource,
                f"{name}-monitor-{meta['namespace']}-{meta['name']}",
                monitor,
                after_release,
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
            )

        # node-exporter on the machines outside Kubernetes (static targets of the chart's Prometheus).
        # The VIP metric goes into node-exporter's textfile directory, so it waits for node-exporter on that host.
        self.host_steps: list[pulumi.Resource] = []
        exporters: dict[str, pulumi.Resource] = {}
        for step in node_exporter_steps(cfg):
            after = [exporters[step.node]] if step.node in exporters else []
            resource = run_step(access[step.node], step.step, step.script, parent=self, depends_on=after)
            exporters.setdefault(step.node, resource)
            self.host_steps.append(resource)
        self.register_outputs({"namespace": naming.NAMESPACE, "release": self.release.name})
