"""tools.diff on two real offline renders of the dev stack that differ in known ways."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import ROOT
from tools import diff as diff_tool
from tools import render as render_tool


def test_render_diff_names_changed_resources_and_scripts(tmp_path: Path) -> None:
    base_file = ROOT / "Pulumi.dev.yaml"
    document = yaml.safe_load(base_file.read_text())
    config = document["config"]
    config["jupyterhub-platform:cluster"]["kubernetes_version"] = "1.37.2"
    config["jupyterhub-platform:inventory"]["nodes"].append(
        {"name": "dev-2", "address": "192.0.2.101", "roles": ["worker"]}
    )
    head_file = tmp_path / "Pulumi.dev.yaml"
    head_file.write_text(yaml.safe_dump(document))

    render_tool.render("dev", base_file, tmp_path / "base")
    render_tool.render("dev", head_file, tmp_path / "head")
    base, head = diff_tool.load_render(tmp_path / "base"), diff_tool.load_render(tmp_path / "head")
    result = diff_tool.compare(base, head)
    text = diff_tool.render_markdown(base, head)

    added = {r["name"] for r in result.added}
    assert added and all(name.startswith("dev-2-") or "dev-2" in name for name in added), added
    assert not result.removed
    changed = {r["name"] for r, _, _ in result.changed}
    # The version is in dev-1's scripts: the steps that install or configure Kubernetes change.
    assert any(name.startswith("dev-1-") for name in changed), changed
    added_files = [p for p, status in result.files if status == "added"]
    assert added_files and all("dev-2" in p for p in added_files), added_files  # only the new worker adds files
    changed_files = [p for p, status in result.files if status == "changed"]
    assert "contract/platform.json" in changed_files
    assert any(p.startswith("nodes/dev-1/") and p.endswith(".sh") for p in changed_files), changed_files

    assert "## Render diff for stack `dev`" in text
    assert f"### Resources added ({len(result.added)})" in text
    assert "-    \"kubernetes_version\": \"1.37.1\",\n+    \"kubernetes_version\": \"1.37.2\"," in text
    assert "+++ b/nodes/dev-2/" in text
    assert "1.37.2" in text and len(text) <= diff_tool.DEFAULT_MAX_CHARS
    # Same input, same output: the comment only changes when the renders do.
    assert text == diff_tool.diff_dirs(tmp_path / "base", tmp_path / "head")
