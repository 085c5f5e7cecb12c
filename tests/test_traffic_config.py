"""Traffic rules (config.traffic_rules): exact dotted paths and messages, all problems at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.platform import PlatformConfig
from config.traffic_queries import hub_entry, metallb_addresses, proxy_nodes
from tests.test_config_rules import SECRETS, dev, prod


def issues(raw: dict[str, Any]) -> dict[str, list[str]]:
    try:
        load_platform(raw, SECRETS)
    except ConfigError as err:
        found: dict[str, list[str]] = {}
        for issue in err.issues:
            found.setdefault(issue.path, []).append(issue.message)
        return found
    return {}


def hub(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in raw["hubs"] if h["name"] == name)


def test_committed_stacks_have_a_way_in_for_every_hub() -> None:
    p = PlatformConfig.model_validate(prod())
    assert {h.name: hub_entry(p, h) for h in p.hubs} == {
        name: hub_entry(p, p.hubs[0]) for name in ("teaching", "exam", "grading")
    }
    assert hub_entry(p, p.hubs[0]).via == "haproxy" and hub_entry(p, p.hubs[0]).address == "192.0.2.10"
    assert [n for n, _ in proxy_nodes(p)] == ["worker-1", "worker-2"]  # gpu-1 is tainted for GPU pods only
    d = PlatformConfig.model_validate(dev())
    assert hub_entry(d, d.hubs[0]).via == "metallb" and hub_entry(d, d.hubs[0]).address == "192.0.2.240"


def test_a_restricted_hub_cannot_use_lets_encrypt() -> None:
    raw = prod()
    hub(raw, "exam")["https"] = {"mode": "letsencrypt", "contact_email": "ops@example.org"}
    assert issues(raw) == {
        "hubs.1.https.mode": [
            "a hub restricted by allowed_networks cannot use Let's Encrypt (its HTTP-01 validation comes from outside "
            "the allowed networks): use https.mode secret with a provided certificate (pulumi config set --secret "
            "hub_exam_tls_cert < fullchain.pem; pulumi config set --secret hub_exam_tls_key < privkey.pem)"
        ]
    }


def test_allowed_networks_must_be_networks() -> None:
    raw = prod()
    hub(raw, "exam")["allowed_networks"] = ["198.51.100.7/24"]
    assert list(issues(raw)) == ["hubs.1.allowed_networks.0"]


def test_a_loadbalancer_hub_needs_a_provider() -> None:
    raw = dev()
    del raw["traffic"]
    assert issues(raw) == {
        "hubs.0.service_type": [
            "a LoadBalancer Service stays pending without a load-balancer provider: set traffic.metallb (an address "
            "pool), declare traffic.external_load_balancer: true, or use NodePort behind load-balancer hosts"
        ]
    }
    raw["traffic"] = {"external_load_balancer": True}
    assert issues(raw) == {}


def test_a_nodeport_hub_needs_something_in_front() -> None:
    raw = dev()
    hub(raw, "dev")["service_type"] = "NodePort"
    assert issues(raw)["hubs.0.service_type"] == [
        "nothing forwards users to this NodePort (one node's port dies with that node): give nodes the load-balancer "
        "role, declare traffic.external_load_balancer: true, or use LoadBalancer with traffic.metallb"
    ]


def test_hubs_behind_the_load_balancer_need_a_host_and_node_ports() -> None:
    raw = prod()
    teaching = hub(raw, "teaching")
    del teaching["host"], teaching["http_node_port"], teaching["https_node_port"]
    teaching["auth"] = {"type": "native"}
    teaching["https"] = {"mode": "secret"}
    found = issues(raw)
    # one message per field (no cascades): the load balancer's need for the host is not repeated
    assert found["hubs.0.host"] == ["https.mode secret needs the hub's host name"]
    assert found["hubs.0.http_node_port"] == ["a hub behind the load balancer needs a fixed HTTP node port (e.g. 30080)"]
    assert found["hubs.0.https_node_port"] == ["a hub behind the load balancer needs a fixed HTTPS node port (e.g. 30443)"]


def test_restricted_hub_needs_a_platform_entry_point() -> None:
    raw = prod()
    exam = hub(raw, "exam")
    exam["service_type"] = "LoadBalancer"
    raw["traffic"]["external_load_balancer"] = True
    assert issues(raw) == {
        "hubs.1.allowed_networks": [
            "the platform enforces allowed_networks only on its own entry points: use service_type NodePort behind "
            "load-balancer hosts, or LoadBalancer with traffic.metallb"
        ]
    }


def test_maxconn_must_hold_the_hubs_users() -> None:
    raw = prod()
    hub(raw, "teaching")["users"] = 1500
    raw["traffic"]["maxconn"] = 12000
    assert issues(raw) == {
        "traffic.maxconn": [
            "12000 connections cannot hold the hubs' users (teaching 1500 users x 8 + exam 200 users x 8 + grading "
            "200 users x 8 + 2000 for the API = 17200): raise it to at least 17200 or lower hubs[].users"
        ]
    }
    raw["traffic"]["maxconn"] = 17200
    assert issues(raw) == {}


def test_hub_vip() -> None:
    raw = prod()
    raw["traffic"]["hub_vip"] = "192.0.2.10"
    assert issues(raw) == {"traffic.hub_vip": ["equals load_balancer.vip: leave hub_vip unset to share the API VIP"]}
    raw["traffic"]["hub_vip"] = "192.0.2.31"
    assert issues(raw) == {"traffic.hub_vip": ["192.0.2.31 is the address of node 'worker-1'"]}
    raw["traffic"]["hub_vip"] = "198.51.100.1"
    assert issues(raw) == {"traffic.hub_vip": ["198.51.100.1 is outside inventory.node_network 192.0.2.0/24"]}
    raw["traffic"]["hub_vip"] = "192.0.2.9"
    cfg = load_platform(raw, SECRETS)
    assert hub_entry(cfg, cfg.hubs[0]).address == "192.0.2.9"


def _pool(*addresses: str) -> dict[str, Any]:
    raw = dev()
    raw["traffic"]["metallb"]["addresses"] = list(addresses)
    return raw


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (
            ["198.51.100.0/29"],
            {
                "traffic.metallb.addresses.0": [
                    "198.51.100.0/29 is not inside inventory.node_network 192.0.2.0/24 (L2 mode answers ARP there only)"
                ]
            },
        ),
        (["192.0.2.96/28"], {"traffic.metallb.addresses.0": ["192.0.2.96/28 contains 192.0.2.100, the address of node 'dev-1'"]}),
        (
            ["192.0.2.240/29", "192.0.2.244/30"],
            {"traffic.metallb.addresses.1": ["192.0.2.244/30 overlaps traffic.metallb.addresses.0 192.0.2.240/29"]},
        ),
    ],
)
def test_metallb_pool_rules(addresses: list[str], expected: dict[str, list[str]]) -> None:
    assert issues(_pool(*addresses)) == expected


def test_metallb_pool_must_avoid_the_vip_and_cluster_networks() -> None:
    raw = prod()
    raw["traffic"]["metallb"] = {"addresses": ["192.0.2.8/30", "10.96.0.0/30"]}
    raw["inventory"]["node_network"] = "0.0.0.0/0"
    raw["cluster"]["pod_cidr"], raw["cluster"]["service_cidr"] = "10.244.0.0/16", "10.96.0.0/12"
    found = issues(raw)
    assert "192.0.2.8/30 contains 192.0.2.10, the address of load_balancer.vip" in found["traffic.metallb.addresses.0"]
    assert "10.96.0.0/30 overlaps cluster.service_cidr 10.96.0.0/12" in found["traffic.metallb.addresses.1"]


def test_metallb_addresses_for_hubs() -> None:
    raw = _pool("192.0.2.240/32")
    second = copy.deepcopy(hub(raw, "dev")) | {"name": "dev2", "host": "dev2.example.org"}
    raw["hubs"].append(second)
    assert issues(raw)["traffic.metallb.addresses"] == ["2 LoadBalancer hubs need as many addresses; the pool has 1 free"]
    raw = _pool("192.0.2.240/30")
    raw["hubs"].append(second | {"load_balancer_ip": "192.0.2.240"})
    cfg = load_platform(raw, SECRETS | {"hub_dev2_oauth_client_secret"})
    assert {k: str(v) for k, v in metallb_addresses(cfg).items()} == {"dev": "192.0.2.241", "dev2": "192.0.2.240"}
    raw["hubs"][1]["load_balancer_ip"] = "192.0.2.250"
    assert issues(raw)["hubs.1.load_balancer_ip"] == ["192.0.2.250 is not in traffic.metallb.addresses"]


def test_metallb_only_in_kubeadm_mode() -> None:
    raw = dev()
    raw["cluster"]["mode"] = "existing"
    found = issues(raw)
    assert found["traffic.metallb"] == [
        "only in kubeadm mode: an existing cluster brings its own; declare traffic.external_load_balancer: true instead"
    ]


def test_load_balancer_ip_only_with_metallb() -> None:
    raw = prod()
    hub(raw, "teaching")["load_balancer_ip"] = "192.0.2.240"
    assert issues(raw) == {"hubs.0.load_balancer_ip": ["only for service_type LoadBalancer with traffic.metallb"]}


def test_hubs_behind_the_load_balancer_need_a_node_for_their_proxy() -> None:
    raw = prod()
    for node in raw["inventory"]["nodes"]:
        if node["name"].startswith("worker-"):
            node["taints"] = [{"key": "dedicated", "value": "batch"}]
    assert issues(raw)["inventory.nodes"] == ["no untainted worker without GPUs can run the hubs' proxy pods"]


def test_hub_vip_needs_two_load_balancer_hosts() -> None:
    raw = prod()
    raw["inventory"]["nodes"] = [n for n in raw["inventory"]["nodes"] if n["name"] != "lb-2"]
    del raw["load_balancer"]["vip"]
    raw["traffic"]["hub_vip"] = "192.0.2.9"
    assert issues(raw) == {"traffic.hub_vip": ["a hub VIP needs two or more load-balancer hosts (keepalived moves it)"]}


def test_metallb_pool_must_avoid_the_pod_network_and_hubs_their_addresses() -> None:
    raw = dev()
    raw["inventory"]["node_network"] = "10.0.0.0/8"
    raw["inventory"]["nodes"][0]["address"] = "10.1.0.10"
    raw["cluster"]["pod_cidr"], raw["cluster"]["service_cidr"] = "172.16.0.0/16", "172.20.0.0/16"
    raw["traffic"]["metallb"]["addresses"] = ["10.2.0.0/30"]
    assert issues(raw) == {}
    raw["cluster"]["pod_cidr"] = "10.2.0.0/16"
    found = issues(raw)
    assert found["traffic.metallb.addresses.0"] == ["10.2.0.0/30 overlaps cluster.pod_cidr 10.2.0.0/16"]
    raw = _pool("192.0.2.240/30")
    twin = copy.deepcopy(hub(raw, "dev")) | {"name": "dev2", "host": "dev2.example.org", "load_balancer_ip": "192.0.2.241"}
    hub(raw, "dev")["load_balancer_ip"] = "192.0.2.241"
    raw["hubs"].append(twin)
    assert issues(raw)["hubs.1.load_balancer_ip"] == ["192.0.2.241 is also used by hubs.0"]
