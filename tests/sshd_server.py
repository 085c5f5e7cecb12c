"""A real sshd on an ephemeral 127.0.0.1 port for live tests (root login with a test key)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import IN_CI, require_tool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def loopback_sshd(work: Path, extra_config: str = "") -> Iterator[int]:
    """Start sshd with host key `work/host` and client key `work/client` (both made here); yields its port."""
    sshd_bin = require_tool("sshd")
    require_tool("ssh")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run as root to start sshd")
        pytest.skip("starting sshd with root login needs root")
    os.chmod(work, 0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True, timeout=30)
    (work / "authorized_keys").write_text((work / "client.pub").read_text())
    os.chmod(work / "authorized_keys", 0o600)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = _free_port()
    config = work / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\nAuthorizedKeysFile {work / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"PidFile {work / 'sshd.pid'}\nUsePAM no\nStrictModes no\n{extra_config}"
    )
    proc = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if time.monotonic() >= deadline:
                pytest.fail("sshd did not start listening within 10 s")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def host_public_key(work: Path) -> str:
    """`<type> <base64>` of the server's host key, as a stack pins it."""
    return " ".join((work / "host.pub").read_text().split()[:2])
