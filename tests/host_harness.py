"""Host harness: run rendered step scripts the way a node runs them (`bash -c` with the rendered
header and the shared helpers), in a scratch root, against stand-in system tools.

Why stand-ins: this machine has no systemd, kubelet, kubeadm, NVIDIA driver or second host, and the
steps must not touch its real /etc. Every script prefixes the host paths it reads or writes with
HOST_ROOT (never set on a node), so here they land in the scratch root; the system tools come first
on PATH as small bash programs that keep their state in `<root>/.sim` and log every call. Each one
models the behaviour the scripts depend on (apt's lists lock, an interrupted dpkg, kubeadm's init
phases and the files each writes, swap units that come back at boot, ...). `apt-get` against a real
lock is tested with the real tool in test_host_apt.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from components.common.shell import RenderedScript
from tests.helpers import stack_platform

PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
# The version the committed stacks pin: the simulated repositories serve it (kubeadm's stand-in reports it).
KUBERNETES_VERSION = stack_platform("dev").cluster.kubernetes_version

_PRELUDE = """#!/usr/bin/env bash
SIM="$HOST_ROOT/.sim"
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$SIM/calls"
"""

# One stand-in per tool under tests/host_shims/ (bash; the prelude above is put in front of each).
SHIMS = {path.name: path.read_text() for path in sorted((Path(__file__).parent / "host_shims").iterdir())}


# What `apt-cache madison` finds in the configured repositories.
MADISON = [
    ("kubeadm", f"{KUBERNETES_VERSION}-1.1"),
    ("kubelet", f"{KUBERNETES_VERSION}-1.1"),
    ("kubectl", f"{KUBERNETES_VERSION}-1.1"),
    ("containerd.io", "2.2.6-1~debian.12~bookworm"),
    ("containerd.io", "1.7.28-1~debian.12~bookworm"),
]


class Host:
    """One simulated node: a scratch root (HOST_ROOT) with a Debian 12 skeleton and the stand-ins."""

    def __init__(self, base: Path, name: str = "cp-1", product_uuid: str = "4c4c4544-0001", mac: str = "52:54:00:00:00:01"):
        self.name = name
        self.root = base / name
        self.sim = self.root / ".sim"
        self.bin = base / f"{name}-bin"
        for d in (self.sim / "units", self.sim / "busy", self.bin, self.root / "etc/kubernetes", self.root / "sys/fs/cgroup",
                  self.root / "etc/systemd/system", self.root / "run/systemd/system", self.root / "proc"):  # fmt: skip
            d.mkdir(parents=True, exist_ok=True)
        self.write(
            "etc/os-release",
            'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
        )
        self.write("proc/meminfo", "MemTotal:       16384000 kB\n")
        self.write("etc/hosts", "127.0.0.1 localhost\n192.0.2.10 k8s-api.example.org\n")
        self.write("etc/fstab", "UUID=abc / ext4 defaults 0 1\n")
        self.write("sys/class/dmi/id/product_uuid", product_uuid + "\n")
        self.write("sys/class/net/eth0/address", mac + "\n")
        self.write(".sim/hostname", name + "\n")
        self.write(
            ".sim/madison", "".join(f" {pkg} | {version} | https://example.invalid/ Packages\n" for pkg, version in MADISON)
        )
        for tool, body in SHIMS.items():
            path = self.bin / tool
            path.write_text(_PRELUDE + body + "\n")
            path.chmod(0o755)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def unit(self, name: str, *, enabled: str = "enabled", active: bool = True, swap: str = "", file: bool = True) -> None:
        """A systemd unit; `swap` is the device it turns on while active."""
        self.write(
            f".sim/units/{name}",
            f"enabled={enabled}\nactive={'yes' if active else 'no'}\nswap={swap}\nfile={'yes' if file else 'no'}\n",
        )
        if active and swap:
            with (self.sim / "swaps").open("a") as f:
                f.write(swap + "\n")

    def unit_state(self, name: str) -> dict[str, str]:
        path = self.sim / "units" / name
        return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}

    def boot(self) -> list[str]:
        """Reboot: every enabled unit that makes swap turns it on again, as do fstab swap lines. Returns the swaps."""
        swaps: list[str] = []
        for path in sorted((self.sim / "units").iterdir()):
            state = self.unit_state(path.name)
            if state.get("enabled") == "enabled" and state.get("swap"):
                swaps.append(state["swap"])
        for line in (self.root / "etc/fstab").read_text().splitlines():
            fields = line.split()
            if line and not line.startswith("#") and len(fields) > 2 and fields[2] == "swap":
                swaps.append(fields[0])
        (self.sim / "swaps").write_text("".join(s + "\n" for s in swaps))
        return swaps

    def calls(self, tool: str | None = None) -> list[str]:
        path = self.sim / "calls"
        lines = path.read_text().splitlines() if path.exists() else []
        return [line for line in lines if tool is None or line.split(" ", 1)[0] == tool]

    def run(self, script: RenderedScript, stdin: str = "", timeout: int = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the rendered script as pulumi-command does on a node: `bash -c SCRIPT NAME`."""
        full_env = {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOST_ROOT": str(self.root),
            "PAUSE_IMAGE": PAUSE_IMAGE,
            "KUBERNETES_VERSION_SIM": KUBERNETES_VERSION,
            "NODE_NAME": self.name,
            **env,
        }
        return subprocess.run(
            ["bash", "-c", script.text, script.name], input=stdin, env=full_env, capture_output=True, text=True, timeout=timeout
        )
