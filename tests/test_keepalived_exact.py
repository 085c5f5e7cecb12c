"""keepalived.conf parsed back into its blocks and compared whole; VRRP priorities and the check script exactly."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest

from components.haproxy_lb.keepalived import (
    AUTH_PLACEHOLDER,
    MAX_HOSTS,
    VrrpHost,
    render_check_script,
    render_keepalived_conf,
    vrrp_priorities,
)
from config.cluster import LoadBalancerConfig

HOSTS = [VrrpHost("lb-1", "192.0.2.11"), VrrpHost("lb-2", "192.0.2.12"), VrrpHost("lb-3", "192.0.2.13")]
SETTINGS = LoadBalancerConfig(vip=IPv4Address("192.0.2.10"), interface="ens18", virtual_router_id=42)


def blocks(conf: str) -> list[Any]:
    """Statements in order; a block is (header, [statements]). Comments and blank lines are dropped."""
    root: list[Any] = []
    stack = [root]
    for raw in conf.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("{"):
            inner: list[Any] = []
            stack[-1].append((line[:-1].strip(), inner))
            stack.append(inner)
        elif line == "}":
            stack.pop()
        else:
            stack[-1].append(line)
    assert len(stack) == 1, "unbalanced braces"
    return root


def test_second_of_three_hosts_with_unicast_and_auth() -> None:
    conf = render_keepalived_conf(hosts=HOSTS, index=1, vip="192.0.2.10", settings=SETTINGS, auth=True, extra_vips=["192.0.2.9"])
    assert blocks(conf) == [
        ("global_defs", ["router_id lb-2", "enable_script_security", "script_user root"]),
        (
            "vrrp_script chk_haproxy",
            [
                'script "/etc/keepalived/check_apiserver_lb.sh"',
                "interval 2",
                "timeout 3",
                "fall 2",
                "rise 2",
                "weight -25",
            ],
        ),
        (
            "vrrp_instance API_VIP",
            [
                "state BACKUP",
                "interface ens18",
                "virtual_router_id 42",
                "priority 190",
                "advert_int 1",
                "unicast_src_ip 192.0.2.12",
                ("unicast_peer", ["192.0.2.11", "192.0.2.13"]),
                ("authentication", ["auth_type PASS", f"auth_pass {AUTH_PLACEHOLDER}"]),
                ("virtual_ipaddress", ["192.0.2.10/32 dev ens18", "192.0.2.9/32 dev ens18"]),
                ("track_script", ["chk_haproxy"]),
            ],
        ),
    ]
    assert "# Rendered by jupyterhub-platform (HaproxyLb) for lb-2;" in conf


def test_multicast_without_auth_and_overrides() -> None:
    settings = LoadBalancerConfig(vip=IPv4Address("192.0.2.10"), unicast=False, virtual_router_id=7)
    conf = render_keepalived_conf(
        hosts=HOSTS[:2],
        index=0,
        vip=IPv4Address("192.0.2.10"),
        settings=settings,
        auth=False,
        interface="veth-test",
        script_user="keepalived_script",
        check_script_path="/tmp/check.sh",
    )
    parsed = blocks(conf)
    assert parsed[0] == ("global_defs", ["router_id lb-1", "enable_script_security", "script_user keepalived_script"])
    assert parsed[1][1][0] == 'script "/tmp/check.sh"'
    assert parsed[1][1][-1] == "weight -15"
    assert parsed[2] == (
        "vrrp_instance API_VIP",
        [
            "state BACKUP",
            "interface veth-test",
            "virtual_router_id 7",
            "priority 200",
            "advert_int 1",
            ("virtual_ipaddress", ["192.0.2.10/32 dev veth-test"]),
            ("track_script", ["chk_haproxy"]),
        ],
    )


def test_default_interface_comes_from_settings() -> None:
    conf = render_keepalived_conf(hosts=HOSTS[:2], index=1, vip="192.0.2.10", settings=LoadBalancerConfig(), auth=False)
    assert "interface eth0" in blocks(conf)[2][1]


@pytest.mark.parametrize(
    ("count", "priorities", "weight"),
    [
        (1, [200], 5),
        (2, [200, 190], 15),
        (3, [200, 190, 180], 25),
        (MAX_HOSTS, [200 - 10 * i for i in range(MAX_HOSTS)], 10 * (MAX_HOSTS - 1) + 5),
    ],
)
def test_priorities_and_weight(count: int, priorities: list[int], weight: int) -> None:
    assert vrrp_priorities(count) == (priorities, weight)


@pytest.mark.parametrize("count", [0, MAX_HOSTS + 1])
def test_host_count_out_of_range(count: int) -> None:
    with pytest.raises(ValueError) as caught:
        vrrp_priorities(count)
    assert str(caught.value) == f"keepalived supports 1 to {MAX_HOSTS} load-balancer hosts here, got {count}"


def test_bad_host_lists_are_refused() -> None:
    with pytest.raises(ValueError) as caught:
        render_keepalived_conf(hosts=HOSTS[:1], index=0, vip="192.0.2.10", settings=SETTINGS, auth=False)
    assert str(caught.value) == "keepalived is only used with two or more load-balancer hosts"
    bad = [VrrpHost("lb 1", "192.0.2.11"), HOSTS[1]]
    with pytest.raises(ValueError) as caught:
        render_keepalived_conf(hosts=bad, index=0, vip="192.0.2.10", settings=SETTINGS, auth=False)
    assert str(caught.value) == "'lb 1' is not usable as a keepalived router_id"
    # Only this host's name matters.
    assert "router_id lb-2" in render_keepalived_conf(hosts=bad, index=1, vip="192.0.2.10", settings=SETTINGS, auth=False)


def test_check_script_exactly() -> None:
    assert render_check_script(8443, "10.0.0.5").splitlines() == [
        "#!/bin/bash",
        "# keepalived vrrp_script rendered by jupyterhub-platform: succeeds while the local HAProxy",
        "# frontend serves /readyz from some API server (certificate not verified: only liveness).",
        "set -euo pipefail",
        "exec curl --silent --fail --insecure --max-time 2 --output /dev/null 'https://10.0.0.5:8443/readyz'",
    ]
    assert render_check_script(6443).endswith("'https://127.0.0.1:6443/readyz'\n")
