"""Alertmanager's configuration compared whole: routes per severity (every receiver that takes a severity
gets it), e-mail over required TLS with the password only from the secrets, webhooks, inhibition."""

from __future__ import annotations

from components.monitoring.alertmanager import alertmanager_config, secret_keys
from config.monitoring import MonitoringConfig

RECEIVERS = [
    {"type": "email", "name": "ops", "to": ["a@example.org", "b@example.org"], "sender": "am@example.org",
     "smarthost": "smtp.example.org:587", "username": "am"},
    {"type": "webhook", "name": "chat", "severities": ["critical", "warning"]},
    {"type": "email", "name": "oncall", "to": ["c@example.org"], "sender": "am@example.org",
     "smarthost": "smtp.example.org:25", "severities": ["critical"]},
]  # fmt: skip
SECRETS = {"monitoring_smtp_password": "pw", "monitoring_webhook_chat_url": "https://hooks.example.org/x"}


def test_secret_keys() -> None:
    mon = MonitoringConfig.model_validate({"receivers": RECEIVERS})
    assert secret_keys(mon) == ["monitoring_smtp_password", "monitoring_webhook_chat_url"]
    assert secret_keys(MonitoringConfig.model_validate({"receivers": RECEIVERS[2:]})) == []


def test_the_whole_document() -> None:
    mon = MonitoringConfig.model_validate({"receivers": RECEIVERS})
    assert alertmanager_config(mon, SECRETS) == {
        "route": {
            "receiver": "nobody",
            "group_by": ["alertname", "namespace", "node"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "ops", "matchers": ['severity="critical"'], "continue": True},
                {"receiver": "chat", "matchers": ['severity="critical"'], "continue": True},
                {"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True},
                {"receiver": "ops", "matchers": ['severity="warning"'], "continue": True},
                {"receiver": "chat", "matchers": ['severity="warning"'], "continue": True},
            ],
        },
        "receivers": [
            {"name": "nobody"},
            {
                "name": "ops",
                "email_configs": [
                    {
                        "to": "a@example.org, b@example.org",
                        "from": "am@example.org",
                        "smarthost": "smtp.example.org:587",
                        "require_tls": True,
                        "send_resolved": True,
                        "auth_username": "am",
                        "auth_password": "pw",
                    }
                ],
            },
            {"name": "chat", "webhook_configs": [{"url": "https://hooks.example.org/x", "send_resolved": True}]},
            {
                "name": "oncall",
                "email_configs": [
                    {
                        "to": "c@example.org",
                        "from": "am@example.org",
                        "smarthost": "smtp.example.org:25",
                        "require_tls": True,
                        "send_resolved": True,
                    }
                ],
            },
        ],
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="NodeNotReady"'],
                "target_matchers": ['alertname!="NodeNotReady"'],
                "equal": ["node"],
            },
            {
                "source_matchers": ['alertname="NfsExportAbove90Percent"'],
                "target_matchers": ['alertname="NfsExportAbove80Percent"'],
                "equal": ["instance", "mountpoint"],
            },
        ],
    }
