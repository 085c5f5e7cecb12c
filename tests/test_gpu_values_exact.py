"""NVIDIA chart values and ConfigMaps compared whole (parsed back where they are YAML text): the device
plugin's sharing file per sharing mode, the MIG manager's layouts per model, the GPU Operator and
device-plugin values (host drivers, no reboot on a MIG change, operands tolerating the GPU taint)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from components.gpu_pool.values import (
    DEVICE_PLUGIN_REPO,
    OPERATOR_REPO,
    configmap,
    device_plugin_values,
    mig_config,
    namespace_manifest,
    operator_values,
    sharing_config,
)
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
CP_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}


def platform(**gpu: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"] += [
        {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "H100-80GB", "count": 2}},
        {
            "name": "gpu-2",
            "address": "192.0.2.42",
            "roles": ["worker"],
            "gpu": {"model": "A30", "count": 1, "mig_layout": {"2g.12gb": 2}},
        },
        {"name": "gpu-3", "address": "192.0.2.43", "roles": ["worker"], "gpu": {"model": "L40S", "count": 1}},
    ]
    return PlatformConfig.model_validate({"inventory": inventory, "gpu": gpu})


def test_sharing_files() -> None:
    assert yaml.safe_load(sharing_config(platform())) == {"version": "v1", "flags": {"migStrategy": "none"}}
    ts = {"mode": "time-slicing", "time_slicing": {"replicas": 6, "rename_shared": True, "fail_requests_greater_than_one": False}}
    assert yaml.safe_load(sharing_config(platform(sharing=ts))) == {
        "version": "v1",
        "flags": {"migStrategy": "none"},
        "sharing": {
            "timeSlicing": {
                "renameByDefault": True,
                "failRequestsGreaterThanOne": False,
                "resources": [{"name": "nvidia.com/gpu", "replicas": 6}],
            }
        },
    }
    mixed = {"mode": "mig", "mig": {"strategy": "mixed"}}
    assert yaml.safe_load(sharing_config(platform(sharing=mixed))) == {"version": "v1", "flags": {"migStrategy": "mixed"}}


def test_mig_layouts_per_model() -> None:
    assert yaml.safe_load(mig_config(platform(sharing={"mode": "mig"}))) == {
        "version": "v1",
        "mig-configs": {
            "all-disabled": [{"devices": "all", "mig-enabled": False}],
            "h100-80gb-all-1g.10gb": [{"devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 7}}],
            "a30-2x2g.12gb": [{"devices": "all", "mig-enabled": True, "mig-devices": {"2g.12gb": 2}}],
        },
    }


def test_configmap_and_namespace() -> None:
    assert configmap("c", "ns", "k", "text") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "labels": {"app.kubernetes.io/part-of": "gpu-pool"}},
        "data": {"k": "text"},
    }
    privileged = {f"pod-security.kubernetes.io/{m}": "privileged" for m in ("enforce", "audit", "warn")}
    assert namespace_manifest(platform(namespace="nv")) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "nv", "labels": privileged},
    }


def operator(strategy: str, mig: bool, toolkit: bool) -> dict[str, Any]:
    return {
        "driver": {"enabled": False},
        "toolkit": {"enabled": toolkit},
        "cdi": {"enabled": False},
        "nfd": {"enabled": True},
        "gfd": {"enabled": True},
        "mig": {"strategy": strategy},
        "devicePlugin": {"enabled": True, "config": {"create": False, "name": "gpu-sharing-config", "default": "default"}},
        "migManager": {
            "enabled": mig,
            "config": {"create": False, "name": "gpu-mig-config", "default": "all-disabled"},
            "env": [{"name": "WITH_REBOOT", "value": "false"}],
        },
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": False}},
        "daemonsets": {"tolerations": [GPU_TOLERATION], "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": [CP_TOLERATION, GPU_TOLERATION]}},
    }


def test_operator_values() -> None:
    assert operator_values(platform()) == operator("single", mig=False, toolkit=False)
    mixed = platform(sharing={"mode": "mig", "mig": {"strategy": "mixed"}}, container_toolkit="operator")
    assert operator_values(mixed) == operator("mixed", mig=True, toolkit=True)
    # Outside MIG mode the configured strategy is ignored.
    assert operator_values(platform(sharing={"mig": {"strategy": "mixed"}}))["mig"] == {"strategy": "single"}


def test_device_plugin_values() -> None:
    assert device_plugin_values(platform()) == {
        "config": {"name": "gpu-sharing-config", "default": "default"},
        "nodeSelector": {"nvidia.com/gpu.present": "true"},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}, GPU_TOLERATION],
        "priorityClassName": "system-node-critical",
        "gfd": {"enabled": False},
    }


def test_the_chart_repositories() -> None:
    # The component installs the GPU Operator or the device plugin from these.
    assert (OPERATOR_REPO, DEVICE_PLUGIN_REPO) == (
        "https://helm.ngc.nvidia.com/nvidia",
        "https://nvidia.github.io/k8s-device-plugin",
    )
