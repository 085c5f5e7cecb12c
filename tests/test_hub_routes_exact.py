"""The hub frontends and backends of haproxy.cfg, parsed into sections and compared whole."""

from __future__ import annotations

import pytest

from components.haproxy_lb.hub_routes import HubRoute, HubTiming, render_hub_sections
from tests.test_haproxy_cfg_exact import sections

TIMING = HubTiming(websocket_timeout_seconds=7200, health_check_interval_ms=1500)
NODES = (("w-1", "192.0.2.31"), ("w-2", "192.0.2.32"))
TEACH = HubRoute(
    name="teach",
    host="Hub.Example.org",
    http_port=30080,
    https_port=30443,
    servers=NODES,
    maxconn=500,
    allowed_networks=("10.0.0.0/8", "192.168.1.0/24"),
    proxy_protocol=True,
    forwarded_for=True,
)
RESEARCH = HubRoute(
    name="research", host="lab.example.org", http_port=31080, https_port=None, servers=NODES[:1], maxconn=80, forwarded_for=True
)
SNI = "req_ssl_sni -i"
HOST = "req.hdr(host),field(1,:),lower -i"


def test_two_hubs_exactly() -> None:
    text = render_hub_sections([TEACH, RESEARCH], "192.0.2.9", https_port=8443, http_port=8080, timing=TIMING)
    assert sections(text) == {
        "frontend hubs-https": [
            "bind 192.0.2.9:8443",
            "mode tcp",
            "option tcplog",
            "timeout client 7200s",
            "tcp-request inspect-delay 5s",
            f"tcp-request content reject if {{ {SNI} Hub.Example.org }} !{{ src 10.0.0.0/8 192.168.1.0/24 }}",
            f"tcp-request content reject unless {{ {SNI} Hub.Example.org }}",
            "tcp-request content accept if { req_ssl_hello_type 1 }",
            f"use_backend hub-teach-https if {{ {SNI} Hub.Example.org }}",
        ],
        "backend hub-teach-https": [
            "mode tcp",
            "balance leastconn",
            "timeout server 7200s",
            "timeout tunnel 7200s",
            "timeout queue 30s",
            "default-server inter 1500ms fall 3 rise 2 maxconn 500",
            "server w-1 192.0.2.31:30443 check send-proxy-v2",
            "server w-2 192.0.2.32:30443 check send-proxy-v2",
        ],
        "frontend hubs-http": [
            "bind 192.0.2.9:8080",
            "mode http",
            "option httplog",
            "timeout client 7200s",
            "timeout http-request 10s",
            f"http-request deny deny_status 403 if {{ {HOST} Hub.Example.org }} !{{ src 10.0.0.0/8 192.168.1.0/24 }}",
            f"http-request deny deny_status 404 unless {{ {HOST} Hub.Example.org lab.example.org }}",
            f"use_backend hub-teach-http if {{ {HOST} Hub.Example.org }}",
            f"use_backend hub-research-http if {{ {HOST} lab.example.org }}",
        ],
        "backend hub-teach-http": [
            "mode http",
            "balance roundrobin",
            "timeout server 7200s",
            "timeout tunnel 7200s",
            "timeout queue 30s",
            # PROXY v2 already carries the client address: no X-Forwarded-For on top.
            "default-server inter 1500ms fall 3 rise 2 maxconn 500",
            "server w-1 192.0.2.31:30080 check send-proxy-v2",
            "server w-2 192.0.2.32:30080 check send-proxy-v2",
        ],
        "backend hub-research-http": [
            "mode http",
            "balance roundrobin",
            "timeout server 7200s",
            "timeout tunnel 7200s",
            "timeout queue 30s",
            "option forwardfor",
            "default-server inter 1500ms fall 3 rise 2 maxconn 80",
            "server w-1 192.0.2.31:31080 check",
        ],
    }


