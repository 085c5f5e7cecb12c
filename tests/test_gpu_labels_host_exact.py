"""GPU node labels, taints and the GPU host step read back: the pool label, the model label, the MIG
configuration label only in MIG mode on a MIG card (and only when asked), the GPU taint added once, and
every parameter of the driver/toolkit step."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.gpu_pool.host import gpu_host_script
from components.gpu_pool.labels import gpu_join_taints, gpu_node_labels, gpu_node_labels_and_taints
from config.inventory import Taint
from config.platform import PlatformConfig
from tests.helpers import script_exports
from tests.hub_fixtures import INVENTORY

GPU_TAINT = Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")
BASE = {"node.jupyterhub-platform/pool": "gpu", "nvidia.com/gpu.present": "true"}


def platform(model: str = "A100-40GB", gpu: dict[str, Any] | None = None, **node: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append(
        {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": model, "count": 2}, **node}
    )
    return PlatformConfig.model_validate({"inventory": inventory, "gpu": gpu or {}})


def test_labels() -> None:
    mig = platform(gpu={"sharing": {"mode": "mig"}})
    node = mig.inventory.nodes[2]
    model = {"node.jupyterhub-platform/gpu-model": "A100-40GB"}
    assert gpu_node_labels(node, mig) == {**BASE, **model, "nvidia.com/mig.config": "a100-40gb-all-1g.5gb"}
    assert gpu_node_labels(node, mig, include_mig=False) == {**BASE, **model}
    whole = platform()
    assert gpu_node_labels(whole.inventory.nodes[2], whole) == {**BASE, **model}
    no_mig = platform("L40S", gpu={"sharing": {"mode": "mig"}})
    assert gpu_node_labels(no_mig.inventory.nodes[2], no_mig) == {**BASE, "node.jupyterhub-platform/gpu-model": "L40S"}
    assert gpu_node_labels(whole.inventory.nodes[0], whole) == {}


def test_taints_and_merge_with_the_inventory() -> None:
    cfg = platform(labels={"rack": "r1"}, taints=[{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}])
    node = cfg.inventory.nodes[2]
    assert gpu_join_taints(node) == [GPU_TAINT]
    labels, taints = gpu_node_labels_and_taints(node, cfg)
    assert labels == {"rack": "r1", **BASE, "node.jupyterhub-platform/gpu-model": "A100-40GB"}
    assert taints == [Taint(key="dedicated", value="ml", effect="NoSchedule"), GPU_TAINT]
    # Listed already (any value): not added twice; another effect of the same key does not count.
    listed = platform(taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}])
    assert gpu_join_taints(listed.inventory.nodes[2]) == []
    other_effect = platform(taints=[{"key": "nvidia.com/gpu", "effect": "PreferNoSchedule"}])
    assert gpu_join_taints(other_effect.inventory.nodes[2]) == [GPU_TAINT]
    cpu = cfg.inventory.nodes[1]
    assert gpu_join_taints(cpu) == [] and gpu_node_labels_and_taints(cpu, cfg) == ({}, [])


def test_the_host_step() -> None:
    cfg = platform(gpu={"min_driver_major": 550})
    assert script_exports(gpu_host_script(cfg.inventory.nodes[2], cfg).text) == {
        "STEP_NAME": "gpu-host",
        "EXPECTED_GPUS": "2",
        "MODEL_PATTERN": "A100",
        "MODEL_MEMORY_MIB": "40960",
        "MIN_DRIVER_MAJOR": "550",
        "CONFIGURE_TOOLKIT": "true",
        "TOOLKIT_VERSION": "1.18.0",
        "CONTAINERD_CONFIG": "/etc/containerd/config.toml",
        "DROP_IN_CONFIG": "/etc/containerd/conf.d/99-nvidia.toml",
    }
    operator = platform(gpu={"container_toolkit": "operator"})
    assert script_exports(gpu_host_script(operator.inventory.nodes[2], operator).text)["CONFIGURE_TOOLKIT"] == "false"
    with pytest.raises(ValueError, match=r"^node 'worker-1' has no GPUs$"):
        gpu_host_script(cfg.inventory.nodes[1], cfg)
