"""`python -m tools.render`: the contract of architecture.md, determinism, and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT
from tools import render as render_tool

Rendered = Callable[[str], tuple[dict[str, Any], Path]]
RESOURCE_KEYS = {
    "type", "name", "urn", "parent", "depends_on", "provider", "protect", "retain_on_delete",
    "delete_before_replace", "ignore_changes", "additional_secret_outputs", "inputs",
}  # fmt: skip


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_plan_has_every_documented_field(rendered: Rendered) -> None:
    plan, out = rendered("prod")
    assert plan["stack"] == "prod" and set(plan) == {"stack", "resources", "outputs"}
    urns = {r["urn"] for r in plan["resources"]}
    for res in plan["resources"]:
        assert set(res) == RESOURCE_KEYS, res["name"]
        stack_urn = "urn:pulumi:prod::jupyterhub-platform::pulumi:pulumi:Stack::jupyterhub-platform-prod"
        assert res["parent"] in urns or res["parent"] == stack_urn, res["name"]
        assert all(dep in urns for dep in res["depends_on"]), res["name"]
    assert json.loads((out / "plan.json").read_text()) == plan


def test_render_is_byte_identical_twice(tmp_path: Path) -> None:
    for attempt in ("a", "b"):
        render_tool.render("prod", ROOT / "Pulumi.prod.yaml", tmp_path / attempt)
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_files_cover_scripts_host_files_and_releases(rendered: Rendered) -> None:
    plan, out = rendered("prod")
    files = out / "files"
    commands = [r for r in plan["resources"] if r["type"] == "command:remote:Command"]
    scripts = {f"{p.parent.name}-{p.stem}" for p in (files / "nodes").glob("*/*.sh") if not p.stem.endswith(".delete")}
    assert scripts == {c["name"] for c in commands}
    deletes = {f"{p.parent.name}-{p.name.removesuffix('.delete.sh')}" for p in (files / "nodes").glob("*/*.delete.sh")}
    assert deletes == {c["name"] for c in commands if "delete" in c["inputs"]}
    assert (files / "nodes" / "cp-1" / "etc" / "kubernetes" / "kubeadm-init.yaml").is_file()
    releases = [r for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"]
    for rel in releases:
        values = yaml.safe_load((files / "releases" / rel["name"] / "values.yaml").read_text())
        assert values == (rel["inputs"].get("values") or {})


def test_secrets_render_as_placeholder(rendered: Rendered) -> None:
    _, out = rendered("prod")
    text = (out / "plan.json").read_text()
    assert "placeholder-ssh_private_key" not in text
    assert '"[secret]"' in text
    for path in (out / "files").rglob("*"):
        if path.is_file():
            assert "placeholder-" not in path.read_text(), path


def test_hub_releases_keep_their_values_output_secret(rendered: Rendered) -> None:
    plan, _ = rendered("prod")
    releases = [r for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release" and r["name"].startswith("hub-")]
    assert len(releases) == 3
    assert all(r["additional_secret_outputs"] == ["values"] for r in releases)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.render", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_renders_dev_to_the_default_directory_layout(tmp_path: Path) -> None:
    result = run_cli("dev", "--out", str(tmp_path / "dev"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev" / "plan.json").is_file()
    assert (tmp_path / "dev" / "files" / "nodes" / "dev-1" / "kubeadm-init.sh").is_file()


def test_cli_reports_every_config_error_and_exits_2(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    cfg = raw["config"]
    cfg["jupyterhub-platform:cluster"]["kubernetes_version"] = "1.20.0"
    cfg["jupyterhub-platform:load_balancer"]["vip"] = "192.0.2.21"
    cfg["jupyterhub-platform:cluster"]["typo_key"] = 1
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    result = run_cli("bad", "--stack-file", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    assert any(line.startswith("error: cluster.kubernetes_version: ") for line in lines)
    assert any(line.startswith("error: cluster.typo_key: ") for line in lines)
    assert not (tmp_path / "out").exists(), "nothing is written for a bad configuration"


def test_cli_without_stack_file_is_an_error(tmp_path: Path) -> None:
    result = run_cli("nosuchstack", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "no such stack file" in result.stderr


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_secure_values_in_a_stack_file_render_as_secret(stack: str, tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    raw["config"]["jupyterhub-platform:ssh_private_key"] = {"secure": "v1:abcdef"}
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(raw))
    plan = render_tool.render(stack, path, tmp_path / "out")
    conn = [r["inputs"]["connection"] for r in plan["resources"] if r["type"] == "command:remote:Command"]
    assert conn and set(conn) == {"[secret]"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("config: [oops]\n", "error: config: "), ("config: {a: [\n", "error: (stack file): ")],
)
def test_malformed_stack_files_are_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(text)
    result = run_cli("broken", "--stack-file", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr.startswith(expected), result.stderr
    assert "Traceback" not in result.stderr


def test_whole_numbers_render_as_integers(rendered: Rendered) -> None:
    _, out = rendered("prod")
    values = yaml.safe_load((out / "files" / "releases" / "hub-teaching" / "values.yaml").read_text())
    assert values["singleuser"]["startTimeout"] == 1800 and isinstance(values["singleuser"]["startTimeout"], int)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_chart_is_pinned_with_bounded_wait_and_history(rendered: Rendered, stack: str) -> None:
    releases = [r for r in rendered(stack)[0]["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"]
    assert len(releases) >= 4
    for rel in releases:
        inputs = rel["inputs"]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", inputs["version"]), rel["name"]
        assert inputs["repositoryOpts"]["repo"].startswith("https://"), rel["name"]
        assert inputs["timeout"] >= 300 and inputs["maxHistory"] == 10, rel["name"]


def test_a_floating_chart_version_is_refused() -> None:
    from components.common.charts import pinned_release
    from config.charts import ChartsConfig

    with pytest.raises(ValueError, match="exact version"):
        pinned_release("x", release="x", chart="x", version="^1.2", repo="https://e", sources=ChartsConfig(),
                       namespace="n", values={}, timeout=60, opts=None)  # type: ignore[arg-type]  # fmt: skip