def test_default_ports_and_no_tls_hub() -> None:
    text = render_hub_sections([RESEARCH], "*", timing=TIMING)
    parsed = sections(text)
    assert list(parsed) == ["frontend hubs-http", "backend hub-research-http"]
    assert parsed["frontend hubs-http"][0] == "bind *:80"
    https = sections(render_hub_sections([TEACH], "*", timing=TIMING))["frontend hubs-https"]
    assert https[0] == "bind *:443"


def test_no_routes_render_nothing() -> None:
    assert render_hub_sections([], "*", timing=TIMING) == ""


def _route(**changes: object) -> HubRoute:
    fields = {**RESEARCH.__dict__, **changes}
    return HubRoute(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (
            [RESEARCH, _route(host="other.example.org")],
            "hub names and hosts must be unique: ['research', 'research'] ['lab.example.org', 'other.example.org']",
        ),
        (
            [RESEARCH, _route(name="other", host="LAB.example.org")],
            "hub names and hosts must be unique: ['research', 'other'] ['lab.example.org', 'lab.example.org']",
        ),
        ([_route(name="Bad")], "hub 'Bad' / host 'lab.example.org' cannot be used in haproxy.cfg"),
        ([_route(host="lab_x.example.org")], "hub 'research' / host 'lab_x.example.org' cannot be used in haproxy.cfg"),
        ([_route(servers=())], "hub research has no node to route to"),
        ([_route(servers=(("w 1", "192.0.2.31"),))], "'w 1' is not a valid HAProxy server name"),
        ([_route(servers=(("w-1", "w-1.example.org"),))], "'w-1.example.org' does not appear to be an IPv4 or IPv6 address"),
        ([_route(allowed_networks=("10.0.0.1/8",))], "10.0.0.1/8 has host bits set"),
    ],
)
def test_bad_routes_exact_messages(routes: list[HubRoute], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        render_hub_sections(routes, "*", timing=TIMING)
    assert str(caught.value) == message


def test_routes_from_the_prod_config() -> None:
    from components.haproxy_lb.hub_routes import routes_from_config, timing_from_config
    from tests.helpers import stack_platform

    cfg = stack_platform("prod")
    workers = (("worker-1", "192.0.2.31"), ("worker-2", "192.0.2.32"))
    exam_networks = ("198.51.100.0/25", "198.51.100.128/26", "203.0.113.0/24")
    assert routes_from_config(cfg) == [
        HubRoute("teaching", "jupyter.example.org", 30080, 30443, workers, 1600, (), proxy_protocol=True, forwarded_for=False),
        # TLS at configurable-http-proxy (a provided certificate): it cannot read PROXY v2, so X-Forwarded-For on 80.
        HubRoute(
            "exam", "exam.example.org", 30081, 30444, workers, 1600, exam_networks, proxy_protocol=False, forwarded_for=True
        ),
        HubRoute("grading", "grading.example.org", 30082, 30445, workers, 1600, (), proxy_protocol=True, forwarded_for=False),
    ]
    assert timing_from_config(cfg) == HubTiming(websocket_timeout_seconds=14400, health_check_interval_ms=2000)
    # Without client addresses nothing is sent; a hub serving no TLS itself gets no 443 route.
    traffic = cfg.traffic.model_copy(update={"client_address": "none"})
    exam = cfg.hubs[1].model_copy(update={"https": cfg.hubs[1].https.model_copy(update={"mode": "offload"})})
    changed = cfg.model_copy(update={"traffic": traffic, "hubs": [cfg.hubs[0], exam, cfg.hubs[2]]})
    routes = routes_from_config(changed)
    assert [(r.https_port, r.proxy_protocol, r.forwarded_for) for r in routes] == [
        (30443, False, False),
        (None, False, False),
        (30445, False, False),
    ]
    forwarded = cfg.model_copy(update={"traffic": cfg.traffic.model_copy(update={"client_address": "forwarded-for"})})
    assert [(r.proxy_protocol, r.forwarded_for) for r in routes_from_config(forwarded)] == [(False, True)] * 3
