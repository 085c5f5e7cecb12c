"""How traffic enters each hub's proxy: Traefik trust, the restricted proxy's network policy, MetalLB address
and source ranges, the Service patch; all valid against the z2jh 4.4.0 schema."""

from __future__ import annotations

from typing import Any

from components.jupyterhub.traffic import lb_source_networks, proxy_service_patch
from components.jupyterhub.values import render_values
from config.platform import PlatformConfig
from tests.test_config_rules import dev, prod
from tests.test_jupyterhub_values import STORAGE, schema_errors

LB_SOURCES = ["192.0.2.10/32", "192.0.2.11/32", "192.0.2.12/32"]


def _proxy(raw: dict[str, Any], hub: str) -> dict[str, Any]:
    cfg = PlatformConfig.model_validate(raw)
    (config,) = [h for h in cfg.hubs if h.name == hub]
    values = render_values(cfg, config, STORAGE)
    assert schema_errors(values) == [], hub
    proxy: dict[str, Any] = values["proxy"]
    return proxy

TO_NGSHARE = {
    "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ngshare"}}}],
    "ports": [{"port": 8080, "protocol": "TCP"}],
}


def test_traefik_trusts_proxy_protocol_only_from_the_load_balancers() -> None:
    assert lb_source_networks(PlatformConfig.model_validate(prod())) == LB_SOURCES
    proxy = _proxy(prod(), "teaching")
    trusted = {"trustedIPs": LB_SOURCES}
    assert proxy["traefik"] == {
        "extraStaticConfig": {"entryPoints": {"http": {"proxyProtocol": trusted}, "https": {"proxyProtocol": trusted}}}
    }
    # Open hub: the chart's own proxy ingress policy; the only addition is the way to the course exchange.
    assert proxy["chp"] == {"networkPolicy": {"egress": [TO_NGSHARE]}}


def test_forwarded_for_mode_trusts_the_header_on_port_80_only() -> None:
    raw = prod()
    raw["traffic"]["client_address"] = "forwarded-for"
    assert _proxy(raw, "teaching")["traefik"] == {
        "extraStaticConfig": {"entryPoints": {"http": {"forwardedHeaders": {"trustedIPs": LB_SOURCES}}}}
    }
    raw["traffic"]["client_address"] = "none"
    assert "traefik" not in _proxy(raw, "teaching")


def test_restricted_hub_proxy_admits_only_the_load_balancers() -> None:
    proxy = _proxy(prod(), "exam")
    assert "traefik" not in proxy  # a provided certificate: CHP holds the ports
    assert proxy["chp"]["networkPolicy"] == {
        "allowedIngressPorts": [],
        "ingress": [{"from": [{"ipBlock": {"cidr": c}} for c in LB_SOURCES], "ports": [{"port": "http"}, {"port": "https"}]}],
        "egress": [TO_NGSHARE],  # the exam's nbgrader exchange (web page at /services/ngshare/)
    }
    assert "loadBalancerSourceRanges" not in proxy["service"]  # NodePort: the LB enforces the allowlist


def test_restricted_metallb_hub_gets_source_ranges_and_policy() -> None:
    raw = dev()
    hub = raw["hubs"][0]
    hub["allowed_networks"] = ["198.51.100.0/24"]
    hub["https"] = {"mode": "secret"}
    proxy = _proxy(raw, "dev")
    assert proxy["service"] == {
        "type": "LoadBalancer",
        "loadBalancerIP": "192.0.2.240",
        "loadBalancerSourceRanges": ["198.51.100.0/24"],
    }
    assert proxy["chp"]["networkPolicy"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "198.51.100.0/24"}}]


def test_service_keeps_the_client_source_only_behind_platform_entry_points() -> None:
    cfg = PlatformConfig.model_validate(prod())
    assert [proxy_service_patch(cfg, h) for h in cfg.hubs] == [{"externalTrafficPolicy": "Local"}] * 3
    raw = dev()
    raw["traffic"] = {"external_load_balancer": True}
    cfg = PlatformConfig.model_validate(raw)
    assert proxy_service_patch(cfg, cfg.hubs[0]) is None
    assert "loadBalancerIP" not in _proxy(raw, "dev")["service"]
