"""The load balancer's two steps read back (parameters and installed files: the keepalived config
root-only because it will hold the VRRP password), and the render's artifact store (a path recorded twice
must agree; the store is returned sorted and can be emptied)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.common import artifacts
from components.haproxy_lb.keepalived import AUTH_PLACEHOLDER
from components.haproxy_lb.steps import haproxy_script, keepalived_script
from tests.helpers import script_exports


def test_the_haproxy_step() -> None:
    step = haproxy_script("global\n", 8443, hub_ports=[80, 443])
    assert step.name == "haproxy"
    assert script_exports(step.text) == {
        "STEP_NAME": "haproxy",
        "FRONTEND_PORT": "8443",
        "HUB_PORTS": "80 443",
        "HAPROXY_CFG_PATH": "/etc/haproxy/haproxy.cfg",
        "HAPROXY_CFG_MODE": "0644",
        "HAPROXY_CFG": "global",
    }
    assert script_exports(haproxy_script("x", 6443, cfg_path="/tmp/h.cfg").text)["HUB_PORTS"] == ""


def test_the_keepalived_step() -> None:
    conf = f"vrrp_instance VI {{ auth_pass {AUTH_PLACEHOLDER} }}"
    step = keepalived_script(conf, "#!/bin/sh\n", auth=True)
    assert step.name == "keepalived"
    exports = script_exports(step.text)
    assert exports == {
        "STEP_NAME": "keepalived",
        "VRRP_AUTH": "true",
        "AUTH_PLACEHOLDER": AUTH_PLACEHOLDER,
        "KEEPALIVED_CONF_PATH": "/etc/keepalived/keepalived.conf",
        "KEEPALIVED_CONF_MODE": "0600",
        "KEEPALIVED_CONF": conf,
        "CHECK_SCRIPT_PATH": "/etc/keepalived/check_apiserver_lb.sh",
        "CHECK_SCRIPT_MODE": "0755",
        "CHECK_SCRIPT": "#!/bin/sh",
    }
    plain = script_exports(keepalived_script("vrrp_instance VI {}", "x", auth=False, conf_path="/c", check_script_path="/s").text)
    assert (plain["VRRP_AUTH"], plain["KEEPALIVED_CONF_PATH"], plain["CHECK_SCRIPT_PATH"]) == ("false", "/c", "/s")


def test_the_auth_placeholder_must_match_the_auth_switch() -> None:
    message = "^keepalived.conf must carry the auth placeholder exactly when auth is enabled$"
    with pytest.raises(ValueError, match=message):
        keepalived_script("no placeholder", "x", auth=True)
    with pytest.raises(ValueError, match=message):
        keepalived_script(AUTH_PLACEHOLDER, "x", auth=False)


@pytest.fixture
def empty_store() -> Iterator[None]:
    saved = artifacts.collected()
    artifacts.reset()
    yield
    artifacts.reset()
    for path, content in saved.items():
        artifacts.record(path, content)


@pytest.mark.usefixtures("empty_store")
def test_the_artifact_store() -> None:
    artifacts.record("b/x", "1")
    artifacts.record("a/y", "2")
    artifacts.record("b/x", "1")
    assert list(artifacts.collected().items()) == [("a/y", "2"), ("b/x", "1")]
    with pytest.raises(ValueError, match=r"^two different artifacts for b/x$"):
        artifacts.record("b/x", "other")
    artifacts.record("c/empty", "")
    artifacts.record("c/empty", "")
    assert artifacts.collected()["c/empty"] == ""
    artifacts.reset()
    assert artifacts.collected() == {}
