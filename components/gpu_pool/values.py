"""Helm values and ConfigMaps of the NVIDIA components (pure).

GPU Operator keys checked against the chart's `deployments/gpu-operator/values.yaml` (driver.enabled,
toolkit.enabled, mig.strategy, devicePlugin.config.{create,name,default},
migManager.config.{create,name,default}, migManager.env WITH_REBOOT, daemonsets.tolerations,
dcgmExporter.{enabled,serviceMonitor}, node-feature-discovery.worker.tolerations, cdi.enabled);
device-plugin keys against `deployments/helm/nvidia-device-plugin/values.yaml` (config.{name,default},
nodeSelector, tolerations, priorityClassName, gfd.enabled). The sharing file follows the device
plugin's `version: v1` config (flags.migStrategy, sharing.timeSlicing) and the MIG file follows
mig-parted's `version: v1` (`mig-configs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from components.gpu_pool.labels import GPU_PRESENT_LABEL
from config.gpu import WHOLE_GPU_RESOURCE
from config.gpu_catalog import GPU_MODELS
from config.gpu_queries import gpu_nodes, mig_config_name, node_mig_layout

if TYPE_CHECKING:
    from config.platform import PlatformConfig

OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
SHARING_CONFIGMAP = "gpu-sharing-config"
SHARING_KEY = "default"
MIG_CONFIGMAP = "gpu-mig-config"
MIG_KEY = "config.yaml"
MIG_DISABLED = "all-disabled"

# NVIDIA daemonsets (device plugin, feature discovery, DCGM exporter, MIG manager) must run on the
# tainted GPU nodes: without this toleration they schedule nowhere and no GPU is ever advertised.
GPU_DAEMONSET_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
_CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}


def _mig_strategy(cfg: PlatformConfig) -> str:
    return cfg.gpu.sharing.mig.strategy if cfg.gpu.sharing.mode == "mig" else "none"


def sharing_config(cfg: PlatformConfig) -> str:
    """The device plugin's config file: MIG strategy and, with time-slicing, the replicas."""
    document: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": _mig_strategy(cfg)}}
    ts = cfg.gpu.sharing.time_slicing
    if cfg.gpu.sharing.mode == "time-slicing":
        document["sharing"] = {
            "timeSlicing": {
                "renameByDefault": ts.rename_shared,
                "failRequestsGreaterThanOne": ts.fail_requests_greater_than_one,
                "resources": [{"name": WHOLE_GPU_RESOURCE, "replicas": ts.replicas}],
            }
        }
    return yaml.safe_dump(document, sort_keys=False)


def mig_config(cfg: PlatformConfig) -> str:
    """The MIG manager's configuration: `all-disabled` plus one entry per layout GPU nodes use,
    named per model (the same layout name means other profiles on another card)."""
    configs: dict[str, list[dict[str, Any]]] = {MIG_DISABLED: [{"devices": "all", "mig-enabled": False}]}
    for node in gpu_nodes(cfg):
        assert node.gpu is not None
        if not GPU_MODELS[node.gpu.model].supports_mig:
            continue
        layout = node_mig_layout(cfg, node)
        configs[mig_config_name(cfg, node)] = [
            {"devices": "all", "mig-enabled": True, "mig-devices": dict(sorted(layout.items()))}
        ]
    return yaml.safe_dump({"version": "v1", "mig-configs": configs}, sort_keys=False)


def configmap(name: str, namespace: str, key: str, text: str) -> dict[str, Any]:
    """A ConfigMap manifest (what the component registers, and what tests validate)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "gpu-pool"}},
        "data": {key: text},
    }


def namespace_manifest(cfg: PlatformConfig) -> dict[str, Any]:
    """The NVIDIA namespace: its daemonsets are privileged (Pod Security `privileged`)."""
    labels = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": cfg.gpu.namespace, "labels": labels}}


def operator_values(cfg: PlatformConfig) -> dict[str, Any]:
    """GPU Operator values: host drivers, our sharing and MIG ConfigMaps, operands on tainted nodes."""
    mig = cfg.gpu.sharing.mode == "mig"
    return {
        "driver": {"enabled": False},
        "toolkit": {"enabled": cfg.gpu.container_toolkit == "operator"},
        # No `operator.defaultRuntime`: the v26.7.0 templates no longer read it.
        "cdi": {"enabled": False},
        "nfd": {"enabled": True},
        "gfd": {"enabled": True},
        "mig": {"strategy": cfg.gpu.sharing.mig.strategy if mig else "single"},
        "devicePlugin": {
            "enabled": True,
            "config": {"create": False, "name": SHARING_CONFIGMAP, "default": SHARING_KEY},
        },
        "migManager": {
            "enabled": mig,
            "config": {"create": False, "name": MIG_CONFIGMAP, "default": MIG_DISABLED},
            # A reboot would kill every notebook on the node; H100/A100 switch MIG mode without one.
            "env": [{"name": "WITH_REBOOT", "value": "false"}],
            # No `gpuClientsConfig`: with host drivers the MIG manager already stops and restarts the
            # host services in the operator's own `default-gpu-clients` ConfigMap (nvidia-dcgm, dcgm,
            # nvsm, ...) around a change; the platform installs none of them (DCGM runs inside the
            # exporter pod). nvidia-persistenced is deliberately not stopped: it keeps the driver (and
            # the MIG instances) initialised; H100 enables MIG without a GPU reset. On A100/A30 a
            # persistenced or loaded nvidia_drm module can block the reset a mode change needs: the
            # node then shows `nvidia.com/mig.config.state=failed`; drain and reboot it once.
        },
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": False}},
        "daemonsets": {"tolerations": GPU_DAEMONSET_TOLERATIONS, "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": [_CONTROL_PLANE_TOLERATION, *GPU_DAEMONSET_TOLERATIONS]}},
    }


def device_plugin_values(cfg: PlatformConfig) -> dict[str, Any]:
    """Device-plugin chart values: only on nodes labelled `nvidia.com/gpu.present=true` (the pool sets
    it at join; without NFD nothing else would), tolerating the GPU taint, reading our sharing config."""
    return {
        "config": {"name": SHARING_CONFIGMAP, "default": SHARING_KEY},
        "nodeSelector": {GPU_PRESENT_LABEL: "true"},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}, *GPU_DAEMONSET_TOLERATIONS],
        "priorityClassName": "system-node-critical",
        "gfd": {"enabled": False},
    }
