"""The capacity report's arithmetic case by case, with exact numbers: the node reserves (a control
plane keeps more), the exact-fit boundary, memory as the tighter bound, GPU and CPU nodes kept apart,
a node smaller than its reserve, GPU seats as a cap, and the queue columns.

Base: `tests.hub_fixtures` (cp-1 16 CPU / 64 GiB, control plane and worker; worker-1 32 CPU / 128 GiB)
with the scheduler's default reserves: every node keeps 1 CPU and 2 GiB, a control plane 1 CPU and
3 GiB more, so cp-1 offers 14 CPU / 59 GiB and worker-1 31 CPU / 126 GiB."""

from __future__ import annotations

import copy
from typing import Any

from components.jupyterhub.capacity import ProfileCapacity, capacity, capacity_markdown, servers_on
from config.hub_queries import NodeCapacity
from config.hubs import HubProfile
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY, platform, raw

CFG = platform()
SMALL = CFG.hubs[0].profiles[0]
ONE = {"cpu_guarantee": 1, "mem_guarantee_gib": 1}


def profile(**changes: Any) -> HubProfile:
    return SMALL.model_copy(update=changes)


def test_a_worker_keeps_its_reserve_and_a_control_plane_keeps_more() -> None:
    one_cpu = profile(cpu_guarantee=1, mem_guarantee_gib=1)
    assert servers_on(CFG, NodeCapacity("worker-1", 32, 128, 0), one_cpu) == 31
    assert servers_on(CFG, NodeCapacity("cp-1", 16, 64, 0), one_cpu) == 14
    one_gib = profile(cpu_guarantee=0.1, mem_guarantee_gib=1)
    assert servers_on(CFG, NodeCapacity("worker-1", 32, 128, 0), one_gib) == 126
    assert servers_on(CFG, NodeCapacity("cp-1", 16, 64, 0), one_gib) == 59


def test_an_exact_fit_counts_and_one_more_does_not() -> None:
    worker = NodeCapacity("worker-1", 32, 128, 0)
    assert servers_on(CFG, worker, profile(cpu_guarantee=31, mem_guarantee_gib=1)) == 1
    assert servers_on(CFG, worker, profile(cpu_guarantee=31.5, mem_guarantee_gib=1)) == 0
    # A hair above what is left: the reserve is exactly 1 CPU (1000m) on a worker, 2 CPUs on a control plane.
    assert servers_on(CFG, worker, profile(cpu_guarantee=31.0005, mem_guarantee_gib=1)) == 0
    assert servers_on(CFG, NodeCapacity("cp-1", 16, 64, 0), profile(cpu_guarantee=14.0008, mem_guarantee_gib=1)) == 0
    assert servers_on(CFG, NodeCapacity("cp-1", 16, 64, 0), profile(cpu_guarantee=1, mem_guarantee_gib=59.0005)) == 0
    assert servers_on(CFG, worker, profile(cpu_guarantee=10.3333333333, mem_guarantee_gib=1)) == 3  # 31/3, rounded
    assert servers_on(CFG, worker, profile(cpu_guarantee=1, mem_guarantee_gib=63)) == 2
    assert servers_on(CFG, worker, profile(cpu_guarantee=1, mem_guarantee_gib=63.5)) == 1


def test_the_tighter_of_cpu_and_memory_wins() -> None:
    worker = NodeCapacity("worker-1", 32, 128, 0)
    assert servers_on(CFG, worker, profile(cpu_guarantee=1, mem_guarantee_gib=42)) == 3  # memory: 126 / 42
    assert servers_on(CFG, worker, profile(cpu_guarantee=15.5, mem_guarantee_gib=1)) == 2  # CPU: 31 / 15.5


def test_gpu_nodes_run_only_gpu_profiles_and_cpu_nodes_only_cpu_profiles() -> None:
    gpu_node, cpu_node = NodeCapacity("worker-1", 32, 128, 2), NodeCapacity("worker-1", 32, 128, 0)
    one_cpu, one_gpu = profile(cpu_guarantee=1, mem_guarantee_gib=1), profile(cpu_guarantee=1, mem_guarantee_gib=1, gpu=1)
    assert servers_on(CFG, gpu_node, one_cpu) == 0
    assert servers_on(CFG, cpu_node, one_gpu) == 0
    assert servers_on(CFG, gpu_node, one_gpu) == 31
    assert servers_on(CFG, NodeCapacity("worker-1", 32, 128, 1), one_gpu) == 31  # one GPU is a GPU node
    assert servers_on(CFG, NodeCapacity("worker-1", 32, 128, 1), one_cpu) == 0


def test_a_node_smaller_than_its_reserve_holds_nothing() -> None:
    assert servers_on(CFG, NodeCapacity("worker-1", 0.5, 128, 0), profile(cpu_guarantee=0.25, mem_guarantee_gib=1)) == 0
    assert servers_on(CFG, NodeCapacity("cp-1", 16, 4, 0), profile(cpu_guarantee=1, mem_guarantee_gib=0.5)) == 0


