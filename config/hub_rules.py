"""Cross-section rules of the hubs: unique names and ports, login, HTTPS, queues, GPUs, sizes, database
(registered in `config.checks`; the group and queue-access rules live in `config.hub_access`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.gpu_queries import gpu_request_problem, gpu_seats
from config.hub_auth import OAUTH_TYPES, LdapAuth
from config.hub_database import HUB_DB_STORAGE_CLASS, HubDatabase, blocking_taints
from config.hub_queries import default_db_node, node_capacities
from config.inventory import Role
from config.queue_tree import Visit, show_amount, walk
from config.scheduler import amounts

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def _unique(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    seen: dict[tuple[str, object], str] = {}
    for i, hub in enumerate(cfg.hubs):
        # Node ports share one space on every node: one hub's HTTP port may not be another's (or its own) HTTPS port.
        keys: list[tuple[str, str, object]] = [
            ("name", "name", hub.name), ("namespace", "namespace", hub.k8s_namespace), ("host", "host", hub.host),
            ("http_node_port", "node port", hub.http_node_port), ("https_node_port", "node port", hub.https_node_port),
        ]  # fmt: skip
        for field, space, value in keys:
            if value is None:
                continue
            if (space, value) in seen:
                yield ConfigIssue(f"hubs.{i}.{field}", f"{value!r} is also used by {seen[(space, value)]}")
            seen.setdefault((space, value), f"hubs.{i}.{field}")
        slugs: dict[str, int] = {}
        for j, profile in enumerate(hub.profiles):
            if profile.slug in slugs:
                yield ConfigIssue(f"hubs.{i}.profiles.{j}.slug", f"duplicate slug (also profiles.{slugs[profile.slug]})")
            slugs.setdefault(profile.slug, j)
        defaults = [j for j, p in enumerate(hub.profiles) if p.default]
        if len(defaults) > 1:
            yield ConfigIssue(f"hubs.{i}.profiles.{defaults[1]}.default", "only one profile may be the default")


def _limits(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A limit below its guarantee: reported on the limit, the field to raise."""
    for i, hub in enumerate(cfg.hubs):
        for j, p in enumerate(hub.profiles):
            path = f"hubs.{i}.profiles.{j}"
            if p.cpu_limit < p.cpu_guarantee:
                yield ConfigIssue(f"{path}.cpu_limit", f"{p.cpu_limit:g} is below cpu_guarantee {p.cpu_guarantee:g}")
            if p.mem_limit_gib < p.mem_guarantee_gib:
                below = f"{p.mem_limit_gib:g} is below mem_guarantee_gib {p.mem_guarantee_gib:g}"
                yield ConfigIssue(f"{path}.mem_limit_gib", below)


