"""Queue tree rules, each case compared with the EXACT set of (path, message) it yields.

Every numeric rule has its boundary case: the equal value passes. The configs are small trees
on the two-node inventory of `tests.hub_fixtures` (workers provide 45 cores and 185 GiB after
the node reserves)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.platform import PlatformConfig
from config.scheduler_rules import SCHEDULER_CHECKS, inventory_capacity
from tests.hub_fixtures import INVENTORY

ROOT = "scheduler.queues.0"
A, B = f"{ROOT}.queues.0", f"{ROOT}.queues.1"
GPU_NODE = {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "cpus": 8, "memory_gib": 32}


def tree(a: dict[str, Any] | None = None, b: dict[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    """root with leaves `a` (alice may submit) and `b` (group staff may submit); keyword args change root."""
    qa = {"name": "a", "submit_acl": {"users": ["alice"]}, **(a or {})}
    qb = {"name": "b", "submit_acl": {"groups": ["staff"]}, **(b or {})}
    return {"queues": [{"name": "root", "queues": [qa, qb], **root}]}


def issues(scheduler: dict[str, Any], gpus: int = 0) -> set[tuple[str, str]]:
    inventory = copy.deepcopy(INVENTORY)
    if gpus:
        inventory["nodes"].append({**GPU_NODE, "gpu": {"model": "H100-80GB", "count": gpus}})
    cfg = PlatformConfig.model_validate({"inventory": inventory, "scheduler": scheduler})
    found = [(i.path, i.message) for check in SCHEDULER_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def test_the_base_tree_is_valid_and_capacity_is_after_reserves() -> None:
    assert issues(tree()) == set()
    cfg = PlatformConfig.model_validate({"inventory": INVENTORY, "scheduler": tree()})
    # cp-1: 16 cores, 64 GiB minus node (1, 2Gi) and control-plane (1, 3Gi) reserves; worker-1: 32, 128 minus (1, 2Gi).
    assert inventory_capacity(cfg) == {"vcore": 45000, "memory": (59 + 126) * 2**30}


# --- tree shape ---------------------------------------------------------------------------------


def test_root_without_child_queues() -> None:
    assert issues({"queues": [{"name": "root", "submit_acl": {"users": ["alice"]}}]}) == {
        (f"{ROOT}.queues", "root needs child queues: notebooks can only run in leaf queues below root"),
    }


def test_two_top_level_queues_and_a_wrong_root_name() -> None:
    scheduler = tree()
    scheduler["queues"][0]["name"] = "top"
    scheduler["queues"].append({"name": "other", "queues": [{"name": "c", "submit_acl": {"users": ["bob"]}}]})
    assert issues(scheduler) == {
        ("scheduler.queues", "give exactly one top-level queue, `root`, with the notebook queues below it"),
        (f"{ROOT}.name", "the top-level queue must be named `root`"),
    }


def test_duplicate_child_names_and_the_fallback_name() -> None:
    assert issues(tree(b={"name": "a"})) == {(f"{B}.name", "duplicate queue name 'a' (also queues.0)")}
    assert issues(tree(b={"name": "system"})) == {("scheduler.fallback_queue.name", "root already has a child named 'system'")}


def test_queue_path_length_boundary() -> None:
    # root.<name>: 63 characters fit a label value, 64 do not.
    fits = "x" * (63 - len("root."))
    assert issues(tree(a={"name": fits})) == set()
    long = fits + "y"
    assert issues(tree(a={"name": long})) == {
        (f"{A}.name", f"the queue path 'root.{long}' is longer than 63 characters and cannot be a pod label"),
    }


def test_preemption_delay_only_on_leaves() -> None:
    assert issues(tree(a={"preemption_delay_seconds": 30})) == set()
    assert issues(tree(preemption_delay_seconds=30)) == {
        (f"{ROOT}.preemption_delay_seconds", "YuniKorn accepts a preemption delay on leaf queues only"),
    }


# --- one queue's user limits --------------------------------------------------------------------


def test_a_name_repeated_in_one_queues_limits() -> None:
    limits = [
        {"users": ["alice"], "groups": ["staff"], "max_servers": 2},
        {"users": ["alice", "bob"], "groups": ["staff"], "max_servers": 1},
    ]
    assert issues(tree(a={"user_limits": limits})) == {
        (f"{A}.user_limits.1.users", "'alice' already has a limit in this queue"),
        (f"{A}.user_limits.1.groups", "'staff' already has a limit in this queue"),
    }


def test_star_limit_must_come_last() -> None:
    limits = [
        {"users": ["*"], "groups": ["*"], "max_servers": 1},
        {"users": ["bob"], "groups": ["staff"], "max_servers": 2},
    ]
    assert issues(tree(a={"user_limits": limits})) == {
        (f"{A}.user_limits.1.users", "the `*` limit must come after every named one"),
        (f"{A}.user_limits.1.groups", "the `*` limit must come after every named one"),
    }
    ordered = [limits[1], limits[0]]
    assert issues(tree(a={"user_limits": ordered})) == set()


def test_a_lone_star_group_limit() -> None:
    limits = [{"users": ["bob"], "max_servers": 2}, {"groups": ["*"], "max_servers": 1}]
    assert issues(tree(a={"user_limits": limits})) == {
        (
            f"{A}.user_limits.1.groups",
            "a `*` group limit needs a limit for at least one named group in the same queue (else it is the queue max)",
        ),
    }


@pytest.mark.parametrize(
    ("servers", "expected"), [(3, set()), (4, {(f"{A}.user_limits.0.max_servers", "4 is above the queue's max_applications 3")})]
)
def test_max_servers_against_max_applications(servers: int, expected: set[tuple[str, str]]) -> None:
    limits = [{"users": ["bob"], "max_servers": servers}]
    assert issues(tree(a={"max_applications": 3, "user_limits": limits})) == expected


@pytest.mark.parametrize(
    ("vcore", "expected"),
    [("4", set()), ("4001m", {(f"{A}.user_limits.0.max_resources.vcore", "4.001 cores is above the queue's max 4 cores")})],
)
def test_limit_resources_against_the_queue_max(vcore: str, expected: set[tuple[str, str]]) -> None:
    limits = [{"users": ["bob"], "max_servers": 1, "max_resources": {"vcore": vcore}}]
    assert issues(tree(a={"max": {"vcore": "4"}, "user_limits": limits})) == expected


# --- ACLs and root ------------------------------------------------------------------------------


def test_root_takes_no_resources() -> None:
    assert issues(tree(guaranteed={"vcore": "1"}, max={"vcore": "10"})) == {
        (f"{ROOT}.guaranteed", "root takes no resources: its max is the whole cluster; set them on its children"),
        (f"{ROOT}.max", "root takes no resources: its max is the whole cluster; set them on its children"),
    }


def test_everyone_only_at_leaves_and_every_leaf_granted() -> None:
    message = "(ACLs are checked leaf to root and the first grant wins): grant at leaves"
    assert issues(tree(submit_acl={"everyone": True})) == {
        (f"{ROOT}.submit_acl", f"`everyone` on root opens every queue {message}")
    }
    nested = tree(a={"queues": [{"name": "c", "submit_acl": {"users": ["carol"]}}], "submit_acl": {"everyone": True}})
    assert issues(nested) == {(f"{A}.submit_acl", f"`everyone` on root.a opens every queue below it {message}")}
    assert issues(tree(b={"submit_acl": None})) == {
        (f"{B}.submit_acl", "nobody may start servers in root.b: grant users or groups")
    }
    # A grant higher up the tree is enough.
    assert issues(tree(b={"submit_acl": None}, submit_acl={"users": ["admin"]})) == set()
    assert issues(tree(a={"submit_acl": {"everyone": True}})) == set()


# --- resources ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guaranteed", "expected"),
    [("8Gi", set()), ("9Gi", {("scheduler.fallback_queue.guaranteed.memory", "9.0Gi is above its max 8.0Gi")})],
)
def test_fallback_guarantee_against_its_max(guaranteed: str, expected: set[tuple[str, str]]) -> None:
    scheduler = tree(a={"max": {"memory": "80Gi"}}, b={"max": {"memory": "80Gi"}})
    scheduler["fallback_queue"] = {"guaranteed": {"memory": guaranteed}, "max": {"vcore": "4", "memory": "8Gi"}}
    assert issues(scheduler) == expected


@pytest.mark.parametrize(
    ("guaranteed", "expected"),
    [("5", set()), ("6", {(f"{A}.guaranteed.vcore", "6 cores is above the queue's own max 5 cores")})],
)
def test_guarantee_against_own_max(guaranteed: str, expected: set[tuple[str, str]]) -> None:
    # b gets a max so that a's guarantee stays reachable (burst_room).
    assert issues(tree(a={"guaranteed": {"vcore": guaranteed}, "max": {"vcore": "5"}}, b={"max": {"vcore": "30"}})) == expected


def test_max_against_the_parents_max_and_childrens_guarantees() -> None:
    def nested(c: tuple[int, int], d: tuple[int, int], own: int | None = None) -> dict[str, Any]:
        """Children c and d of `a` (max 10 pods) with (max, guaranteed) pods each."""
        children = [
            {"name": name, "submit_acl": {"users": [name]}, "max": {"pods": m}, "guaranteed": {"pods": g}}
            for name, (m, g) in (("c", c), ("d", d))
        ]
        a: dict[str, Any] = {"queues": children, "max": {"pods": 10}}
        if own is not None:
            a["guaranteed"] = {"pods": own}
        return tree(a=a)

    assert issues(nested((5, 5), (5, 5))) == set()
    assert issues(nested((5, 5), (5, 5), own=10)) == set()
    assert issues(nested((10, 0), (5, 0))) == set()
    assert issues(nested((11, 0), (5, 0))) == {(f"{A}.queues.0.max.pods", "11 is above the parent's max 10")}
    assert issues(nested((6, 6), (5, 5))) == {
        (f"{A}.max.pods", "the children's guarantees add up to 11, above this queue's max 10"),
    }
    assert issues(nested((5, 5), (5, 5), own=9)) == {
        (f"{A}.guaranteed.pods", "the children's guarantees add up to 10, above this queue's guarantee 9"),
    }


def test_every_child_of_a_capped_queue_sets_max_applications_at_most_the_cap() -> None:
    children = [
        {"name": "c", "submit_acl": {"users": ["carol"]}},
        {"name": "d", "submit_acl": {"users": ["dave"]}, "max_applications": 6},
        {"name": "e", "submit_acl": {"users": ["erin"]}, "max_applications": 5},
    ]
    message = "the parent allows 5 servers: YuniKorn requires every child to set max_applications <= 5"
    assert issues(tree(a={"queues": children, "max_applications": 5})) == {
        (f"{A}.queues.0.max_applications", message),
        (f"{A}.queues.1.max_applications", message),
    }


def _inherited(child_limit: dict[str, Any]) -> dict[str, Any]:
    parent_limits = [
        {"users": ["alice"], "max_servers": 2, "max_resources": {"memory": "4Gi"}},
        {"groups": ["staff"], "max_servers": 3},
    ]
    child = {"name": "c", "submit_acl": {"users": ["alice"]}, "user_limits": [child_limit]}
    return tree(a={"queues": [child], "user_limits": parent_limits})


def test_inherited_user_limits_boundary_passes() -> None:
    assert issues(_inherited({"users": ["alice"], "max_servers": 2, "max_resources": {"memory": "4Gi"}})) == set()
    assert issues(_inherited({"groups": ["staff"], "max_servers": 3})) == set()
    # A name without a limit higher up is free.
    assert issues(_inherited({"users": ["bob"], "max_servers": 9})) == set()


def test_inherited_user_limits_max_servers_and_resources() -> None:
    c = f"{A}.queues.0.user_limits.0"
    assert issues(_inherited({"users": ["alice"], "max_servers": 3, "max_resources": {"memory": "5Gi"}})) == {
        (f"{c}.max_servers", "user 'alice' may run only 2 servers higher up the tree"),
        (f"{c}.max_resources.memory", "user 'alice' is limited to 4.0Gi higher up the tree"),
    }
    assert issues(_inherited({"groups": ["staff"], "max_servers": 4})) == {
        (f"{c}.max_servers", "group 'staff' may run only 3 servers higher up the tree"),
    }


def test_inherited_limits_reach_grandchildren() -> None:
    scheduler = _inherited({"users": ["carol"], "max_servers": 1})
    child = scheduler["queues"][0]["queues"][0]["queues"][0]
    child["submit_acl"] = None
    child["queues"] = [{"name": "g", "submit_acl": {"users": ["alice"]}, "user_limits": [{"users": ["alice"], "max_servers": 5}]}]
    assert issues(scheduler) == {
        (f"{A}.queues.0.queues.0.user_limits.0.max_servers", "user 'alice' may run only 2 servers higher up the tree"),
    }


# --- capacity -----------------------------------------------------------------------------------


def test_gpus_without_gpu_nodes() -> None:
    assert issues(tree(a={"guaranteed": {"gpu": 0}, "max": {"gpu": 1}})) == {
        (f"{A}.max.gpu", "root.a has GPUs but no inventory node has any (gpu seats: 0)"),
    }


@pytest.mark.parametrize(
    ("second", "expected"),
    [(1, set()), (2, {(f"{B}.guaranteed.gpu", "GPU guarantees reach 3 here, but the pool has 2 seats")})],
)
def test_gpu_guarantees_against_seats(second: int, expected: set[tuple[str, str]]) -> None:
    scheduler = tree(a={"guaranteed": {"gpu": 1}, "max": {"gpu": 1}}, b={"guaranteed": {"gpu": second}, "max": {"gpu": second}})
    assert issues(scheduler, gpus=2) == expected


@pytest.mark.parametrize(
    ("b_guaranteed", "expected"),
    [
        ("21", set()),
        (
            "22",
            {
                (
                    f"{B}.guaranteed.vcore",
                    "vcore guarantees reach 46 cores here, but the workers provide 45 cores after scheduler.node_reserve",
                )
            },
        ),
    ],
)
def test_guarantees_against_the_workers(b_guaranteed: str, expected: set[tuple[str, str]]) -> None:
    # fallback 4 cores + a 20 + b; each max equals its guarantee so that burst_room stays quiet.
    scheduler = tree(
        a={"guaranteed": {"vcore": "20"}, "max": {"vcore": "20"}},
        b={"guaranteed": {"vcore": b_guaranteed}, "max": {"vcore": b_guaranteed}},
    )
    scheduler["fallback_queue"] = {"guaranteed": {"vcore": "4"}, "max": {"vcore": "4", "memory": "8Gi"}}
    assert issues(scheduler) == expected


def test_burst_room_boundary() -> None:
    # Capacity 45 cores; a guaranteed 10, b guaranteed 10: a may grow to 45 - 10 = 35 (the fallback has no guarantee).
    ok = tree(
        a={"guaranteed": {"vcore": "10"}, "max": {"vcore": "35"}}, b={"guaranteed": {"vcore": "10"}, "max": {"vcore": "35"}}
    )
    assert issues(ok) == set()
    over = tree(
        a={"guaranteed": {"vcore": "10"}, "max": {"vcore": "36"}}, b={"guaranteed": {"vcore": "10"}, "max": {"vcore": "35"}}
    )
    assert issues(over) == {
        (
            f"{A}.max.vcore",
            "root.a may grow to 36 cores while its siblings are guaranteed 10 cores: together above the cluster's "
            "schedulable capacity (45 cores). Notebooks are never preempted, so those guarantees could not be "
            "restored: set this max to at most 35 cores (or lower the siblings' guarantees)",
        ),
    }
    # A preemptible (non-interactive) queue may grow into the others' guarantees.
    assert (
        issues(
            tree(
                a={"guaranteed": {"vcore": "10"}, "max": {"vcore": "45"}, "interactive": False},
                b={"guaranteed": {"vcore": "10"}, "max": {"vcore": "35"}},
            )
        )
        == set()
    )


def test_burst_room_inside_a_parent_and_without_a_max() -> None:
    children = [
        {"name": "c", "submit_acl": {"users": ["carol"]}, "guaranteed": {"vcore": "2"}},
        {"name": "d", "submit_acl": {"users": ["dave"]}, "guaranteed": {"vcore": "2"}, "max": {"vcore": "8"}},
    ]
    found = issues(tree(a={"queues": children, "max": {"vcore": "10"}}))
    assert found == {
        (
            f"{A}.queues.0.max.vcore",
            "root.a.c may grow to 10 cores while its siblings are guaranteed 2 cores: together above root.a's max "
            "(10 cores). Notebooks are never preempted, so those guarantees could not be restored: set this max to "
            "at most 8 cores (or lower the siblings' guarantees)",
        ),
    }


def test_capacity_without_reserves_or_workers() -> None:
    scheduler = {**tree(), "node_reserve": {}, "control_plane_reserve": {"vcore": "1"}}
    cfg = PlatformConfig.model_validate({"inventory": INVENTORY, "scheduler": scheduler})
    # A reserve that does not name a resource takes none of it (worker-1 keeps nothing back).
    assert inventory_capacity(cfg) == {"vcore": 16000 - 1000 + 32000, "memory": (64 + 128) * 2**30}
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"][0]["roles"] = ["control-plane", "nfs"]
    inventory["nodes"][1]["roles"] = ["nfs"]
    no_workers = PlatformConfig.model_validate({"inventory": inventory, "scheduler": tree()})
    assert inventory_capacity(no_workers) == {}


def test_burst_room_counts_each_siblings_own_guarantee() -> None:
    # a: 35 + b's 10 = 45; b: 40 + a's 5 = 45 (both at the boundary); b at 41 is over.
    assert (
        issues(
            tree(
                a={"guaranteed": {"vcore": "5"}, "max": {"vcore": "35"}},
                b={"guaranteed": {"vcore": "10"}, "max": {"vcore": "40"}},
            )
        )
        == set()
    )
    assert issues(
        tree(a={"guaranteed": {"vcore": "5"}, "max": {"vcore": "35"}}, b={"guaranteed": {"vcore": "10"}, "max": {"vcore": "41"}})
    ) == {
        (
            f"{B}.max.vcore",
            "root.b may grow to 41 cores while its siblings are guaranteed 5 cores: together above the cluster's "
            "schedulable capacity (45 cores). Notebooks are never preempted, so those guarantees could not be "
            "restored: set this max to at most 40 cores (or lower the siblings' guarantees)",
        ),
    }


def test_burst_room_counts_the_fallback_queue_as_roots_child() -> None:
    scheduler = tree(a={"max": {"vcore": "42"}}, b={"max": {"vcore": "30"}})
    scheduler["fallback_queue"] = {"guaranteed": {"vcore": "4"}, "max": {"vcore": "4", "memory": "8Gi"}}
    assert issues(scheduler) == {
        (
            f"{A}.max.vcore",
            "root.a may grow to 42 cores while its siblings are guaranteed 4 cores: together above the cluster's "
            "schedulable capacity (45 cores). Notebooks are never preempted, so those guarantees could not be "
            "restored: set this max to at most 41 cores (or lower the siblings' guarantees)",
        ),
    }


@pytest.mark.parametrize("seats", [1, 2])
def test_burst_room_on_gpu_seats(seats: int) -> None:
    scheduler = tree(a={"guaranteed": {"gpu": 0}, "max": {"gpu": seats}}, b={"guaranteed": {"gpu": 1}, "max": {"gpu": 1}})
    assert issues(scheduler, gpus=seats) == {
        (
            f"{A}.max.gpu",
            f"root.a may grow to {seats} GPU seat(s) while its siblings are guaranteed 1 GPU seat(s): together above the "
            f"cluster's schedulable capacity ({seats} GPU seat(s)). Notebooks are never preempted, so those guarantees "
            f"could not be restored: set this max to at most {seats - 1} GPU seat(s) (or lower the siblings' guarantees)",
        ),
    }


def test_burst_room_a_queue_without_a_max_when_the_others_fill_the_parent() -> None:
    children = [
        {"name": "c", "submit_acl": {"users": ["carol"]}, "guaranteed": {"pods": 5}, "max": {"pods": 5}},
        {"name": "d", "submit_acl": {"users": ["dave"]}, "guaranteed": {"pods": 5}, "max": {"pods": 5}},
        {"name": "e", "submit_acl": {"users": ["erin"]}},
    ]
    assert issues(tree(a={"queues": children, "max": {"pods": 10}})) == {
        (
            f"{A}.queues.2.max.pods",
            "root.a.e may grow to 10 while its siblings are guaranteed 10: together above root.a's max (10). Notebooks "
            "are never preempted, so those guarantees could not be restored: set this max to at most 0 (or lower the "
            "siblings' guarantees)",
        ),
    }
