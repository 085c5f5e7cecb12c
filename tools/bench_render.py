"""Time the offline render of prod and of the 200-worker fixture, and compare their shapes.

    python -m tools.bench_render

Besides the timings it prints two critical paths (the longest chain of resources that wait for
each other): the bootstrap's, which must not grow with the number of workers, and the rolling
upgrade's, which is the control planes one after another plus one stage per worker batch.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tools.render import ROOT, load_for_render, render

SCALE_FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"
# A rolling upgrade: one `<node>-upgrade` step per node, plus the first control plane's
# `upgrade-credentials` and `upgrade-batch-<n>-ready` gates between worker batches.
UPGRADE_STEP = re.compile(r"-upgrade(-credentials|-batch-\d+-ready)?$")


def is_upgrade_step(name: str) -> bool:
    return UPGRADE_STEP.search(name) is not None


def is_node_upgrade(name: str) -> bool:
    return name.endswith("-upgrade")


def critical_path(resources: Iterable[Mapping[str, Any]], counted: Callable[[str], bool]) -> int:
    """The most resources that `counted` accepts on any one dependency chain of the whole graph."""
    by_urn = {r["urn"]: r for r in resources}

    @cache
    def depth(urn: str) -> int:
        here = 1 if counted(by_urn[urn]["name"]) else 0
        return here + max((depth(d) for d in by_urn[urn]["depends_on"] if d in by_urn), default=0)

    return max((depth(u) for u in by_urn), default=0)


def timed(stack: str, path: Path, out: Path) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    plan = render(stack, path, out)
    return time.perf_counter() - start, plan


def paths(plan: dict[str, Any]) -> str:
    resources = plan["resources"]
    bootstrap = critical_path(resources, lambda name: not is_upgrade_step(name))
    upgrade = critical_path(resources, is_node_upgrade)
    return f"critical path: bootstrap {bootstrap:3d}, upgrade {upgrade:3d}"


def expected_upgrade_path(path: Path) -> str:
    cfg, _, _ = load_for_render(path)
    workers = len(cfg.inventory.workers)
    batch = cfg.cluster.upgrade.batch_size(workers)
    cps = len(cfg.inventory.control_planes)
    return f"{cps} control planes + ceil({workers} workers / {batch}) batches = {cps + math.ceil(workers / batch)} stages"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        timed("prod", ROOT / "Pulumi.prod.yaml", Path(tmp) / "warmup")  # imports and first-run costs
        prod_s, prod = timed("prod", ROOT / "Pulumi.prod.yaml", Path(tmp) / "prod")
        scale_s, scale = timed("scale-200", SCALE_FIXTURE, Path(tmp) / "scale")
    prod_n, scale_n = len(prod["resources"]), len(scale["resources"])
    print(f"prod:      {prod_n:5d} resources in {prod_s:6.2f} s  {paths(prod)}")
    print(f"scale-200: {scale_n:5d} resources in {scale_s:6.2f} s  {paths(scale)}  ({scale_s / prod_s:.1f}x prod)")
    print(f"scale-200 upgrade: {expected_upgrade_path(SCALE_FIXTURE)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
