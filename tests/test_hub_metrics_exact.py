"""Hub metrics values compared whole: the read-only role of the `prometheus` service, the network rule
that admits only Prometheus' pods from the monitoring namespace on the hub port, the secret token values,
and the deep merge that combines them with a hub's values."""

from __future__ import annotations

import copy

from components.monitoring.hub_metrics import hub_metrics_values, hub_token_values, merge
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY


def test_values_with_monitoring() -> None:
    cfg = PlatformConfig.model_validate({"inventory": copy.deepcopy(INVENTORY), "monitoring": {}})
    assert hub_metrics_values(cfg) == {
        "hub": {
            "loadRoles": {
                "metrics-reader": {
                    "description": "Prometheus reads /hub/metrics",
                    "scopes": ["read:metrics"],
                    "services": ["prometheus"],
                }
            },
            "networkPolicy": {
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                            }
                        ],
                        "ports": [{"port": 8081}],
                    }
                ]
            },
        }
    }
    assert hub_metrics_values(PlatformConfig.model_validate({"inventory": copy.deepcopy(INVENTORY)})) == {}


def test_token_values_and_merge() -> None:
    assert hub_token_values("t0k") == {"hub": {"services": {"prometheus": {"apiToken": "t0k"}}}}
    base = {"hub": {"loadRoles": {"a": 1}, "image": "x"}, "proxy": {"https": True}}
    extra = {"hub": {"loadRoles": {"b": 2}, "image": "y"}, "singleuser": {"cpu": 1}}
    assert merge(base, extra) == {
        "hub": {"loadRoles": {"a": 1, "b": 2}, "image": "y"},
        "proxy": {"https": True},
        "singleuser": {"cpu": 1},
    }
    # A leaf replaces a tree and a tree replaces a leaf; the inputs are left unchanged.
    assert merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
    assert merge({"a": 2}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert base == {"hub": {"loadRoles": {"a": 1}, "image": "x"}, "proxy": {"https": True}}
