"""Queue tree rules: each bad tree fails at the dotted path of the field at fault."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.platform import PlatformConfig
from config.scheduler_rules import inventory_capacity
from tests.helpers import stack_raw

ROOT = "scheduler.queues.0"
STUDENTS, RESEARCHERS, GPU = (f"{ROOT}.queues.{i}" for i in range(3))


def prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    return copy.deepcopy(raw)


def load(raw: dict[str, Any]) -> PlatformConfig:
    return load_platform(raw, set(), missing_secrets_ok=True)


def errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return caught.value.lines()


def paths(raw: dict[str, Any]) -> set[str]:
    return {line.split(": ", 2)[1] for line in errors(raw)}


def queue(raw: dict[str, Any], *indexes: int) -> dict[str, Any]:
    q = raw["scheduler"]["queues"][0]
    for i in indexes:
        q = q["queues"][i]
    return q


def test_prod_tree_is_valid_and_lists_its_leaves() -> None:
    cfg = load(prod())
    assert cfg.scheduler.leaf_queue_paths() == ["root.students", "root.researchers", "root.gpu", "root.exam"]
    assert cfg.scheduler.fallback_queue_path == "root.system"


def test_dev_and_default_trees_are_valid() -> None:
    raw, _ = stack_raw("dev")
    assert load(copy.deepcopy(raw)).scheduler.leaf_queue_paths() == ["root.students"]
    raw = prod()
    del raw["scheduler"]
    raw.pop("hubs", None)  # their profiles name the prod queues
    raw.pop("quotas", None)  # it names the prod hubs
    raw.pop("consoles", None)  # it logs in through the teaching hub
    raw.pop("monitoring", None)  # Grafana logs in through a hub's identity provider
    raw.pop("courses", None)  # and so do the courses (on those hubs)
    assert load(raw).scheduler.leaf_queue_paths() == ["root.users"]


@pytest.mark.parametrize("name", ["Students", "a.b", "-x", "x" * 65, "with space", "café"])
def test_names_yunikorn_or_labels_refuse(name: str) -> None:
    raw = prod()
    queue(raw, 1)["name"] = name
    assert f"{RESEARCHERS}.name" in paths(raw)


def test_top_level_must_be_a_single_root() -> None:
    raw = prod()
    raw["scheduler"]["queues"][0]["name"] = "top"
    assert f"{ROOT}.name" in paths(raw)
    raw = prod()
    raw["scheduler"]["queues"].append({"name": "other", "queues": [{"name": "x", "submit_acl": {"everyone": True}}]})
    assert "scheduler.queues" in paths(raw)


def test_duplicate_sibling_and_fallback_names() -> None:
    raw = prod()
    queue(raw, 2)["name"] = "students"
    assert f"{GPU}.name" in paths(raw)
    raw = prod()
    raw["scheduler"]["fallback_queue"] = {"name": "gpu"}
    assert "scheduler.fallback_queue.name" in paths(raw)


def test_queue_path_must_fit_a_label_value() -> None:
    raw = prod()
    queue(raw, 0)["queues"] = [{"name": "a" * 60, "submit_acl": {"everyone": True}}]
    assert f"{STUDENTS}.queues.0.name" in paths(raw)


@pytest.mark.parametrize("part", ["guaranteed", "max"])
def test_root_takes_no_resources(part: str) -> None:
    raw = prod()
    queue(raw)[part] = {"vcore": "10"}
    assert f"{ROOT}.{part}" in paths(raw)


def test_guarantee_above_own_max() -> None:
    raw = prod()
    queue(raw, 1)["guaranteed"]["vcore"] = "60"
    assert f"{RESEARCHERS}.guaranteed.vcore" in paths(raw)


def test_children_guarantees_above_parent_max() -> None:
    raw = prod()
    queue(raw, 0)["queues"] = [
        {"name": "cs101", "submit_acl": {"groups": ["cs101"]}, "guaranteed": {"memory": "100Gi"}},
        {"name": "cs102", "submit_acl": {"groups": ["cs102"]}, "guaranteed": {"memory": "101Gi"}},
    ]
    del queue(raw, 0)["user_limits"]
    lines = errors(raw)
    assert any(line.startswith(f"error: {STUDENTS}.max.memory: the children's guarantees add up to 201.0Gi") for line in lines)
    # ... and above the parent's own guarantee (128Gi)
    assert f"{STUDENTS}.guaranteed.memory" in {line.split(": ", 2)[1] for line in lines}


def test_child_max_above_parent_max() -> None:
    raw = prod()
    queue(raw, 0)["queues"] = [{"name": "cs101", "submit_acl": {"groups": ["cs101"]}, "max": {"vcore": "60"}}]
    assert f"{STUDENTS}.queues.0.max.vcore" in paths(raw)


@pytest.mark.parametrize("where", [(), (2,)])
def test_everyone_on_root_or_a_parent_is_refused(where: tuple[int, ...]) -> None:
    raw = prod()
    if where:
        queue(raw, *where)["queues"] = [{"name": "h100", "submit_acl": {"groups": ["gpu-users"]}}]
    queue(raw, *where)["submit_acl"] = {"everyone": True}
    path = f"{ROOT}.queues.2.submit_acl" if where else f"{ROOT}.submit_acl"
    lines = [line for line in errors(raw) if line.startswith(f"error: {path}: ")]
    assert lines and "opens every queue" in lines[0]


def test_named_admins_on_root_are_allowed() -> None:
    raw = prod()
    queue(raw)["submit_acl"] = {"groups": ["admins"]}
    load(raw)


def test_leaf_nobody_can_use() -> None:
    raw = prod()
    del queue(raw, 1)["submit_acl"]
    assert f"{RESEARCHERS}.submit_acl" in paths(raw)


def test_acl_names_yunikorn_refuses() -> None:
    raw = prod()
    queue(raw, 0)["submit_acl"] = {"groups": ["9lives"], "users": ["bad name"]}
    assert {f"{STUDENTS}.submit_acl.groups", f"{STUDENTS}.submit_acl.users"} <= paths(raw)


def test_everyone_with_names_is_ambiguous() -> None:
    raw = prod()
    queue(raw, 0)["submit_acl"] = {"everyone": True, "groups": ["students"]}
    assert f"{STUDENTS}.submit_acl" in paths(raw)


def test_gpu_queue_without_gpu_capacity() -> None:
    raw = prod()
    gpu_node = next(n for n in raw["inventory"]["nodes"] if n["name"] == "gpu-1")
    del gpu_node["gpu"]
    del raw["gpu"]
    found = paths(raw)
    assert f"{GPU}.guaranteed.gpu" in found and f"{GPU}.max.gpu" in found


def test_gpu_guarantees_beyond_the_pool_seats() -> None:
    raw = prod()  # 2 x H100 cut into 7 MIG instances: 14 seats
    queue(raw, 2)["guaranteed"]["gpu"] = 15
    queue(raw, 2)["max"]["gpu"] = 16
    lines = errors(raw)
    assert f"error: {GPU}.guaranteed.gpu: GPU guarantees reach 15 here, but the pool has 14 seats" in lines


def test_guarantees_beyond_inventory_capacity() -> None:
    raw = prod()
    cfg = load(copy.deepcopy(raw))
    # 112 worker cores minus 1 reserved per worker; 640 GiB minus 2 GiB per worker.
    assert inventory_capacity(cfg) == {"vcore": 109_000, "memory": 634 * 2**30}
    queue(raw, 2)["guaranteed"]["vcore"] = "44"
    queue(raw, 1)["guaranteed"]["vcore"] = "56"
    lines = errors(raw)
    # Running total: system 2, students 20, researchers 56, then the GPU queue's 44 crosses 109.
    assert any(line.startswith(f"error: {GPU}.guaranteed.vcore: vcore guarantees reach 122 cores") for line in lines)


def test_capacity_rule_skipped_without_node_sizes() -> None:
    raw = prod()
    for n in raw["inventory"]["nodes"]:
        n.pop("cpus", None)
    queue(raw, 2)["guaranteed"]["vcore"] = "44"
    queue(raw, 1)["guaranteed"]["vcore"] = queue(raw, 1)["max"]["vcore"] = "56"
    cfg = load(raw)
    assert "vcore" not in inventory_capacity(cfg) and "memory" in inventory_capacity(cfg)


def test_max_applications_of_children() -> None:
    raw = prod()
    queue(raw)["max_applications"] = 400
    queue(raw, 0)["max_applications"] = 300
    queue(raw, 1)["max_applications"] = 500
    found = paths(raw)
    assert f"{RESEARCHERS}.max_applications" in found and f"{GPU}.max_applications" in found
    assert f"{STUDENTS}.max_applications" not in found


def test_user_limits() -> None:
    raw = prod()
    limits = queue(raw, 0)["user_limits"]
    limits[0]["max_resources"] = {"vcore": "100"}  # above the queue max (56)
    limits.insert(1, {"users": ["alice"], "max_servers": 1})  # named after `*`
    limits.append({"groups": ["*"], "max_servers": 1})  # lone `*` group
    found = paths(raw)
    assert {
        f"{STUDENTS}.user_limits.0.max_resources.vcore",
        f"{STUDENTS}.user_limits.1.users",
        f"{STUDENTS}.user_limits.2.groups",
    } <= found


def test_user_limit_shapes() -> None:
    raw = prod()
    queue(raw, 0)["user_limits"] = [
        {"max_servers": 1},
        {"users": ["*", "bob"], "max_servers": 1},
        {"users": ["carol"], "max_servers": 0},
        {"users": ["dave"], "max_servers": 1, "max_resources": {"vcore": "0", "memory": "0"}},
    ]
    found = paths(raw)
    assert {f"{STUDENTS}.user_limits.0", f"{STUDENTS}.user_limits.1.users", f"{STUDENTS}.user_limits.2.max_servers",
            f"{STUDENTS}.user_limits.3"} <= found  # fmt: skip


def test_child_limit_above_an_ancestor_limit() -> None:
    raw = prod()
    queue(raw)["user_limits"] = [{"users": ["*"], "max_servers": 2, "max_resources": {"memory": "32Gi"}}]
    found = paths(raw)
    assert f"{RESEARCHERS}.user_limits.0.max_resources.memory" in found  # 64Gi under a 32Gi root limit
    assert f"{GPU}.user_limits.0.max_resources.memory" in found
    assert f"{STUDENTS}.user_limits.0.max_resources.memory" not in found


@pytest.mark.parametrize(
    ("field", "value"),
    [("vcore", "four"), ("vcore", "1.5k"), ("memory", "16GB"), ("memory", "-1Gi"), ("gpu", -1)],
)
def test_bad_quantities(field: str, value: Any) -> None:
    raw = prod()
    queue(raw, 1)["max"][field] = value
    assert f"{RESEARCHERS}.max.{field}" in paths(raw)


def test_preemption_delay_only_on_leaves() -> None:
    raw = prod()
    queue(raw)["preemption_delay_seconds"] = 30
    assert f"{ROOT}.preemption_delay_seconds" in paths(raw)


def test_fallback_guarantee_above_its_max() -> None:
    raw = prod()
    raw["scheduler"]["fallback_queue"] = {"guaranteed": {"memory": "16Gi"}}
    assert "scheduler.fallback_queue.guaranteed.memory" in paths(raw)


def test_all_problems_at_once() -> None:
    raw = prod()
    queue(raw)["max"] = {"vcore": "1"}
    queue(raw, 1)["guaranteed"]["vcore"] = "60"
    del queue(raw, 2)["submit_acl"]
    assert {f"{ROOT}.max", f"{RESEARCHERS}.guaranteed.vcore", f"{GPU}.submit_acl"} <= paths(raw)


def test_memory_capacity_counts_the_control_plane_reserve() -> None:
    raw, _ = stack_raw("dev")
    raw = copy.deepcopy(raw)
    raw["inventory"]["nodes"][0].update(cpus=4, memory_gib=8)
    # dev-1 is control plane and worker: 1 + 1 cores and 2 + 3 GiB reserved.
    assert inventory_capacity(load(copy.deepcopy(raw))) == {"vcore": 2000, "memory": 3 * 2**30}
    queue(raw, 0)["guaranteed"] = {"memory": "4Gi"}  # 4Gi > 3Gi
    assert f"{STUDENTS}.guaranteed.memory" in paths(raw)
