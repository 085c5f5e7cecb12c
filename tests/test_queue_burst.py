"""Notebooks are never preempted: each queue's max must leave its siblings' guarantees free."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from tests.helpers import stack_raw

ROOT = "scheduler.queues.0"
STUDENTS, RESEARCHERS, GPU = (f"{ROOT}.queues.{i}" for i in range(3))


def prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    return copy.deepcopy(raw)


def queue(raw: dict[str, Any], i: int) -> dict[str, Any]:
    return raw["scheduler"]["queues"][0]["queues"][i]


def error_lines(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, set(), missing_secrets_ok=True)
    return caught.value.lines()


def test_prod_leaves_room_for_every_guarantee() -> None:
    load_platform(prod(), set(), missing_secrets_ok=True)


def test_a_max_that_eats_the_siblings_guarantees() -> None:
    raw = prod()
    # 109 cores schedulable; the others are guaranteed 2 + 12 + 16 + 8 = 38: students may reach 71 at most.
    queue(raw, 0)["max"]["vcore"] = "72"
    lines = error_lines(raw)
    assert any(line.startswith(f"error: {STUDENTS}.max.vcore: ") and "at most 71 cores" in line for line in lines)
    assert not any(f"{RESEARCHERS}.max" in line for line in lines)


def test_memory_and_gpu_too() -> None:
    raw = prod()
    queue(raw, 1)["max"]["memory"] = "500Gi"  # others: 4 + 80 + 128 + 48 = 260Gi of 634Gi
    queue(raw, 0)["guaranteed"]["gpu"] = 1  # students now hold a GPU seat the GPU queue's max (14) ignores
    queue(raw, 0)["max"]["gpu"] = 1
    found = {line.split(": ", 2)[1] for line in error_lines(raw)}
    assert {f"{RESEARCHERS}.max.memory", f"{GPU}.max.gpu"} <= found


def test_a_queue_without_max_grows_to_the_whole_cluster() -> None:
    raw = prod()
    del queue(raw, 1)["max"]
    found = {line.split(": ", 2)[1] for line in error_lines(raw)}
    assert {f"{RESEARCHERS}.max.vcore", f"{RESEARCHERS}.max.memory"} <= found


def test_the_fallback_queue_counts_as_a_sibling() -> None:
    raw = prod()
    raw["scheduler"]["fallback_queue"]["max"] = {"vcore": "60", "memory": "16Gi"}  # others: 56 cores
    assert any(line.startswith("error: scheduler.fallback_queue.max.vcore: ") for line in error_lines(raw))


def test_preemptible_batch_queues_may_burst() -> None:
    raw = prod()
    queue(raw, 1)["max"]["vcore"] = "100"
    queue(raw, 1)["interactive"] = False
    load_platform(raw, set(), missing_secrets_ok=True)


def test_nested_siblings_are_bounded_by_their_parents_max() -> None:
    raw = prod()
    queue(raw, 1)["queues"] = [
        {"name": "a", "submit_acl": {"groups": ["researchers"]}, "guaranteed": {"vcore": "6"}, "max": {"vcore": "20"}},
        {"name": "b", "submit_acl": {"groups": ["researchers"]}, "guaranteed": {"vcore": "6"}, "max": {"vcore": "28"}},
    ]
    del queue(raw, 1)["submit_acl"], queue(raw, 1)["user_limits"]
    for hub in raw["hubs"]:
        for p in hub["profiles"]:
            if p["queue"] == "root.researchers":
                p["queue"] = "root.researchers.a"
    lines = error_lines(raw)
    # Inside root.researchers (max 28): b may take 28 while a is guaranteed 6.
    assert any(line.startswith(f"error: {RESEARCHERS}.queues.1.max.vcore: ") for line in lines)
    assert not any(line.startswith(f"error: {RESEARCHERS}.queues.0.max") for line in lines)
