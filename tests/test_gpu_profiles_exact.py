"""What GPU profiles get from the pool, compared whole: the KubeSpawner override (GPU limit under the
advertised resource name, the taint's toleration, the pool node selector narrowed by model or product,
the memory-growth environment), the refusals, the CPU-only environment and the idle-culling arguments."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.gpu_pool.profiles import (
    CPU_ONLY_ENVIRONMENT,
    gpu_idle_server_args,
    gpu_node_selector,
    gpu_profile_override,
    gpu_toleration,
)
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY

POOL = {"node.jupyterhub-platform/pool": "gpu"}
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
GROWTH = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}


def platform(count: int = 2, **gpu: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append(
        {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "H100-80GB", "count": count}}
    )
    return PlatformConfig.model_validate({"inventory": inventory, "gpu": gpu})


def test_toleration_selector_and_cpu_only_environment() -> None:
    assert gpu_toleration() == TOLERATION
    assert gpu_node_selector(None) == POOL
    assert gpu_node_selector("") == POOL
    assert gpu_node_selector("H100-80GB") == {**POOL, "node.jupyterhub-platform/gpu-model": "H100-80GB"}
    assert gpu_node_selector("NVIDIA-L40S") == {**POOL, "nvidia.com/gpu.product": "NVIDIA-L40S"}
    assert CPU_ONLY_ENVIRONMENT == {"NVIDIA_VISIBLE_DEVICES": "void"}


def test_the_whole_override() -> None:
    assert gpu_profile_override(platform(), 2, "H100-80GB") == {
        "extra_resource_limits": {"nvidia.com/gpu": 2},
        "tolerations": [TOLERATION],
        "node_selector": {**POOL, "node.jupyterhub-platform/gpu-model": "H100-80GB"},
        "environment": GROWTH,
    }
    # Each override gets its own environment dict.
    first = gpu_profile_override(platform(), 1)
    first["environment"]["X"] = "1"
    assert gpu_profile_override(platform(), 1)["environment"] == GROWTH


def test_a_mixed_mig_resource() -> None:
    cfg = platform(sharing={"mode": "mig", "mig": {"strategy": "mixed", "layout": "all-balanced"}})
    override = gpu_profile_override(cfg, 1, resource="nvidia.com/mig-3g.40gb")
    assert override["extra_resource_limits"] == {"nvidia.com/mig-3g.40gb": 1}
    advertised = "nvidia.com/mig-1g.10gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-3g.40gb"
    with pytest.raises(ValueError) as refused:
        gpu_profile_override(cfg, 1, resource="nvidia.com/gpu")
    assert str(refused.value) == f"the GPU pool does not advertise 'nvidia.com/gpu' (it has: {advertised})"


def test_requests_the_pool_cannot_satisfy() -> None:
    with pytest.raises(ValueError, match=r"^3 GPU seats do not fit on any GPU node \(largest has 2\)$"):
        gpu_profile_override(platform(), 3)
    assert gpu_profile_override(platform(), 2)["extra_resource_limits"] == {"nvidia.com/gpu": 2}


def test_idle_culling_arguments() -> None:
    assert gpu_idle_server_args(platform(idle_cull_minutes=20)) == [
        "--MappingKernelManager.cull_idle_timeout=1200",
        "--MappingKernelManager.cull_interval=300",
        "--MappingKernelManager.cull_connected=True",
        "--ServerApp.shutdown_no_activity_timeout=1200",
    ]


def test_a_runtime_class_when_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # None today (containerd's default runtime on GPU nodes is NVIDIA's); a site that needs one sets it here.
    from components.gpu_pool import profiles

    monkeypatch.setattr(profiles, "GPU_RUNTIME_CLASS", "nvidia")
    assert gpu_profile_override(platform(), 1)["extra_pod_config"] == {"runtimeClassName": "nvidia"}
    monkeypatch.setattr(profiles, "GPU_RUNTIME_CLASS", None)
    assert "extra_pod_config" not in gpu_profile_override(platform(), 1)
