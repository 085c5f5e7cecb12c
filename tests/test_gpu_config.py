"""GPU pool configuration: sharing and MIG rules (each asserting its dotted path), seats, resource names."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.gpu_catalog import GPU_MODELS, layout_problems, named_layouts
from config.gpu_queries import (
    gpu_nodes,
    gpu_request_problem,
    gpu_resource_name,
    gpu_resource_names,
    gpu_seats,
    gpu_seats_by_resource,
    mig_config_name,
    node_mig_layout,
)
from config.loader import load_platform
from config.platform import PlatformConfig


def _raw(gpus: list[dict[str, Any] | None], gpu: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane", "worker", "nfs"]}]
    for i, spec in enumerate(gpus):
        node: dict[str, Any] = {"name": f"gpu-{i + 1}", "address": f"192.0.2.{41 + i}", "roles": ["worker"]}
        if spec is not None:
            node["gpu"] = spec
        nodes.append(node)
    raw: dict[str, Any] = {"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}, **extra}
    if gpu is not None:
        raw["gpu"] = gpu
    return raw


def load(gpus: list[dict[str, Any] | None], gpu: dict[str, Any] | None = None, **extra: Any) -> PlatformConfig:
    return load_platform(_raw(gpus, gpu, **extra), set(), missing_secrets_ok=True)


def errors(gpus: list[dict[str, Any] | None], gpu: dict[str, Any] | None = None, **extra: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load(gpus, gpu, **extra)
    return {i.path: i.message for i in info.value.issues}


MIG = {"sharing": {"mode": "mig"}}
H100x2 = {"model": "H100-80GB", "count": 2}


# --- seats and resource names -------------------------------------------------------------------


def test_no_gpu_nodes_means_zero_seats_and_the_default_name() -> None:
    cfg = load([None])
    assert gpu_nodes(cfg) == []
    assert gpu_seats(cfg) == 0
    assert gpu_seats_by_resource(cfg) == {}
    assert gpu_resource_name(cfg) == "nvidia.com/gpu"
    assert gpu_resource_names(cfg) == ["nvidia.com/gpu"]


def test_whole_gpus_count_each_gpu_once() -> None:
    cfg = load([{"model": "L40S", "count": 4}, {"model": "T4", "count": 1}])
    assert [n.name for n in gpu_nodes(cfg)] == ["gpu-1", "gpu-2"]
    assert gpu_seats(cfg) == 5
    assert gpu_resource_name(cfg) == "nvidia.com/gpu"


def test_time_slicing_multiplies_gpus_by_replicas() -> None:
    cfg = load([{"model": "L40S", "count": 4}], {"sharing": {"mode": "time-slicing", "time_slicing": {"replicas": 4}}})
    assert gpu_seats(cfg) == 16
    assert gpu_resource_names(cfg) == ["nvidia.com/gpu"]


def test_time_slicing_renamed_resource() -> None:
    cfg = load([{"model": "L4", "count": 2}], {"sharing": {"mode": "time-slicing", "time_slicing": {"rename_shared": True}}})
    assert gpu_resource_name(cfg) == "nvidia.com/gpu.shared"
    assert gpu_seats_by_resource(cfg) == {"nvidia.com/gpu.shared": 8}


def test_mig_single_default_layout_is_the_smallest_profile_everywhere() -> None:
    cfg = load([H100x2, {"model": "A100-40GB", "count": 1}], MIG)
    assert node_mig_layout(cfg, cfg.inventory.nodes[1]) == {"1g.10gb": 7}
    assert node_mig_layout(cfg, cfg.inventory.nodes[2]) == {"1g.5gb": 7}
    assert gpu_seats(cfg) == 2 * 7 + 7
    assert gpu_resource_name(cfg) == "nvidia.com/gpu"
    assert mig_config_name(cfg, cfg.inventory.nodes[1]) == "h100-80gb-all-1g.10gb"


def test_mig_mixed_all_balanced_counts_every_slice_per_profile() -> None:
    cfg = load([{**H100x2, "mig_layout": "all-balanced"}], {"sharing": {"mode": "mig", "mig": {"strategy": "mixed"}}})
    assert gpu_seats_by_resource(cfg) == {
        "nvidia.com/mig-1g.10gb": 4,
        "nvidia.com/mig-2g.20gb": 2,
        "nvidia.com/mig-3g.40gb": 2,
    }
    assert gpu_seats(cfg) == 8
    # Several profiles: the default is the smallest (most seats), the others stay selectable.
    assert gpu_resource_name(cfg) == "nvidia.com/mig-1g.10gb"
    assert len(gpu_resource_names(cfg)) == 3


def test_mig_mixed_explicit_layout_and_default_profile() -> None:
    layout = {"3g.40gb": 1, "2g.20gb": 2}
    mig = {"strategy": "mixed", "default_profile": "2g.20gb"}
    cfg = load([{**H100x2, "mig_layout": layout}], {"sharing": {"mode": "mig", "mig": mig}})
    assert gpu_seats(cfg) == 6
    assert gpu_resource_name(cfg) == "nvidia.com/mig-2g.20gb"
    assert mig_config_name(cfg, cfg.inventory.nodes[1]) == "h100-80gb-2x2g.20gb-1x3g.40gb"


def test_h100_catalog_matches_the_mig_guide() -> None:
    layouts = named_layouts("H100-80GB")
    assert layouts["all-1g.10gb"] == {"1g.10gb": 7}
    assert layouts["all-2g.20gb"] == {"2g.20gb": 3}
    assert layouts["all-3g.40gb"] == {"3g.40gb": 2}
    assert layouts["all-7g.80gb"] == {"7g.80gb": 1}
    assert layouts["all-balanced"] == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
    assert not GPU_MODELS["L40S"].supports_mig
    assert layout_problems("H100-80GB", {"3g.40gb": 2, "1g.10gb": 1})  # 9 memory slices
    assert layout_problems("H100-80GB", {"4g.40gb": 1, "3g.40gb": 1}) == []


def test_request_problems() -> None:
    ts = load([{"model": "L40S", "count": 1}], {"sharing": {"mode": "time-slicing"}})
    assert gpu_request_problem(ts, 1) is None
    assert "one replica" in (gpu_request_problem(ts, 2) or "")
    whole = load([{"model": "L40S", "count": 2}])
    assert gpu_request_problem(whole, 2) is None
    assert "do not fit" in (gpu_request_problem(whole, 3) or "")


# --- rules: each reports its dotted path ------------------------------------------------------------


def test_gpu_node_needs_worker_role() -> None:
    raw = _raw([H100x2])
    raw["inventory"]["nodes"][1]["roles"] = ["nfs"]
    with pytest.raises(ConfigError) as info:
        load_platform(raw, set(), missing_secrets_ok=True)
    assert "inventory.nodes.1.roles" in {i.path for i in info.value.issues}


def test_unknown_model_is_refused() -> None:
    assert "inventory.nodes.1.gpu.model" in errors([{"model": "H200", "count": 1}])


def test_count_range() -> None:
    assert "inventory.nodes.1.gpu.count" in errors([{"model": "T4", "count": 0}])


def test_mig_layout_without_mig_mode() -> None:
    found = errors([{**H100x2, "mig_layout": "all-1g.10gb"}])
    assert "needs gpu.sharing.mode: mig" in found["inventory.nodes.1.gpu.mig_layout"]


def test_mig_on_a_card_without_mig() -> None:
    assert "has no MIG" in errors([{"model": "L40S", "count": 4}], MIG)["inventory.nodes.1.gpu.model"]


def test_unknown_named_layout_for_the_model() -> None:
    found = errors([{"model": "A100-40GB", "count": 1, "mig_layout": "all-7g.80gb"}], MIG)
    assert "no MIG layout 'all-7g.80gb'" in found["inventory.nodes.1.gpu.mig_layout"]


def test_explicit_layout_profile_unknown_and_too_many() -> None:
    found = errors([{**H100x2, "mig_layout": {"1g.5gb": 1}}], {"sharing": {"mode": "mig", "mig": {"strategy": "mixed"}}})
    assert "no MIG profile '1g.5gb'" in found["inventory.nodes.1.gpu.mig_layout"]
    found = errors([{**H100x2, "mig_layout": {"2g.20gb": 4}}], {"sharing": {"mode": "mig", "mig": {"strategy": "mixed"}}})
    assert "at most 3" in found["inventory.nodes.1.gpu.mig_layout"]


def test_explicit_layout_over_the_slice_budget() -> None:
    layout = {"3g.40gb": 2, "1g.10gb": 1}
    found = errors([{**H100x2, "mig_layout": layout}], {"sharing": {"mode": "mig", "mig": {"strategy": "mixed"}}})
    assert "memory slices" in found["inventory.nodes.1.gpu.mig_layout"]


def test_default_layout_problem_reported_at_the_section() -> None:
    found = errors([{"model": "A30", "count": 1}], {"sharing": {"mode": "mig", "mig": {"layout": "all-1g.10gb"}}})
    assert "gpu-1" in found["gpu.sharing.mig.layout"]


def test_single_strategy_refuses_a_mixed_layout() -> None:
    found = errors([{**H100x2, "mig_layout": "all-balanced"}], MIG)
    assert "strategy single" in found["inventory.nodes.1.gpu.mig_layout"]
    found = errors([H100x2], {"sharing": {"mode": "mig", "mig": {"layout": "all-balanced"}}})
    assert "strategy single" in found["gpu.sharing.mig.layout"]


def test_default_profile_rules() -> None:
    found = errors([H100x2], {"sharing": {"mode": "mig", "mig": {"default_profile": "1g.10gb"}}})
    assert "strategy mixed" in found["gpu.sharing.mig.default_profile"]
    mig = {"strategy": "mixed", "layout": "all-balanced", "default_profile": "7g.80gb"}
    found = errors([H100x2], {"sharing": {"mode": "mig", "mig": mig}})
    assert "no GPU node is cut into '7g.80gb'" in found["gpu.sharing.mig.default_profile"]


def test_mig_needs_the_operator() -> None:
    found = errors([H100x2], {"provider": "device-plugin", "sharing": {"mode": "mig"}})
    assert "gpu.provider" in found


def test_device_plugin_needs_the_host_toolkit() -> None:
    found = errors([{"model": "T4", "count": 1}], {"provider": "device-plugin", "container_toolkit": "operator"})
    assert "gpu.container_toolkit" in found


def test_time_slicing_replicas_range() -> None:
    assert "gpu.sharing.time_slicing.replicas" in errors([None], {"sharing": {"time_slicing": {"replicas": 1}}})


def test_pool_label_conflict() -> None:
    raw = _raw([H100x2])
    raw["inventory"]["nodes"][1]["labels"] = {"node.jupyterhub-platform/pool": "cpu"}
    with pytest.raises(ConfigError) as info:
        load_platform(raw, set(), missing_secrets_ok=True)
    assert "inventory.nodes.1.labels" in {i.path for i in info.value.issues}


def test_unknown_gpu_key_is_refused() -> None:
    assert "gpu.sharing.mig.stratgy" in errors([None], {"sharing": {"mig": {"stratgy": "mixed"}}})


def test_versions_are_pinned() -> None:
    cfg = load([None])
    assert cfg.gpu.operator_chart_version == "v26.7.0"
    assert cfg.gpu.device_plugin_chart_version == "0.20.0"
