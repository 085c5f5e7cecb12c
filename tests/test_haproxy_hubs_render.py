"""The hub part of haproxy.cfg, parsed back and checked by the real haproxy (and keepalived with a hub VIP)."""

from __future__ import annotations

import re
import subprocess
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import yaml

from components.haproxy_lb.haproxy_cfg import render_haproxy_cfg
from components.haproxy_lb.hub_routes import (
    HTTP_FRONTEND,
    HTTPS_FRONTEND,
    HubRoute,
    HubTiming,
    render_hub_sections,
    routes_from_config,
    timing_from_config,
)
from components.haproxy_lb.keepalived import VrrpHost, render_check_script, render_keepalived_conf
from config.cluster import LoadBalancerConfig
from config.platform import PlatformConfig
from tests.helpers import ROOT, require_tool, run_stack, shellcheck
from tests.test_config_rules import prod
from tests.test_haproxy_tools import _keepalived_test, netns  # noqa: F401 (fixture)

API = [("cp-1", "192.0.2.21", 6443), ("cp-2", "192.0.2.22", 6443), ("cp-3", "192.0.2.23", 6443)]


def _prod() -> PlatformConfig:
    return PlatformConfig.model_validate(prod())


def _cfg(cfg: PlatformConfig) -> str:
    sections = render_hub_sections(routes_from_config(cfg), "*", timing=timing_from_config(cfg))
    return render_haproxy_cfg(API, "*", 6443, cfg.load_balancer, hub_sections=sections, maxconn=cfg.traffic.maxconn)


