"""The remote step scripts of the load balancer, built from `scripts/*.sh` and the rendered configs.

Pure: no Pulumi import, so the tests can shellcheck and even run these scripts locally. File
paths are parameters for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from components.common.shell import HostFile, RenderedScript, render_script
from components.haproxy_lb.keepalived import AUTH_PLACEHOLDER, CHECK_SCRIPT_PATH

SCRIPTS = Path(__file__).parent / "scripts"
HAPROXY_CFG_PATH = "/etc/haproxy/haproxy.cfg"
KEEPALIVED_CONF_PATH = "/etc/keepalived/keepalived.conf"


def haproxy_script(
    cfg_text: str, frontend_port: int, cfg_path: str = HAPROXY_CFG_PATH, hub_ports: Sequence[int] = ()
) -> RenderedScript:
    """Step `haproxy`: install HAProxy, check and install haproxy.cfg, start or reload; then wait until the
    API port (and the hub ports, when it fronts hubs) listen."""
    return render_script(
        "haproxy",
        [SCRIPTS / "service.sh", SCRIPTS / "haproxy.sh"],
        params={"FRONTEND_PORT": frontend_port, "HUB_PORTS": " ".join(str(p) for p in hub_ports)},
        files={"HAPROXY_CFG": HostFile(cfg_path, cfg_text, "0644")},
    )


def keepalived_script(
    conf_text: str,
    check_script_text: str,
    *,
    auth: bool,
    conf_path: str = KEEPALIVED_CONF_PATH,
    check_script_path: str = CHECK_SCRIPT_PATH,
) -> RenderedScript:
    """Step `keepalived`: install keepalived and its check, check and install the config, start or reload.

    `conf_text` holds `AUTH_PLACEHOLDER` when `auth` is set; the password comes on stdin.
    """
    if auth != (AUTH_PLACEHOLDER in conf_text):
        raise ValueError("keepalived.conf must carry the auth placeholder exactly when auth is enabled")
    return render_script(
        "keepalived",
        [SCRIPTS / "service.sh", SCRIPTS / "keepalived.sh"],
        params={"VRRP_AUTH": auth, "AUTH_PLACEHOLDER": AUTH_PLACEHOLDER},
        files={
            # 0600: the live file will hold the VRRP password.
            "KEEPALIVED_CONF": HostFile(conf_path, conf_text, "0600"),
            "CHECK_SCRIPT": HostFile(check_script_path, check_script_text, "0755"),
        },
    )
