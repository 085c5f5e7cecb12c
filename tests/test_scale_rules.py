"""The longest chain of resources stays within what the Pulumi SDK's recursive dependency check can
walk: the estimate the rule uses is compared with rendered graphs, and the rule refuses the two
settings that stretch the chain with the value to use instead."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.common.dependency_depth import RECURSION_LIMIT
from config.platform import PlatformConfig
from config.scale_rules import MAX_DEPENDENCY_CHAIN, SCALE_CHECKS, longest_chain
from tools.bench_render import critical_path
from tools.render import ROOT, read_stack_file, render
from tools.scale_fixture import scaled

CHAIN_TEXT = "more than the 4000 the Pulumi SDK's dependency check can walk (it recurses once per resource)"


def stack(workers: int, lanes: int | None = None, max_unavailable: int | None = None) -> dict[str, Any]:
    document = scaled(yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text()), workers)
    config = document["config"]
    if lanes is not None:
        config["jupyterhub-platform:ssh"] = {**(config.get("jupyterhub-platform:ssh") or {}), "max_parallel_sessions": lanes}
    if max_unavailable is not None:
        config["jupyterhub-platform:cluster"]["upgrade"]["max_unavailable"] = max_unavailable
    return document


def model(document: dict[str, Any]) -> PlatformConfig:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stack.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        raw, _ = read_stack_file(path)
    return PlatformConfig.model_validate(raw)


def issues(document: dict[str, Any]) -> set[tuple[str, str]]:
    cfg = model(document)
    return {(i.path, i.message) for check in SCALE_CHECKS for i in check(cfg)}


@pytest.mark.parametrize(
    ("workers", "lanes", "max_unavailable"), [(50, None, None), (50, 2, None), (50, None, 1), (100, 2, 1)]
)
def test_the_estimate_bounds_the_rendered_chain_closely(
    tmp_path: Path, workers: int, lanes: int | None, max_unavailable: int | None
) -> None:
    document = stack(workers, lanes, max_unavailable)
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    measured = critical_path(render("chain", path, tmp_path / "out")["resources"], lambda name: True)
    estimate = longest_chain(model(document))
    assert measured <= estimate <= measured + 6, (measured, estimate)


def test_a_serial_upgrade_of_thousands_of_workers_is_refused_with_the_batch_to_use() -> None:
    assert issues(stack(2400, max_unavailable=1)) == {
        (
            "cluster.upgrade.max_unavailable",
            "upgrading 2401 workers 1 at a time takes 2401 batches one after another: about 4818 resources would "
            f"wait for each other in one chain, {CHAIN_TEXT}; use at least 2 (or 1%)",
        )
    }
    assert issues(stack(2400, max_unavailable=2)) == set()


def test_one_ssh_lane_for_thousands_of_nodes_is_refused_with_the_lanes_to_use() -> None:
    assert issues(stack(2100, lanes=1)) == {
        (
            "ssh.max_parallel_sessions",
            "1 SSH lane(s) put 4207 per-node steps one after another: about 4243 resources would wait for each "
            f"other in one chain, {CHAIN_TEXT}; use at least 2",
        )
    }
    assert issues(stack(2100, lanes=2)) == set()


def test_the_limit_leaves_room_below_the_programs_recursion_limit() -> None:
    assert MAX_DEPENDENCY_CHAIN + 500 <= RECURSION_LIMIT
