"""A hub's own database: SQLite on a node-local volume the platform provides, or external PostgreSQL.

In kubeadm mode a `sqlite-pvc` hub with no `storage_class` gets a static `local` PersistentVolume
on one schedulable node (class `hub-db-local`, directory created over SSH), so the default works on
bare metal with no storage provisioner. In `existing` mode there is no SSH access: the hub must name
a StorageClass of that cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from config.base import StrictModel
from config.errors import ConfigIssue
from config.inventory import NODE_NAME_PATTERN, Node, Role

if TYPE_CHECKING:
    from config.hubs import HubConfig
    from config.platform import PlatformConfig

HUB_DB_STORAGE_CLASS = "hub-db-local"
"""StorageClass of the platform's node-local hub database volumes (no provisioner: static PVs only)."""
# Taints the z2jh 4.4.0 hub pod tolerates (chart default `scheduling.corePods.tolerations`).
HUB_TOLERATED_TAINTS = frozenset({("hub.jupyter.org/dedicated", "core"), ("hub.jupyter.org_dedicated", "core")})


class HubDatabase(StrictModel):
    """Where the hub keeps its own database. Never on NFS: SQLite locking is broken there."""

    type: Literal["sqlite-pvc", "postgres"] = "sqlite-pvc"
    """`sqlite-pvc` (SQLite on a volume of one node) or an external PostgreSQL (survives node loss)."""
    storage_class: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")] | None = None
    """StorageClass of the hub's SQLite volume (sqlite-pvc). Leave unset in kubeadm mode: the platform
    then provides a local volume on `node` itself (class `hub-db-local`, no provisioner needed). Required
    in `existing` mode (e.g. the laptop cluster's default class). Must be local or block storage, not NFS."""
    node: Annotated[str, Field(pattern=NODE_NAME_PATTERN)] | None = None
    """Node that holds the hub's SQLite file (kubeadm mode, platform-provided volume only), under
    `/var/lib/jupyterhub-platform/hub-db/<hub>`. Default: the first node with the `worker` role that is not
    a GPU node and has no taint the hub does not tolerate. Trade-off: the volume is pinned to that node, so
    the hub pod can only ever (re)start there; if the node is down the hub is down (running notebooks keep
    running) and its database is only as safe as that node's disk (back it up). Pin it where the inventory
    may change: the default follows inventory order, and Pulumi refuses to move the protected volume (moving
    a hub's data is a manual copy). A hub that must move between nodes uses `type: postgres`."""
    size_gib: Annotated[int, Field(ge=1)] = 1
    """Size of that volume (requested by the claim; a platform local volume is not size-limited by the disk)."""
    url: str | None = None
    """SQLAlchemy URL without the password, e.g. `postgresql+psycopg2://jhub@db.example.org:5432/teaching`;
    the password is the secret `hub_<name>_db_password`."""


def uses_platform_volume(cfg: PlatformConfig, hub: HubConfig) -> bool:
    """True when the platform itself provides the hub's SQLite volume (kubeadm, sqlite-pvc, no class)."""
    db = hub.database
    return cfg.builds_cluster and db.type == "sqlite-pvc" and db.storage_class is None


def _blocking_taints(node: Node) -> list[str]:
    """Taints of `node` that keep the hub pod off it (GPU nodes get the GPU taint when they join)."""
    blocking = [
        f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}"
        for t in node.taints
        if t.effect != "PreferNoSchedule" and (t.key, t.value) not in HUB_TOLERATED_TAINTS
    ]
    if node.gpu is not None:
        blocking.append("nvidia.com/gpu=present:NoSchedule (GPU node)")
    return blocking


def default_db_node(cfg: PlatformConfig) -> Node | None:
    """The first schedulable CPU node the hub pod can run on, in inventory order."""
    return next((n for n in cfg.inventory.schedulable_nodes if not _blocking_taints(n)), None)


def hub_db_node(cfg: PlatformConfig, hub: HubConfig) -> Node | None:
    """The node holding the hub's platform volume (None when the platform provides no volume for it)."""
    if not uses_platform_volume(cfg, hub):
        return None
    if hub.database.node is None:
        return default_db_node(cfg)
    return next((n for n in cfg.inventory.nodes if n.name == hub.database.node), None)


# ---- rules (in config.hubs.HUB_CHECKS) ----


def _database(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    nfs_class = getattr(getattr(cfg, "nfs", None), "storage_class_name", None)
    for i, hub in enumerate(cfg.hubs):
        db, path = hub.database, f"hubs.{i}.database"
        if db.type == "postgres" and not db.url:
            yield ConfigIssue(f"{path}.url", "database.type postgres needs the database URL")
        if db.url and "@" in db.url and ":" in db.url.split("//", 1)[-1].split("@", 1)[0]:
            yield ConfigIssue(f"{path}.url", "put the password in the secret, not in the URL")
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
    elif blocking := _blocking_taints(node):
        yield ConfigIssue(f"{path}.node", f"node {db.node!r} has taints the hub pod does not tolerate: {', '.join(blocking)}")


HUB_DATABASE_CHECKS = [_database]
