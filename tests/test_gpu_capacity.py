"""GPU profiles' guarantees fit the GPU node's seats (rule at hubs.N.profiles.M.cpu_guarantee / mem_guarantee_gib)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from tests.helpers import stack_raw


def prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    return copy.deepcopy(raw)


def gpu_profile(raw: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in raw["hubs"][0]["profiles"] if p["slug"] == "gpu")


def issues(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, set(), missing_secrets_ok=True)
    return {i.path: i.message for i in caught.value.issues}


def test_prod_gpu_profile_uses_every_mig_slice() -> None:
    cfg = load_platform(prod(), set(), missing_secrets_ok=True)
    profile = next(p for p in cfg.hubs[0].profiles if p.gpu)
    # 14 seats x guarantee within gpu-1's 48 cores / 384 GiB minus the 1 CPU / 2 GiB node reserve.
    assert (profile.cpu_guarantee, profile.mem_guarantee_gib) == (3, 24)
    assert 14 * profile.cpu_guarantee <= 47 and 14 * profile.mem_guarantee_gib <= 382


def test_old_prod_numbers_leave_seats_unusable() -> None:
    raw = prod()
    gpu_profile(raw).update(cpu_guarantee=4, mem_guarantee_gib=32)
    found = issues(raw)
    assert set(found) == {"hubs.0.profiles.3.cpu_guarantee", "hubs.0.profiles.3.mem_guarantee_gib"}
    assert "56 CPUs" in found["hubs.0.profiles.3.cpu_guarantee"] and "only 11 seats" in found["hubs.0.profiles.3.cpu_guarantee"]
    assert "448 GiB" in found["hubs.0.profiles.3.mem_guarantee_gib"] and "382" in found["hubs.0.profiles.3.mem_guarantee_gib"]


def test_memory_alone_and_the_reserve_count() -> None:
    raw = prod()
    gpu_profile(raw).update(mem_guarantee_gib=27.5)  # 14 x 27.5 = 385 > 384 - 2
    assert set(issues(raw)) == {"hubs.0.profiles.3.mem_guarantee_gib"}
    raw = prod()
    gpu_profile(raw).update(mem_guarantee_gib=27.4)  # 383.6 fits 384 but not after the 2 GiB reserve
    assert set(issues(raw)) == {"hubs.0.profiles.3.mem_guarantee_gib"}
    raw["scheduler"]["node_reserve"] = {"vcore": "1", "memory": "0Gi"}
    load_platform(raw, set(), missing_secrets_ok=True)


def test_two_gpus_per_server_halve_the_servers() -> None:
    raw = prod()
    gpu_profile(raw).update(gpu=2, cpu_guarantee=6, cpu_limit=8, mem_guarantee_gib=48)  # 7 servers x 6 = 42 <= 47
    gpu_queue = raw["scheduler"]["queues"][0]["queues"][2]
    gpu_queue["user_limits"][0]["max_resources"]["gpu"] = 2  # else the profile could never start in its queue
    load_platform(raw, set(), missing_secrets_ok=True)
    gpu_profile(raw).update(cpu_guarantee=7)  # 7 x 7 = 49 > 47
    assert set(issues(raw)) == {"hubs.0.profiles.3.cpu_guarantee"}


def test_unsized_nodes_and_other_models_are_not_checked() -> None:
    raw = prod()
    gpu_profile(raw).update(cpu_guarantee=8, mem_guarantee_gib=48)
    gpu_profile(raw)["gpu_product"] = "A100-80GB"  # selects no node of this inventory
    load_platform(copy.deepcopy(raw), set(), missing_secrets_ok=True)
    del gpu_profile(raw)["gpu_product"]
    gpu_node = next(n for n in raw["inventory"]["nodes"] if n["name"] == "gpu-1")
    del gpu_node["cpus"], gpu_node["memory_gib"]
    try:
        load_platform(raw, set(), missing_secrets_ok=True)
    except ConfigError as error:
        assert not any(".profiles.3." in i.path for i in error.issues)
