"""Kubernetes objects of the monitoring stack (pure): namespace, Prometheus' local volume and its class,
PrometheusRules, dashboard ConfigMaps."""

from __future__ import annotations

from typing import Any

from components.monitoring import naming


def namespace() -> dict[str, Any]:
    # node-exporter uses the host's network and PID namespaces: Pod Security `privileged`.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": naming.NAMESPACE,
            "labels": {**naming.MANAGED_BY, "pod-security.kubernetes.io/enforce": "privileged"},
        },
    }


def storage_class() -> dict[str, Any]:
    """Class of Prometheus' static local volume: no provisioner, bound when the pod is scheduled."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": naming.STORAGE_CLASS, "labels": dict(naming.MANAGED_BY)},
        "provisioner": "kubernetes.io/no-provisioner",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }


def persistent_volume(node: str, size_gib: int) -> dict[str, Any]:
    """The `local` PV on the Prometheus node; the chart's claim selects it by label."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": naming.PV_NAME, "labels": {**naming.MANAGED_BY, naming.VOLUME_LABEL: "prometheus"}},
        "spec": {
            "capacity": {"storage": f"{size_gib}Gi"},
            "accessModes": ["ReadWriteOnce"],
            "volumeMode": "Filesystem",
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": naming.STORAGE_CLASS,
            "local": {"path": naming.DATA_DIR},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}
                    ]
                }
            },
        },
    }


def prometheus_rule(name: str, groups: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": f"platform-{name}", "namespace": naming.NAMESPACE, "labels": dict(naming.MANAGED_BY)},
        "spec": groups,
    }


def dashboard_config_map(name: str, text: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{name}",
            "namespace": naming.NAMESPACE,
            "labels": {**naming.MANAGED_BY, **naming.DASHBOARD_LABEL},
        },
        "data": {f"{name}.json": text},
    }
