"""Several steps' bodies in one session (`render_sections`): order, early exits, failures, shellcheck."""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.common.shell import render_sections
from tests.helpers import require_tool


def bodies(tmp_path: Path, **texts: str) -> dict[str, Path]:
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / f"{name}.sh"
        paths[name].write_text(f"#!/usr/bin/env bash\n# shellcheck shell=bash\n{text}")
    return paths


def run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


def test_an_early_exit_ends_only_its_section(tmp_path: Path) -> None:
    b = bodies(tmp_path, guard='log "already done"\nexit 0\necho never\n', work='echo "work for $NODE"\n')
    script = render_sections("n/step", [[b["guard"]], [b["work"]]], {"NODE": "n-1"})
    result = run(script.text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "work for n-1\n" and "already done" in result.stderr


def test_a_failing_section_stops_the_step(tmp_path: Path) -> None:
    b = bodies(tmp_path, check='die "host refused"\n', change="echo changed\n")
    result = run(render_sections("n/step", [[b["check"]], [b["change"]]]).text)
    assert result.returncode == 1 and "ERROR: host refused" in result.stderr
    assert "changed" not in result.stdout
    # An unchecked failing command inside a section stops it too (set -e holds in the subshell).
    b = bodies(tmp_path, check="false\necho after\n", change="echo changed\n")
    result = run(render_sections("n/step", [[b["check"]], [b["change"]]]).text)
    assert result.returncode != 0 and result.stdout == ""


def test_bodies_of_one_section_share_functions_and_shellcheck_accepts_the_whole(tmp_path: Path) -> None:
    b = bodies(tmp_path, lib='greet() {\n  echo "hi $1"\n}\n', use='greet "$NODE"\n', other="echo second\n")
    script = render_sections("n/step", [[b["lib"], b["use"]], [b["other"]]], {"NODE": "n-1"})
    assert run(script.text).stdout == "hi n-1\nsecond\n"
    target = tmp_path / "rendered.sh"
    target.write_text(script.text)
    tool = require_tool("shellcheck")
    checked = subprocess.run([tool, "-s", "bash", "-S", "style", str(target)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout
