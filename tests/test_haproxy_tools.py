"""The rendered load-balancer configs and step scripts against the real tools (haproxy -c, keepalived -t).

keepalived -t needs the VRRP interface to exist and refuses loopback, so those tests run inside a
network namespace with a veth pair that the fixture creates and always deletes.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import uuid
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from components.haproxy_lb.haproxy_cfg import render_haproxy_cfg
from components.haproxy_lb.keepalived import AUTH_PLACEHOLDER, VrrpHost, render_check_script, render_keepalived_conf
from components.haproxy_lb.steps import haproxy_script, keepalived_script
from config.cluster import LoadBalancerConfig
from tests.helpers import IN_CI, require_tool

BACKENDS = [("cp-1", "192.0.2.21", 6443), ("cp-2", "192.0.2.22", 6443), ("cp-3", "192.0.2.23", 6443)]
SETTINGS = LoadBalancerConfig(vip=IPv4Address("192.0.2.10"), interface="veth0")
PASSWORD = "Ab1.x-9_"


def _skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _haproxy_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("haproxy"), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace holding an up veth0 (keepalived refuses loopback for VRRP)."""
    ip = require_tool("ip")
    if os.geteuid() != 0:
        _skip_or_fail("network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    name = f"hapx-{uuid.uuid4().hex[:8]}"
    created = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True, timeout=30)
    if created.returncode != 0:
        _skip_or_fail(f"cannot create a network namespace (CAP_SYS_ADMIN missing?): {created.stderr.strip()}")
    try:
        for cmd in (["link", "add", "veth0", "type", "veth", "peer", "name", "veth1"], ["link", "set", "veth0", "up"]):
            subprocess.run([ip, "-n", name, *cmd], check=True, capture_output=True, timeout=30)
        yield name
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True, timeout=30)


def _keepalived_test(netns: str, conf: Path) -> subprocess.CompletedProcess[str]:
    tool = require_tool("keepalived")
    return subprocess.run(["ip", "netns", "exec", netns, tool, "-t", "-f", str(conf)], capture_output=True, text=True, timeout=30)


def _check_script(tmp_path: Path) -> Path:
    path = tmp_path / "check_apiserver_lb.sh"
    path.write_text(render_check_script(6443))
    path.chmod(0o755)
    return path


# --- haproxy -c -----------------------------------------------------------------------------


@pytest.mark.parametrize("bind", ["*", "127.0.0.1", "192.0.2.10"])
def test_haproxy_accepts_the_config_without_warnings(tmp_path: Path, bind: str) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(render_haproxy_cfg(BACKENDS, bind, 8443, SETTINGS))
    result = _haproxy_check(cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr


def test_haproxy_check_rejects_a_broken_config(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(render_haproxy_cfg(BACKENDS, "*", 8443, SETTINGS).replace("balance roundrobin", "balance nonsense"))
    assert _haproxy_check(cfg).returncode != 0


# --- keepalived -t ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 5])
def test_keepalived_accepts_every_hosts_config(tmp_path: Path, netns: str, count: int) -> None:
    hosts = [VrrpHost(f"lb-{i + 1}", f"192.0.2.{11 + i}") for i in range(count)]
    check = _check_script(tmp_path)
    for index in range(count):
        conf = render_keepalived_conf(
            hosts=hosts, index=index, vip="192.0.2.10", settings=SETTINGS, auth=True, check_script_path=str(check)
        )
        path = tmp_path / f"keepalived-{index}.conf"
        path.write_text(conf.replace(AUTH_PLACEHOLDER, PASSWORD))
        result = _keepalived_test(netns, path)
        assert result.returncode == 0, f"host {index}: rc={result.returncode}\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [(("interface veth0", "interface nosuch0"), "nosuch0"), (("advert_int 1", "advert_sec 1"), "Unknown keyword")],
)
def test_keepalived_check_rejects_a_broken_config(tmp_path: Path, netns: str, change: tuple[str, str], expected: str) -> None:
    hosts = [VrrpHost("lb-1", "192.0.2.11"), VrrpHost("lb-2", "192.0.2.12")]
    conf = render_keepalived_conf(
        hosts=hosts, index=0, vip="192.0.2.10", settings=SETTINGS, auth=False, check_script_path=str(_check_script(tmp_path))
    )
    path = tmp_path / "keepalived.conf"
    path.write_text(conf.replace(*change))
    result = _keepalived_test(netns, path)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


def test_keepalived_2_2_7_cannot_check_a_non_root_script_user(tmp_path: Path, netns: str) -> None:
    """Why script_user is root: keepalived 2.2.7 `-t` kills itself (143) with any other script user
    (acassen/keepalived#2617). When this fails, keepalived is fixed and a non-root user is possible."""
    version = subprocess.run([require_tool("keepalived"), "-v"], capture_output=True, text=True, timeout=30)
    match = re.search(r"Keepalived v(\d+)\.(\d+)\.(\d+)", version.stdout + version.stderr)
    assert match
    hosts = [VrrpHost("lb-1", "192.0.2.11"), VrrpHost("lb-2", "192.0.2.12")]
    conf = render_keepalived_conf(
        hosts=hosts,
        index=0,
        vip="192.0.2.10",
        settings=SETTINGS,
        auth=False,
        script_user="nobody",
        check_script_path=str(_check_script(tmp_path)),
    )
    path = tmp_path / "keepalived.conf"
    path.write_text(conf)
    result = _keepalived_test(netns, path)
    if tuple(int(g) for g in match.groups()) <= (2, 2, 7):
        assert result.returncode in (143, -15), result  # killed by its own SIGTERM
    else:
        assert result.returncode == 0, result.stdout + result.stderr


# --- the step scripts, run locally with systemd and apt replaced by shims ----------------------

_SYSTEMCTL = """#!/bin/bash
echo "systemctl $*" >>"$SHIM_LOG"
case "$1" in
  is-enabled) [[ -f "$SHIM_STATE/enabled" ]] ;;
  enable) touch "$SHIM_STATE/enabled" ;;
  is-active) [[ -f "$SHIM_STATE/active" ]] ;;
  start) touch "$SHIM_STATE/active" ;;
esac
"""
_SHIMS = {
    "systemctl": _SYSTEMCTL,
    "dpkg-query": "#!/bin/bash\necho 'install ok installed'\n",
    "apt-get": '#!/bin/bash\necho "apt-get $*" >>"$SHIM_LOG"\nexit 1\n',
    "ss": "#!/bin/bash\necho 'LISTEN 0 4096 *:6443 *:*'\n",
}


@pytest.fixture
def shims(tmp_path: Path) -> dict[str, str]:
    bin_dir, state = tmp_path / "shims", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in _SHIMS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}:/usr/sbin:/sbin",
        "SHIM_LOG": str(tmp_path / "calls.log"),
        "SHIM_STATE": str(state),
        "HOME": str(tmp_path),
    }


