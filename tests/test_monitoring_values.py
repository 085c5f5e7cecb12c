"""kube-prometheus-stack values against the recorded list of the pinned chart's keys, Alertmanager's
configuration with the real amtool, the monitoring manifests with kubernetes-validate --strict."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.monitoring import manifests
from components.monitoring.alertmanager import alertmanager_config, secret_keys
from components.monitoring.dashboards import dashboard_json, dashboards
from components.monitoring.values import chart_values
from config.monitoring import KUBE_PROMETHEUS_STACK_VERSION
from tests.helpers import ROOT, require_tool, stack_platform

CHART_KEYS = yaml.safe_load((ROOT / "components" / "monitoring" / "chart_keys.yaml").read_text())


def flatten(values: dict[str, Any], free_form: set[str], prefix: str = "") -> set[str]:
    """Dotted key paths set in `values`, stopping at free-form keys (their content is not chart keys)."""
    keys: set[str] = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in free_form:
            keys |= flatten(value, free_form, f"{path}.")
        else:
            keys.add(path)
    return keys


@pytest.mark.parametrize("stack", ["prod", "scale"])
def test_every_key_set_is_a_recorded_chart_key(stack: str) -> None:
    cfg = stack_platform("prod") if stack == "prod" else _scale()
    assert CHART_KEYS["version"] == KUBE_PROMETHEUS_STACK_VERSION == cfg.monitoring.chart_version
    free_form = set(CHART_KEYS["free_form"])
    set_keys = flatten(chart_values(cfg), free_form)
    recorded = set(CHART_KEYS["keys"])
    assert set_keys - recorded == set(), "record each new key with its source in chart_keys.yaml"
    assert free_form <= recorded
    assert all(CHART_KEYS["keys"][k] for k in recorded)


def _scale() -> Any:
    from config.loader import load_platform

    raw = {
        k.split(":", 1)[1]: v for k, v in yaml.safe_load((ROOT / "tests/fixtures/scale-200.yaml").read_text())["config"].items()
    }
    return load_platform(raw, [], missing_secrets_ok=True)


def test_flatten_catches_an_unrecorded_key() -> None:
    values = {"prometheus": {"prometheusSpec": {"retention": "1d", "retentionSizee": "1GB"}}}
    assert flatten(values, set()) - set(CHART_KEYS["keys"]) == {"prometheus.prometheusSpec.retentionSizee"}


def test_prometheus_values_follow_the_config() -> None:
    cfg = stack_platform("prod")
    spec = chart_values(cfg)["prometheus"]["prometheusSpec"]
    assert (spec["retention"], spec["retentionSize"], spec["scrapeInterval"]) == ("30d", "80GB", "30s")
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "monitoring-local"
    assert claim["resources"]["requests"]["storage"] == "100Gi"
    jobs = {j["job_name"]: j for j in spec["additionalScrapeConfigs"]}
    assert jobs["lb-hosts"]["static_configs"][0]["targets"] == ["192.0.2.11:9100", "192.0.2.12:9100"]
    assert jobs["nfs-host"]["static_configs"][0]["targets"] == ["192.0.2.51:9100"]
    assert jobs["haproxy"]["static_configs"][0]["targets"] == ["192.0.2.11:8405", "192.0.2.12:8405"]
    assert jobs["api-vip"]["static_configs"][0]["targets"] == ["k8s-api.example.org:6443"]


def test_grafana_logs_in_through_the_hubs_provider() -> None:
    grafana = chart_values(stack_platform("prod"))["grafana"]
    oauth = grafana["grafana.ini"]["auth.generic_oauth"]
    assert oauth["auth_url"] == "https://login.example.org/realms/university/protocol/openid-connect/auth"
    assert oauth["role_attribute_path"] == "contains(groups[*], 'admins') && 'Admin' || 'Viewer'"
    assert oauth["allowed_groups"] == "admins researchers"
    assert oauth["client_secret"].startswith("$__file{")  # the secret itself is a mounted file
    assert grafana["service"] == {"type": "NodePort", "port": 443, "nodePort": 30943}
    assert grafana["grafana.ini"]["server"]["root_url"] == "https://grafana.example.org/"


def _alertmanager(tmp_path: Path) -> Path:
    mon = stack_platform("prod").monitoring
    assert secret_keys(mon) == ["monitoring_smtp_password", "monitoring_webhook_chat_url"]
    doc = alertmanager_config(mon, {k: "https://hooks.example.org/x" if "webhook" in k else "pw" for k in secret_keys(mon)})
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_alertmanager_config_passes_amtool(tmp_path: Path) -> None:
    amtool = require_tool("amtool")
    result = subprocess.run([amtool, "check-config", str(_alertmanager(tmp_path))], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 receivers" in result.stdout and "2 inhibit rules" in result.stdout


def test_alertmanager_routes_by_severity(tmp_path: Path) -> None:
    """amtool's routing test: critical reaches both receivers, warning only e-mail, no severity nobody."""
    amtool = require_tool("amtool")
    config = str(_alertmanager(tmp_path))
    for labels, expected in (
        ("severity=critical", "platform-team,chat"),
        ("severity=warning", "platform-team"),
        ("x=y", "nobody"),
    ):
        result = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={config}", "--verify.receivers=" + expected, labels],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, (labels, result.stdout + result.stderr)