def test_rows_sum_the_nodes_and_show_the_queue_limits() -> None:
    config = raw()
    config["scheduler"] = {
        "queues": [
            {
                "name": "root",
                "queues": [{"name": "users", "guaranteed": {"vcore": 8, "memory": "32Gi"}, "max": {"vcore": 40, "pods": 90}}],
            }
        ]
    }
    rows = capacity(PlatformConfig.model_validate(config))
    assert rows == [
        ProfileCapacity("teaching", "small", "root.users", "0.5 CPU, 1 GiB", 90, "vcore=8, memory=32Gi", "vcore=40, pods=90"),
        ProfileCapacity("teaching", "large", "root.users", "4 CPU, 16 GiB", 10, "vcore=8, memory=32Gi", "vcore=40, pods=90"),
    ]
    config["scheduler"]["queues"][0]["queues"][0] = {"name": "users"}
    rows = capacity(PlatformConfig.model_validate(config))
    assert [(r.queue_guaranteed, r.queue_max) for r in rows] == [("-", "-"), ("-", "-")]


def test_gpu_profiles_are_capped_by_the_pool_seats() -> None:
    config = raw(
        profiles=[
            *copy.deepcopy(HUB["profiles"]),
            {"slug": "gpu", "display_name": "GPU", "queue": "root.users", "gpu": 1, **ONE},
            {"slug": "gpu2", "display_name": "GPU x2", "queue": "root.users", "gpu": 2, **ONE},
        ]
    )
    gpu_node = {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "cpus": 64, "memory_gib": 256}
    config["inventory"]["nodes"].append({**gpu_node, "gpu": {"model": "T4", "count": 3}})
    rows = {r.profile: r for r in capacity(PlatformConfig.model_validate(config))}
    # 63 fit by CPU on gpu-1, but the pool has 3 seats: 3 one-GPU servers, 1 two-GPU server.
    assert (rows["gpu"].servers_fit, rows["gpu2"].servers_fit) == (3, 1)
    assert rows["gpu"].guarantee == "1 CPU, 1 GiB, 1 GPU"
    assert rows["small"].servers_fit == 90  # CPU profiles never count the GPU node


def test_one_node_without_a_size_makes_every_count_unknown() -> None:
    config = raw()
    del config["inventory"]["nodes"][1]["memory_gib"]
    cfg = PlatformConfig.model_validate(config)
    assert [r.servers_fit for r in capacity(cfg)] == [None, None]
    config["inventory"] = copy.deepcopy(INVENTORY)
    assert [r.servers_fit for r in capacity(PlatformConfig.model_validate(config))] == [90, 10]


def test_the_markdown_report_line_by_line() -> None:
    lines = capacity_markdown(CFG).splitlines()
    assert lines[:7] == [
        "# Capacity per profile",
        "",
        "Servers that fit at each profile's guarantee if the whole inventory ran only that profile",
        "(after each node's reserve), beside its YuniKorn queue's guaranteed and max resources.",
        "",
        "| hub | profile | guarantee | servers fit | queue | queue guaranteed | queue max |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = capacity(CFG)
    assert lines[7:] == [
        f"| teaching | small | 0.5 CPU, 1 GiB | 90 | root.users | {rows[0].queue_guaranteed} | {rows[0].queue_max} |",
        f"| teaching | large | 4 CPU, 16 GiB | 10 | root.users | {rows[1].queue_guaranteed} | {rows[1].queue_max} |",
    ]
    config = raw()
    del config["inventory"]["nodes"][0]["cpus"]
    unknown = capacity_markdown(PlatformConfig.model_validate(config)).splitlines()[7]
    assert unknown.startswith("| teaching | small | 0.5 CPU, 1 GiB | unknown (give nodes `cpus` and `memory_gib`) | root.users |")


def test_a_reserve_that_names_only_cpu_or_only_memory_keeps_none_of_the_other() -> None:
    config = raw()
    config["scheduler"] = {"node_reserve": {"vcore": 2}, "control_plane_reserve": {"memory": "4Gi"}}
    cfg = PlatformConfig.model_validate(config)
    one_cpu, one_gib = profile(cpu_guarantee=1, mem_guarantee_gib=0.5), profile(cpu_guarantee=0.1, mem_guarantee_gib=1)
    assert servers_on(cfg, NodeCapacity("worker-1", 32, 128, 0), one_cpu) == 30
    assert servers_on(cfg, NodeCapacity("worker-1", 32, 128, 0), one_gib) == 128
    assert servers_on(cfg, NodeCapacity("cp-1", 16, 64, 0), one_cpu) == 14
    assert servers_on(cfg, NodeCapacity("cp-1", 16, 64, 0), one_gib) == 60
    config["scheduler"] = {"node_reserve": {"memory": "2Gi"}, "control_plane_reserve": {"vcore": 3}}
    cfg = PlatformConfig.model_validate(config)
    assert servers_on(cfg, NodeCapacity("worker-1", 32, 128, 0), one_cpu) == 32
    assert servers_on(cfg, NodeCapacity("cp-1", 16, 64, 0), one_cpu) == 13
    assert servers_on(cfg, NodeCapacity("cp-1", 16, 64, 0), one_gib) == 62
