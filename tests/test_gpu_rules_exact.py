"""GPU rules (nodes and MIG layouts, provider and sharing settings, GPU profiles against their nodes),
each case compared with the EXACT set of (path, message) it yields. The capacity rule has its boundary
case: guarantees that exactly fill a GPU node after its reserve pass, a little more does not.

Base: the two-node inventory of `tests.hub_fixtures` plus GPU nodes `gpu-1` (.41) and `gpu-2` (.42),
each a worker with 16 CPUs and 64 GiB (15 and 62 free after the default node reserve)."""

from __future__ import annotations

import copy
from typing import Any

from config.gpu_rules import GPU_CHECKS, GPU_TAINT_KEY, POOL_LABEL, POOL_VALUE
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

N1, N2 = "inventory.nodes.2", "inventory.nodes.3"
KNOWN_80GB = "all-1g.10gb, all-1g.20gb, all-2g.20gb, all-3g.40gb, all-4g.40gb, all-7g.80gb, all-balanced"
MIG = {"sharing": {"mode": "mig"}}


def gpu_node(n: int, model: str = "H100-80GB", count: int = 2, **extra: Any) -> dict[str, Any]:
    node = {"name": f"gpu-{n}", "address": f"192.0.2.{40 + n}", "roles": ["worker"], "cpus": 16, "memory_gib": 64}
    node.update(extra)
    node["gpu"] = {"model": model, "count": count, **node.get("gpu", {})}
    return node


