"""200 workers: no extra dependency stage, three resources per worker, no fan-in on the first control
plane, bounded sessions behind a bastion, and a render cost that grows linearly, not worse."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.k8s_cluster import waves
from config.errors import ConfigError
from config.loader import load_platform
from config.ssh import BASTION_DEFAULT_SESSIONS
from tests.graph import Graph
from tests.helpers import ROOT, stack_raw
from tests.scale_fixtures import BASTION, FIXTURE, scale_platform
from tools import bench_render
from tools import render as render_tool
from tools.bench_render import is_upgrade_step
from tools.scale_fixture import scaled

# The first control plane's own steps (taken from a real render of the merged design): the bootstrap
# (prepare, unique-hosts, init, mint-join, ...), its own upgrade and the upgrade credentials, the
# encryption-at-rest keys and rewrite, the certificate check and the etcd backup. None is per worker.
CP1_STEPS = [
    "admin-kubeconfig",
    "backup",
    "certs-check",
    "drain-removed-nodes",
    "encryption-keys",
    "encryption-rewrite",
    "kubeadm-init",
    "mint-join",
    "prepare",
    "unique-hosts",
    "upgrade",
    "upgrade-credentials",
    "wait-nodes-ready",
]


def timed_render(stack: str, path: Path, out: Path) -> tuple[float, dict[str, Any]]:
    start = time.process_time()  # CPU time: other processes on a shared machine do not count
    plan = render_tool.render(stack, path, out)
    return time.process_time() - start, plan


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("scale")
    bastion_file = bench_render.with_bastion(FIXTURE, tmp / "bastion.yaml")
    timed_render("prod", ROOT / "Pulumi.prod.yaml", tmp / "warmup")
    return {
        "prod": timed_render("prod", ROOT / "Pulumi.prod.yaml", tmp / "prod"),
        "scale": timed_render("scale-200", FIXTURE, tmp / "scale"),
        "bastion": timed_render("scale-200-bastion", bastion_file, tmp / "bastion"),
    }


def bootstrap(plan: dict) -> Graph:
    """The graph without the upgrade steps (a rolling upgrade is meant to take one stage per batch)."""
    return Graph(r for r in plan["resources"] if not is_upgrade_step(r["name"]))


def test_fixture_is_prod_with_200_workers() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    committed = yaml.safe_load(FIXTURE.read_text())
    assert committed == scaled(prod, 200), "regenerate with: python -m tools.scale_fixture"


def test_a_larger_fixture_widens_the_node_network() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    inventory = scaled(prod, 1000)["config"]["jupyterhub-platform:inventory"]
    assert inventory["node_network"] == "192.0.0.0/22"
    addresses = [n["address"] for n in inventory["nodes"]]
    assert len(addresses) == len(set(addresses)) and len([n for n in inventory["nodes"] if n["roles"] == ["worker"]]) >= 1000


def test_four_resources_per_worker_and_none_on_the_first_control_plane(renders: dict[str, Any]) -> None:
    _, plan = renders["scale"]
    workers = [f"worker-{i:03d}" for i in range(1, 199)]
    for worker in workers:
        assert bench_render.resources_of_node(plan, worker) == [
            f"{worker}-kubeadm-join",
            f"{worker}-labels",
            f"{worker}-prepare",
            f"{worker}-upgrade",  # runs only when the Kubernetes version changes
        ]
    sessions = bench_render.sessions_per_host(plan)
    # The first control plane's steps do not grow with the worker count.
    commands = [r["name"] for r in plan["resources"] if r["type"] == bench_render.COMMAND]
    cp1 = sorted(n.removeprefix("cp-1-") for n in commands if n.startswith("cp-1-"))
    # Besides its own steps, the first control plane gates each upgrade batch (one per batch of
    # workers, not one per worker); those steps run only during an upgrade.
    gates = [n for n in cp1 if re.fullmatch(r"upgrade-batch-\d+-ready", n)]
    assert sorted(set(cp1) - set(gates)) == CP1_STEPS and sessions["cp-1"] == len(CP1_STEPS) + len(gates)
    assert len(gates) == 10  # 200 CPU workers (+1 GPU node) in batches of 10% = 20
    assert all(sessions[w] == 3 for w in workers)


def test_scale_adds_no_dependency_stage_and_costs_linear_time(renders: dict[str, Any]) -> None:
    prod_s, prod = renders["prod"]
    scale_s, scale = renders["scale"]
    joins = [r for r in scale["resources"] if r["name"].endswith("-kubeadm-join") and r["name"].startswith("worker-")]
    assert len(joins) == 200
    # The bootstrap adds no stage; the upgrade's batches are the one thing that grows (tests/test_upgrade_graph.py).
    assert bootstrap(scale).longest_chain() == bootstrap(prod).longest_chain()
    per_resource_prod = prod_s / len(prod["resources"])
    per_resource_scale = scale_s / len(scale["resources"])
    # The render is linear in resources: each costs no more at scale than in prod (with slack for noise).
    assert per_resource_scale < 2.5 * per_resource_prod, (prod_s, scale_s)


def test_without_a_bastion_every_node_is_its_own_ssh_server(renders: dict[str, Any]) -> None:
    _, plan = renders["scale"]
    steps = bench_render.node_steps(plan)
    # Nothing chains the nodes: as many may run at once as there are nodes (each on its own host).
    assert bench_render.chain_cover(plan, steps) >= 200


def test_behind_a_bastion_node_steps_run_in_bounded_lanes(renders: dict[str, Any]) -> None:
    _, plan = renders["bastion"]
    steps = bench_render.node_steps(plan)
    assert len(steps) == 204 + 1 + 203  # prepare on every node, the GPU host step, joins of all but cp-1
    assert bench_render.chain_cover(plan, steps) <= BASTION_DEFAULT_SESSIONS
    graph = Graph(plan["resources"])
    # The lanes run through both stages: a lane's first join waits for its last preparation.
    assert graph.waits_for("worker-198-kubeadm-join", "worker-192-kubeadm-join")
    assert graph.waits_for("cp-2-kubeadm-join", "worker-193-prepare")  # 6 places before it in the sequence
    assert graph.waits_for("cp-3-kubeadm-join", "cp-2-kubeadm-join")


def test_lanes_are_the_bound_and_control_planes_stay_serial() -> None:
    cfg = scale_platform(bastion=BASTION, max_parallel_sessions=4)
    waits = waves.step_waits(cfg)
    sequence = waves.step_sequence(cfg)
    assert sequence[:3] == [("prepare", "cp-1"), ("prepare", "cp-2"), ("prepare", "cp-3")]
    assert all(len(waits[s]) == 0 for s in sequence[:4]) and waits[sequence[4]] == [sequence[0]]
    assert waits[("kubeadm-join", "cp-3")] == [sequence[sequence.index(("kubeadm-join", "cp-3")) - 4], ("kubeadm-join", "cp-2")]
    unbounded = waves.step_waits(scale_platform())
    assert unbounded[("kubeadm-join", "cp-3")] == [("kubeadm-join", "cp-2")]
    assert sum(len(w) for w in unbounded.values()) == 1


def test_max_parallel_sessions_is_validated_and_defaults_with_a_bastion() -> None:
    raw = copy.deepcopy(stack_raw("prod")[0])
    raw["ssh"]["max_parallel_sessions"] = 0
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, set(), missing_secrets_ok=True)
    assert caught.value.lines() == ["error: ssh.max_parallel_sessions: must be at least 1"]
    assert scale_platform().ssh.session_lanes() is None
    assert scale_platform(bastion=BASTION).ssh.session_lanes() == BASTION_DEFAULT_SESSIONS == 6
    assert scale_platform(bastion=BASTION, max_parallel_sessions=20).ssh.session_lanes() == 20


def test_chain_cover_counts_the_fewest_chains() -> None:
    def res(name: str, *deps: str) -> dict[str, Any]:
        return {"name": name, "urn": f"u:{name}", "depends_on": [f"u:{d}" for d in deps]}

    # a1 <- a2 <- a3 and b1 <- b2 are chains; c1 stands alone; x is outside the measured set.
    plan = {"resources": [res("a1"), res("a2", "a1", "x"), res("a3", "a2"), res("b1", "x"), res("b2", "b1"), res("c1"), res("x")]}
    assert bench_render.chain_cover(plan, ["a1", "a2", "a3", "b1", "b2", "c1"]) == 3
    # Two steps waiting for the same one cannot share its chain.
    fork = {"resources": [res("p"), res("q", "p"), res("r", "p")]}
    assert bench_render.chain_cover(fork, ["p", "q", "r"]) == 2
