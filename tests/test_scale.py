"""200 workers: no extra dependency stages, and a render cost that grows linearly, not worse."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.graph import Graph
from tests.helpers import ROOT
from tools import render as render_tool
from tools.bench_render import is_upgrade_step
from tools.scale_fixture import scaled

FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"


def timed_render(stack: str, path: Path, out: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    plan = render_tool.render(stack, path, out)
    return time.perf_counter() - start, plan


def bootstrap(plan: dict) -> Graph:
    """The graph without the upgrade steps (a rolling upgrade is meant to take one stage per batch)."""
    return Graph(r for r in plan["resources"] if not is_upgrade_step(r["name"]))


def test_fixture_is_prod_with_200_workers() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    committed = yaml.safe_load(FIXTURE.read_text())
    assert committed == scaled(prod, 200), "regenerate with: python -m tools.scale_fixture"


def test_scale_adds_no_dependency_stage_and_costs_linear_time(tmp_path: Path) -> None:
    timed_render("prod", ROOT / "Pulumi.prod.yaml", tmp_path / "warmup")
    prod_s, prod = timed_render("prod", ROOT / "Pulumi.prod.yaml", tmp_path / "prod")
    scale_s, scale = timed_render("scale-200", FIXTURE, tmp_path / "scale")
    workers = [r for r in scale["resources"] if r["name"].endswith("-kubeadm-join") and r["name"].startswith("worker-")]
    assert len(workers) == 200
    # The bootstrap adds no stage; the upgrade's batches are the one thing that grows (tests/test_upgrade_graph.py).
    assert bootstrap(scale).longest_chain() == bootstrap(prod).longest_chain()
    per_resource_prod = prod_s / len(prod["resources"])
    per_resource_scale = scale_s / len(scale["resources"])
    # The render is linear in resources: each costs no more at scale than in prod (with slack for noise).
    assert per_resource_scale < 2.5 * per_resource_prod, (prod_s, scale_s)