def issues(*gpu_nodes: dict[str, Any], profiles: list[dict[str, Any]] | None = None, **gpu: Any) -> set[tuple[str, str]]:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"] += list(gpu_nodes)
    raw: dict[str, Any] = {"inventory": inventory, "gpu": gpu}
    if profiles is not None:
        raw["hubs"] = [{**copy.deepcopy(HUB), "profiles": profiles}]
    cfg = PlatformConfig.model_validate(raw)
    found = [(i.path, i.message) for check in GPU_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def test_whole_gpus_on_workers_are_valid() -> None:
    assert issues(gpu_node(1), gpu_node(2, "L40S")) == set()
    assert issues(gpu_node(1, labels={"node.jupyterhub-platform/pool": "gpu"})) == set()


def test_gpu_nodes_are_workers_in_the_gpu_pool() -> None:
    not_worker = gpu_node(1, roles=["nfs"])
    other_pool = gpu_node(2, labels={"node.jupyterhub-platform/pool": "cpu"})
    assert issues(not_worker, other_pool) == {
        (f"{N1}.roles", "a node with GPUs must have the worker role to join the GPU pool"),
        (f"{N2}.labels", "GPU nodes carry node.jupyterhub-platform/pool=gpu; remove the other value"),
    }


def test_a_mig_layout_needs_mig_mode() -> None:
    assert issues(gpu_node(1, gpu={"mig_layout": "all-1g.10gb"})) == {
        (f"{N1}.gpu.mig_layout", "a MIG layout needs gpu.sharing.mode: mig"),
    }
    assert issues(gpu_node(1, gpu={"mig_layout": "all-1g.10gb"}), sharing={"mode": "time-slicing"}) == {
        (f"{N1}.gpu.mig_layout", "a MIG layout needs gpu.sharing.mode: mig"),
    }


def test_mig_mode_on_a_card_without_mig() -> None:
    # The card is reported once; its (meaningless) layout is not checked as well.
    assert issues(gpu_node(1, "L40S", gpu={"mig_layout": {"2g.20gb": 4}}), **MIG) == {
        (f"{N1}.gpu.model", "L40S has no MIG (H100/A100/A30 do); use gpu.sharing.mode time-slicing or none"),
    }


def test_node_layouts() -> None:
    assert issues(gpu_node(1, gpu={"mig_layout": "all-1g.10gb"}), **MIG) == set()
    assert issues(gpu_node(1, gpu={"mig_layout": "all-1g.5gb"}), **MIG) == {
        (f"{N1}.gpu.mig_layout", f"H100-80GB has no MIG layout 'all-1g.5gb' (known: {KNOWN_80GB})"),
    }
    assert issues(gpu_node(1, gpu={"mig_layout": {"1g.10gb": 7}}), **MIG) == set()
    assert issues(gpu_node(1, gpu={"mig_layout": {"2g.20gb": 3}}), **MIG) == set()
    assert issues(gpu_node(1, gpu={"mig_layout": {"2g.20gb": 4}}), **MIG) == {
        (f"{N1}.gpu.mig_layout", "2g.20gb: at most 3 per H100-80GB, got 4"),
    }


def test_the_default_layout_names_the_node() -> None:
    sharing = {"mode": "mig", "mig": {"layout": "all-9g.90gb"}}
    assert issues(gpu_node(1), gpu_node(2, gpu={"mig_layout": "all-7g.80gb"}), sharing=sharing) == {
        (
            "gpu.sharing.mig.layout",
            f"H100-80GB has no MIG layout 'all-9g.90gb' (known: {KNOWN_80GB}) (default layout of node 'gpu-1')",
        ),
    }
    # Without a default layout the smallest profile is used everywhere: nothing to check.
    assert issues(gpu_node(1), **MIG) == set()


def test_single_strategy_needs_one_profile_per_node() -> None:
    single = "MIG strategy single needs one profile per node (node 'gpu-1'); use one profile or gpu.sharing.mig.strategy: mixed"
    assert issues(gpu_node(1, gpu={"mig_layout": "all-balanced"}), **MIG) == {(f"{N1}.gpu.mig_layout", single)}
    assert issues(gpu_node(1), sharing={"mode": "mig", "mig": {"layout": "all-balanced"}}) == {("gpu.sharing.mig.layout", single)}
    assert issues(gpu_node(1, gpu={"mig_layout": "all-balanced"}), sharing={"mode": "mig", "mig": {"strategy": "mixed"}}) == set()
    # An invalid layout is reported for what it is, not also for its number of profiles.
    assert issues(gpu_node(1, gpu={"mig_layout": {"1g.10gb": 1, "2g.20gb": 4}}), **MIG) == {
        (f"{N1}.gpu.mig_layout", "2g.20gb: at most 3 per H100-80GB, got 4"),
    }


def test_provider_and_toolkit() -> None:
    assert issues(provider="device-plugin") == set()
    assert issues(provider="device-plugin", container_toolkit="operator") == {
        ("gpu.container_toolkit", "the device-plugin provider needs the host toolkit (`host`)"),
    }
    assert issues(container_toolkit="operator") == set()
    assert issues(provider="device-plugin", **MIG) == {
        ("gpu.provider", "MIG layouts are applied by the GPU Operator's MIG manager: use gpu-operator"),
    }


def test_default_profile_only_with_mixed_mig() -> None:
    only = ("gpu.sharing.mig.default_profile", "only used with mode mig and strategy mixed")
    assert issues(gpu_node(1), sharing={"mode": "mig", "mig": {"default_profile": "1g.10gb"}}) == {only}
    assert issues(gpu_node(1), sharing={"mode": "time-slicing", "mig": {"default_profile": "1g.10gb", "strategy": "mixed"}}) == {
        only
    }
    mixed = {"mode": "mig", "mig": {"strategy": "mixed", "default_profile": "1g.10gb"}}
    assert issues(gpu_node(1, gpu={"mig_layout": "all-balanced"}), sharing=mixed) == set()
    cut = {"mode": "mig", "mig": {"strategy": "mixed", "default_profile": "7g.80gb"}}
    assert issues(gpu_node(1, gpu={"mig_layout": "all-balanced"}), sharing=cut) == {
        ("gpu.sharing.mig.default_profile", "no GPU node is cut into '7g.80gb' (layouts give: 1g.10gb, 2g.20gb, 3g.40gb)"),
    }
    # No GPU nodes, or a layout already refused: nothing more to say.
    assert issues(sharing=cut) == set()
    assert issues(gpu_node(1, gpu={"mig_layout": "all-9g"}), sharing=cut) == {
        (f"{N1}.gpu.mig_layout", f"H100-80GB has no MIG layout 'all-9g' (known: {KNOWN_80GB})"),
    }


def gpu_profile(cpus: float, gib: float, gpu: int = 1, **extra: Any) -> dict[str, Any]:
    sizes = {"cpu_guarantee": cpus, "cpu_limit": cpus, "mem_guarantee_gib": gib, "mem_limit_gib": gib}
    return {"slug": "g", "display_name": "G", "queue": "root.users", "gpu": gpu, **sizes, **extra}


CPU_PROFILE = {"slug": "cpu", "display_name": "CPU", "queue": "root.users", "cpu_guarantee": 60, "cpu_limit": 60}


def test_gpu_profile_capacity_boundary() -> None:
    # Two servers (one per GPU) share 15 CPUs and 62 GiB.
    assert issues(gpu_node(1), profiles=[CPU_PROFILE, gpu_profile(7.5, 31)]) == set()
    assert issues(gpu_node(1), profiles=[CPU_PROFILE, gpu_profile(7.6, 31.5)]) == {
        (
            "hubs.0.profiles.1.cpu_guarantee",
            "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 15.2 CPUs, but it has 16 - 1 reserved = 15: "
            "only 1 seats are usable; lower it to at most 7.5",
        ),
        (
            "hubs.0.profiles.1.mem_guarantee_gib",
            "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 63 GiB, but it has 64 - 2 reserved = 62: "
            "only 1 seats are usable; lower it to at most 31",
        ),
    }


def test_gpu_profile_capacity_with_two_gpus_per_server() -> None:
    # Four GPUs, two per server: two servers; 16 CPUs each leave no seat usable.
    assert issues(gpu_node(1, count=4), profiles=[gpu_profile(16, 1, gpu=2)]) == {
        (
            "hubs.0.profiles.0.cpu_guarantee",
            "2 servers fill the 4 GPU seats of node 'gpu-1' and guarantee 32 CPUs, but it has 16 - 1 reserved = 15: "
            "only 0 seats are usable; lower it to at most 7.5",
        ),
    }
    assert issues(gpu_node(1, count=4), profiles=[gpu_profile(5, 1, gpu=2)]) == set()
    # 10 CPUs each: one server fits, and it holds two seats.
    assert issues(gpu_node(1, count=4), profiles=[gpu_profile(10, 1, gpu=2)]) == {
        (
            "hubs.0.profiles.0.cpu_guarantee",
            "2 servers fill the 4 GPU seats of node 'gpu-1' and guarantee 20 CPUs, but it has 16 - 1 reserved = 15: "
            "only 2 seats are usable; lower it to at most 7.5",
        ),
    }


def test_each_field_is_reported_once_per_profile() -> None:
    assert issues(gpu_node(1), gpu_node(2, cpus=8), profiles=[gpu_profile(8, 1)]) == {
        (
            "hubs.0.profiles.0.cpu_guarantee",
            "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 16 CPUs, but it has 16 - 1 reserved = 15: "
            "only 1 seats are usable; lower it to at most 7.5",
        ),
    }


def test_which_nodes_a_profile_is_checked_on() -> None:
    big = gpu_profile(10, 1)
    # A node too small for one server of the profile is skipped (the hub rules report the request).
    assert issues(gpu_node(1, count=1), profiles=[gpu_profile(10, 1, gpu=2)]) == set()
    # A profile pinned to another model skips the node; a raw product name may land anywhere.
    assert issues(gpu_node(1), profiles=[{**big, "gpu_product": "A100-80GB"}]) == set()
    assert issues(gpu_node(1), profiles=[{**big, "gpu_product": "H100-80GB"}]) != set()
    assert issues(gpu_node(1), profiles=[{**big, "gpu_product": "NVIDIA-H100-80GB-HBM3"}]) != set()
    # A node without a stated size is not checked.
    unsized = gpu_node(1)
    del unsized["cpus"], unsized["memory_gib"]
    assert issues(unsized, profiles=[gpu_profile(100, 1000)]) == set()


def test_a_control_plane_gpu_node_keeps_both_reserves() -> None:
    # 1 + 1 CPUs and 2 + 3 GiB reserved: 14 and 59 free.
    node = gpu_node(1, count=1, roles=["worker", "control-plane"])
    assert issues(node, profiles=[gpu_profile(14, 59)]) == set()
    assert issues(node, profiles=[gpu_profile(14.5, 59.5)]) == {
        (
            "hubs.0.profiles.0.cpu_guarantee",
            "1 servers fill the 1 GPU seats of node 'gpu-1' and guarantee 14.5 CPUs, but it has 16 - 2 reserved = 14: "
            "only 0 seats are usable; lower it to at most 14",
        ),
        (
            "hubs.0.profiles.0.mem_guarantee_gib",
            "1 servers fill the 1 GPU seats of node 'gpu-1' and guarantee 59.5 GiB, but it has 64 - 5 reserved = 59: "
            "only 0 seats are usable; lower it to at most 59",
        ),
    }


def test_a_reserve_without_cpus_or_memory_keeps_none_of_them() -> None:
    # Two servers of 8 CPUs and 32 GiB fill the node's 16 CPUs and 64 GiB exactly where nothing is reserved.
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append(gpu_node(1))
    hubs = [{**copy.deepcopy(HUB), "profiles": [gpu_profile(8, 32)]}]
    found = {}
    for kept in ("vcore", "memory"):
        reserve = {"vcore": "1"} if kept == "vcore" else {"memory": "1Gi"}
        cfg = PlatformConfig.model_validate({"inventory": inventory, "hubs": hubs, "scheduler": {"node_reserve": reserve}})
        found[kept] = {(i.path, i.message) for check in GPU_CHECKS for i in check(cfg)}
    assert found == {
        "vcore": {
            (
                "hubs.0.profiles.0.cpu_guarantee",
                "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 16 CPUs, but it has 16 - 1 reserved = 15: "
                "only 1 seats are usable; lower it to at most 7.5",
            )
        },
        "memory": {
            (
                "hubs.0.profiles.0.mem_guarantee_gib",
                "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 64 GiB, but it has 64 - 1 reserved = 63: "
                "only 1 seats are usable; lower it to at most 31.5",
            )
        },
    }


def test_the_pool_names_the_labels_module_applies() -> None:
    # tests/test_gpu_labels_host_exact.py checks the labels and taint built from these.
    assert (POOL_LABEL, POOL_VALUE, GPU_TAINT_KEY) == ("node.jupyterhub-platform/pool", "gpu", "nvidia.com/gpu")


def test_nothing_reserved_shows_as_zero() -> None:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append(gpu_node(1))
    hubs = [{**copy.deepcopy(HUB), "profiles": [gpu_profile(7.5, 33)]}]
    cfg = PlatformConfig.model_validate({"inventory": inventory, "hubs": hubs, "scheduler": {"node_reserve": {"vcore": "1"}}})
    assert {(i.path, i.message) for check in GPU_CHECKS for i in check(cfg)} == {
        (
            "hubs.0.profiles.0.mem_guarantee_gib",
            "2 servers fill the 2 GPU seats of node 'gpu-1' and guarantee 66 GiB, but it has 64 - 0 reserved = 64: "
            "only 1 seats are usable; lower it to at most 32",
        )
    }
