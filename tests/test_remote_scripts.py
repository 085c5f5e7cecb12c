"""The shared script machinery, run for real with bash and sh: helpers, header and the SSH wrapper."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.common.shell import HostFile, remote_command, render_script
from tests.helpers import require_tool


def body(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "body.sh"
    path.write_text("#!/usr/bin/env bash\n# shellcheck shell=bash\n" + text)
    return path


def run(script: str, stdin: str = "", timeout: int = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script, "step"], input=stdin, capture_output=True, text=True, timeout=timeout)


def test_parameters_are_shell_quoted(tmp_path: Path) -> None:
    nasty = "it's $(rm -rf /) `x` \"q\"\nline2"
    script = render_script("t", body(tmp_path, 'printf "%s" "$VALUE"\n'), {"VALUE": nasty})
    assert run(script.text).stdout == nasty


def test_install_file_writes_once_and_reports_changes(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "app.conf"
    text = 'install_file "$CONF_PATH" "$CONF_MODE" "$CONF"; echo "changed=$FILE_CHANGED"\n'
    script = render_script("t", body(tmp_path, text), files={"CONF": HostFile(str(target), "a = 1\n", "0600")})
    assert run(script.text).stdout.strip() == "changed=1"
    assert target.read_text() == "a = 1\n" and oct(target.stat().st_mode & 0o777) == "0o600"
    assert run(script.text).stdout.strip() == "changed=0"
    assert not list(target.parent.glob("app.conf.*")), "temporary file left behind"


def test_wait_for_is_bounded(tmp_path: Path) -> None:
    script = render_script("t", body(tmp_path, "wait_for 3 'something impossible' false\n"))
    result = run(script.text, timeout=20)
    assert result.returncode != 0
    assert "timed out after 3s waiting for something impossible" in result.stderr


def test_failures_stop_the_script(tmp_path: Path) -> None:
    script = render_script("t", body(tmp_path, "false | true\nmissing_command_xyz\necho reached\n"))
    result = run(script.text)
    assert result.returncode != 0 and "reached" not in result.stdout


def test_secret_on_stdin_is_read(tmp_path: Path) -> None:
    script = render_script("t", body(tmp_path, 'value=$(read_secret_stdin)\necho "len=${#value}"\n'))
    assert run(script.text, stdin="s3cret").stdout.strip() == "len=6"
    assert run(script.text, stdin="").returncode != 0


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_wrapper_runs_the_exact_script_with_stdin_free_for_secrets(tmp_path: Path, shell: str) -> None:
    """pulumi-command hands `create` to the login shell (often dash): the script must arrive intact."""
    require_tool(shell)
    script = render_script("node/step", body(tmp_path, 'echo "name=$STEP_NAME"\ncat\n'), {"X": "a'b"})
    command = remote_command(script, user="root")
    result = subprocess.run([shell, "-c", command], input="from-stdin", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "name=node/step\nfrom-stdin"
    assert remote_command(script, user="ubuntu").startswith("sudo -n bash -c ")


def test_wrapper_refuses_a_script_containing_its_marker(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="marker"):
        render_script("t", body(tmp_path, "echo x\nJHUB_PLATFORM_STEP\n"))


def test_install_file_with_a_checker_never_replaces_a_good_file_with_a_bad_one(tmp_path: Path) -> None:
    target = tmp_path / "app.conf"
    target.write_text("good\n")
    text = 'REDACT=hunter2\ninstall_file "$CONF_PATH" "$CONF_MODE" "$CONF" grep -q ok\n'
    bad = render_script("t", body(tmp_path, text), files={"CONF": HostFile(str(target), "bad hunter2\n")})
    result = run(bad.text)
    assert result.returncode != 0 and "rejected by 'grep -q ok'" in result.stderr
    assert target.read_text() == "good\n" and sorted(p.name for p in tmp_path.iterdir()) == ["app.conf", "body.sh"]
    good = render_script("t", body(tmp_path, text), files={"CONF": HostFile(str(target), "ok now\n")})
    assert run(good.text).returncode == 0 and target.read_text() == "ok now\n"
