"""The join stage of 200 workers through real sshd at its default settings (MaxStartups 10:30:100,
MaxSessions 10) on 127.0.0.1: directly, and behind a second sshd used as a bastion (ProxyJump).

The rendered join steps run for real: the same wrapper (`remote_command`), the join material on
stdin from one real run of the rendered mint step, and the order and concurrency the program's
graph allows (`waves.step_waits`: the lanes of `ssh.max_parallel_sessions`), with a scheduler that
starts every step as soon as what it waits for is done, as the engine does without `--parallel`.
pulumi-command cannot run here (no engine), so the OpenSSH client plays its part; kubeadm,
kubectl and systemctl are stand-ins (no cluster can run here), each node has its own scratch
directory instead of /etc/kubernetes. Every step must succeed; the wall time is printed.
"""

from __future__ import annotations

import os
import queue
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.common.shell import RenderedScript, remote_command
from components.k8s_cluster import steps, waves
from config.platform import PlatformConfig
from tests.helpers import IN_CI, require_tool
from tests.scale_fixtures import BASTION, scale_platform
from tests.test_cluster_scripts import KUBEADM, OK, TOKEN

WORKERS = 200
STEP_TIMEOUT = 120


@dataclass
class Servers:
    work: Path
    config: Path
    procs: list[subprocess.Popen[str]]

    def ssh(self, script: RenderedScript, stdin: str, via_bastion: bool) -> subprocess.CompletedProcess[str]:
        jump = ["-J", "jump"] if via_bastion else []
        command = remote_command(script, user="root")
        return subprocess.run(
            ["ssh", "-F", str(self.config), *jump, "target", command],
            input=stdin, capture_output=True, text=True, timeout=STEP_TIMEOUT,
        )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sshd(sshd: str, work: Path, name: str, extra: str) -> tuple[subprocess.Popen[str], int, str]:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / f"{name}-host")], check=True, timeout=30)
    port = free_port()
    config = work / f"{name}-sshd_config"
    # Only what a test server needs (port, keys, root by key); every limit stays at sshd's default.
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / f'{name}-host'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"PidFile {work / f'{name}.pid'}\nUsePAM no\nStrictModes no\n{extra}"
    )
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        proc.terminate()
        pytest.fail(f"sshd {name} did not start listening within 10 s")
    return proc, port, " ".join((work / f"{name}-host.pub").read_text().split()[:2])


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    sshd = require_tool("sshd")
    require_tool("ssh")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run as root to start sshd")
        pytest.skip("starting sshd with root login needs root")
    work = tmp_path_factory.mktemp("scale-live")
    os.chmod(work, 0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "client")], check=True, timeout=30)
    (work / "authorized_keys").write_text((work / "client.pub").read_text())
    bin_dir = work / "bin"
    bin_dir.mkdir()
    for name, text in {"kubeadm": KUBEADM, "kubectl": OK, "systemctl": OK}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    # The stand-ins come first on the target's PATH; they log to CALLS.
    stand_ins = f"SetEnv PATH={bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin CALLS={work / 'calls.log'}\n"
    target, target_port, target_key = start_sshd(sshd, work, "target", stand_ins)
    bastion, bastion_port, bastion_key = start_sshd(sshd, work, "bastion", "")
    procs = [target, bastion]
    try:
        known = work / "known_hosts"
        known.write_text(f"[127.0.0.1]:{target_port} {target_key}\n[127.0.0.1]:{bastion_port} {bastion_key}\n")
        config = work / "ssh_config"
        # What the program's connection settings amount to: pinned host keys, key auth only, the
        # per-dial timeout (ssh.per_dial_timeout), the bastion as a jump host, and the key exchange
        # pulumi-command's Go client negotiates (curve25519; OpenSSH's own default costs the client
        # several times the CPU, which on a shared machine slows the whole run).
        config.write_text(
            f"Host jump\n  HostName 127.0.0.1\n  Port {bastion_port}\n"
            f"Host target\n  HostName 127.0.0.1\n  Port {target_port}\n"
            f"Host *\n  User root\n  IdentityFile {work / 'client'}\n  IdentitiesOnly yes\n  BatchMode yes\n"
            f"  StrictHostKeyChecking yes\n  UserKnownHostsFile {known}\n  ConnectTimeout 15\n"
            "  KexAlgorithms curve25519-sha256\n"
        )
        yield Servers(work, config, procs)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def node_paths(root: Path, node: str) -> steps.HostPaths:
    """Each simulated node keeps kubeadm's files in its own directory (a run of its own)."""
    return steps.HostPaths(kube_dir=str(root / node))


