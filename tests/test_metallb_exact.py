"""MetalLB renderers compared whole: every key of the chart values and of the three manifests, and the
YAML stream parsed back (what the webhook wait dry-runs and the controller reads)."""

from __future__ import annotations

import yaml

from components.metallb.manifests import (
    CHART,
    CHART_REPOSITORY,
    RELEASE,
    advertisement_manifest,
    manifests_yaml,
    metallb_values,
    namespace_manifest,
    pool_manifest,
)
from config.traffic import MetalLbConfig

SETTINGS = MetalLbConfig.model_validate({"addresses": ["192.0.2.240/29", "192.0.2.250/32"], "namespace": "lb"})
LABELS = {"app.kubernetes.io/managed-by": "jupyterhub-platform"}


def test_values_are_plain_l2_with_crds_and_speakers_on_control_planes() -> None:
    assert metallb_values() == {
        "crds": {"enabled": True},
        "speaker": {"frr": {"enabled": False}, "tolerateMaster": True},
        "frrk8s": {"enabled": False},
    }


def test_namespace_is_privileged_for_the_speakers() -> None:
    assert namespace_manifest(SETTINGS) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "lb", "labels": {**LABELS, "pod-security.kubernetes.io/enforce": "privileged"}},
    }


def test_pool_and_advertisement_whole() -> None:
    pool = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "hubs", "namespace": "lb", "labels": LABELS},
        "spec": {"addresses": ["192.0.2.240/29", "192.0.2.250/32"], "autoAssign": True},
    }
    advertisement = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "L2Advertisement",
        "metadata": {"name": "hubs-l2", "namespace": "lb", "labels": LABELS},
        "spec": {"ipAddressPools": ["hubs"]},
    }
    assert pool_manifest(SETTINGS) == pool
    assert advertisement_manifest(SETTINGS) == advertisement
    assert list(yaml.safe_load_all(manifests_yaml(SETTINGS))) == [pool, advertisement]
    # The labels are copies: changing one manifest's leaves the other's alone.
    first = pool_manifest(SETTINGS)
    first["metadata"]["labels"]["x"] = "y"
    assert advertisement_manifest(SETTINGS)["metadata"]["labels"] == LABELS
    assert pool_manifest(SETTINGS)["metadata"]["labels"] == LABELS


def test_the_chart_installed() -> None:
    # The component installs these (tests/test_metallb.py checks the dev stack's Release carries them).
    assert (CHART, CHART_REPOSITORY, RELEASE) == ("metallb", "https://metallb.github.io/metallb", "metallb")