def test_manifests_pass_kubernetes_validate_strict() -> None:
    spec = dashboards(stack_platform("prod"))[0]
    docs = [
        manifests.namespace(),
        manifests.storage_class(),
        manifests.persistent_volume("worker-1", 100),
        manifests.dashboard_config_map(spec.name, dashboard_json(spec)),
    ]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.34", strict=True)
    bad = manifests.persistent_volume("worker-1", 100)
    bad["spec"]["reclaimPolicy"] = "Retain"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.34", strict=True)


def test_hub_metrics_values_pass_the_z2jh_schema() -> None:
    """The hub's release with monitoring (role, network rule, and the secret service token) is valid z2jh."""
    from components.jupyterhub.values import render_values
    from components.monitoring import hub_metrics
    from tests.test_jupyterhub_values import STORAGE, schema_errors

    cfg = stack_platform("prod")
    hub = cfg.hubs[0]
    values = hub_metrics.merge(render_values(cfg, hub, STORAGE), hub_metrics.hub_metrics_values(cfg))
    values = hub_metrics.merge(values, hub_metrics.hub_token_values("0" * 64))
    assert schema_errors(values) == []
    assert values["hub"]["loadRoles"]["metrics-reader"] == {
        "description": "Prometheus reads /hub/metrics", "scopes": ["read:metrics"], "services": ["prometheus"],
    }  # fmt: skip
    assert values["hub"]["services"]["prometheus"] == {"apiToken": "0" * 64}


def test_recorded_keys_are_in_the_keys_extracted_from_the_chart() -> None:
    """chart_keys.yaml (what the platform sets, with sources) agrees with the key list taken from the pinned
    chart's templates (components/common/chart_keys/, the format main's tools.chart_keys writes)."""
    import json

    extracted = json.loads((ROOT / "components/common/chart_keys/kube-prometheus-stack-88.5.3.json").read_text())
    assert (extracted["chart"], extracted["version"]) == ("kube-prometheus-stack", KUBE_PROMETHEUS_STACK_VERSION)
    keys = set(extracted["keys"])

    def read(path: str) -> bool:
        parts = path.split(".")
        return path in keys or any(".".join(parts[:i]) + ".*" in keys for i in range(1, len(parts) + 1))

    assert [k for k in CHART_KEYS["keys"] if not read(k) and not read(k + ".x")] == []
    assert not read("prometheus.prometheusSpec.retentionSizee")
