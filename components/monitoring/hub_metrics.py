"""Hub metrics for Prometheus (pure): a JupyterHub service `prometheus` whose only role grants `read:metrics`,
its token (random, generated once per hub) and the hub network policy rule that lets Prometheus in.

The token reaches the hub as a secret values file (never plain values) and Prometheus as the
`hub-metrics-token` Secret in the hub's namespace, which the hub's ServiceMonitor references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.monitoring import naming, scrape

if TYPE_CHECKING:
    from config.platform import PlatformConfig

SERVICE = "prometheus"
ROLE = "metrics-reader"


def hub_metrics_values(cfg: PlatformConfig) -> dict[str, Any]:
    """Plain values merged into each hub's release when monitoring is on: the role and the network rule."""
    if cfg.monitoring is None:
        return {}
    return {
        "hub": {
            "loadRoles": {
                ROLE: {"description": "Prometheus reads /hub/metrics", "scopes": ["read:metrics"], "services": [SERVICE]}
            },
            "networkPolicy": {
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": naming.NAMESPACE}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                            }
                        ],
                        "ports": [{"port": scrape.HUB_PORT}],
                    }
                ]
            },
        }
    }


def hub_token_values(token: str) -> dict[str, Any]:
    """The secret part: the service and its token (merged from the secret values file)."""
    return {"hub": {"services": {SERVICE: {"apiToken": token}}}}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of two values trees (extra wins on leaves)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