def _run(script: str, env: dict[str, str], stdin: str = "", netns: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, "bash", "-c", script], input=stdin, env=env, capture_output=True, text=True, timeout=60)


def _calls(env: dict[str, str]) -> list[str]:
    log = Path(env["SHIM_LOG"])
    calls = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return [c for c in calls if not c.startswith(("systemctl is-", "systemctl enable"))]


def test_haproxy_step_checks_before_replacing_and_reloads_on_change(tmp_path: Path, shims: dict[str, str]) -> None:
    require_tool("haproxy")
    live = tmp_path / "etc" / "haproxy.cfg"
    first = render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS)
    run = _run(haproxy_script(first, 6443, cfg_path=str(live)).text, shims)
    assert run.returncode == 0, run.stderr
    assert live.read_text() == first and _calls(shims) == ["systemctl start haproxy"]

    again = _run(haproxy_script(first, 6443, cfg_path=str(live)).text, shims)
    assert again.returncode == 0, again.stderr
    assert _calls(shims) == []  # unchanged: no reload, no reinstall

    second = render_haproxy_cfg(BACKENDS[:2], "*", 6443, SETTINGS)
    changed = _run(haproxy_script(second, 6443, cfg_path=str(live)).text, shims)
    assert changed.returncode == 0, changed.stderr
    assert live.read_text() == second and _calls(shims) == ["systemctl reload haproxy"]
    assert stat.S_IMODE(live.stat().st_mode) == 0o644

    broken = second.replace("balance roundrobin", "balance nonsense")
    refused = _run(haproxy_script(broken, 6443, cfg_path=str(live)).text, shims)
    assert refused.returncode != 0
    assert "the live file is unchanged" in refused.stderr
    assert live.read_text() == second and _calls(shims) == []
    assert sorted(p.name for p in live.parent.iterdir()) == ["haproxy.cfg"]  # no candidate left behind


def test_keepalived_step_takes_the_password_from_stdin_only(tmp_path: Path, shims: dict[str, str], netns: str) -> None:
    require_tool("keepalived")
    hosts = [VrrpHost("lb-1", "192.0.2.11"), VrrpHost("lb-2", "192.0.2.12")]
    check = tmp_path / "etc" / "check_apiserver_lb.sh"
    live = tmp_path / "etc" / "keepalived.conf"

    def script(interface: str = "veth0") -> str:
        conf = render_keepalived_conf(
            hosts=hosts,
            index=0,
            vip="192.0.2.10",
            settings=SETTINGS,
            auth=True,
            interface=interface,
            check_script_path=str(check),
        )
        text = keepalived_script(
            conf, render_check_script(6443), auth=True, conf_path=str(live), check_script_path=str(check)
        ).text
        assert PASSWORD not in text
        return text

    run = _run(script(), shims, stdin=PASSWORD, netns=netns)
    assert run.returncode == 0, run.stderr
    assert f"auth_pass {PASSWORD}\n" in live.read_text() and AUTH_PLACEHOLDER not in live.read_text()
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
    assert stat.S_IMODE(check.stat().st_mode) == 0o755
    assert _calls(shims) == ["systemctl start keepalived"]
    good = live.read_text()

    for stdin, body, message in [
        ("", script(), "expected secret material"),
        ("123456789", script(), "1 to 8 characters"),
        (PASSWORD, script("nosuch0"), "the live file is unchanged"),
    ]:
        refused = _run(body, shims, stdin=stdin, netns=netns)
        assert refused.returncode != 0
        assert message in refused.stderr
        assert PASSWORD not in refused.stdout + refused.stderr
        assert live.read_text() == good and _calls(shims) == []
    assert sorted(p.name for p in live.parent.iterdir()) == ["check_apiserver_lb.sh", "keepalived.conf"]
