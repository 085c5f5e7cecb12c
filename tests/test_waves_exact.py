"""The per-node step order and its lanes compared whole on a small inventory: preparations (control
planes first), joins (every node but the first control plane, control planes first), each step's
predecessor with a bound of two sessions, and the control planes' joins chained without a bound."""

from __future__ import annotations

from typing import Any

from components.k8s_cluster.waves import JOIN, PREPARE, join_order, lane_predecessors, prepare_order, step_sequence, step_waits
from config.platform import PlatformConfig


def platform(**ssh: Any) -> PlatformConfig:
    nodes = [
        {"name": "w-1", "address": "192.0.2.31", "roles": ["worker"]},
        {"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane"]},
        {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
        {"name": "cp-2", "address": "192.0.2.22", "roles": ["control-plane"]},
        {"name": "cp-3", "address": "192.0.2.23", "roles": ["control-plane", "worker"]},
    ]
    return PlatformConfig.model_validate(
        {
            "inventory": {"node_network": "192.0.2.0/24", "nodes": nodes},
            "load_balancer": {},
            "ssh": ssh,
            "cluster": {"endpoint": {"host": "api.example.org"}},
        }
    )


def test_orders() -> None:
    cfg = platform()
    assert prepare_order(cfg) == ["cp-1", "cp-2", "cp-3", "w-1"]
    assert [n.name for n in join_order(cfg)] == ["cp-2", "cp-3", "w-1"]
    assert step_sequence(cfg) == [
        (PREPARE, "cp-1"),
        (PREPARE, "cp-2"),
        (PREPARE, "cp-3"),
        (PREPARE, "w-1"),
        (JOIN, "cp-2"),
        (JOIN, "cp-3"),
        (JOIN, "w-1"),
    ]


def test_lanes() -> None:
    items = [("s", "a"), ("s", "b"), ("s", "c"), ("s", "d")]
    assert lane_predecessors(items, None) == dict.fromkeys(items)
    assert lane_predecessors(items, 2) == {items[0]: None, items[1]: None, items[2]: items[0], items[3]: items[1]}
    assert lane_predecessors(items, 1) == {items[0]: None, items[1]: items[0], items[2]: items[1], items[3]: items[2]}


def test_waits_without_a_bound_chain_only_the_control_plane_joins() -> None:
    waits = step_waits(platform())
    assert waits == {
        (PREPARE, "cp-1"): [],
        (PREPARE, "cp-2"): [],
        (PREPARE, "cp-3"): [],
        (PREPARE, "w-1"): [],
        (JOIN, "cp-2"): [],
        (JOIN, "cp-3"): [(JOIN, "cp-2")],
        (JOIN, "w-1"): [],
    }


def test_waits_with_two_lanes() -> None:
    waits = step_waits(platform(max_parallel_sessions=2))
    assert waits == {
        (PREPARE, "cp-1"): [],
        (PREPARE, "cp-2"): [],
        (PREPARE, "cp-3"): [(PREPARE, "cp-1")],
        (PREPARE, "w-1"): [(PREPARE, "cp-2")],
        (JOIN, "cp-2"): [(PREPARE, "cp-3")],
        (JOIN, "cp-3"): [(PREPARE, "w-1"), (JOIN, "cp-2")],
        (JOIN, "w-1"): [(JOIN, "cp-2")],
    }
    # One lane: the chain already orders the control-plane joins; no second entry.
    assert step_waits(platform(max_parallel_sessions=1))[(JOIN, "cp-3")] == [(JOIN, "cp-2")]
