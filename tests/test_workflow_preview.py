"""The pull-request preview workflow: structure, permissions, secrets, and its shell steps."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, shellcheck

WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def _uses(job: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = [s for s in _steps(job) if str(s.get("uses", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one step using {prefix}"
    return found[0]


def test_triggers_on_pull_requests_only(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request"}
    assert "pull_request_target" not in WORKFLOW.read_text()  # would run fork code with a write token


def test_jobs_and_minimal_permissions(workflow: dict[Any, Any]) -> None:
    assert {"render-diff", "pulumi-preview"} <= set(workflow["jobs"])
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions", workflow["permissions"])
        assert set(perms.items()) <= {("contents", "read"), ("pull-requests", "write")}, name


def test_render_diff_uses_no_secrets(workflow: dict[Any, Any]) -> None:
    for name in ("stacks", "render-diff"):
        text = yaml.safe_dump(workflow["jobs"][name])
        assert "secrets." not in text, name
        assert "self-hosted" not in json.dumps(workflow["jobs"][name].get("runs-on")), name


def test_render_diff_runs_render_and_diff_on_both_commits(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["render-diff"]
    refs = {s["with"]["path"]: s["with"]["ref"] for s in _steps(job) if str(s.get("uses", "")).startswith("actions/checkout")}
    assert refs == {
        "base": "${{ github.event.pull_request.base.sha }}",
        "head": "${{ github.event.pull_request.head.sha }}",
    }
    script = "\n".join(s.get("run", "") for s in _steps(job))
    assert "python -m tools.render" in script and "python -m tools.diff" in script
    comment = _uses(job, "marocchino/sticky-pull-request-comment@")
    assert comment["with"]["header"] == "render-diff"


def test_pulumi_preview_job(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["pulumi-preview"]
    assert "self-hosted" in job["runs-on"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    step = _uses(job, "pulumi/actions@")
    assert step["uses"] == "pulumi/actions@v6"
    assert step["with"]["command"] == "preview"
    assert step["with"]["diff"] is True and step["with"]["comment-on-pr"] is True
    assert step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    # The comment explaining runner placement is part of the contract with whoever runs the CI.
    assert "unreachable from GitHub-hosted runners" in WORKFLOW.read_text()


def test_pulumi_preview_falls_back_to_the_engine_build(workflow: dict[Any, Any], tmp_path: Path) -> None:
    job = workflow["jobs"]["pulumi-preview"]
    choose = next(s for s in _steps(job) if s.get("id") == "cli")
    assert "bash tools/engine/build.sh" in choose["run"]
    assert _uses(job, "pulumi/actions@")["if"] == "steps.cli.outputs.engine == 'installed'"
    built = [s for s in _steps(job) if s.get("if") == "steps.cli.outputs.engine == 'built'"]
    assert [s.get("name") or s["uses"].split("@")[0] for s in built] == [
        "pulumi preview --diff with the engine build", "marocchino/sticky-pull-request-comment", "fail when the preview failed"
    ]
    preview = built[0]
    assert preview["env"]["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert "preview-only stand-in" in preview["run"] and "4.25.0" in preview["run"], "the comment says how diffs mislead"
    # A runner with a Pulumi CLI on PATH keeps using it (pulumi/actions); nothing is built.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "pulumi").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "pulumi").chmod(0o755)
    output = tmp_path / "github_output"
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           "GITHUB_PATH": str(tmp_path / "github_path")}
    subprocess.run(["bash", "-c", choose["run"]], cwd=tmp_path, env=env, check=True, timeout=60)
    assert output.read_text() == "engine=installed\n" and not (tmp_path / "github_path").exists()


def test_actions_pinned_and_no_expressions_in_scripts(workflow: dict[Any, Any]) -> None:
    for name, job in workflow["jobs"].items():
        for step in _steps(job):
            if "uses" in step:
                assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", step["uses"]), f"{name}: {step['uses']} is not pinned"
            if "with" in step and "persist-credentials" in step["with"]:
                assert step["with"]["persist-credentials"] is False
            # Untrusted values reach scripts through env, never `${{ }}` inside the script (injection).
            assert "${{" not in step.get("run", ""), f"{name}: expression inside a run script"


def test_run_scripts_pass_shellcheck(workflow: dict[Any, Any], tmp_path: Path) -> None:
    for name, job in workflow["jobs"].items():
        for i, step in enumerate(_steps(job)):
            if "run" in step:
                shellcheck("#!/bin/bash\n" + step["run"], tmp_path, f"{name}-{i}.sh")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    result = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Pulumi.dev.yaml": "b"}, ["dev"]),
        ({"components/x.py": "b"}, ["dev", "prod"]),
        ({"README.md": "b"}, []),
        ({"Pulumi.lab.yaml": "new"}, ["lab"]),
    ],
)
def test_stack_picking_step(
    workflow: dict[Any, Any], tmp_path: Path, changes: dict[str, str], expected: list[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "components").mkdir(parents=True)
    for name in ("Pulumi.dev.yaml", "Pulumi.prod.yaml", "README.md", "components/x.py"):
        (repo / name).write_text("a")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    for name, text in changes.items():
        (repo / name).write_text(text)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "head")
    step = next(s for s in _steps(workflow["jobs"]["stacks"]) if s.get("id") == "pick")
    output = tmp_path / "github_output"
    env = {**os.environ, "BASE_SHA": base, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-c", step["run"]], cwd=repo, env=env, check=True, timeout=60)
    line = output.read_text().strip()
    assert line.startswith("stacks=")
    assert json.loads(line.removeprefix("stacks=")) == expected


def test_both_preview_paths_skip_the_per_step_state_serialisation(workflow: dict[Any, Any]) -> None:
    # A preview saves no state; without this the CLI re-serialises all of it after every step
    # (200 workers: 61 s -> 21 s, README "Many workers").
    job = workflow["jobs"]["pulumi-preview"]
    previews = [s for s in _steps(job) if "preview" in str(s.get("with", {}).get("command", "")) + str(s.get("run", ""))]
    assert len(previews) == 2
    assert all(s["env"]["PULUMI_SKIP_CHECKPOINTS"] == "true" for s in previews)
