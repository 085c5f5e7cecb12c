"""A rendered step through a real sshd on 127.0.0.1: the wrapper, stdin secrets, host-key pinning.

pulumi-command cannot run here (no engine), so the OpenSSH client plays its part: it sends the
same `create` text to the login shell and the secret on stdin, as pulumi-command does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.common.shell import remote_command, render_script
from tests.sshd_server import host_public_key, loopback_sshd


@dataclass
class SshServer:
    port: int
    client_key: Path
    host_public_key: str
    workdir: Path

    def run(self, command: str, stdin: str, known_host_key: str) -> subprocess.CompletedProcess[str]:
        known = self.workdir / "known_hosts"
        known.write_text(f"[127.0.0.1]:{self.port} {known_host_key}\n")
        return subprocess.run(
            ["ssh", "-p", str(self.port), "-i", str(self.client_key), "-o", "BatchMode=yes",
             "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
             "root@127.0.0.1", command],
            input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    work = tmp_path_factory.mktemp("sshd")
    with loopback_sshd(work) as port:
        yield SshServer(port, work / "client", host_public_key(work), work)


def step(tmp_path: Path, text: str) -> str:
    body = tmp_path / "body.sh"
    body.write_text(text)
    return remote_command(render_script("node-1/demo", body, {"GREETING": "it's here"}), user="root")


def test_step_runs_over_ssh_with_secret_on_stdin(sshd: SshServer, tmp_path: Path) -> None:
    command = step(tmp_path, 'secret=$(read_secret_stdin)\necho "$GREETING ${#secret}"\n')
    result = sshd.run(command, stdin="token-abc.0123456789abcdef", known_host_key=sshd.host_public_key)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "it's here 26\n"
    assert "token-abc" not in command


def test_failing_step_fails_the_ssh_command(sshd: SshServer, tmp_path: Path) -> None:
    result = sshd.run(step(tmp_path, "die 'broken on purpose'\n"), stdin="", known_host_key=sshd.host_public_key)
    assert result.returncode != 0
    assert "ERROR: broken on purpose" in result.stderr


def test_a_wrong_pinned_host_key_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True, timeout=30)
    wrong = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    result = sshd.run(step(tmp_path, "echo should-not-run\n"), stdin="", known_host_key=wrong)
    assert result.returncode == 255 and "should-not-run" not in result.stdout
    assert "host key" in result.stderr.lower()
