"""Measure what the worker count costs: resources per worker, SSH sessions per host, render time.

    python -m tools.bench_render [--workers 1000]

Renders prod, the committed 200-worker fixture (without and with a bastion) and a fixture of
`--workers` CPU workers made the same way, then prints:
- resources per worker and which they are;
- SSH sessions per host in one `pulumi up` that builds the cluster (one per remote step);
- how many per-node steps can run at once: an upper bound read from the rendered graph (the
  smallest number of dependency chains that cover those steps; steps on one chain never overlap);
- the render time of the large fixture (the target: 1,000 workers in under 20 s);
- how the render checked its dependency edges for cycles (`tools/cycle_check.py`: every edge
  without the SDK's walk while they all point to earlier resources);
- how many resources the SDK's own cycle check visits (`CycleCheckVisits`) at 250 and 500 workers,
  the cost a real `pulumi preview`/`up` still pays in the program: a figure that does not depend
  on the machine's load (it varies by a few percent with the order the SDK's tasks happen to run
  in) and that grows with the square of the workers when per-worker resources depend on something
  that comes after every node;
- two critical paths (the longest chain of resources that wait for each other): the bootstrap's,
  which must not grow with the number of workers, and the rolling upgrade's, which is the control
  planes one after another plus one stage per worker batch.
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import resource_cycle_breaker as cycle_breaker

from tools import cycle_check
from tools.render import ROOT, load_for_render, render
from tools.scale_fixture import scaled

SCALE_FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"
COMMAND = "command:remote:Command"
# The per-node steps whose concurrency ssh.max_parallel_sessions bounds.
NODE_STEP_SUFFIXES = ("-prepare", "-gpu-host", "-kubeadm-join")
BASTION = {"host": "192.0.2.250", "user": "jump"}
RENDER_LIMIT_SECONDS = 20.0
# Two sizes for the cycle-check figure: doubling the workers shows how it grows.
WALK_SIZES = (250, 500)
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


def paths(plan: dict[str, Any]) -> str:
    resources = plan["resources"]
    bootstrap = critical_path(resources, lambda name: not is_upgrade_step(name))
    upgrade = critical_path(resources, is_node_upgrade)
    return f"critical path: bootstrap {bootstrap}, upgrade {upgrade}"


def expected_upgrade_path(path: Path) -> str:
    cfg, _, _ = load_for_render(path)
    workers = len(cfg.inventory.workers)
    batch = cfg.cluster.upgrade.batch_size(workers)
    cps = len(cfg.inventory.control_planes)
    return f"{cps} control planes + ceil({workers} workers / {batch}) batches = {cps + math.ceil(workers / batch)} stages"


class CycleCheckVisits:
    """Counts the resources the Pulumi SDK visits while it registers dependencies.

    For every dependency edge A -> B the SDK (pulumi/runtime/resource_cycle_breaker.py) walks
    everything B depends on, transitively, to refuse cycles. An edge into a resource that comes
    after every node (the mint, an upgrade gate) costs a walk over all nodes, so such edges per
    worker make the render quadratic. Measurement only: wraps the SDK's walk, changes nothing.
    """

    def __init__(self) -> None:
        self.visits = 0

    def __enter__(self) -> CycleCheckVisits:
        walk = cycle_breaker._with_transitive_deps

        def counted(resource: pulumi.Resource, visited: set[pulumi.Resource]) -> Iterable[pulumi.Resource]:
            self.visits += 1
            return walk(resource, visited)

        self._walk = walk
        setattr(cycle_breaker, "_with_transitive_deps", counted)  # noqa: B010 (its recursion uses this name)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(cycle_breaker, "_with_transitive_deps", self._walk)  # noqa: B010


def timed(stack: str, path: Path, out: Path) -> tuple[float, float, dict[str, Any]]:
    """Wall time, CPU time of this process (what the wall time would be on an idle machine), plan."""
    start, cpu = time.perf_counter(), time.process_time()
    plan = render(stack, path, out)
    return time.perf_counter() - start, time.process_time() - cpu, plan


def counted_walks(stack: str, path: Path, out: Path) -> int:
    """The SDK's cycle-check visits in one render with the SDK's own check (as in a real run)."""
    with cycle_check.sdk_walk(), CycleCheckVisits() as visits:
        render(stack, path, out)
    return visits.visits


def resources_of_node(plan: dict[str, Any], node: str) -> list[str]:
    """Resources named after one node (`<node>-...` or `...-<node>`)."""
    return sorted(r["name"] for r in plan["resources"] if r["name"].startswith(f"{node}-") or r["name"].endswith(f"-{node}"))


def sessions_per_host(plan: dict[str, Any]) -> Counter[str]:
    """Remote steps (one SSH session each) per host, by the node name every step carries first in its triggers."""
    return Counter(r["inputs"]["triggers"][0] for r in plan["resources"] if r["type"] == COMMAND)


def chain_cover(plan: dict[str, Any], names: Iterable[str]) -> int:
    """The fewest dependency chains (paths of direct `depends_on` edges) covering `names`: no more
    of those resources than this can ever run at the same time. Minimum path cover = count minus
    a maximum matching of the edges between them (augmenting paths)."""
    by_urn = {r["urn"]: r["name"] for r in plan["resources"]}
    members = set(names)
    edges = {
        r["name"]: [by_urn[d] for d in r["depends_on"] if by_urn.get(d) in members]
        for r in plan["resources"]
        if r["name"] in members
    }
    matched_to: dict[str, str] = {}  # earlier step -> the later step chained right after it

    def augment(later: str, seen: set[str]) -> bool:
        for earlier in edges[later]:
            if earlier in seen:
                continue
            seen.add(earlier)
            if earlier not in matched_to or augment(matched_to[earlier], seen):
                matched_to[earlier] = later
                return True
        return False

    matching = sum(augment(name, set()) for name in edges)
    return len(edges) - matching


def node_steps(plan: dict[str, Any]) -> list[str]:
    return [r["name"] for r in plan["resources"] if r["type"] == COMMAND and r["name"].endswith(NODE_STEP_SUFFIXES)]


def with_bastion(path: Path, out: Path) -> Path:
    document = yaml.safe_load(path.read_text())
    key = "jupyterhub-platform:ssh"
    document["config"][key] = {**(document["config"].get(key) or {}), "bastion": BASTION}
    out.write_text(yaml.safe_dump(document, sort_keys=False))
    return out


def report(label: str, measured: tuple[float, float, dict[str, Any]]) -> None:
    wall, cpu, plan = measured
    workers = [n for n in plan["outputs"]["worker_nodes"] if not n.startswith("gpu-")]
    per_worker = {w: resources_of_node(plan, w) for w in workers}
    usual = min(len(r) for r in per_worker.values())  # what every worker costs; config may add to some
    typical = next(w for w in workers if len(per_worker[w]) == usual)
    extra = {w: len(r) - usual for w, r in per_worker.items() if len(r) != usual}
    sessions = sessions_per_host(plan)
    first = plan["outputs"]["control_plane_nodes"][0]
    others = max(v for k, v in sessions.items() if k != first)
    steps = node_steps(plan)
    print(f"{label}: {len(plan['resources'])} resources, rendered in {wall:.2f} s ({cpu:.2f} s CPU), {len(workers)} CPU workers")
    kinds = ", ".join(n.removeprefix(typical + "-") for n in per_worker[typical])
    more = "; ".join(f"{w} {n:+d} (config places more on it)" for w, n in extra.items())
    print(f"  resources per worker: {usual} ({kinds}){'; ' + more if more else ''}")
    print(f"  SSH sessions per host in one up: {first} {sessions[first]}, any other host at most {others}")
    print(f"  per-node steps that can run at once: at most {chain_cover(plan, steps)} of {len(steps)}")
    print(f"  {paths(plan)}")


def fixture(workers: int, folder: Path) -> Path:
    """prod with `workers` CPU workers, written as a stack file in `folder`."""
    path = folder / f"scale-{workers}.yaml"
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    path.write_text(yaml.safe_dump(scaled(prod, workers), sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1000, help="CPU workers in the large fixture")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        timed("prod", ROOT / "Pulumi.prod.yaml", work / "warmup")  # imports and first-run costs
        report("prod", timed("prod", ROOT / "Pulumi.prod.yaml", work / "prod"))
        report("scale-200", timed("scale-200", SCALE_FIXTURE, work / "scale"))
        print(f"  scale-200 upgrade: {expected_upgrade_path(SCALE_FIXTURE)}")
        bastion_file = with_bastion(SCALE_FIXTURE, work / "scale-200-bastion.yaml")
        report("scale-200 behind a bastion", timed("scale-200-bastion", bastion_file, work / "bastion"))
        big = timed(f"scale-{args.workers}", fixture(args.workers, work), work / "big")
        report(f"scale-{args.workers}", big)
        edges = cycle_check.COUNTS
        print(f"  cycle check: {edges.unwalked + edges.walked:,} dependency edges, {edges.walked:,} of them walked")
    with tempfile.TemporaryDirectory() as tmp:
        walks = {n: counted_walks(f"walks-{n}", fixture(n, Path(tmp)), Path(tmp) / "out") for n in WALK_SIZES}
    visits = ", ".join(f"{n} workers {v:,}" for n, v in walks.items())
    print(f"SDK cycle-check visits in a real preview (load-independent): {visits}")
    wall, cpu, _ = big
    verdict = "under" if cpu < RENDER_LIMIT_SECONDS else "OVER"
    target = f"{verdict} the {RENDER_LIMIT_SECONDS:.0f} s target on an idle machine"
    print(f"{args.workers}-worker render: {wall:.2f} s wall, {cpu:.2f} s CPU ({target})")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kB on Linux
    print(f"peak memory of this process (the largest render dominates): {peak_mib} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
