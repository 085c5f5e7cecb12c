"""GPU pool renderers: host script (shellcheck), chart values, ConfigMaps (kubernetes-validate), hub profiles."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.gpu_pool import values
from components.gpu_pool.host import gpu_host_script
from components.gpu_pool.labels import GPU_TAINT, gpu_node_labels_and_taints
from components.gpu_pool.profiles import (
    CPU_ONLY_ENVIRONMENT,
    gpu_idle_server_args,
    gpu_idle_timeout_seconds,
    gpu_profile_override,
)
from config.gpu_catalog import GPU_MODELS
from config.gpu_queries import gpu_resource_name, gpu_resource_names
from tests.helpers import require_tool, shellcheck
from tests.test_gpu_config import load

MIXED = {"sharing": {"mode": "mig", "mig": {"strategy": "mixed"}}}


@pytest.mark.parametrize("toolkit", ["host", "operator"])
@pytest.mark.parametrize("model", sorted(GPU_MODELS))
def test_host_script_is_shellcheck_clean(model: str, toolkit: str, tmp_path: Path) -> None:
    cfg = load([{"model": model, "count": 2}], {"container_toolkit": toolkit})
    script = gpu_host_script(cfg.inventory.nodes[1], cfg)
    assert f"export CONFIGURE_TOOLKIT={'true' if toolkit == 'host' else 'false'}" in script.text
    assert f"export MODEL_PATTERN={GPU_MODELS[model].name_pattern}" in script.text
    shellcheck(script.text, tmp_path, f"gpu-host-{model}.sh")


def test_host_script_never_reloads_systemd_and_guards_joined_nodes() -> None:
    cfg = load([{"model": "H100-80GB", "count": 2}])
    text = gpu_host_script(cfg.inventory.nodes[1], cfg).text
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("daemon-reload" in line and "systemctl" in line and "die" not in line for line in code)
    assert "nvidia-smi --query-gpu" in text
    assert '--drop-in-config="$drop_in" --set-as-default' in text and 'drop_in="${HOST_ROOT}${DROP_IN_CONFIG}"' in text
    assert "export DROP_IN_CONFIG=/etc/containerd/conf.d/99-nvidia.toml" in text
    assert "export EXPECTED_GPUS=2" in text and "export MIN_DRIVER_MAJOR=535" in text
    # containerd restarts only when not joined; packages are held.
    assert "if [[ $joined == true ]]; then" in text and "systemctl restart containerd" in text
    assert "apt-mark hold" in text


def test_labels_and_taints_for_the_join() -> None:
    cfg = load([{"model": "H100-80GB", "count": 2}], {"sharing": {"mode": "mig"}})
    labels, taints = gpu_node_labels_and_taints(cfg.inventory.nodes[1], cfg)
    assert labels["nvidia.com/gpu.present"] == "true"
    assert labels["node.jupyterhub-platform/pool"] == "gpu"
    assert labels["node.jupyterhub-platform/gpu-model"] == "H100-80GB"
    assert labels["nvidia.com/mig.config"] == "h100-80gb-all-1g.10gb"
    assert [(t.key, t.value, t.effect) for t in taints] == [("nvidia.com/gpu", "present", "NoSchedule")]
    cpu_labels, cpu_taints = gpu_node_labels_and_taints(cfg.inventory.nodes[0], cfg)
    assert "nvidia.com/gpu.present" not in cpu_labels and cpu_taints == []


def test_operator_values() -> None:
    cfg = load([{"model": "H100-80GB", "count": 2}], MIXED)
    v = values.operator_values(cfg)
    assert v["driver"]["enabled"] is False
    assert v["toolkit"]["enabled"] is False  # host toolkit by default
    assert v["mig"]["strategy"] == "mixed"
    assert v["migManager"]["enabled"] is True
    assert v["migManager"]["config"] == {"create": False, "name": "gpu-mig-config", "default": "all-disabled"}
    assert v["devicePlugin"]["config"] == {"create": False, "name": "gpu-sharing-config", "default": "default"}
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert v["dcgmExporter"]["enabled"] is True
    assert gpu_toleration in v["daemonsets"]["tolerations"]  # DCGM exporter and every operand
    assert gpu_toleration in v["node-feature-discovery"]["worker"]["tolerations"]
    toolkit = load([{"model": "L40S", "count": 1}], {"container_toolkit": "operator"})
    assert values.operator_values(toolkit)["toolkit"]["enabled"] is True
    assert values.operator_values(toolkit)["migManager"]["enabled"] is False


def test_device_plugin_values_schedule_on_labelled_tainted_nodes() -> None:
    cfg = load([{"model": "T4", "count": 1}], {"provider": "device-plugin", "sharing": {"mode": "time-slicing"}})
    v = values.device_plugin_values(cfg)
    assert v["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in v["tolerations"]
    assert v["config"] == {"name": "gpu-sharing-config", "default": "default"}


def test_sharing_config_time_slicing() -> None:
    cfg = load([{"model": "L40S", "count": 4}], {"sharing": {"mode": "time-slicing", "time_slicing": {"replicas": 6}}})
    doc = yaml.safe_load(values.sharing_config(cfg))
    assert doc["version"] == "v1" and doc["flags"] == {"migStrategy": "none"}
    assert doc["sharing"]["timeSlicing"] == {
        "renameByDefault": False,
        "failRequestsGreaterThanOne": True,
        "resources": [{"name": "nvidia.com/gpu", "replicas": 6}],
    }


def test_mig_config_lists_each_used_layout_per_model() -> None:
    gpus = [{"model": "H100-80GB", "count": 2, "mig_layout": "all-balanced"}, {"model": "A100-40GB", "count": 1}]
    cfg = load(gpus, MIXED)
    doc = yaml.safe_load(values.mig_config(cfg))
    configs = doc["mig-configs"]
    assert configs["all-disabled"] == [{"devices": "all", "mig-enabled": False}]
    assert configs["h100-80gb-all-balanced"][0]["mig-devices"] == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
    assert configs["a100-40gb-all-1g.5gb"][0]["mig-devices"] == {"1g.5gb": 7}
    assert yaml.safe_load(values.sharing_config(cfg))["flags"]["migStrategy"] == "mixed"


def test_manifests_validate_strictly(tmp_path: Path) -> None:
    venv_tool = Path(__file__).resolve().parents[1] / "venv" / "bin" / "kubernetes-validate"
    tool = str(venv_tool) if venv_tool.exists() else require_tool("kubernetes-validate")
    cfg = load([{"model": "H100-80GB", "count": 2}], MIXED)
    manifests: list[dict[str, Any]] = [
        values.namespace_manifest(cfg),
        values.configmap(values.SHARING_CONFIGMAP, "gpu-operator", values.SHARING_KEY, values.sharing_config(cfg)),
        values.configmap(values.MIG_CONFIGMAP, "gpu-operator", values.MIG_KEY, values.mig_config(cfg)),
    ]
    files = []
    for i, manifest in enumerate(manifests):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(yaml.safe_dump(manifest))
        files.append(str(path))
    result = subprocess.run([tool, "--strict", "-k", "1.34.0", *files], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# --- profiles: what the hub uses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "gpu",
    [
        None,
        {"sharing": {"mode": "time-slicing"}},
        {"sharing": {"mode": "time-slicing", "time_slicing": {"rename_shared": True}}},
        {"sharing": {"mode": "mig"}},
        {"sharing": {"mode": "mig", "mig": {"strategy": "mixed", "layout": "all-balanced"}}},
    ],
)
def test_profile_requests_the_advertised_resource(gpu: dict[str, Any] | None) -> None:
    cfg = load([{"model": "H100-80GB", "count": 2}], gpu)
    override = gpu_profile_override(cfg, 1, None)
    assert override["extra_resource_limits"] == {gpu_resource_name(cfg): 1}
    assert gpu_resource_name(cfg) in gpu_resource_names(cfg)
    assert override["tolerations"] == [
        {"key": GPU_TAINT.key, "operator": "Equal", "value": GPU_TAINT.value, "effect": GPU_TAINT.effect}
    ]
    assert override["node_selector"] == {"node.jupyterhub-platform/pool": "gpu"}
    assert override["environment"]["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert override["environment"]["PYTORCH_CUDA_ALLOC_CONF"] == "expandable_segments:True"
    assert "extra_pod_config" not in override  # NVIDIA is containerd's default runtime on GPU nodes


def test_profile_product_selector_and_explicit_mig_resource() -> None:
    cfg = load(
        [{"model": "H100-80GB", "count": 2}], {"sharing": {"mode": "mig", "mig": {"strategy": "mixed", "layout": "all-balanced"}}}
    )
    assert gpu_profile_override(cfg, 1, "H100-80GB")["node_selector"]["node.jupyterhub-platform/gpu-model"] == "H100-80GB"
    assert (
        gpu_profile_override(cfg, 1, "NVIDIA-H100-80GB-HBM3")["node_selector"]["nvidia.com/gpu.product"]
        == "NVIDIA-H100-80GB-HBM3"
    )
    big = gpu_profile_override(cfg, 1, None, resource="nvidia.com/mig-3g.40gb")
    assert big["extra_resource_limits"] == {"nvidia.com/mig-3g.40gb": 1}
    with pytest.raises(ValueError, match="does not advertise"):
        gpu_profile_override(cfg, 1, None, resource="nvidia.com/mig-7g.80gb")


def test_profile_refuses_impossible_requests() -> None:
    cfg = load([{"model": "L40S", "count": 1}], {"sharing": {"mode": "time-slicing"}})
    with pytest.raises(ValueError, match="one replica"):
        gpu_profile_override(cfg, 2, None)


def test_cpu_only_and_idle_helpers() -> None:
    assert CPU_ONLY_ENVIRONMENT == {"NVIDIA_VISIBLE_DEVICES": "void"}
    cfg = load([{"model": "L40S", "count": 1}], {"idle_cull_minutes": 20})
    assert gpu_idle_timeout_seconds(cfg) == 1200
    assert "--MappingKernelManager.cull_idle_timeout=1200" in gpu_idle_server_args(cfg)
    assert "--ServerApp.shutdown_no_activity_timeout=1200" in gpu_idle_server_args(cfg)


def test_queues_use_the_profiles_resource_name() -> None:
    queues = pytest.importorskip("components.yunikorn.queues")
    scheduler = {
        "queues": [
            {
                "name": "root",
                "queues": [
                    {"name": "gpu", "submit_acl": {"everyone": True}, "max": {"gpu": 4}, "guaranteed": {"gpu": 2}},
                ],
            }
        ]
    }
    cfg = load([{"model": "H100-80GB", "count": 2}], MIXED, scheduler=scheduler)
    text = queues.render_queues_yaml(cfg.scheduler, gpu_resource_name(cfg))
    (profile_resource,) = gpu_profile_override(cfg, 1, None)["extra_resource_limits"]
    assert profile_resource == "nvidia.com/mig-1g.10gb"
    rendered = yaml.safe_load(text)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("nvidia.com/"):
                    found.append(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rendered)
    assert found and set(found) == {profile_resource}
