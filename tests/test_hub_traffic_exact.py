"""How user traffic enters a hub's proxy, compared whole: the proxy values for each entry point (HAProxy
with PROXY protocol or X-Forwarded-For, MetalLB with a fixed address and source ranges, a site's own load
balancer), the restricted hub's ingress policy, and the Service patch that keeps the client's address."""

from __future__ import annotations

import copy
from typing import Any

from components.jupyterhub.traffic import (
    keeps_client_source,
    lb_source_networks,
    proxy_service_patch,
    proxy_traffic_values,
)
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

LBS = [
    {"name": "lb-2", "address": "192.0.2.12", "roles": ["load-balancer"]},
    {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
]
NODEPORT = {"service_type": "NodePort", "http_node_port": 30080, "https_node_port": 30443}
TRUSTED = {"trustedIPs": ["192.0.2.9/32", "192.0.2.10/32", "192.0.2.11/32", "192.0.2.12/32"]}
RESTRICTED = ["198.51.100.0/24", "203.0.113.0/24"]


def platform(hub: dict[str, Any], lbs: bool = True, **traffic: Any) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    raw: dict[str, Any] = {"inventory": inventory, "hubs": [{**copy.deepcopy(HUB), **hub}], "traffic": traffic}
    if lbs:
        inventory["nodes"] += copy.deepcopy(LBS)
        raw["load_balancer"] = {"vip": "192.0.2.10"}
        raw["traffic"] = {"hub_vip": "192.0.2.9", **traffic}
    return PlatformConfig.model_validate(raw)


def values(cfg: PlatformConfig) -> dict[str, Any]:
    return proxy_traffic_values(cfg, cfg.hubs[0])


def test_lb_addresses_are_sorted_host_routes() -> None:
    assert lb_source_networks(platform(NODEPORT)) == TRUSTED["trustedIPs"]
    assert lb_source_networks(platform({}, lbs=False, external_load_balancer=True)) == []


def test_behind_haproxy_with_lets_encrypt_traefik_trusts_the_proxy_protocol() -> None:
    cfg = platform(NODEPORT)
    assert values(cfg) == {
        "traefik": {
            "extraStaticConfig": {"entryPoints": {"http": {"proxyProtocol": TRUSTED}, "https": {"proxyProtocol": TRUSTED}}}
        }
    }
    assert keeps_client_source(cfg, cfg.hubs[0]) and proxy_service_patch(cfg, cfg.hubs[0]) == {"externalTrafficPolicy": "Local"}


def test_forwarded_for_trusts_the_header_on_http_only() -> None:
    assert values(platform(NODEPORT, client_address="forwarded-for")) == {
        "traefik": {"extraStaticConfig": {"entryPoints": {"http": {"forwardedHeaders": TRUSTED}}}}
    }
    assert values(platform(NODEPORT, client_address="none")) == {}


def test_no_traefik_trust_without_lets_encrypt() -> None:
    assert values(platform({**NODEPORT, "https": {"mode": "secret"}})) == {}


def test_a_restricted_hub_behind_haproxy_admits_only_the_lb_hosts() -> None:
    cfg = platform({**NODEPORT, "https": {"mode": "secret"}, "allowed_networks": RESTRICTED})
    assert values(cfg) == {
        "chp": {
            "networkPolicy": {
                "allowedIngressPorts": [],
                "ingress": [
                    {
                        "from": [{"ipBlock": {"cidr": c}} for c in TRUSTED["trustedIPs"]],
                        "ports": [{"port": "http"}, {"port": "https"}],
                    }
                ],
            }
        }
    }


def test_metallb_fixes_the_address_and_restricts_the_sources() -> None:
    metallb = {"metallb": {"addresses": ["192.0.2.240/29"]}}
    open_hub = platform({}, lbs=False, **metallb)
    assert values(open_hub) == {"service": {"loadBalancerIP": "192.0.2.240"}}
    assert proxy_service_patch(open_hub, open_hub.hubs[0]) == {"externalTrafficPolicy": "Local"}
    restricted = platform({"https": {"mode": "secret"}, "allowed_networks": RESTRICTED}, lbs=False, **metallb)
    assert values(restricted) == {
        "service": {"loadBalancerIP": "192.0.2.240", "loadBalancerSourceRanges": RESTRICTED},
        "chp": {
            "networkPolicy": {
                "allowedIngressPorts": [],
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": c}} for c in RESTRICTED], "ports": [{"port": "http"}, {"port": "https"}]}
                ],
            }
        },
    }


def test_a_sites_own_load_balancer_gets_nothing() -> None:
    cfg = platform({}, lbs=False, external_load_balancer=True)
    assert values(cfg) == {}
    assert not keeps_client_source(cfg, cfg.hubs[0]) and proxy_service_patch(cfg, cfg.hubs[0]) is None


def test_a_hub_left_without_a_pool_address_gets_none() -> None:
    # The rules refuse a pool smaller than the LoadBalancer hubs; the values then name no address.
    raw = {
        "inventory": copy.deepcopy(INVENTORY),
        "hubs": [copy.deepcopy(HUB), {**copy.deepcopy(HUB), "name": "second", "host": "second.example.org"}],
        "traffic": {"metallb": {"addresses": ["192.0.2.240/32"]}},
    }
    cfg = PlatformConfig.model_validate(raw)
    assert [proxy_traffic_values(cfg, h) for h in cfg.hubs] == [{"service": {"loadBalancerIP": "192.0.2.240"}}, {}]
