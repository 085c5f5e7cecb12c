"""Monitoring stack manifests compared whole: the namespace's Pod Security level, Prometheus' retained
local volume pinned to its node, its class, rule and dashboard objects."""

from __future__ import annotations

from components.monitoring import manifests

MANAGED = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "jupyterhub-platform"}


def test_namespace_is_privileged_for_node_exporter() -> None:
    assert manifests.namespace() == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "monitoring", "labels": {**MANAGED, "pod-security.kubernetes.io/enforce": "privileged"}},
    }


def test_storage_class_and_volume_keep_the_data() -> None:
    assert manifests.storage_class() == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "monitoring-local", "labels": MANAGED},
        "provisioner": "kubernetes.io/no-provisioner",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }
    assert manifests.persistent_volume("worker-1", 100) == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "prometheus-data", "labels": {**MANAGED, "jupyterhub-platform/monitoring-volume": "prometheus"}},
        "spec": {
            "capacity": {"storage": "100Gi"},
            "accessModes": ["ReadWriteOnce"],
            "volumeMode": "Filesystem",
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "monitoring-local",
            "local": {"path": "/var/lib/jupyterhub-platform/prometheus"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-1"]}]}
                    ]
                }
            },
        },
    }


def test_rule_and_dashboard_objects() -> None:
    groups = {"groups": [{"name": "g", "rules": []}]}
    assert manifests.prometheus_rule("hubs", groups) == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "platform-hubs", "namespace": "monitoring", "labels": MANAGED},
        "spec": groups,
    }
    assert manifests.dashboard_config_map("hubs", "{}") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dashboard-hubs", "namespace": "monitoring", "labels": {**MANAGED, "grafana_dashboard": "1"}},
        "data": {"hubs.json": "{}"},
    }


def test_labels_are_not_shared_between_objects() -> None:
    first = manifests.storage_class()
    first["metadata"]["labels"]["x"] = "y"
    assert manifests.storage_class()["metadata"]["labels"] == MANAGED
    rule = manifests.prometheus_rule("a", {})
    rule["metadata"]["labels"]["x"] = "y"
    assert manifests.prometheus_rule("a", {})["metadata"]["labels"] == MANAGED
