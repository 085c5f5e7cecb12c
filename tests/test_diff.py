"""tools.diff on two small hand-made renders that differ in known ways."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tools import diff as diff_tool

STACK = "urn:pulumi:dev::jupyterhub-platform::"


def _resource(name: str, typ: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
    base = {
        "type": typ,
        "name": name,
        "urn": f"{STACK}{typ}::{name}",
        "parent": None,
        "depends_on": [],
        "provider": None,
        "protect": False,
        "delete_before_replace": False,
        "ignore_changes": [],
        "additional_secret_outputs": [],
        "inputs": inputs,
    }
    return {**base, **options}


def _write(root: Path, resources: list[dict[str, Any]], outputs: dict[str, Any], files: dict[str, str]) -> Path:
    (root / "files").mkdir(parents=True)
    plan = {"stack": "dev", "resources": resources, "outputs": outputs}
    (root / "plan.json").write_text(json.dumps(plan, indent=2, sort_keys=True))
    for rel, text in files.items():
        target = root / "files" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


CMD = "command:remote:Command"


@pytest.fixture
def renders(tmp_path: Path) -> tuple[Path, Path]:
    base = _write(
        tmp_path / "base",
        [
            _resource("dev-1-prepare", CMD, {"create": "echo 1.34.1", "triggers": ["a"]}),
            _resource("dev-1-join", CMD, {"create": "join"}),
            _resource("old-thing", CMD, {"create": "x"}),
            _resource("hub", "kubernetes:helm.sh/v3:Release", {"values": {"hub": {"image": "a"}}}),
        ],
        {"api_endpoint": "192.0.2.100:6443", "gone": 1},
        {
            "nodes/dev-1/prepare.sh": "#!/bin/bash\nset -euo pipefail\nKUBERNETES_VERSION=1.34.1\necho ok\n",
            "nodes/dev-1/old.sh": "#!/bin/bash\necho old\n",
            "releases/hub/values.yaml": "hub:\n  image: a\n",
        },
    )
    head = _write(
        tmp_path / "head",
        [
            _resource("dev-1-prepare", CMD, {"create": "echo 1.34.2", "triggers": ["a"]}),
            _resource("dev-1-join", CMD, {"create": "join"}, protect=True, depends_on=[f"{STACK}{CMD}::dev-1-prepare"]),
            _resource("worker-9-join", CMD, {"create": "join"}),
            _resource("hub", "kubernetes:helm.sh/v3:Release", {"values": {"hub": {"image": "b"}}}),
        ],
        {"api_endpoint": "192.0.2.100:6443", "kubeconfig": "[secret]"},
        {
            "nodes/dev-1/prepare.sh": "#!/bin/bash\nset -euo pipefail\nKUBERNETES_VERSION=1.34.2\necho ok\n",
            "nodes/worker-9/join.sh": "#!/bin/bash\necho join\n",
            "releases/hub/values.yaml": "hub:\n  image: b\n",
        },
    )
    return base, head


def test_compare_classifies_resources_outputs_and_files(renders: tuple[Path, Path]) -> None:
    result = diff_tool.compare(diff_tool.load_render(renders[0]), diff_tool.load_render(renders[1]))
    assert [r["name"] for r in result.added] == ["worker-9-join"]
    assert [r["name"] for r in result.removed] == ["old-thing"]
    changed = {r["name"]: (inputs, options) for r, inputs, options in result.changed}
    assert changed == {
        "dev-1-prepare": (["create"], []),
        "dev-1-join": ([], ["depends_on", "protect"]),
        "hub": (["values.hub.image"], []),
    }
    assert result.outputs == [("gone", "removed"), ("kubeconfig", "added")]
    assert result.files == [
        ("nodes/dev-1/old.sh", "removed"),
        ("nodes/dev-1/prepare.sh", "changed"),
        ("nodes/worker-9/join.sh", "added"),
        ("releases/hub/values.yaml", "changed"),
    ]


def test_markdown_names_everything_and_shows_unified_diffs(renders: tuple[Path, Path]) -> None:
    text = diff_tool.diff_dirs(*renders)
    assert text.startswith("## Render diff for stack `dev`\n")
    assert "**Resources:** 1 added, 1 removed, 3 changed." in text
    assert "**Files:** 1 added, 1 removed, 2 changed." in text
    assert "### Resources added (1)" in text and "`worker-9-join`" in text
    assert "### Resources removed (1)" in text and "`old-thing`" in text
    assert "| `dev-1-join` | `command:remote:Command` | - | `depends_on`, `protect` |" in text
    assert "| `hub` | `kubernetes:helm.sh/v3:Release` | `values.hub.image` | - |" in text
    assert "| `hub` | `values.hub.image` | `a` | `b` |" in text
    assert "```diff\n--- a/nodes/dev-1/prepare.sh\n+++ b/nodes/dev-1/prepare.sh\n" in text
    assert "-KUBERNETES_VERSION=1.34.1\n+KUBERNETES_VERSION=1.34.2\n" in text
    assert "--- /dev/null\n+++ b/nodes/worker-9/join.sh" in text
    assert "--- a/nodes/dev-1/old.sh\n+++ /dev/null" in text
    assert "Truncated" not in text


def test_output_is_deterministic(renders: tuple[Path, Path]) -> None:
    assert diff_tool.diff_dirs(*renders) == diff_tool.diff_dirs(*renders)


def test_identical_renders_say_so(renders: tuple[Path, Path]) -> None:
    text = diff_tool.diff_dirs(renders[1], renders[1])
    assert "No differences" in text
    assert "**Resources:** 0 added, 0 removed, 0 changed." in text


def test_missing_base_counts_as_empty_render(renders: tuple[Path, Path], tmp_path: Path) -> None:
    result = diff_tool.compare(diff_tool.load_render(tmp_path / "nothing"), diff_tool.load_render(renders[1]))
    assert len(result.added) == 4 and not result.removed and not result.changed
    assert all(status == "added" for _, status in result.files)


def test_long_diffs_are_truncated_with_a_note(tmp_path: Path) -> None:
    big = "".join(f"line {i}\n" for i in range(3000))
    base = _write(tmp_path / "b", [], {}, {f"nodes/n/{i}.sh": "" for i in range(30)})
    head = _write(tmp_path / "h", [], {}, {f"nodes/n/{i}.sh": big for i in range(30)})
    text = diff_tool.diff_dirs(base, head, max_chars=20_000)
    assert len(text) <= 20_000
    assert "_Truncated:" in text and "did not fit in this comment" in text
    assert f"cut after {diff_tool.MAX_FILE_DIFF_LINES} of" in text


def test_hard_limit_holds_even_when_tables_are_huge(tmp_path: Path) -> None:
    many = [_resource(f"r{i:04d}", CMD, {"create": "x" * 50}) for i in range(1000)]
    base = _write(tmp_path / "b", [], {}, {})
    head = _write(tmp_path / "h", many, {}, {})
    text = diff_tool.diff_dirs(base, head, max_chars=5_000)
    assert len(text) <= 5_000
    assert "Truncated" in text


def test_backticks_in_content_get_a_longer_fence(tmp_path: Path) -> None:
    base = _write(tmp_path / "b", [], {}, {"releases/x/values.yaml": "a: 1\n"})
    head = _write(tmp_path / "h", [], {}, {"releases/x/values.yaml": "a: |\n  ```\n  code\n  ```\n"})
    text = diff_tool.diff_dirs(base, head)
    assert "````diff\n" in text


def test_cli_writes_markdown_and_exit_code(renders: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    cmd = [sys.executable, "-m", "tools.diff", str(renders[0]), str(renders[1]), "--out", str(out), "--exit-code"]
    result = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "### Resources changed (3)" in out.read_text()
    same = subprocess.run(
        [sys.executable, "-m", "tools.diff", str(renders[1]), str(renders[1]), "--exit-code"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert same.returncode == 0 and "No differences" in same.stdout
