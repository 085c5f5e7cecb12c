"""Hub rules (unique names and ports, limits, login, HTTPS, queues, GPUs, sizes, database, queue
ceilings), each case compared with the EXACT set of (path, message) it yields. Numeric rules have
their boundary case: a limit equal to its guarantee, a guarantee equal to a node's size or to a
queue's max, passes.

The configs are one hub (`tests.hub_fixtures.HUB`) on the two-node inventory there: cp-1 has 16
CPUs and 64 GiB, worker-1 32 and 128; the default scheduler has one leaf, `root.users`."""

from __future__ import annotations

import copy
from typing import Any

from config.hub_rules import HUB_CHECKS
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

P0, P1 = "hubs.0.profiles.0", "hubs.0.profiles.1"
GPU_NODE = {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "cpus": 16, "memory_gib": 64}
NO_ROOM = "its servers would wait forever"
NEVER = "its servers could never start (lower the guarantee or raise that limit)"


def issues(*hubs: dict[str, Any], **sections: Any) -> set[tuple[str, str]]:
    raw: dict[str, Any] = {"inventory": copy.deepcopy(INVENTORY), "hubs": list(hubs), **sections}
    cfg = PlatformConfig.model_validate(raw)
    found = [(i.path, i.message) for check in HUB_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def hub(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(HUB), **changes}


def profile(slug: str, **fields: Any) -> dict[str, Any]:
    return {"slug": slug, "display_name": slug.title(), "queue": "root.users", **fields}


def with_gpus(count: int, **gpu: Any) -> dict[str, Any]:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append({**GPU_NODE, "gpu": {"model": "H100-80GB", "count": count}})
    return {"inventory": inventory, **({"gpu": gpu} if gpu else {})}


def test_the_fixture_hub_is_valid() -> None:
    assert issues(hub()) == set()


def test_names_namespaces_hosts_and_node_ports_are_unique() -> None:
    first = hub(name="a", http_node_port=30080, https_node_port=30443)
    second = hub(name="a", host="hub.example.org", http_node_port=30443, https_node_port=30444)
    assert issues(first, second) == {
        ("hubs.1.name", "'a' is also used by hubs.0.name"),
        ("hubs.1.namespace", "'jhub-a' is also used by hubs.0.namespace"),
        ("hubs.1.host", "'hub.example.org' is also used by hubs.0.host"),
        ("hubs.1.http_node_port", "30443 is also used by hubs.0.https_node_port"),
    }
    # One hub's own HTTP and HTTPS ports collide too.
    assert issues(hub(http_node_port=30080, https_node_port=30080)) == {
        ("hubs.0.https_node_port", "30080 is also used by hubs.0.http_node_port"),
    }
    # Unset values (no host, no node ports) never collide; a third use names the first.
    third = hub(name="c", host="c.example.org")
    assert issues(hub(name="a", host="a.example.org"), hub(name="b", host="b.example.org"), third) == set()
    assert issues(hub(name="a"), hub(name="b", host="x.example.org"), hub(name="c")) == {
        ("hubs.2.host", "'hub.example.org' is also used by hubs.0.host"),
    }


def test_profile_slugs_and_defaults() -> None:
    profiles = [profile("a", default=True), profile("b"), profile("a"), profile("c", default=True), profile("d", default=True)]
    assert issues(hub(profiles=profiles)) == {
        ("hubs.0.profiles.2.slug", "duplicate slug (also profiles.0)"),
        ("hubs.0.profiles.3.default", "only one profile may be the default"),
    }


def test_limit_below_guarantee_boundary() -> None:
    equal = profile("x", cpu_guarantee=2, cpu_limit=2, mem_guarantee_gib=4, mem_limit_gib=4)
    assert issues(hub(profiles=[equal])) == set()
    below = profile("x", cpu_guarantee=2, cpu_limit=1.5, mem_guarantee_gib=4, mem_limit_gib=3.5)
    assert issues(hub(profiles=[profile("a"), below])) == {
        (f"{P1}.cpu_limit", "1.5 is below cpu_guarantee 2"),
        (f"{P1}.mem_limit_gib", "3.5 is below mem_guarantee_gib 4"),
    }


def test_login_rules() -> None:
    assert issues(hub(auth={"type": "dummy"}, https={"mode": "offload"})) == {
        ("hubs.0.auth.type", "the dummy authenticator accepts any password: use generic-oauth, github, globus, ldap or native"),
    }
    oauth = {"type": "github", "client_id": "x", "allowed_organizations": ["uni"]}
    assert issues(hub(auth=oauth, host=None, https={"mode": "offload"})) == {
        ("hubs.0.host", "OAuth needs the hub's public host name for its callback URL"),
    }
    assert issues(hub(auth={"type": "native"}, admin_users=[], https={"mode": "offload"}, host=None)) == {
        ("hubs.0.admin_users", "NativeAuthenticator needs an admin to authorise sign-ups"),
    }
    assert issues(hub(auth={"type": "native"}, https={"mode": "offload"}, host=None)) == set()
    ldap = {"type": "ldap", "server_address": "ldap.example.org", "lookup_dn": True, "user_search_base": "ou=people"}
    assert issues(hub(auth=ldap)) == {("hubs.0.auth.lookup_dn_search_user", "lookup_dn needs a search (bind) user")}
    assert issues(hub(auth={**ldap, "lookup_dn_search_user": "cn=reader"})) == set()
    assert issues(hub(auth={**ldap, "lookup_dn": False, "bind_dn_template": ["uid={username},ou=people"]})) == set()


def test_https_rules() -> None:
    assert issues(hub(auth={"type": "native"}, host=None)) == {
        ("hubs.0.host", "https.mode letsencrypt needs the hub's host name"),
    }
    assert issues(hub(auth={"type": "native"}, host=None, https={"mode": "secret"})) == {
        ("hubs.0.host", "https.mode secret needs the hub's host name"),
    }
    assert issues(hub(https={"mode": "letsencrypt"})) == {("hubs.0.https.contact_email", "Let's Encrypt needs a contact e-mail")}
    assert issues(hub(https={"mode": "secret"})) == set()


def test_unknown_queue_and_gpu_requests_without_a_pool() -> None:
    profiles = [profile("a", queue="root.nope"), profile("b", gpu=1), profile("c", gpu_product="H100-80GB")]
    assert issues(hub(profiles=profiles)) == {
        (f"{P0}.queue", "'root.nope' is not a leaf queue of the scheduler (known: root.users)"),
        (f"{P1}.gpu", "this stack has no GPU pool (no GPU seats)"),
        ("hubs.0.profiles.2.gpu_product", "gpu_product needs gpu > 0"),
    }


def test_gpu_requests_against_the_largest_node_boundary() -> None:
    profiles = [profile("g", gpu=2, gpu_product="H100-80GB", cpu_guarantee=1, mem_guarantee_gib=1)]
    assert issues(hub(profiles=profiles), **with_gpus(2)) == set()
    assert issues(hub(profiles=profiles), **with_gpus(1)) == {
        (f"{P0}.gpu", "2 GPU seats do not fit on any GPU node (largest has 1)"),
    }
    time_sliced = {"sharing": {"mode": "time-slicing"}}
    assert issues(hub(profiles=profiles), **with_gpus(2, **time_sliced)) == {
        (f"{P0}.gpu", "time-sliced GPUs are handed out one replica per pod (gpu.sharing.time_slicing)"),
    }


def test_guarantees_must_fit_one_node_boundary() -> None:
    # worker-1 has 32 CPUs and 128 GiB; cp-1 16 and 64: the pair must fit on the same node.
    fits = profile("x", cpu_guarantee=32, cpu_limit=32, mem_guarantee_gib=128, mem_limit_gib=128)
    assert issues(hub(profiles=[fits])) == set()
    too_many_cpus = profile("x", cpu_guarantee=33, cpu_limit=33, mem_guarantee_gib=1, mem_limit_gib=1)
    too_much_memory = profile("y", cpu_guarantee=1, cpu_limit=1, mem_guarantee_gib=129, mem_limit_gib=129)
    neither_node = profile("z", cpu_guarantee=17, cpu_limit=17, mem_guarantee_gib=65, mem_limit_gib=200)
    split = profile("w", cpu_guarantee=16, cpu_limit=16, mem_guarantee_gib=128, mem_limit_gib=128)
    assert issues(hub(profiles=[too_many_cpus, too_much_memory, split])) == {
        (f"{P0}.cpu_guarantee", f"no schedulable node has 33.0 CPUs and 1.0 GiB free for this profile: {NO_ROOM}"),
        (f"{P1}.cpu_guarantee", f"no schedulable node has 1.0 CPUs and 129.0 GiB free for this profile: {NO_ROOM}"),
    }
    assert issues(hub(profiles=[neither_node])) == set()


def test_database_types() -> None:
    assert issues(hub(database={"type": "postgres"})) == {
        ("hubs.0.database.url", "database.type postgres needs the database URL")
    }
    url = "postgresql://hub@db.example.org/hub"
    assert issues(hub(database={"type": "postgres", "url": url})) == set()
    assert issues(hub(database={"type": "postgres", "url": url, "node": "worker-1"})) == {
        ("hubs.0.database.node", "only a sqlite-pvc database lives on a node"),
    }


def test_sqlite_storage_classes() -> None:
    on_nfs = "the hub's SQLite database must not live on NFS"
    assert issues(hub(database={"storage_class": "my-NFS".lower()})) == {("hubs.0.database.storage_class", on_nfs)}
    assert issues(hub(database={"storage_class": "nfs-retain"})) == {("hubs.0.database.storage_class", on_nfs)}
    # A class named like the NFS class (whatever the name) is NFS too.
    assert issues(hub(database={"storage_class": "homes"}), nfs={"storage_class_name": "homes"}) == {
        ("hubs.0.database.storage_class", on_nfs),
    }
    assert issues(hub(database={"storage_class": "hub-db-local"})) == {
        (
            "hubs.0.database.storage_class",
            "'hub-db-local' only holds the volumes the platform creates: leave storage_class unset",
        ),
    }
    assert issues(hub(database={"storage_class": "local-path"})) == set()
    assert issues(hub(database={"storage_class": "local-path", "node": "worker-1"})) == {
        ("hubs.0.database.node", "node applies only to the platform's volume: unset storage_class"),
    }


def test_sqlite_on_an_existing_cluster() -> None:
    existing = {"cluster": {"mode": "existing"}, "nfs": {"mode": "external", "server": "nas.example.org"}}
    assert issues(hub(database={"storage_class": "standard"}), **existing) == set()
    assert issues(hub(database={"node": "worker-1"}), **existing) == {
        (
            "hubs.0.database.storage_class",
            "cluster.mode existing has no SSH access to create a local volume: name a StorageClass of that "
            "cluster (local or block storage, e.g. the laptop cluster's default class), or use type postgres",
        ),
        ("hubs.0.database.node", "the platform places the database on a node only in kubeadm mode"),
    }


def test_sqlite_placement_on_a_node() -> None:
    assert issues(hub(database={"node": "worker-1"})) == set()
    assert issues(hub(database={"node": "nope"})) == {
        ("hubs.0.database.node", "unknown node 'nope' (schedulable nodes: cp-1, worker-1)"),
    }
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"].append({"name": "nfs-1", "address": "192.0.2.51", "roles": ["nfs"]})
    inventory["nodes"][0]["roles"] = ["control-plane", "worker"]
    assert issues(hub(database={"node": "nfs-1"}), inventory=inventory) == {
        ("hubs.0.database.node", "node 'nfs-1' has no worker role: the hub pod cannot run there"),
    }
    tainted = copy.deepcopy(INVENTORY)
    tainted["nodes"][1]["taints"] = [{"key": "dedicated", "value": "exams", "effect": "NoSchedule"}]
    assert issues(hub(database={"node": "worker-1"}), inventory=tainted) == {
        ("hubs.0.database.node", "node 'worker-1' has taints the hub pod does not tolerate: dedicated=exams:NoSchedule"),
    }


def test_no_default_database_node() -> None:
    inventory = copy.deepcopy(INVENTORY)
    for n in inventory["nodes"]:
        n["taints"] = [{"key": "dedicated", "effect": "NoExecute"}]
    assert issues(hub(), inventory=inventory) == {
        (
            "hubs.0.database.node",
            "no worker without GPUs or blocking taints can hold the hub database: name a node or use postgres",
        ),
    }
    # PreferNoSchedule only prefers: the hub pod may still land there.
    for n in inventory["nodes"]:
        n["taints"] = [{"key": "dedicated", "effect": "PreferNoSchedule"}]
    assert issues(hub(), inventory=inventory) == set()


def scheduler(leaf: dict[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    users = {"name": "users", "submit_acl": {"everyone": True}, **(leaf or {})}
    return {"queues": [{"name": "root", "queues": [users], **root}]}


def sized(cpus: float, gib: float, **extra: Any) -> dict[str, Any]:
    return profile("x", cpu_guarantee=cpus, cpu_limit=cpus, mem_guarantee_gib=gib, mem_limit_gib=gib, **extra)


def test_guarantees_against_the_queue_max_boundary() -> None:
    limited = scheduler({"max": {"vcore": "4", "memory": "8Gi"}})
    assert issues(hub(profiles=[sized(4, 8)]), scheduler=limited) == set()
    assert issues(hub(profiles=[sized(4.5, 9)]), scheduler=limited) == {
        (
            f"{P0}.cpu_guarantee",
            "4.5 cores is above the max of queue root.users: 4 cores; " + NEVER,
        ),
        (
            f"{P0}.mem_guarantee_gib",
            "9.0Gi is above the max of queue root.users: 8.0Gi; its servers could never start "
            "(lower the guarantee or raise that limit)",
        ),
    }
    # The root's max caps its children.
    assert issues(hub(profiles=[sized(3, 1)]), scheduler=scheduler(max={"vcore": "2", "memory": "64Gi"})) == {
        (
            f"{P0}.cpu_guarantee",
            "3 cores is above the max of queue root.users: 2 cores; " + NEVER,
        ),
    }


def test_guarantees_against_per_user_limits() -> None:
    per_user = {"users": ["*"], "max_servers": 1, "max_resources": {"vcore": "2", "memory": "64Gi"}}
    named = {"users": ["alice"], "max_servers": 1, "max_resources": {"vcore": "1", "memory": "1Gi"}}
    on_leaf = scheduler({"user_limits": [named, per_user]})
    assert issues(hub(profiles=[sized(2, 4)]), scheduler=on_leaf) == set()
    assert issues(hub(profiles=[sized(3, 4)]), scheduler=on_leaf) == {
        (
            f"{P0}.cpu_guarantee",
            "3 cores is above the per-user max_resources of queue root.users "
            "(scheduler.queues.0.queues.0.user_limits.1): 2 cores; " + NEVER,
        ),
    }
    on_root = scheduler(user_limits=[per_user])
    assert issues(hub(profiles=[sized(3, 4)]), scheduler=on_root) == {
        (
            f"{P0}.cpu_guarantee",
            "3 cores is above the per-user max_resources of queue root (scheduler.queues.0.user_limits.0): 2 cores; " + NEVER,
        ),
    }
    # A limit on servers only (no max_resources) caps no size.
    assert (
        issues(hub(profiles=[sized(3, 4)]), scheduler=scheduler({"user_limits": [{"users": ["*"], "max_servers": 2}]})) == set()
    )


def test_gpu_guarantee_against_the_queue_max() -> None:
    gpus = with_gpus(2)
    limited = scheduler({"max": {"vcore": "64", "memory": "256Gi", "gpu": "1"}})
    assert issues(hub(profiles=[sized(1, 1, gpu=1)]), scheduler=limited, **gpus) == set()
    assert issues(hub(profiles=[sized(1, 1, gpu=2)]), scheduler=limited, **gpus) == {
        (
            f"{P0}.gpu",
            "2 GPU seat(s) is above the max of queue root.users: 1 GPU seat(s); " + NEVER,
        ),
    }
    # A request the GPU rules refuse is not reported a second time against the queue.
    assert issues(hub(profiles=[sized(1, 1, gpu=3)]), scheduler=limited, **gpus) == {
        (f"{P0}.gpu", "3 GPU seats do not fit on any GPU node (largest has 2)"),
    }


def test_lists_in_messages_are_comma_separated() -> None:
    two_leaves = {"queues": [{"name": "root", "queues": [
        {"name": "b", "submit_acl": {"everyone": True}}, {"name": "a", "submit_acl": {"everyone": True}},
    ]}]}  # fmt: skip
    assert issues(hub(profiles=[profile("x", queue="root.c")]), scheduler=two_leaves) == {
        (f"{P0}.queue", "'root.c' is not a leaf queue of the scheduler (known: root.a, root.b)"),
    }
    tainted = copy.deepcopy(INVENTORY)
    tainted["nodes"][1]["taints"] = [
        {"key": "dedicated", "value": "exams", "effect": "NoSchedule"},
        {"key": "maintenance", "effect": "NoExecute"},
    ]
    assert issues(hub(database={"node": "worker-1"}), inventory=tainted) == {
        (
            "hubs.0.database.node",
            "node 'worker-1' has taints the hub pod does not tolerate: dedicated=exams:NoSchedule, maintenance:NoExecute",
        ),
    }
