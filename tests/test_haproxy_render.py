"""Pure renderers of the API load balancer: haproxy.cfg, keepalived.conf, VRRP math, step scripts."""

from __future__ import annotations

import itertools
import re
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from components.haproxy_lb.haproxy_cfg import render_haproxy_cfg
from components.haproxy_lb.keepalived import (
    AUTH_PLACEHOLDER,
    MAX_HOSTS,
    VrrpHost,
    render_check_script,
    render_keepalived_conf,
    vrrp_priorities,
)
from components.haproxy_lb.steps import haproxy_script, keepalived_script
from config.cluster import LoadBalancerConfig
from tests.helpers import shellcheck

BACKENDS = [("cp-1", "192.0.2.21", 6443), ("cp-2", "192.0.2.22", 6443), ("cp-3", "192.0.2.23", 6443)]
SETTINGS = LoadBalancerConfig(vip=IPv4Address("192.0.2.10"), interface="ens18", virtual_router_id=42)


def _hosts(n: int) -> list[VrrpHost]:
    return [VrrpHost(f"lb-{i + 1}", f"192.0.2.{11 + i}") for i in range(n)]


def _seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, value
    factor = {"ms": 0.001, "s": 1, None: 0.001, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(int(match.group(1)) * factor)


def _directives(cfg: str, section: str) -> list[str]:
    """Lines of one haproxy.cfg section (without comments)."""
    lines: list[str] = []
    inside = False
    for line in cfg.splitlines():
        if line and not line.startswith(" "):
            inside = line.strip() == section
            continue
        if inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


# --- haproxy.cfg -----------------------------------------------------------------------------


def test_timeouts_survive_long_kubectl_sessions() -> None:
    cfg = render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS)
    timeouts = {
        parts[1]: _seconds(parts[2]) for parts in (line.split() for line in _directives(cfg, "defaults")) if parts[0] == "timeout"
    }
    for name in ("client", "server", "tunnel"):
        assert timeouts[name] >= 3600, f"timeout {name} cuts kubectl logs -f / exec"
    assert timeouts["client"] == SETTINGS.timeout_client_seconds
    assert timeouts["server"] == SETTINGS.timeout_server_seconds
    # No section may shorten them for the API traffic.
    for section in ("frontend kube-apiserver", "backend kube-apiserver"):
        assert not [d for d in _directives(cfg, section) if d.startswith("timeout")]


def test_timeouts_follow_settings() -> None:
    settings = LoadBalancerConfig(timeout_client_seconds=7200, timeout_server_seconds=5400)
    defaults = _directives(render_haproxy_cfg(BACKENDS, "*", 6443, settings), "defaults")
    assert "timeout client 7200s" in defaults
    assert "timeout server 5400s" in defaults
    assert "timeout tunnel 7200s" in defaults


def test_every_control_plane_is_a_checked_backend() -> None:
    cfg = render_haproxy_cfg(BACKENDS, "*", 8443, SETTINGS)
    backend = _directives(cfg, "backend kube-apiserver")
    servers = [d for d in backend if d.startswith("server ")]
    assert servers == [f"server {n} {ip}:{port} check check-ssl verify none" for n, ip, port in BACKENDS]
    for directive in (
        "mode tcp",
        "option httpchk",
        "http-check connect ssl",
        "http-check send meth GET uri /readyz",
        "http-check expect status 200",
    ):
        assert directive in backend
    default_server = next(d for d in backend if d.startswith("default-server"))
    assert f"inter {SETTINGS.health_check_interval_ms}ms" in default_server
    assert re.search(r"fall [2-5] rise [1-5]", default_server)
    assert "bind *:8443" in _directives(cfg, "frontend kube-apiserver")


def test_retries_redispatch_to_other_servers() -> None:
    defaults = _directives(render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS), "defaults")
    retries = next(int(d.split()[1]) for d in defaults if d.startswith("retries "))
    assert retries >= 2
    assert "option redispatch 1" in defaults  # every retry may pick another server


