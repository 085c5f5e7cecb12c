"""Render keepalived.conf (keepalived 2.2) for LB hosts that share the API VIP, and the check script.

Pure: no Pulumi import. The VRRP password is never rendered: with auth the config carries
`AUTH_PLACEHOLDER`, which the install script replaces on the host with the secret read from stdin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address

from config.cluster import MAX_LOAD_BALANCERS, LoadBalancerConfig

AUTH_PLACEHOLDER = "__KEEPALIVED_AUTH_PASS__"
CHECK_SCRIPT_PATH = "/etc/keepalived/check_apiserver_lb.sh"
# root on purpose: keepalived 2.2.7 (Debian 12) `-t` kills itself (exit 143) whenever the script
# user is not root (acassen/keepalived#2617, fixed in 2.2.8), and the config must pass `-t` before
# it goes live. The check script is root-owned, not writable by others, and only runs curl.
DEFAULT_SCRIPT_USER = "root"
SCRIPT_NAME = "chk_haproxy"
INSTANCE_NAME = "API_VIP"
TOP_PRIORITY = 200
PRIORITY_STEP = 10
MAX_HOSTS = MAX_LOAD_BALANCERS  # checked in config (cluster_rules) so a stack file never reaches this raise
CHECK_INTERVAL_SECONDS = 2
CHECK_TIMEOUT_SECONDS = 3
_ROUTER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class VrrpHost:
    """One LB host as keepalived sees it."""

    name: str
    address: str


def vrrp_priorities(count: int) -> tuple[list[int], int]:
    """Priorities (first host highest) and the tracked-script weight for `count` hosts.

    A failing check subtracts the weight; it exceeds the gap between the highest and lowest
    priority, so a host with a failed check ranks below every healthy host and the VIP moves.
    Priorities stay in 1..254 (255 is reserved for the address owner) even after subtraction.
    """
    if not 1 <= count <= MAX_HOSTS:
        raise ValueError(f"keepalived supports 1 to {MAX_HOSTS} load-balancer hosts here, got {count}")
    priorities = [TOP_PRIORITY - PRIORITY_STEP * i for i in range(count)]
    weight = (priorities[0] - priorities[-1]) + PRIORITY_STEP // 2
    return priorities, weight


def render_check_script(frontend_port: int, host: str = "127.0.0.1") -> str:
    """vrrp_script body: healthy while the local HAProxy frontend answers /readyz over TLS."""
    return f"""\
#!/bin/bash
# keepalived vrrp_script rendered by jupyterhub-platform: succeeds while the local HAProxy
# frontend serves /readyz from some API server (certificate not verified: only liveness).
set -euo pipefail
exec curl --silent --fail --insecure --max-time 2 --output /dev/null 'https://{host}:{frontend_port}/readyz'
"""


def render_keepalived_conf(
    *,
    hosts: Sequence[VrrpHost],
    index: int,
    vip: IPv4Address | str,
    settings: LoadBalancerConfig,
    auth: bool,
    interface: str | None = None,
    script_user: str = DEFAULT_SCRIPT_USER,
    check_script_path: str = CHECK_SCRIPT_PATH,
    extra_vips: Sequence[str] = (),
) -> str:
    """keepalived.conf of `hosts[index]`; `interface` overrides `settings.interface` (tests); `extra_vips`
    (the hubs' own VIP) move together with `vip`."""
    if len(hosts) < 2:
        raise ValueError("keepalived is only used with two or more load-balancer hosts")
    me = hosts[index]
    if not _ROUTER_ID.match(me.name):
        raise ValueError(f"{me.name!r} is not usable as a keepalived router_id")
    priorities, weight = vrrp_priorities(len(hosts))
    iface = interface or settings.interface
    unicast = ""
    if settings.unicast:
        peers = "\n".join(f"        {h.address}" for i, h in enumerate(hosts) if i != index)
        unicast = f"    unicast_src_ip {me.address}\n    unicast_peer {{\n{peers}\n    }}\n"
    authentication = ""
    if auth:
        authentication = f"    authentication {{\n        auth_type PASS\n        auth_pass {AUTH_PLACEHOLDER}\n    }}\n"
    addresses = "\n".join(f"        {address}/32 dev {iface}" for address in (str(vip), *extra_vips))
    return f"""\
# Rendered by jupyterhub-platform (HaproxyLb) for {me.name}; change the stack configuration, not this file.
global_defs {{
    router_id {me.name}
    enable_script_security
    script_user {script_user}
}}

vrrp_script {SCRIPT_NAME} {{
    script "{check_script_path}"
    interval {CHECK_INTERVAL_SECONDS}
    timeout {CHECK_TIMEOUT_SECONDS}
    fall 2
    rise 2
    # Larger than the priority gap between hosts ({priorities[0]}..{priorities[-1]}): a failed check always moves the VIP.
    weight -{weight}
}}

vrrp_instance {INSTANCE_NAME} {{
    # Every host starts as BACKUP; the election (by priority) decides who holds the VIP.
    state BACKUP
    interface {iface}
    virtual_router_id {settings.virtual_router_id}
    priority {priorities[index]}
    advert_int 1
{unicast}{authentication}    virtual_ipaddress {{
{addresses}
    }}
    track_script {{
        {SCRIPT_NAME}
    }}
}}
"""