def mint(servers: Servers, root: Path, cfg: PlatformConfig, via_bastion: bool) -> str:
    first = cfg.inventory.control_planes[0]
    pki = root / first.name / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    if not (pki / "ca.crt").exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kubernetes", "-days", "1",
             "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt")],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    result = servers.ssh(steps.mint_join(cfg, first, paths=node_paths(root, first.name)), "", via_bastion)
    assert result.returncode == 0, result.stderr
    return result.stdout


def drive_joins(servers: Servers, root: Path, cfg: PlatformConfig, via_bastion: bool) -> dict[str, Any]:
    """Run the 200 CPU workers' join steps as the graph allows; returns failures, peak, wall time."""
    first = cfg.inventory.control_planes[0]
    workers = [n for n in waves.join_order(cfg) if n.name.startswith("worker-") and n.gpu is None][:WORKERS]
    material = steps.join_material(mint(servers, root, cfg, via_bastion), control_plane=False)
    waits = waves.step_waits(cfg)
    todo = {(waves.JOIN, n.name): n for n in workers}
    # Only the join stage runs here: preparations and control-plane joins count as done.
    pending = {step: {w for w in waits[step] if w in todo} for step in todo}
    done: queue.Queue[tuple[waves.Step, subprocess.CompletedProcess[str] | Exception]] = queue.Queue()
    failures: dict[str, str] = {}
    running, peak = 0, 0

    def run(step: waves.Step) -> None:
        node = todo[step]
        script = steps.join(cfg, first, node, [], paths=node_paths(root, node.name))
        try:
            done.put((step, servers.ssh(script, material, via_bastion)))
        except Exception as err:  # a timeout is a failed step, reported below
            done.put((step, err))

    start = time.monotonic()
    started: set[waves.Step] = set()
    while len(started) < len(todo) or running:
        for step in [s for s, deps in pending.items() if not deps and s not in started]:
            started.add(step)
            running += 1
            threading.Thread(target=run, args=(step,), daemon=True).start()
        peak = max(peak, running)
        step, outcome = done.get(timeout=STEP_TIMEOUT + 30)
        running -= 1
        if isinstance(outcome, Exception) or outcome.returncode != 0:
            failures[step[1]] = str(outcome) if isinstance(outcome, Exception) else outcome.stderr[-500:]
        for deps in pending.values():
            deps.discard(step)
    return {"failures": failures, "peak": peak, "seconds": time.monotonic() - start, "nodes": [n.name for n in workers]}


@pytest.mark.parametrize(
    ("label", "ssh", "via_bastion"),
    [
        ("behind a bastion, default lanes", {"bastion": BASTION}, True),
        ("one host directly, ssh.max_parallel_sessions: 10", {"max_parallel_sessions": 10}, False),
    ],
)
def test_200_worker_joins_through_default_sshd(
    servers: Servers, label: str, ssh: dict[str, Any], via_bastion: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = scale_platform(**ssh)
    lanes = cfg.ssh.session_lanes()
    assert lanes is not None
    root = servers.work / ("bastion" if via_bastion else "direct")
    outcome = drive_joins(servers, root, cfg, via_bastion)
    with capsys.disabled():
        print(f"\n{WORKERS} joins {label}: {outcome['seconds']:.1f} s, at most {outcome['peak']} at once, "
              f"{len(outcome['failures'])} failed")  # fmt: skip
    assert outcome["failures"] == {}
    assert len(outcome["nodes"]) == WORKERS and outcome["peak"] <= lanes
    for node in outcome["nodes"]:
        assert Path(node_paths(root, node).join_marker).read_text().startswith("role=worker\n"), node
        # kubeadm got the token from the material on stdin, inside the filled (then removed) config.
        assert TOKEN in (root / node / "seen-join.yaml").read_text(), node
    # Secrets stayed off command lines: the stand-ins logged every argv they saw.
    assert TOKEN not in (servers.work / "calls.log").read_text()
