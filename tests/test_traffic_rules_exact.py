"""Traffic rules (restricted hubs, entry points, HAProxy maxconn, hub VIP, MetalLB pool, fixed
addresses), each case compared with the EXACT set of (path, message) it yields. Counts have their
boundary case: maxconn equal to what the users need, as many free pool addresses as LoadBalancer hubs.

Base: the two-node inventory of `tests.hub_fixtures` plus two load-balancer hosts (lb-1 .11, lb-2 .12)
sharing the API VIP .10, and hubs built from `tests.hub_fixtures.HUB`."""

from __future__ import annotations

import copy
from typing import Any

from config.platform import PlatformConfig
from config.traffic_rules import TRAFFIC_CHECKS
from tests.hub_fixtures import HUB, INVENTORY

LBS = [
    {"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]},
    {"name": "lb-2", "address": "192.0.2.12", "roles": ["load-balancer"]},
]
NODEPORT = {"service_type": "NodePort", "http_node_port": 30080, "https_node_port": 30443, "https": {"mode": "secret"}}
PENDING = (
    "a LoadBalancer Service stays pending without a load-balancer provider: set traffic.metallb (an address pool), "
    "declare traffic.external_load_balancer: true, or use NodePort behind load-balancer hosts"
)
UNFORWARDED = (
    "nothing forwards users to this NodePort (one node's port dies with that node): give nodes the load-balancer "
    "role, declare traffic.external_load_balancer: true, or use LoadBalancer with traffic.metallb"
)
UNENFORCED = (
    "the platform enforces allowed_networks only on its own entry points: use service_type NodePort behind "
    "load-balancer hosts, or LoadBalancer with traffic.metallb"
)


def hub(name: str = "teaching", **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(HUB), "name": name, "host": f"{name}.example.org", **changes}


def issues(*hubs: dict[str, Any], lbs: bool = True, existing: bool = False, **sections: Any) -> set[tuple[str, str]]:
    inventory = copy.deepcopy(INVENTORY)
    raw: dict[str, Any] = {"inventory": inventory, "hubs": list(hubs), **sections}
    if lbs:
        inventory["nodes"] += copy.deepcopy(LBS)
        raw.setdefault("load_balancer", {"vip": "192.0.2.10"})
    if existing:
        raw["cluster"] = {"mode": "existing"}
        raw["nfs"] = {"mode": "external", "server": "nas.example.org"}
    cfg = PlatformConfig.model_validate(raw)
    found = [(i.path, i.message) for check in TRAFFIC_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def metallb(*addresses: str) -> dict[str, Any]:
    return {"metallb": {"addresses": list(addresses)}}


def test_a_hub_behind_haproxy_is_valid() -> None:
    assert issues(hub(**NODEPORT)) == set()


def test_restricted_hubs() -> None:
    restricted = {**NODEPORT, "allowed_networks": ["198.51.100.0/24"]}
    assert issues(hub(**restricted)) == set()
    assert issues(hub(**{**restricted, "https": {"mode": "letsencrypt", "contact_email": "ops@example.org"}})) == {
        (
            "hubs.0.https.mode",
            "a hub restricted by allowed_networks cannot use Let's Encrypt (its HTTP-01 validation comes from outside "
            "the allowed networks): use https.mode secret with a provided certificate (pulumi config set --secret "
            "hub_teaching_tls_cert < fullchain.pem; pulumi config set --secret hub_teaching_tls_key < privkey.pem)",
        ),
    }
    # Behind MetalLB the platform enforces it too; behind a site's load balancer it cannot.
    on_metallb = hub(allowed_networks=["198.51.100.0/24"], https={"mode": "secret"})
    assert issues(on_metallb, lbs=False, traffic=metallb("192.0.2.200/29")) == set()
    assert issues(on_metallb, lbs=False, traffic={"external_load_balancer": True}) == {("hubs.0.allowed_networks", UNENFORCED)}


def test_service_types_need_a_way_in() -> None:
    assert issues(hub(), lbs=False) == {("hubs.0.service_type", PENDING)}
    assert issues(hub(), lbs=False, traffic={"external_load_balancer": True}) == set()
    assert issues(hub(), lbs=False, traffic=metallb("192.0.2.200/29")) == set()
    # MetalLB is kubeadm-only: on an existing cluster the LoadBalancer stays pending (and metallb is refused).
    assert issues(hub(), lbs=False, existing=True, traffic=metallb("192.0.2.200/29")) == {
        ("hubs.0.service_type", PENDING),
        (
            "traffic.metallb",
            "only in kubeadm mode: an existing cluster brings its own; declare traffic.external_load_balancer: true instead",
        ),
    }
    assert issues(hub(**NODEPORT), lbs=False) == {("hubs.0.service_type", UNFORWARDED)}
    assert issues(hub(**NODEPORT), lbs=False, traffic={"external_load_balancer": True}) == set()
    # Load-balancer hosts on an existing cluster forward nothing.
    assert issues(hub(**NODEPORT), existing=True) == {("hubs.0.service_type", UNFORWARDED)}
    assert issues(hub(service_type="ClusterIP"), lbs=False) == set()


def test_what_haproxy_routes_by() -> None:
    bare = hub(service_type="NodePort", host=None, auth={"type": "native"}, https={"mode": "offload"})
    assert issues(bare) == {
        ("hubs.0.host", "the load balancer routes hubs by name (TLS SNI and Host): set the hub's host"),
        ("hubs.0.http_node_port", "a hub behind the load balancer needs a fixed HTTP node port (e.g. 30080)"),
    }
    assert issues(hub(service_type="NodePort", http_node_port=30080)) == {
        ("hubs.0.https_node_port", "a hub behind the load balancer needs a fixed HTTPS node port (e.g. 30443)"),
    }
    assert issues(hub(service_type="NodePort", http_node_port=30080, https={"mode": "secret"})) == {
        ("hubs.0.https_node_port", "a hub behind the load balancer needs a fixed HTTPS node port (e.g. 30443)"),
    }
    assert issues(hub(service_type="NodePort", http_node_port=30080, https={"mode": "offload"})) == set()


def test_proxy_pods_need_an_untainted_cpu_worker() -> None:
    raw_nodes = copy.deepcopy(INVENTORY["nodes"])
    for n in raw_nodes:
        n["taints"] = [{"key": "dedicated", "effect": "NoExecute"}]
    inventory = {"node_network": "192.0.2.0/24", "nodes": raw_nodes + copy.deepcopy(LBS)}
    message = ("inventory.nodes", "no untainted worker without GPUs can run the hubs' proxy pods")
    assert issues(hub(**NODEPORT), lbs=False, inventory=inventory, load_balancer={"vip": "192.0.2.10"}) == {message}
    raw_nodes[0]["taints"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    raw_nodes[1]["taints"] = [{"key": "dedicated", "effect": "PreferNoSchedule"}]
    assert issues(hub(**NODEPORT), lbs=False, inventory=inventory, load_balancer={"vip": "192.0.2.10"}) == set()
    # No hub behind HAProxy: no proxy pods to place.
    raw_nodes[1]["taints"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    assert (
        issues(hub(), lbs=False, inventory=inventory, load_balancer={"vip": "192.0.2.10"}, traffic=metallb("192.0.2.200/29"))
        == set()
    )


def test_maxconn_boundary() -> None:
    # 2000 reserved for the API + users x connections_per_user (default 8).
    hubs = [
        hub("a", **NODEPORT, users=1000),
        hub("b", **{**NODEPORT, "http_node_port": 30081, "https_node_port": 30444}, users=250),
    ]
    assert issues(*hubs, traffic={"maxconn": 12000}) == set()
    assert issues(*hubs, traffic={"maxconn": 11999}) == {
        (
            "traffic.maxconn",
            "11999 connections cannot hold the hubs' users (a 1000 users x 8 + b 250 users x 8 + 2000 for the API "
            "= 12000): raise it to at least 12000 or lower hubs[].users",
        ),
    }
    # Hubs not behind HAProxy do not count.
    assert issues(hub(users=100_000), lbs=False, traffic={"maxconn": 1000, "external_load_balancer": True}) == set()


def test_hub_vip() -> None:
    assert issues(hub(**NODEPORT), traffic={"hub_vip": "192.0.2.9"}) == set()
    assert issues(hub(**NODEPORT), traffic={"hub_vip": "192.0.2.10"}) == {
        ("traffic.hub_vip", "equals load_balancer.vip: leave hub_vip unset to share the API VIP"),
    }
    assert issues(hub(**NODEPORT), traffic={"hub_vip": "192.0.2.31"}) == {
        ("traffic.hub_vip", "192.0.2.31 is the address of node 'worker-1'"),
    }
    one_lb = copy.deepcopy(INVENTORY)
    one_lb["nodes"].append(copy.deepcopy(LBS[0]))
    assert issues(hub(**NODEPORT), lbs=False, inventory=one_lb, traffic={"hub_vip": "198.51.100.9"}) == {
        ("traffic.hub_vip", "a hub VIP needs two or more load-balancer hosts (keepalived moves it)"),
        ("traffic.hub_vip", "198.51.100.9 is outside inventory.node_network 192.0.2.0/24"),
    }


def test_metallb_pool_placement() -> None:
    lb_hub = hub()
    assert issues(lb_hub, lbs=False, traffic=metallb("192.0.2.200/29", "192.0.2.208/29")) == set()
    assert issues(lb_hub, lbs=False, traffic=metallb("198.51.100.0/29")) == {
        (
            "traffic.metallb.addresses.0",
            "198.51.100.0/29 is not inside inventory.node_network 192.0.2.0/24 (L2 mode answers ARP there only)",
        ),
    }
    pods = {
        "node_network": "10.244.0.0/16",
        "nodes": [{**n, "address": f"10.244.0.{k + 2}"} for k, n in enumerate(INVENTORY["nodes"])],
    }
    assert issues(
        lb_hub, lbs=False, inventory=pods, cluster={"pod_cidr": "10.244.0.0/24"}, traffic=metallb("10.244.0.128/29")
    ) == {
        ("traffic.metallb.addresses.0", "10.244.0.128/29 overlaps cluster.pod_cidr 10.244.0.0/24"),
    }
    services = {
        "node_network": "10.96.0.0/16",
        "nodes": [{**n, "address": f"10.96.0.{k + 2}"} for k, n in enumerate(INVENTORY["nodes"])],
    }
    assert issues(
        lb_hub, lbs=False, inventory=services, cluster={"service_cidr": "10.96.0.0/24"}, traffic=metallb("10.96.0.128/29")
    ) == {("traffic.metallb.addresses.0", "10.96.0.128/29 overlaps cluster.service_cidr 10.96.0.0/24")}
    assert issues(lb_hub, lbs=False, traffic=metallb("192.0.2.200/29", "192.0.2.204/30", "192.0.2.192/28")) == {
        ("traffic.metallb.addresses.1", "192.0.2.204/30 overlaps traffic.metallb.addresses.0 192.0.2.200/29"),
        ("traffic.metallb.addresses.2", "192.0.2.192/28 overlaps traffic.metallb.addresses.0 192.0.2.200/29"),
        ("traffic.metallb.addresses.2", "192.0.2.192/28 overlaps traffic.metallb.addresses.1 192.0.2.204/30"),
    }


def test_metallb_pool_against_taken_addresses() -> None:
    nodeport = hub("np", **NODEPORT)
    found = issues(hub(), nodeport, traffic={**metallb("192.0.2.8/29", "192.0.2.20/30"), "hub_vip": "192.0.2.9"})
    assert found == {
        ("traffic.metallb.addresses.0", "192.0.2.8/29 contains 192.0.2.9, the address of traffic.hub_vip"),
        ("traffic.metallb.addresses.0", "192.0.2.8/29 contains 192.0.2.10, the address of load_balancer.vip"),
        ("traffic.metallb.addresses.0", "192.0.2.8/29 contains 192.0.2.11, the address of node 'lb-1'"),
        ("traffic.metallb.addresses.0", "192.0.2.8/29 contains 192.0.2.12, the address of node 'lb-2'"),
        ("traffic.metallb.addresses.1", "192.0.2.20/30 contains 192.0.2.21, the address of node 'cp-1'"),
    }


def test_fixed_load_balancer_ips() -> None:
    pool = metallb("192.0.2.200/30")
    assert issues(hub("a", load_balancer_ip="192.0.2.201"), hub("b"), lbs=False, traffic=pool) == set()
    assert issues(
        hub("a", load_balancer_ip="192.0.2.201"),
        hub("b", load_balancer_ip="192.0.2.201"),
        hub("c", load_balancer_ip="192.0.2.99"),
        lbs=False,
        traffic=pool,
    ) == {
        ("hubs.1.load_balancer_ip", "192.0.2.201 is also used by hubs.0"),
        ("hubs.2.load_balancer_ip", "192.0.2.99 is not in traffic.metallb.addresses"),
    }
    only_lb = "only for service_type LoadBalancer with traffic.metallb"
    assert issues(hub(load_balancer_ip="192.0.2.201"), lbs=False, traffic={"external_load_balancer": True}) == {
        ("hubs.0.load_balancer_ip", only_lb),
    }
    assert issues(hub(**NODEPORT, load_balancer_ip="192.0.2.201"), traffic=pool) == {("hubs.0.load_balancer_ip", only_lb)}


def test_pool_size_boundary() -> None:
    # A /30 holds four addresses; none is reserved here.
    four = [hub(name) for name in ("a", "b", "c", "d")]
    assert issues(*four, lbs=False, traffic=metallb("192.0.2.200/30")) == set()
    assert issues(*four, hub("e"), lbs=False, traffic=metallb("192.0.2.200/30")) == {
        ("traffic.metallb.addresses", "5 LoadBalancer hubs need as many addresses; the pool has 4 free"),
    }
    # Reserved addresses in the pool are not free (each is also reported on its own).
    assert issues(*four, lbs=False, traffic=metallb("192.0.2.20/30")) == {
        ("traffic.metallb.addresses.0", "192.0.2.20/30 contains 192.0.2.21, the address of node 'cp-1'"),
        ("traffic.metallb.addresses", "4 LoadBalancer hubs need as many addresses; the pool has 3 free"),
    }
