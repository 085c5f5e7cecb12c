"""Alertmanager's configuration (pure): receivers from the config, routing by severity, inhibition.

Secret values (SMTP password, webhook URLs) are parameters: the component passes the stack secrets and
stores the result in a Secret; the offline render passes placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.monitoring import SMTP_PASSWORD_SECRET, EmailReceiver, MonitoringConfig, WebhookReceiver, webhook_secret_key

# Alerts without a receiver that takes their severity land here (visible in Alertmanager, sent nowhere).
NULL_RECEIVER = "nobody"
SEVERITIES = ("critical", "warning")


def secret_keys(mon: MonitoringConfig) -> list[str]:
    """The stack secrets this configuration needs."""
    keys: list[str] = []
    if any(isinstance(r, EmailReceiver) and r.username for r in mon.receivers):
        keys.append(SMTP_PASSWORD_SECRET)
    keys += [webhook_secret_key(r.name) for r in mon.receivers if isinstance(r, WebhookReceiver)]
    return keys


def _receiver(receiver: EmailReceiver | WebhookReceiver, secrets: Mapping[str, str]) -> dict[str, Any]:
    if isinstance(receiver, WebhookReceiver):
        return {
            "name": receiver.name,
            "webhook_configs": [{"url": secrets[webhook_secret_key(receiver.name)], "send_resolved": True}],
        }
    email: dict[str, Any] = {
        "to": ", ".join(receiver.to),
        "from": receiver.sender,
        "smarthost": receiver.smarthost,
        "require_tls": True,
        "send_resolved": True,
    }
    if receiver.username:
        email.update(auth_username=receiver.username, auth_password=secrets[SMTP_PASSWORD_SECRET])
    return {"name": receiver.name, "email_configs": [email]}


def alertmanager_config(mon: MonitoringConfig, secrets: Mapping[str, str]) -> dict[str, Any]:
    """The `alertmanager.yaml` document."""
    routes = []
    for severity in SEVERITIES:
        for receiver in mon.receivers:
            if severity in receiver.severities:
                # `continue`: every receiver that takes this severity gets it, not just the first.
                routes.append({"receiver": receiver.name, "matchers": [f'severity="{severity}"'], "continue": True})
    return {
        "route": {
            "receiver": NULL_RECEIVER,
            "group_by": ["alertname", "namespace", "node"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": [{"name": NULL_RECEIVER}, *(_receiver(r, secrets) for r in mon.receivers)],
        "inhibit_rules": [
            # A node that is down explains every alert about what ran on it.
            {
                "source_matchers": ['alertname="NodeNotReady"'],
                "target_matchers": ['alertname!="NodeNotReady"'],
                "equal": ["node"],
            },
            # The 90% export alert makes the 80% one redundant.
            {
                "source_matchers": ['alertname="NfsExportAbove90Percent"'],
                "target_matchers": ['alertname="NfsExportAbove80Percent"'],
                "equal": ["instance", "mountpoint"],
            },
        ],
    }