def test_stats_only_on_localhost() -> None:
    cfg = render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS)
    binds = [line.strip() for line in cfg.splitlines() if line.strip().startswith("bind ")]
    assert binds == ["bind *:6443", f"bind 127.0.0.1:{SETTINGS.stats_port}"]
    assert "stats enable" in _directives(cfg, "listen stats")


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        ([], "at least one control plane"),
        ([("cp-1", "cp-1.example.org", 6443)], "does not appear to be an IPv4 or IPv6 address"),
        ([("cp-1", "192.0.2.21", 6443), ("cp-1", "192.0.2.22", 6443)], "duplicate backend"),
        ([("cp 1", "192.0.2.21", 6443)], "not a valid HAProxy server name"),
    ],
)
def test_bad_backends_are_refused(backends: list[tuple[str, str, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_haproxy_cfg(backends, "*", 6443, SETTINGS)


# --- keepalived ------------------------------------------------------------------------------


def _vip_holder(priorities: list[int], weight: int, failed: set[int]) -> int:
    """Index of the host that wins the VRRP election (highest effective priority)."""
    effective = [max(1, p - weight) if i in failed else p for i, p in enumerate(priorities)]
    best = max(effective)
    assert effective.count(best) == 1, f"tie at priority {best}: the election would depend on addresses"
    return effective.index(best)


def _assert_always_fails_over(priorities: list[int], weight: int) -> None:
    count = len(priorities)
    # Every combination of failed checks, short of all: the VIP lands on the best healthy host.
    for size in range(1, count):
        for failed in itertools.combinations(range(count), size):
            healthy = [i for i in range(count) if i not in failed]
            assert _vip_holder(priorities, weight, set(failed)) == healthy[0], f"failed {failed}"
    # All checks failing (no API server yet): the order is kept and the first host keeps the VIP.
    assert _vip_holder(priorities, weight, set(range(count))) == 0


@pytest.mark.parametrize("count", [2, 3, 5])
def test_weight_moves_the_vip_off_any_failed_host(count: int) -> None:
    priorities, weight = vrrp_priorities(count)
    assert len(set(priorities)) == count
    assert priorities == sorted(priorities, reverse=True)
    assert weight > max(priorities) - min(priorities)
    assert all(p - weight >= 1 and p <= 254 for p in priorities)
    _assert_always_fails_over(priorities, weight)


@pytest.mark.parametrize(("priorities", "weight"), [([101, 100, 99], 2), ([150, 140, 130, 120, 110], 20)])
def test_a_weight_within_the_priority_gap_is_caught(priorities: list[int], weight: int) -> None:
    """The failover check can fail: `weight -2` with 101/100/99 (or any weight <= the gap) does not fail over."""
    with pytest.raises(AssertionError):
        _assert_always_fails_over(priorities, weight)


def test_priorities_limits() -> None:
    vrrp_priorities(MAX_HOSTS)
    with pytest.raises(ValueError, match="1 to"):
        vrrp_priorities(MAX_HOSTS + 1)


@pytest.mark.parametrize("count", [2, 3, 5])
def test_rendered_conf_uses_priorities_and_lists_only_the_other_peers(count: int) -> None:
    hosts = _hosts(count)
    priorities, weight = vrrp_priorities(count)
    for index, me in enumerate(hosts):
        conf = render_keepalived_conf(hosts=hosts, index=index, vip=SETTINGS.vip or "", settings=SETTINGS, auth=False)
        assert re.search(rf"^\s+priority {priorities[index]}$", conf, re.M)
        assert re.search(rf"^\s+weight -{weight}$", conf, re.M)
        assert f"unicast_src_ip {me.address}\n" in conf
        peers = re.search(r"unicast_peer \{\n(.*?)\n\s+\}", conf, re.S)
        assert peers is not None
        assert peers.group(1).split() == [h.address for h in hosts if h != me]
        assert f"router_id {me.name}\n" in conf
        assert "interface ens18\n" in conf
        assert "virtual_router_id 42\n" in conf
        assert "192.0.2.10/32 dev ens18" in conf
        assert "enable_script_security" in conf and "script_user root" in conf
        assert "authentication" not in conf


def test_multicast_when_unicast_is_off() -> None:
    settings = SETTINGS.model_copy(update={"unicast": False})
    conf = render_keepalived_conf(hosts=_hosts(2), index=0, vip="192.0.2.10", settings=settings, auth=False)
    assert "unicast" not in conf


def test_auth_renders_a_placeholder_only() -> None:
    conf = render_keepalived_conf(hosts=_hosts(2), index=1, vip="192.0.2.10", settings=SETTINGS, auth=True)
    assert f"auth_pass {AUTH_PLACEHOLDER}\n" in conf
    assert "auth_type PASS" in conf


def test_single_host_gets_no_keepalived() -> None:
    with pytest.raises(ValueError, match="two or more"):
        render_keepalived_conf(hosts=_hosts(1), index=0, vip="192.0.2.10", settings=SETTINGS, auth=False)


# --- scripts -----------------------------------------------------------------------------------


def test_every_rendered_script_is_shellcheck_clean(tmp_path: Path) -> None:
    cfg = render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS)
    shellcheck(haproxy_script(cfg, 6443).text, tmp_path, "haproxy.sh")
    shellcheck(render_check_script(6443), tmp_path, "check.sh")
    for auth in (False, True):
        conf = render_keepalived_conf(hosts=_hosts(3), index=0, vip="192.0.2.10", settings=SETTINGS, auth=auth)
        shellcheck(keepalived_script(conf, render_check_script(6443), auth=auth).text, tmp_path, f"ka-{auth}.sh")


def test_scripts_check_before_replacing_and_reload() -> None:
    cfg = render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS)
    text = haproxy_script(cfg, 6443).text
    assert 'install_file "$HAPROXY_CFG_PATH" "$HAPROXY_CFG_MODE" "$HAPROXY_CFG" haproxy -c -q -f' in text
    assert "systemctl reload" in text and "apt-get install" not in text.split("apply_service haproxy")[1]
    conf = render_keepalived_conf(hosts=_hosts(2), index=0, vip="192.0.2.10", settings=SETTINGS, auth=True)
    ka = keepalived_script(conf, render_check_script(6443), auth=True)
    assert "keepalived -t -f" in ka.text
    assert "read_secret_stdin" in ka.text
    assert ka.files["/etc/keepalived/keepalived.conf"].mode == "0600"


def test_placeholder_must_match_auth_flag() -> None:
    conf = render_keepalived_conf(hosts=_hosts(2), index=0, vip="192.0.2.10", settings=SETTINGS, auth=False)
    with pytest.raises(ValueError, match="placeholder"):
        keepalived_script(conf, render_check_script(6443), auth=True)
