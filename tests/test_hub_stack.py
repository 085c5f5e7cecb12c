"""The hubs inside the dev and prod stacks: rendered values, resource graph, outputs, manifests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.jupyterhub.component import TYPE
from tests.helpers import IN_CI
from tests.test_jupyterhub_values import schema_errors
from tools.mockrun import GENERATED_SECRET_TYPE

Rendered = Callable[[str], tuple[dict[str, Any], Path]]


def _resources(plan: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == typ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_hub_values_are_valid_and_plain(rendered: Rendered, stack: str) -> None:
    plan, out = rendered(stack)
    hubs = _resources(plan, TYPE)
    assert hubs
    for hub in hubs:
        text = (out / "files" / "releases" / hub["name"] / "values.yaml").read_text()
        values = yaml.safe_load(text)
        assert "[secret]" not in text and "placeholder-" not in text
        assert schema_errors(values) == [], hub["name"]


def test_prod_hubs_wait_for_storage_scheduler_and_gpu_pool(rendered: Rendered) -> None:
    plan, _ = rendered("prod")
    by_urn = {r["urn"]: r for r in plan["resources"]}
    releases = {r["name"]: r for r in _resources(plan, "kubernetes:helm.sh/v3:Release") if r["name"].startswith("hub-")}
    assert set(releases) == {"hub-teaching", "hub-exam", "hub-grading"}
    for name, release in releases.items():
        deps = {by_urn[d]["name"] for d in release["depends_on"] if d in by_urn}
        hub = name.removeprefix("hub-")
        assert {"yunikorn-release", "gpu-pool-gpu-operator", f"nfs-jhub-{hub}-homes-pvc", f"{name}-platform-secrets"} <= deps
        assert release["inputs"]["namespace"] == f"jhub-{hub}"
        assert release["inputs"]["valueYamlFiles"] == "[secret]"
        assert by_urn[release["parent"]]["type"] == TYPE


def test_prod_hub_secrets_are_secret_and_protected(rendered: Rendered) -> None:
    plan, _ = rendered("prod")
    for secret in _resources(plan, "kubernetes:core/v1:Secret"):
        if secret["name"].startswith("hub-"):
            assert secret["inputs"]["stringData"] == "[secret]"
    randoms = [r for r in _resources(plan, GENERATED_SECRET_TYPE) if r["name"].startswith("hub-")]
    # cookie secret, CryptKeeper key, proxy token and (with monitoring) the metrics token of each of 3 hubs,
    # plus the ngshare and sync service tokens of the two hubs offering courses (teaching, exam)
    assert len(randoms) == 16 and all(r["protect"] for r in randoms)
    assert {r["name"] for r in randoms if "ngshare" in r["name"]} == {
        f"hub-{h}-ngshare{t}-token" for h in ("teaching", "exam") for t in ("", "-sync")
    }
    namespaces = {r["inputs"]["metadata"]["name"]: r for r in _resources(plan, "kubernetes:core/v1:Namespace")}
    assert all(namespaces[f"jhub-{h}"]["protect"] for h in ("teaching", "exam", "grading"))


def test_prod_exam_hub_is_locked_down(rendered: Rendered) -> None:
    _, out = rendered("prod")
    values = yaml.safe_load((out / "files" / "releases" / "hub-exam" / "values.yaml").read_text())
    policy = values["singleuser"]["networkPolicy"]
    allowed = [k for k, v in policy["egressAllowRules"].items() if v]
    # Only the hub's nbgrader exchange beyond hub and DNS (students submit the exam there).
    to_ngshare = {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ngshare"}}}],
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }
    assert policy["egress"] == [to_ngshare] and allowed == ["dnsPortsKubeSystemNamespace"]


def test_capacity_report_in_outputs_and_render(rendered: Rendered) -> None:
    plan, out = rendered("prod")
    rows = {(r["hub"], r["profile"]): r for r in plan["outputs"]["capacity"]}
    # Two CPU workers of 32 cores / 128 GiB, 1 core / 2 GiB reserved each: 2 x min(31/0.5, 126/1) = 124.
    assert rows[("teaching", "small")]["servers_fit"] == 124
    assert rows[("teaching", "gpu")]["queue"] == "root.gpu"
    report = (out / "files" / "reports" / "capacity.md").read_text()
    assert "| teaching | small |" in report and "root.students" in report
    assert set(plan["outputs"]["hubs"]) == {"teaching", "exam", "grading"}


def test_hub_manifests_pass_kubernetes_validate_strict(rendered: Rendered, tmp_path: Path) -> None:
    tool = shutil.which("kubernetes-validate") or str(Path(__file__).resolve().parent.parent / "venv/bin/kubernetes-validate")
    if not Path(tool).exists():
        if IN_CI:
            pytest.fail("kubernetes-validate is not installed")
        pytest.skip("kubernetes-validate is not installed")
    _, out = rendered("prod")
    manifests = sorted((out / "files" / "manifests").glob("*-jhub-*.yaml"))
    manifests += sorted((out / "files" / "manifests").glob("Namespace-cluster-jhub-*.yaml"))
    assert len(manifests) >= 6
    checked = []
    for manifest in manifests:
        doc = yaml.safe_load(manifest.read_text())
        if doc.get("stringData") == "[secret]":
            doc["stringData"] = {"redacted": "[secret]"}  # the render hides the whole map; its shape is a map
        target = tmp_path / manifest.name
        target.write_text(yaml.safe_dump(doc))
        checked.append(str(target))
    result = subprocess.run(
        [tool, "--strict", "--kubernetes-version", "1.34.0", *checked], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
