"""The sshd drop-in of node preparation, checked by the real sshd (`-t` and `-T`) on a scratch config."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.common.shell import HostFile, render_script
from components.k8s_cluster import steps
from tests.helpers import require_tool, stack_platform
from tests.scale_fixtures import BASTION, scale_platform

SYSTEMCTL = "#!/usr/bin/env bash\nprintf 'systemctl %s\\n' \"$*\" >>\"$CALLS\"\n"


@pytest.fixture
def sshd_host(tmp_path: Path) -> dict[str, Path]:
    sshd = Path(require_tool("sshd"))
    if os.geteuid() != 0:
        pytest.skip("sshd -t reads host keys as root")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host")], check=True, timeout=30)
    drop_ins = tmp_path / "sshd_config.d"
    drop_ins.mkdir()
    main = tmp_path / "sshd_config"
    main.write_text(f"Include {drop_ins}/*.conf\nHostKey {tmp_path / 'host'}\nPasswordAuthentication no\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(SYSTEMCTL)
    (bin_dir / "systemctl").chmod(stat.S_IRWXU)
    (bin_dir / "sshd").symlink_to(sshd)
    return {"main": main, "drop_ins": drop_ins, "bin": bin_dir, "calls": tmp_path / "calls.log"}


def run_limits(host: dict[str, Path], content: str) -> subprocess.CompletedProcess[str]:
    drop_in = HostFile(str(host["drop_ins"] / "05-jupyterhub-platform.conf"), content)
    params = {"KUBE_DIR": "/nonexistent", "SSHD_CONFIG": str(host["main"])}
    script = render_script("t", steps.SCRIPTS / "sshd-limits.sh", params, {"SSHD_LIMITS": drop_in})
    env = {**os.environ, "PATH": f"{host['bin']}:{os.environ['PATH']}", "CALLS": str(host["calls"])}
    return subprocess.run(["bash", "-c", script.text], env=env, capture_output=True, text=True, timeout=60)


def effective(host: dict[str, Path]) -> dict[str, str]:
    out = subprocess.run(["sshd", "-T", "-f", str(host["main"])], capture_output=True, text=True, timeout=30, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_limits_follow_the_session_bound() -> None:
    assert "MaxStartups 64:30:228\nMaxSessions 10\n" in steps.sshd_limits(stack_platform("prod"))  # no bound: room for many
    assert "MaxStartups 12:30:124\nMaxSessions 10\n" in steps.sshd_limits(scale_platform(bastion=BASTION))  # 6 lanes, 2 each
    assert "MaxStartups 80:30:260\nMaxSessions 40\n" in steps.sshd_limits(scale_platform(max_parallel_sessions=40))


def test_drop_in_is_installed_checked_and_in_effect(sshd_host: dict[str, Path]) -> None:
    content = steps.sshd_limits(scale_platform(bastion=BASTION))
    result = run_limits(sshd_host, content)
    assert result.returncode == 0, result.stderr
    assert effective(sshd_host)["maxstartups"] == "12:30:124"
    assert effective(sshd_host)["maxsessions"] == "10"
    assert "site setting" not in result.stderr
    # The stand-in says `ssh` is active: reloaded once; a second run changes nothing.
    assert sshd_host["calls"].read_text().splitlines() == ["systemctl is-active --quiet ssh", "systemctl reload ssh"]
    again = run_limits(sshd_host, content)
    assert again.returncode == 0 and "reloaded" not in again.stderr
    assert len(sshd_host["calls"].read_text().splitlines()) == 2


def test_a_drop_in_sshd_rejects_never_replaces_the_live_one(sshd_host: dict[str, Path]) -> None:
    good = steps.sshd_limits(stack_platform("prod"))
    assert run_limits(sshd_host, good).returncode == 0
    result = run_limits(sshd_host, "MaxStartups lots\n")
    assert result.returncode != 0 and "the live file is unchanged" in result.stderr
    assert (sshd_host["drop_ins"] / "05-jupyterhub-platform.conf").read_text() == good
    assert not [p for p in sshd_host["drop_ins"].iterdir() if p.name != "05-jupyterhub-platform.conf"]


def test_a_site_setting_read_first_is_reported(sshd_host: dict[str, Path]) -> None:
    main = sshd_host["main"]
    # Before and after the Include: whichever occurrence this sshd keeps, the site's value wins.
    main.write_text("MaxStartups 5:30:50\n" + main.read_text() + "MaxStartups 5:30:50\n")
    result = run_limits(sshd_host, steps.sshd_limits(stack_platform("prod")))
    assert result.returncode == 0, result.stderr
    assert "effective MaxStartups is 5:30:50, not 64:30:228" in result.stderr