def _auth(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for i, hub in enumerate(cfg.hubs):
        if hub.auth.type == "dummy":
            yield ConfigIssue(
                f"hubs.{i}.auth.type",
                "the dummy authenticator accepts any password: use generic-oauth, github, globus, ldap or native",
            )
        if hub.auth.type in OAUTH_TYPES and not hub.host:
            yield ConfigIssue(f"hubs.{i}.host", "OAuth needs the hub's public host name for its callback URL")
        if hub.auth.type == "native" and not hub.admin_users:
            yield ConfigIssue(f"hubs.{i}.admin_users", "NativeAuthenticator needs an admin to authorise sign-ups")
        if isinstance(hub.auth, LdapAuth) and hub.auth.lookup_dn and not hub.auth.lookup_dn_search_user:
            yield ConfigIssue(f"hubs.{i}.auth.lookup_dn_search_user", "lookup_dn needs a search (bind) user")


def _https(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    for i, hub in enumerate(cfg.hubs):
        if hub.https.mode in ("letsencrypt", "secret") and not hub.host:
            yield ConfigIssue(f"hubs.{i}.host", f"https.mode {hub.https.mode} needs the hub's host name")
        if hub.https.mode == "letsencrypt" and not hub.https.contact_email:
            yield ConfigIssue(f"hubs.{i}.https.contact_email", "Let's Encrypt needs a contact e-mail")


def _queues_and_gpus(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    scheduler = getattr(cfg, "scheduler", None)  # the scheduler section may be absent while it is written
    queues = set(scheduler.leaf_queue_paths()) if scheduler is not None else None
    seats = gpu_seats(cfg)
    for i, hub in enumerate(cfg.hubs):
        for j, profile in enumerate(hub.profiles):
            if queues is not None and profile.queue not in queues:
                yield ConfigIssue(
                    f"hubs.{i}.profiles.{j}.queue",
                    f"{profile.queue!r} is not a leaf queue of the scheduler (known: {', '.join(sorted(queues))})",
                )
            if profile.gpu > 0 and seats == 0:
                yield ConfigIssue(f"hubs.{i}.profiles.{j}.gpu", "this stack has no GPU pool (no GPU seats)")
            elif profile.gpu > 0 and (problem := gpu_request_problem(cfg, profile.gpu)):
                yield ConfigIssue(f"hubs.{i}.profiles.{j}.gpu", problem)
            if profile.gpu_product and profile.gpu == 0:
                yield ConfigIssue(f"hubs.{i}.profiles.{j}.gpu_product", "gpu_product needs gpu > 0")


def _fits_a_node(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    nodes = node_capacities(cfg)
    if not nodes:
        return
    for i, hub in enumerate(cfg.hubs):
        for j, p in enumerate(hub.profiles):
            if not any(n.cpus >= p.cpu_guarantee and n.memory_gib >= p.mem_guarantee_gib for n in nodes):
                yield ConfigIssue(
                    f"hubs.{i}.profiles.{j}.cpu_guarantee",
                    f"no schedulable node has {p.cpu_guarantee} CPUs and {p.mem_guarantee_gib} GiB free for this "
                    "profile: its servers would wait forever",
                )


def _database(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    nfs_class = getattr(getattr(cfg, "nfs", None), "storage_class_name", None)
    for i, hub in enumerate(cfg.hubs):
        db, path = hub.database, f"hubs.{i}.database"
        if db.type == "postgres" and not db.url:
            yield ConfigIssue(f"{path}.url", "database.type postgres needs the database URL")
        if db.type != "sqlite-pvc":
            if db.node is not None:
                yield ConfigIssue(f"{path}.node", "only a sqlite-pvc database lives on a node")
            continue
        if db.storage_class is not None and ("nfs" in db.storage_class.lower() or db.storage_class == nfs_class):
            yield ConfigIssue(f"{path}.storage_class", "the hub's SQLite database must not live on NFS")
        elif db.storage_class == HUB_DB_STORAGE_CLASS:
            yield ConfigIssue(
                f"{path}.storage_class",
                f"{HUB_DB_STORAGE_CLASS!r} only holds the volumes the platform creates: leave storage_class unset",
            )
        if not cfg.builds_cluster:
            yield from _existing_mode(db, path)
        elif db.storage_class is not None:
            if db.node is not None:
                yield ConfigIssue(f"{path}.node", "node applies only to the platform's volume: unset storage_class")
        else:
            yield from _placement(cfg, db, path)


def _existing_mode(db: HubDatabase, path: str) -> Iterator[ConfigIssue]:
    if db.storage_class is None:
        yield ConfigIssue(
            f"{path}.storage_class",
            "cluster.mode existing has no SSH access to create a local volume: name a StorageClass of that "
            "cluster (local or block storage, e.g. the laptop cluster's default class), or use type postgres",
        )
    if db.node is not None:
        yield ConfigIssue(f"{path}.node", "the platform places the database on a node only in kubeadm mode")


def _placement(cfg: PlatformConfig, db: HubDatabase, path: str) -> Iterator[ConfigIssue]:
    if db.node is None:
        if default_db_node(cfg) is None:
            yield ConfigIssue(
                f"{path}.node",
                "no worker without GPUs or blocking taints can hold the hub database: name a node or use postgres",
            )
        return
    node = next((n for n in cfg.inventory.nodes if n.name == db.node), None)
    if node is None:
        known = ", ".join(n.name for n in cfg.inventory.schedulable_nodes)
        yield ConfigIssue(f"{path}.node", f"unknown node {db.node!r} (schedulable nodes: {known})")
    elif not node.has(Role.WORKER):
        yield ConfigIssue(f"{path}.node", f"node {db.node!r} has no worker role: the hub pod cannot run there")
    elif blocking := blocking_taints(node):
        yield ConfigIssue(f"{path}.node", f"node {db.node!r} has taints the hub pod does not tolerate: {', '.join(blocking)}")


_PROFILE_FIELDS = {"vcore": "cpu_guarantee", "memory": "mem_guarantee_gib", "gpu": "gpu"}


def _queue_ceilings(v: Visit) -> Iterator[tuple[str, dict[str, int]]]:
    """What caps one server in leaf `v`: the queue's max (capped by its ancestors'), then every user limit
    that applies to all users (`users: ["*"]`) on the leaf and its ancestors."""
    yield f"the max of queue {v.queue_path}", v.effective_max
    node: Visit | None = v
    while node is not None:
        for i, limit in enumerate(node.queue.user_limits):
            if "*" in limit.users and limit.max_resources is not None:
                yield f"the per-user max_resources of queue {node.queue_path} ({node.path}.user_limits.{i})", amounts(
                    limit.max_resources
                )
        node = node.parent


def profiles_fit_queues(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """A profile whose guarantee is above its queue's max or a per-user max_resources can never start."""
    leaves = {v.queue_path: v for v in walk(cfg.scheduler) if v.queue.is_leaf}
    for i, hub in enumerate(cfg.hubs):
        for j, profile in enumerate(hub.profiles):
            leaf = leaves.get(profile.queue)
            if leaf is None:
                continue  # an unknown queue is reported by the hub rules
            request = {"vcore": round(profile.cpu_guarantee * 1000), "memory": round(profile.mem_guarantee_gib * 2**30)}
            if profile.gpu and gpu_request_problem(cfg, profile.gpu) is None:  # else reported by the hub rules
                request["gpu"] = profile.gpu
            for key, wanted in request.items():
                # One error per field: the first ceiling it does not fit under.
                for where, ceiling in _queue_ceilings(leaf):
                    if key in ceiling and wanted > ceiling[key]:
                        yield ConfigIssue(
                            f"hubs.{i}.profiles.{j}.{_PROFILE_FIELDS[key]}",
                            f"{show_amount(key, wanted)} is above {where}: {show_amount(key, ceiling[key])}; its servers "
                            "could never start (lower the guarantee or raise that limit)",
                        )
                        break


HUB_CHECKS = [_unique, _limits, _auth, _https, _database, _queues_and_gpus, _fits_a_node, profiles_fit_queues]
