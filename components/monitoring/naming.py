"""Names shared by the monitoring renderers and the component (pure)."""

from __future__ import annotations

NAMESPACE = "monitoring"
RELEASE = "kube-prometheus-stack"
# Short resource names: Prometheus `monitoring-prometheus`, Alertmanager `monitoring-alertmanager`,
# Grafana `monitoring-grafana` (Services of the same names in NAMESPACE).
FULLNAME = "monitoring"
PROMETHEUS_SERVICE = f"{FULLNAME}-prometheus"
GRAFANA_SERVICE = f"{FULLNAME}-grafana"
ALERTMANAGER_SERVICE = f"{FULLNAME}-alertmanager"
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
STORAGE_CLASS = "monitoring-local"
VOLUME_LABEL = "jupyterhub-platform/monitoring-volume"
PV_NAME = "prometheus-data"
DATA_DIR = "/var/lib/jupyterhub-platform/prometheus"
# The chart runs Prometheus as uid 1000 with fsGroup 2000 (prometheus.prometheusSpec.securityContext).
PROMETHEUS_UID = 1000
PROMETHEUS_GID = 2000
ALERTMANAGER_SECRET = "alertmanager-platform"
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_TLS_SECRET = "grafana-tls"
GRAFANA_OAUTH_SECRET = "grafana-oauth"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "jupyterhub-platform"}
