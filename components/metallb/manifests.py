"""MetalLB in L2 mode: chart values, namespace, address pool and L2 advertisement (pure: no Pulumi import).

The pool and the advertisement are custom resources validated by the controller's webhook, so they
are created only after the webhook answers (see `scripts/wait-webhook.sh`, which asks the API server to
dry-run the very pool manifest until the webhook accepts it).
"""

from __future__ import annotations

from typing import Any

import yaml

from config.traffic import MetalLbConfig

CHART = "metallb"
CHART_REPOSITORY = "https://metallb.github.io/metallb"
RELEASE = "metallb"
API_VERSION = "metallb.io/v1beta1"
POOL_NAME = "hubs"
ADVERTISEMENT_NAME = "hubs-l2"
MANAGED_BY = {"app.kubernetes.io/managed-by": "jupyterhub-platform"}


def metallb_values() -> dict[str, Any]:
    """Plain L2 mode: no FRR (BGP) containers, the chart's CRDs, speakers on control planes too."""
    return {
        "crds": {"enabled": True},
        "speaker": {"frr": {"enabled": False}, "tolerateMaster": True},
        "frrk8s": {"enabled": False},
    }


def namespace_manifest(settings: MetalLbConfig) -> dict[str, Any]:
    # Speakers use the host network and NET_RAW (ARP replies): Pod Security `privileged`.
    labels = {**MANAGED_BY, "pod-security.kubernetes.io/enforce": "privileged"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": settings.namespace, "labels": labels}}


def pool_manifest(settings: MetalLbConfig) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "IPAddressPool",
        "metadata": {"name": POOL_NAME, "namespace": settings.namespace, "labels": dict(MANAGED_BY)},
        # autoAssign stays on: hubs name their address (loadBalancerIP) anyway, and a Service that names
        # none still gets one instead of pending.
        "spec": {"addresses": [str(net) for net in settings.addresses], "autoAssign": True},
    }


def advertisement_manifest(settings: MetalLbConfig) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "L2Advertisement",
        "metadata": {"name": ADVERTISEMENT_NAME, "namespace": settings.namespace, "labels": dict(MANAGED_BY)},
        "spec": {"ipAddressPools": [POOL_NAME]},
    }


def manifests_yaml(settings: MetalLbConfig) -> str:
    """The pool and advertisement as one YAML stream (what the webhook wait dry-runs)."""
    return yaml.safe_dump_all([pool_manifest(settings), advertisement_manifest(settings)], sort_keys=True)
