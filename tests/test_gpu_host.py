"""The GPU host step run for real against stub tools: toolkit pin, drop-in support check, driver upgrade warning."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.gpu_pool.host import CONTAINERD_CONFIG, DROP_IN_CONFIG, gpu_host_script
from config.gpu import CONTAINER_TOOLKIT_VERSION
from tests.test_gpu_config import errors, load

H100x2 = {"model": "H100-80GB", "count": 2}

STUBS = {
    "nvidia-smi": 'printf "NVIDIA H100 80GB HBM3, 81559, 570.86.15\\nNVIDIA H100 80GB HBM3, 81559, 570.86.15\\n"',
    # Toolkit packages at the pinned version; driver packages for the unattended-upgrades check.
    "dpkg-query": (
        'if [[ "$*" == *Version* ]]; then echo "${TOOLKIT_VERSION}-1"; exit 0; fi\n'
        'if [[ "$*" == *Status-Abbrev* ]]; then printf "ii  nvidia-driver-570-server\\nii  libnvidia-compute-570-server\\n"; fi'
    ),
    "nvidia-ctk": (
        'echo "nvidia-ctk $*" >>"$STATE/calls"\n'
        'if [[ "$*" == "--version" ]]; then echo "NVIDIA Container Toolkit CLI version $CTK_VERSION"; exit 0; fi\n'
        'if [[ "$*" == *--help* ]]; then\n'
        '  echo "--config value"; [[ $CTK_VERSION == 1.17.* ]] || echo "--drop-in-config value"; exit 0\n'
        "fi\n"
        'if [[ $CTK_VERSION == 1.17.* ]]; then echo "flag provided but not defined: -drop-in-config" >&2; exit 1; fi\n'
        'for a in "$@"; do [[ $a == --drop-in-config=* ]] && echo "[nvidia]" >"${a#--drop-in-config=}"; done; exit 0'
    ),
    "systemctl": 'echo "systemctl $*" >>"$STATE/calls"; exit 0',
    "containerd": 'echo "containerd ${CONTAINERD_SOURCE:-containerd.io} ${CONTAINERD_SIM:-v2.2.6} 0123abc"',
    "unattended-upgrade": "exit 0",
    "apt-config": 'cat "$STATE/apt-config" 2>/dev/null; exit 0',
    "apt-mark": 'if [[ "$1" == showhold ]]; then cat "$STATE/held" 2>/dev/null; fi; exit 0',
}


def run(
    tmp_path: Path, ctk_version: str = CONTAINER_TOOLKIT_VERSION, toolkit: str = CONTAINER_TOOLKIT_VERSION, **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    containerd = state / "config.toml"
    containerd.write_text("version = 3\n")
    cfg = load([H100x2], {"container_toolkit_version": toolkit})
    text = gpu_host_script(cfg.inventory.nodes[1], cfg).text
    text = text.replace(f"export CONTAINERD_CONFIG={CONTAINERD_CONFIG}", f"export CONTAINERD_CONFIG={containerd}")
    text = text.replace(f"export DROP_IN_CONFIG={DROP_IN_CONFIG}", f"export DROP_IN_CONFIG={state / '99-nvidia.toml'}")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(state), "CTK_VERSION": ctk_version, **extra_env}
    result = subprocess.run(["bash", "-c", text], env=env, capture_output=True, text=True, timeout=60)
    return result, state


@pytest.mark.skipif(os.path.exists("/etc/kubernetes/kubelet.conf"), reason="this machine is a joined node")
def test_pinned_toolkit_configures_the_drop_in_and_is_idempotent(tmp_path: Path) -> None:
    first, state = run(tmp_path)
    assert first.returncode == 0, first.stderr
    calls = (state / "calls").read_text()
    assert "nvidia-ctk runtime configure --help" in calls
    assert f"--drop-in-config={state / '99-nvidia.toml'}" in calls and "systemctl restart containerd" in calls
    (state / "calls").write_text("")
    second, _ = run(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "restart" not in (state / "calls").read_text()  # nothing changed: containerd keeps running


@pytest.mark.skipif(os.path.exists("/etc/kubernetes/kubelet.conf"), reason="this machine is a joined node")
def test_old_nvidia_ctk_fails_with_the_reason(tmp_path: Path) -> None:
    result, state = run(tmp_path, ctk_version="1.17.8")
    assert result.returncode == 1
    assert "has no 'runtime configure --drop-in-config'" in result.stderr and "1.18.0 or later" in result.stderr
    assert "runtime configure --runtime=containerd" not in (state / "calls").read_text()


def test_toolkit_pin_supports_the_drop_in_flag() -> None:
    assert CONTAINER_TOOLKIT_VERSION == "1.18.0"
    assert load([H100x2]).gpu.container_toolkit_version == "1.18.0"
    assert "export TOOLKIT_VERSION=1.18.0" in gpu_host_script(load([H100x2]).inventory.nodes[1], load([H100x2])).text
    found = errors([H100x2], {"container_toolkit_version": "1.17.8"})
    assert "gpu.container_toolkit_version" in found and "1.18.0" in found["gpu.container_toolkit_version"]
    assert load([H100x2], {"container_toolkit_version": "1.18.2"}).gpu.container_toolkit_version == "1.18.2"


@pytest.mark.skipif(os.path.exists("/etc/kubernetes/kubelet.conf"), reason="this machine is a joined node")
def test_warns_when_unattended_upgrades_would_upgrade_the_driver(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "apt-config").write_text('APT::Periodic::Unattended-Upgrade "1";\n')
    result, _ = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING: unattended-upgrades may upgrade the NVIDIA driver" in result.stderr
    assert "nvidia-driver-570-server libnvidia-compute-570-server" in result.stderr
    # Excluded by the blacklist, held, or unattended-upgrades off: no warning.
    for apt_config, held in [
        ('APT::Periodic::Unattended-Upgrade "1";\nUnattended-Upgrade::Package-Blacklist:: "nvidia-";\n', ""),
        ('APT::Periodic::Unattended-Upgrade "1";\n', "nvidia-driver-570-server\nlibnvidia-compute-570-server\n"),
        ('APT::Periodic::Unattended-Upgrade "0";\n', ""),
    ]:
        (state / "apt-config").write_text(apt_config)
        (state / "held").write_text(held)
        quiet, _ = run(tmp_path)
        assert quiet.returncode == 0 and "WARNING" not in quiet.stderr, (apt_config, held, quiet.stderr)


@pytest.mark.skipif(os.path.exists("/etc/kubernetes/kubelet.conf"), reason="this machine is a joined node")
@pytest.mark.parametrize(("source", "version"), [("github.com/containerd/containerd", "1.6.20~ds1"), ("containerd.io", "v2.0.6")])
def test_containerd_before_2_1_is_refused_on_gpu_nodes(tmp_path: Path, source: str, version: str) -> None:
    """Before 2.1 nvidia-ctk's drop-in copies the whole CRI section: later main-config changes would not apply."""
    result, state = run(tmp_path, CONTAINERD_SOURCE=source, CONTAINERD_SIM=version)
    assert result.returncode == 1
    assert f"containerd {version.removeprefix('v')} is older than 2.1" in result.stderr
    calls = (state / "calls").read_text() if (state / "calls").exists() else ""
    assert "runtime configure --runtime=containerd" not in calls
