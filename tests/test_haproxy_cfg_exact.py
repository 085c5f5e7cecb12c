"""haproxy.cfg parsed back into sections: every directive that matters, exactly.

`haproxy -c` and the live failover test accept a config that runs as root, logs nowhere or
exposes stats on every address; these tests pin each of those settings."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from components.haproxy_lb.haproxy_cfg import backends_from, render_haproxy_cfg
from config.cluster import LoadBalancerConfig

BACKENDS = [("cp-1", "192.0.2.21", 6443), ("cp-2", "192.0.2.22", 6443)]
SETTINGS = LoadBalancerConfig(
    vip=IPv4Address("192.0.2.10"),
    timeout_client_seconds=7200,
    timeout_server_seconds=3600,
    stats_port=9000,
    health_check_interval_ms=1500,
)


def sections(cfg: str) -> dict[str, list[str]]:
    """Section header -> its directives in order (comments and blank lines dropped)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in cfg.splitlines():
        text = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not text:
            continue
        if not line.startswith(" "):
            assert text not in out, f"section {text} twice"
            current = out.setdefault(text, [])
        else:
            assert current is not None, f"directive outside a section: {line}"
            current.append(text)
    return out


def test_every_section_exactly() -> None:
    cfg = render_haproxy_cfg(BACKENDS, "192.0.2.10", 6443, SETTINGS)
    assert sections(cfg) == {
        "global": ["log /dev/log local0 notice", "user haproxy", "group haproxy"],
        "defaults": [
            "mode tcp",
            "log global",
            "option dontlognull",
            "retries 3",
            "option redispatch 1",
            "timeout connect 5s",
            "timeout client 7200s",
            "timeout server 3600s",
            "timeout tunnel 7200s",
            "timeout check 5s",
        ],
        "frontend kube-apiserver": ["bind 192.0.2.10:6443", "mode tcp", "option tcplog", "default_backend kube-apiserver"],
        "backend kube-apiserver": [
            "mode tcp",
            "balance roundrobin",
            "option httpchk",
            "http-check connect ssl",
            "http-check send meth GET uri /readyz",
            "http-check expect status 200",
            "default-server inter 1500ms fall 3 rise 2",
            "server cp-1 192.0.2.21:6443 check check-ssl verify none",
            "server cp-2 192.0.2.22:6443 check check-ssl verify none",
        ],
        "listen stats": [
            "bind 127.0.0.1:9000",
            "mode http",
            "no log",
            "timeout client 30s",
            "timeout server 30s",
            "stats enable",
            "stats uri /stats",
            "stats refresh 10s",
        ],
    }


def test_privileges_are_dropped_before_anything_else() -> None:
    # Without these two lines HAProxy keeps running as root (haproxy -c accepts it).
    assert sections(render_haproxy_cfg(BACKENDS, "*", 6443, SETTINGS))["global"][1:3] == ["user haproxy", "group haproxy"]


def test_tunnel_timeout_is_the_longer_of_client_and_server() -> None:
    settings = LoadBalancerConfig(timeout_client_seconds=3600, timeout_server_seconds=5400)
    defaults = sections(render_haproxy_cfg(BACKENDS, "*", 6443, settings))["defaults"]
    assert [d for d in defaults if d.startswith("timeout ")] == [
        "timeout connect 5s",
        "timeout client 3600s",
        "timeout server 5400s",
        "timeout tunnel 5400s",
        "timeout check 5s",
    ]


def test_options_log_target_maxconn_stats_bind_and_hub_sections() -> None:
    hub = "\nfrontend hub-https\n    bind *:443\n"
    cfg = render_haproxy_cfg(
        BACKENDS, "*", 8443, SETTINGS, "10.0.0.1", log_target="127.0.0.1:514", hub_sections=hub, maxconn=4000
    )
    parsed = sections(cfg)
    assert parsed["global"] == ["log 127.0.0.1:514 local0 notice", "user haproxy", "group haproxy", "maxconn 4000"]
    assert parsed["listen stats"][0] == "bind 10.0.0.1:9000"
    assert parsed["frontend kube-apiserver"][0] == "bind *:8443"
    assert parsed["frontend hub-https"] == ["bind *:443"]
    assert cfg.endswith(hub)


def test_backends_from_nodes() -> None:
    assert backends_from([("cp-1", "192.0.2.21"), ("cp-2", "192.0.2.22")], 6443) == [
        ("cp-1", "192.0.2.21", 6443),
        ("cp-2", "192.0.2.22", 6443),
    ]


@pytest.mark.parametrize("port", [1, 65535])
def test_api_port_range_bounds_are_accepted(port: int) -> None:
    cfg = render_haproxy_cfg([("cp-1", "192.0.2.21", port)], "*", 6443, SETTINGS)
    assert f"server cp-1 192.0.2.21:{port} check check-ssl verify none" in sections(cfg)["backend kube-apiserver"]


@pytest.mark.parametrize("port", [0, 65536])
def test_api_port_out_of_range_is_refused(port: int) -> None:
    with pytest.raises(ValueError) as caught:
        render_haproxy_cfg([("cp-1", "192.0.2.21", 6443), ("cp-2", "192.0.2.22", port)], "*", 6443, SETTINGS)
    assert str(caught.value) == f"backend port {port} of cp-2 is out of range"


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        ([], "the load balancer needs at least one control plane behind it"),
        (
            [("cp-1", "192.0.2.21", 6443), ("cp-1", "192.0.2.22", 6443)],
            "duplicate backend server names: ['cp-1', 'cp-1']",
        ),
        ([("cp-1", "192.0.2.21", 6443), ("cp 2", "192.0.2.22", 6443)], "'cp 2' is not a valid HAProxy server name"),
        # IPs only: haproxy -c would otherwise resolve names at check time.
        ([("cp-1", "cp-1.example.org", 6443)], "'cp-1.example.org' does not appear to be an IPv4 or IPv6 address"),
    ],
)
def test_bad_backends_exact_messages(backends: list[tuple[str, str, int]], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        render_haproxy_cfg(backends, "*", 6443, SETTINGS)
    assert str(caught.value) == message


def test_server_names_with_every_allowed_character_pass() -> None:
    cfg = render_haproxy_cfg([("Cp_1.a:b-9", "192.0.2.21", 6443)], "*", 6443, SETTINGS)
    assert "server Cp_1.a:b-9 192.0.2.21:6443 check check-ssl verify none" in cfg
