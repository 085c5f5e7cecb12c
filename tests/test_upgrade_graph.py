"""The rolling upgrade under mocks, for prod and the 200-worker fixture: control planes in series,
every worker after all control planes, at most `max_unavailable` workers at once, one upgrade
step per node, and no key, token or certificate on any command line."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.graph import Graph
from tests.helpers import ROOT
from tools import render as render_tool
from tools.bench_render import critical_path, is_node_upgrade, is_upgrade_step

FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"


@pytest.fixture(scope="module")
def scale_plan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    plan: dict = render_tool.render("scale-200", FIXTURE, tmp_path_factory.mktemp("scale-upgrade"))
    return plan


@pytest.fixture(params=["prod", "scale-200"])
def stack(request: pytest.FixtureRequest, rendered: Callable[[str], tuple[dict, Path]], scale_plan: dict) -> tuple[str, dict]:
    name: str = request.param
    return name, scale_plan if name == "scale-200" else rendered("prod")[0]


def upgrade_names(plan: dict, prefix: str) -> list[str]:
    return sorted(r["name"] for r in plan["resources"] if r["name"].startswith(prefix) and r["name"].endswith("-upgrade"))


def test_control_planes_upgrade_one_after_another_then_the_workers(stack: tuple[str, dict]) -> None:
    _, plan = stack
    graph = Graph(plan["resources"])
    assert graph.waits_for("cp-2-upgrade", "cp-1-upgrade")
    assert graph.waits_for("cp-3-upgrade", "cp-2-upgrade")
    # Calico (whose support matrix follows the minor) moves before the first control plane.
    assert "cluster-calico" in graph.ancestors("cp-1-upgrade")
    workers = [n for n in upgrade_names(plan, "") if not n.startswith("cp-")]
    assert workers
    for name in workers:
        assert graph.waits_for(name, "cp-3-upgrade"), name


def test_no_more_than_max_unavailable_workers_upgrade_at_once(stack: tuple[str, dict]) -> None:
    name, plan = stack
    graph = Graph(plan["resources"])
    workers = [n for n in upgrade_names(plan, "") if not n.startswith("cp-")]
    batch = max(1, math.floor(len(workers) * 10 / 100))  # both stacks: max_unavailable 10%
    ancestors = {w: graph.ancestors(w) & set(workers) for w in workers}
    for w in workers:
        # Workers that may run at the same time as w: neither before nor after it.
        concurrent = [o for o in workers if o != w and o not in ancestors[w] and w not in ancestors[o]]
        assert len(concurrent) + 1 <= batch, (name, w, len(concurrent) + 1, batch)
    assert critical_path(plan["resources"], is_node_upgrade) == 3 + math.ceil(len(workers) / batch)


def test_the_200_worker_upgrade_path_is_control_planes_plus_batches(scale_plan: dict) -> None:
    workers = [n for n in upgrade_names(scale_plan, "") if not n.startswith("cp-")]
    assert len(workers) == 201  # 200 CPU workers and prod's GPU worker
    assert critical_path(scale_plan["resources"], is_node_upgrade) == 3 + math.ceil(201 / 20)
    gates = [r["name"] for r in scale_plan["resources"] if re.fullmatch(r"cp-1-upgrade-batch-\d+-ready", r["name"])]
    assert len(gates) == math.ceil(201 / 20) - 1  # between batches, none after the last


def test_one_upgrade_step_per_node_and_worker_credentials_only_on_stdin(stack: tuple[str, dict]) -> None:
    _, plan = stack
    steps = [r for r in plan["resources"] if is_upgrade_step(r["name"])]
    per_node = [r["name"].removesuffix("-upgrade") for r in steps if r["name"].endswith("-upgrade")]
    assert len(per_node) == len(set(per_node))
    credentials = next(r for r in steps if r["name"].endswith("-upgrade-credentials"))
    assert set(credentials["additional_secret_outputs"]) >= {"stdout", "stderr"}
    for r in steps:
        if r["name"].startswith("worker-"):
            assert r["inputs"]["stdin"] == "[secret]"
            assert credentials["urn"] in r["depends_on"]


def test_upgrade_credentials_wait_for_the_api_server_only(stack: tuple[str, dict]) -> None:
    # Every worker's upgrade reads the credentials; in a real preview each such edge costs the SDK a
    # walk over all the credentials wait for (tools/bench_render.py, CycleCheckVisits). After the API
    # server that is the bootstrap; after Calico and "every node Ready" it would be every node's steps.
    _, plan = stack
    graph = Graph(plan["resources"])
    assert graph.waits_for("cp-1-upgrade-credentials", "cp-1-admin-kubeconfig")
    for later_step in ("cluster-calico", "cp-1-wait-nodes-ready", "worker-1-labels", "worker-1-kubeadm-join"):
        assert not graph.waits_for("cp-1-upgrade-credentials", later_step), later_step


def test_no_key_token_or_certificate_on_a_command_line(rendered: Callable[[str], tuple[dict, Path]]) -> None:
    plan, out = rendered("prod")
    for r in plan["resources"]:
        for field in ("create", "delete", "update"):
            text = str(r["inputs"].get(field) or "")
            assert "placeholder-" not in text, (r["name"], field)
            assert "BEGIN CERTIFICATE" not in text and "BEGIN RSA PRIVATE KEY" not in text
    keys = [r for r in plan["resources"] if r["name"].endswith("-encryption-keys")]
    assert [r["name"] for r in keys] == ["cp-1-encryption-keys", "cp-2-encryption-keys", "cp-3-encryption-keys"]
    for r in keys:
        assert r["inputs"]["stdin"] == "[secret]"
    for path in (out / "files").rglob("*"):
        if path.is_file():
            assert "placeholder-encryption_key" not in path.read_text(errors="replace"), path


def test_control_planes_get_their_encryption_keys_before_their_api_server_starts(
    rendered: Callable[[str], tuple[dict, Path]],
) -> None:
    plan, _ = rendered("prod")
    graph = Graph(plan["resources"])
    assert graph.waits_for("cp-1-kubeadm-init", "cp-1-encryption-keys")
    assert graph.waits_for("cp-2-kubeadm-join", "cp-2-encryption-keys")
    # One control plane at a time: each restart of an API server leaves the others serving.
    assert graph.waits_for("cp-3-encryption-keys", "cp-2-encryption-keys")
    assert graph.waits_for("cp-1-encryption-rewrite", "cp-3-kubeadm-join")


def test_every_node_is_drained_before_kubeadm_upgrades_it(rendered: Callable[[str], tuple[dict, Path]]) -> None:
    _, out = rendered("prod")
    scripts = sorted((out / "files" / "nodes").glob("*/upgrade.sh"))
    assert len(scripts) == 6  # three control planes, two CPU workers, one GPU worker
    for script in scripts:
        text = script.read_text()
        assert text.index('kube drain "$NODE_NAME"') < text.index("timeout 1800 kubeadm upgrade apply") < text.index(
            "systemctl restart kubelet"
        ), script
        assert text.index('kube drain "$NODE_NAME"') < text.index("timeout 1800 kubeadm upgrade node"), script


def test_renewal_runs_one_control_plane_at_a_time_and_refreshes_the_kubeconfig(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    document["config"]["jupyterhub-platform:cluster"]["certificates"]["renew_generation"] = 1
    stack_file = tmp_path / "Pulumi.renew.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    plan = render_tool.render("prod", stack_file, tmp_path / "out")
    graph = Graph(plan["resources"])
    assert graph.waits_for("cp-1-admin-kubeconfig", "cp-1-certs-renew")
    assert graph.waits_for("cp-2-certs-renew", "cp-1-certs-renew")
    assert graph.waits_for("cp-3-certs-renew", "cp-2-certs-renew")
    kubeconfig = next(r for r in plan["resources"] if r["name"] == "cp-1-admin-kubeconfig")
    assert "certificates-1" in kubeconfig["inputs"]["triggers"]
    assert not any(r["name"].startswith("worker-") and "certs" in r["name"] for r in plan["resources"])
