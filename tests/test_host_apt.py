"""The apt helper of every step against the real `apt-get`: a held lists lock makes `apt-get update`
exit 100 at once (DPkg::Lock::Timeout does not cover it); the helper waits and succeeds once the lock
is released. apt runs on a scratch state directory (APT_CONFIG) with no sources, so nothing is
downloaded and this machine's apt state is untouched."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from pathlib import Path

from components.common.shell import render_script
from tests.helpers import require_tool
from tests.host_harness import Host


def _apt_config(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "apt"
    for d in ("lists/partial", "cache/archives/partial", "parts"):
        (state / d).mkdir(parents=True)
    conf = state / "apt.conf"
    conf.write_text(
        f'Dir::State::Lists "{state}/lists";\nDir::Cache "{state}/cache";\n'
        f'Dir::Etc::SourceList "/dev/null";\nDir::Etc::SourceParts "{state}/parts";\n'
    )
    return conf, state / "lists" / "lock"


def _hold_lock(lock: Path, seconds: float, held: threading.Event) -> None:
    # apt locks with fcntl (POSIX record locks), which is what lockf takes; flock(1) would not block it.
    with lock.open("a") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        held.set()
        time.sleep(seconds)
        fcntl.lockf(f, fcntl.LOCK_UN)


def test_real_apt_get_update_exits_at_once_on_a_held_lists_lock(tmp_path: Path) -> None:
    """The fact the helper is built on, checked against this machine's apt."""
    apt_get = require_tool("apt-get")
    conf, lock = _apt_config(tmp_path)
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(lock, 3, held))
    holder.start()
    assert held.wait(30)
    env = {**os.environ, "APT_CONFIG": str(conf)}
    result = subprocess.run(
        [apt_get, "-o", "DPkg::Lock::Timeout=300", "update", "-q"], env=env, capture_output=True, text=True, timeout=60
    )
    holder.join()
    assert result.returncode == 100 and "Could not get lock" in result.stderr


def test_apt_update_helper_waits_for_a_real_lists_lock(tmp_path: Path) -> None:
    require_tool("apt-get")
    conf, lock = _apt_config(tmp_path)
    host = Host(tmp_path, "worker-1")
    (host.bin / "apt-get").unlink()  # the real apt-get; cloud-init and systemctl stay simulated
    (host.bin / "sleep").unlink()  # real 5 s pauses between attempts
    body = tmp_path / "body.sh"
    body.write_text("#!/usr/bin/env bash\n# shellcheck shell=bash\napt_update\nlog 'lists updated'\n")
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(lock, 4, held))
    holder.start()
    assert held.wait(30)
    result = host.run(render_script("worker-1/apt", body), APT_CONFIG=str(conf))
    holder.join()
    assert result.returncode == 0, result.stderr
    assert "another apt or dpkg process holds a lock" in result.stderr and "Could not get lock" not in result.stderr
    assert "lists updated" in result.stderr
