"""Remote-step scripts, compared whole and run through the exact command line pulumi-command sends."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from components.common.shell import COMMON_SCRIPTS, HostFile, _strip_preamble, remote_command, render_script

LIB = _strip_preamble((COMMON_SCRIPTS / "lib.sh").read_text())


def _body(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_script_text_exactly(tmp_path: Path) -> None:
    first = _body(tmp_path, "first.sh", "#!/usr/bin/env bash\n# shellcheck shell=bash\n\necho first\n\n")
    second = _body(tmp_path, "second.sh", "echo second\n# shellcheck shell=bash is kept here\n")
    files = {"CONF": HostFile("/etc/x y.conf", "a = 1\nb = 'two'\n\n", "0600"), "ALSO": HostFile("/etc/also", "z")}
    script = render_script("node-1/step", [first, second], {"NAME": "a b", "COUNT": 3, "ON": True, "OFF": False}, files)
    header = "\n".join(
        [
            "export STEP_NAME=node-1/step",
            "export COUNT=3",
            "export NAME='a b'",
            "export OFF=false",
            "export ON=true",
            "export ALSO_PATH=/etc/also",
            "export ALSO_MODE=0644",
            "export ALSO=z",
            "export CONF_PATH='/etc/x y.conf'",
            "export CONF_MODE=0600",
            "export CONF='a = 1\nb = '\"'\"'two'\"'\"''",
        ]
    )
    assert script.text == (
        "#!/usr/bin/env bash\n\n"
        "# node-1/step: rendered by jupyterhub-platform; edit the source, not this copy.\n\n"
        "set -euo pipefail\n\n"
        f"{header}\n\n{LIB}\n\necho first\n\necho second\n# shellcheck shell=bash is kept here\n"
    )
    assert script.name == "node-1/step"
    assert script.files == {"/etc/x y.conf": files["CONF"], "/etc/also": files["ALSO"]}


def test_a_single_body_and_no_parameters(tmp_path: Path) -> None:
    script = render_script("s", _body(tmp_path, "only.sh", "echo only\n"))
    assert script.text.endswith(f"export STEP_NAME=s\n\n{LIB}\n\necho only\n")
    assert script.files == {}


def test_exported_values_reach_the_body(tmp_path: Path) -> None:
    body = _body(tmp_path, "b.sh", 'printf "%s|%s|%s|%s|%s\\n" "$NAME" "$ON" "$CONF" "$CONF_PATH" "$CONF_MODE"\n')
    script = render_script("s", body, {"NAME": "it's $HOME", "ON": True}, {"CONF": HostFile("/etc/c", "l1\nl2\n", "0640")})
    done = subprocess.run(["bash", "-c", script.text], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "it's $HOME|true|l1\nl2|/etc/c|0640\n"


@pytest.mark.parametrize("key", ["lower", "Mixed", "9LIVES", "WITH-DASH"])
def test_parameter_names_must_be_upper_case_identifiers(key: str, tmp_path: Path) -> None:
    body = _body(tmp_path, "b.sh", "true\n")
    for params, files in (({key: "x"}, None), (None, {key: HostFile("/f", "x")})):
        with pytest.raises(ValueError) as caught:
            render_script("s", body, params, files)
        assert str(caught.value) == f"script parameter {key!r} must be an UPPER_CASE identifier"


def test_the_wrapper_marker_may_not_appear_as_a_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        render_script("s", _body(tmp_path, "b.sh", "cat <<X\nJHUB_PLATFORM_STEP\nX\n"))
    assert str(caught.value) == "script s contains the wrapper marker line JHUB_PLATFORM_STEP"
    # Inside a longer line it is harmless.
    assert "echo JHUB_PLATFORM_STEP" in render_script("s", _body(tmp_path, "c.sh", "echo JHUB_PLATFORM_STEP\n")).text


def test_remote_command_runs_the_script_with_its_name(tmp_path: Path) -> None:
    body = _body(tmp_path, "b.sh", 'echo "$0:$STEP_NAME:$(cat)"\n')
    script = render_script("node 1/step", body)
    command = remote_command(script, "root")
    assert command.startswith("bash -c \"$(cat <<'JHUB_PLATFORM_STEP'\n")
    assert command.endswith(f"JHUB_PLATFORM_STEP\n)\" {shlex.quote('node 1/step')}")
    # stdin stays free for secrets
    done = subprocess.run(["sh", "-c", command], input="secret", capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "node 1/step:node 1/step:secret\n"
    assert remote_command(script, "ubuntu") == "sudo -n " + command
