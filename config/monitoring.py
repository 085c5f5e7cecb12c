"""Monitoring: kube-prometheus-stack (Prometheus, Alertmanager, Grafana), alert thresholds and receivers.

Model only; the rules that need the whole platform (the Prometheus node, retention against the volume,
Grafana's host and node ports against the hubs) live in `config.monitoring_rules`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, field_validator

from config.base import StrictModel

# The kube-prometheus-stack release the platform was written against (prometheus-community, August 2026:
# Prometheus Operator v0.93.1, Grafana chart 12.11.1). Its CRDs come with the chart; `crds.upgradeJob`
# updates them on chart upgrades (the chart's UPGRADE.md).
KUBE_PROMETHEUS_STACK_VERSION = "88.5.3"
_HOST = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$"
_GROUP = r"^[A-Za-z0-9_-]{1,64}$"


class EmailReceiver(StrictModel):
    """Alerts by e-mail over SMTP; the SMTP password is the stack secret `monitoring_smtp_password`."""

    type: Literal["email"] = "email"
    """Receiver kind."""
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Receiver name (Alertmanager's `receivers[].name`)."""
    to: Annotated[list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]], Field(min_length=1)]
    """Recipient addresses."""
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    """`From:` address."""
    smarthost: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$")]
    """SMTP relay `host:port` (587 with STARTTLS)."""
    username: str | None = None
    """SMTP login; None: the relay accepts the platform without authentication (no password asked)."""
    severities: list[Literal["critical", "warning"]] = ["critical", "warning"]
    """Which severities reach this receiver."""


class WebhookReceiver(StrictModel):
    """Alerts as JSON POSTs (Slack, Teams or Matrix bridges); the URL, which carries its token, is the stack
    secret `monitoring_webhook_<name with _ for ->_url`."""

    type: Literal["webhook"] = "webhook"
    """Receiver kind."""
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Receiver name (Alertmanager's `receivers[].name`)."""
    severities: list[Literal["critical", "warning"]] = ["critical"]
    """Which severities reach this receiver."""


Receiver = Annotated[EmailReceiver | WebhookReceiver, Field(discriminator="type")]


class GrafanaConfig(StrictModel):
    """Grafana, reached over HTTPS through the hub load balancer, login through the hubs' OIDC provider."""

    host: Annotated[str, Field(pattern=_HOST)]
    """DNS name users open (points to the hub VIP like the hubs' names)."""
    https_node_port: Annotated[int, Field(ge=30000, le=32767)] = 30943
    """NodePort of Grafana's HTTPS service; HAProxy routes 443 by SNI to it."""
    oauth_hub: str | None = None
    """Hub whose `generic-oauth` provider Grafana logs in with; default: the first such hub. The client
    secret is the stack secret `monitoring_grafana_oauth_client_secret`."""
    auth_url: HttpUrl | None = None
    """Authorization endpoint; default: the hub's `authorize_url`, or Keycloak's path under the hub's issuer
    (`<issuer>/protocol/openid-connect/auth`). Grafana's generic OAuth does no OIDC discovery."""
    token_url: HttpUrl | None = None
    """Token endpoint; default as for `auth_url` (`.../token`)."""
    api_url: HttpUrl | None = None
    """Userinfo endpoint; default as for `auth_url` (`.../userinfo`)."""
    oauth_client_id: Annotated[str, Field(min_length=1)] = "grafana"
    """OIDC client id registered for Grafana at the provider."""
    admin_group: Annotated[str, Field(pattern=_GROUP)] = "admins"
    """Group (in the `groups` claim) whose members are Grafana admins; everyone else who logs in is a Viewer."""
    allowed_groups: list[Annotated[str, Field(pattern=_GROUP)]] = []
    """Only members of these groups may log in (empty: the admin group only)."""


class MonitoringConfig(StrictModel):
    """kube-prometheus-stack in namespace `monitoring`, node-exporter on the LB and NFS hosts, alerts and
    dashboards from code. On in prod; optional in dev (absent: nothing is deployed)."""

    chart_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = KUBE_PROMETHEUS_STACK_VERSION
    """Exact version of the `kube-prometheus-stack` chart (https://prometheus-community.github.io/helm-charts)."""
    scrape_interval_seconds: Annotated[int, Field(ge=10, le=300)] = 30
    """How often every target is scraped (also the rule evaluation interval)."""
    retention_days: Annotated[int, Field(ge=1, le=730)] = 30
    """Samples older than this are dropped."""
    retention_size_gib: Annotated[int, Field(ge=1)] = 40
    """Prometheus drops the oldest blocks beyond this size (must fit in `volume_gib` with WAL headroom)."""
    volume_gib: Annotated[int, Field(ge=5, le=16384)] = 50
    """Size of the platform-made local volume for Prometheus' data."""
    node: str | None = None
    """Node that holds the Prometheus volume (pins the Prometheus pod); default: the first worker without
    GPUs. The directory is never deleted by the platform."""
    pending_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    """Alert when a notebook waits in a YuniKorn queue longer than this."""
    spawn_failure_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.2
    """Alert when more than this share of a hub's spawns fail over 15 minutes."""
    backup_max_age_hours: Annotated[int, Field(ge=1, le=24 * 14)] = 26
    """Alert when the last successful backup of any kind is older than this."""
    grafana: GrafanaConfig | None = None
    """Grafana's public access; None: Grafana only inside the cluster (`kubectl port-forward`)."""
    receivers: list[Receiver] = []
    """Where alerts go; empty: alerts are visible in Alertmanager only (nobody is told)."""

    @field_validator("receivers")
    @classmethod
    def _unique_receivers(cls, receivers: list[Receiver]) -> list[Receiver]:
        names = [r.name for r in receivers]
        if len(set(names)) != len(names):
            raise ValueError(f"receiver names must be unique: {names}")
        return receivers


def webhook_secret_key(name: str) -> str:
    """Stack secret holding a webhook receiver's URL."""
    return f"monitoring_webhook_{name.replace('-', '_')}_url"


SMTP_PASSWORD_SECRET = "monitoring_smtp_password"
GRAFANA_OAUTH_SECRET = "monitoring_grafana_oauth_client_secret"
GRAFANA_TLS_CERT_SECRET = "monitoring_grafana_tls_cert"
GRAFANA_TLS_KEY_SECRET = "monitoring_grafana_tls_key"
MONITORING_SECRET_KEY = re.compile(
    r"^monitoring_(smtp_password|grafana_oauth_client_secret|grafana_tls_cert|grafana_tls_key|webhook_[a-z0-9_]+_url)$"
)