def _sections(text: str) -> dict[str, list[str]]:
    """`frontend x` / `backend y` / ... -> its directives in order, comments dropped."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            current = line.strip()
            out[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            out[current].append(line.strip())
    return out


def test_prod_config_passes_haproxy_check_without_warnings(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(_cfg(_prod()))
    result = subprocess.run([require_tool("haproxy"), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_rejects_come_before_accept_and_unknown_names_have_no_backend() -> None:
    sections = _sections(_cfg(_prod()))
    https = sections[f"frontend {HTTPS_FRONTEND}"]
    rules = [d for d in https if d.startswith("tcp-request content")]
    first_accept = next(i for i, d in enumerate(rules) if " accept" in d)
    assert all(" reject " in d for d in rules[:first_accept]) and first_accept == len(rules) - 1
    assert rules[0] == (
        "tcp-request content reject if { req_ssl_sni -i exam.example.org } "
        "!{ src 198.51.100.0/25 198.51.100.128/26 203.0.113.0/24 }"
    )
    assert (
        rules[1]
        == "tcp-request content reject unless { req_ssl_sni -i jupyter.example.org exam.example.org grading.example.org }"
    )
    assert any(d.startswith("tcp-request inspect-delay") for d in https)
    for frontend in (https, sections[f"frontend {HTTP_FRONTEND}"]):
        assert not [d for d in frontend if d.startswith("default_backend")]
        for use in (d for d in frontend if d.startswith("use_backend ")):
            assert f"backend {use.split()[1]}" in sections
    http = sections[f"frontend {HTTP_FRONTEND}"]
    denies = [i for i, d in enumerate(http) if d.startswith("http-request deny")]
    uses = [i for i, d in enumerate(http) if d.startswith("use_backend")]
    assert max(denies) < min(uses)
    assert http[denies[0]].startswith(
        "http-request deny deny_status 403 if { req.hdr(host),field(1,:),lower -i exam.example.org }"
    )


def test_backends_reach_the_proxy_nodes_at_each_hubs_node_ports() -> None:
    cfg = _prod()
    sections = _sections(_cfg(cfg))
    for hub in cfg.hubs:
        for kind, port in (("https", hub.https_node_port), ("http", hub.http_node_port)):
            backend = sections[f"backend hub-{hub.name}-{kind}"]
            servers = [d for d in backend if d.startswith("server ")]
            suffix = " send-proxy-v2" if hub.https.mode == "letsencrypt" else ""
            assert servers == [
                f"server {n} {a}:{port} check{suffix}" for n, a in (("worker-1", "192.0.2.31"), ("worker-2", "192.0.2.32"))
            ]
            default = next(d for d in backend if d.startswith("default-server"))
            assert f"maxconn {hub.users * cfg.traffic.connections_per_user}" in default
            timeouts = {d.split()[1]: d.split()[2] for d in backend if d.startswith("timeout ")}
            assert timeouts["tunnel"] == timeouts["server"] == f"{cfg.traffic.websocket_timeout_seconds}s"
            # X-Forwarded-For only where PROXY protocol cannot go: the exam hub's CHP, on port 80.
            assert ("option forwardfor" in backend) == (kind == "http" and hub.name == "exam")
    assert "maxconn 20000" in sections["global"]


def test_client_address_none_sends_nothing() -> None:
    raw = prod()
    raw["traffic"]["client_address"] = "none"
    text = _cfg(PlatformConfig.model_validate(raw))
    assert "send-proxy" not in text and "forwardfor" not in text


def test_no_hubs_leaves_the_api_config_unchanged() -> None:
    settings = LoadBalancerConfig()
    assert render_hub_sections([], "*", timing=HubTiming(3600, 2000)) == ""
    assert render_haproxy_cfg(API, "*", 6443, settings, hub_sections="") == render_haproxy_cfg(API, "*", 6443, settings)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (HubRoute("Bad", "a.example.org", 30080, 30443, (("w", "192.0.2.1"),), 10), "cannot be used"),
        (HubRoute("a", "a.example.org", 30080, 30443, (), 10), "no node"),
        (HubRoute("a", "a.example.org", 30080, 30443, (("w", "w.example.org"),), 10), "IPv4 or IPv6"),
        (HubRoute("a", "a.example.org", 30080, 30443, (("w", "192.0.2.1"),), 10, ("10.0.0.1/8",)), "host bits"),
    ],
)
def test_bad_routes_are_refused(route: HubRoute, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_hub_sections([route], "*", timing=HubTiming(3600, 2000))


def test_keepalived_carries_the_hub_vip_with_the_api_vip(tmp_path: Path, netns: str) -> None:  # noqa: F811
    settings = LoadBalancerConfig(vip=IPv4Address("192.0.2.10"), interface="veth0")
    check = tmp_path / "check.sh"
    check.write_text(render_check_script(6443))
    check.chmod(0o755)
    hosts = [VrrpHost("lb-1", "192.0.2.11"), VrrpHost("lb-2", "192.0.2.12")]
    conf = render_keepalived_conf(
        hosts=hosts,
        index=0,
        vip="192.0.2.10",
        settings=settings,
        auth=False,
        check_script_path=str(check),
        extra_vips=["192.0.2.9"],
    )
    block = re.search(r"virtual_ipaddress \{\n(.*?)\n\s+\}", conf, re.S)
    assert block is not None
    assert block.group(1).split("\n") == ["        192.0.2.10/32 dev veth0", "        192.0.2.9/32 dev veth0"]
    path = tmp_path / "keepalived.conf"
    path.write_text(conf)
    result = _keepalived_test(netns, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prod_stack_lb_steps_carry_the_hubs_and_the_hub_vip(tmp_path: Path) -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack["config"]["jupyterhub-platform:traffic"]["hub_vip"] = "192.0.2.9"
    path = tmp_path / "Pulumi.prod-hubvip.yaml"
    path.write_text(yaml.safe_dump(stack))
    recorder = run_stack("prod-hubvip", path)
    for host in ("lb-1", "lb-2"):
        haproxy = recorder.named(f"{host}-haproxy", "command:remote:Command").inputs["create"]
        assert "frontend hubs-https" in haproxy and "frontend hubs-http" in haproxy
        assert "export HUB_PORTS='443 80'" in haproxy
        keepalived = recorder.named(f"{host}-keepalived", "command:remote:Command").inputs["create"]
        assert "192.0.2.10/32 dev eth0" in keepalived and "192.0.2.9/32 dev eth0" in keepalived
    shellcheck(recorder.named("lb-1-haproxy", "command:remote:Command").inputs["create"], tmp_path, "haproxy.sh")
    summary = recorder.outputs["load_balancer"]
    assert summary["hub_vip"] == "192.0.2.9"
    # The admin console and Grafana (consoles:, monitoring: in prod) ride the same frontends, after the
    # hubs; HTTPS only.
    hubs = [f"hub-{h}-{k}" for h in ("teaching", "exam", "grading") for k in ("https", "http")]
    assert summary["hub_backends"] == [*hubs, "hub-console-yunikorn-https", "hub-grafana-https"]
    assert recorder.outputs["hub_entry_points"]["exam"] == {"via": "haproxy", "address": "192.0.2.9"}
