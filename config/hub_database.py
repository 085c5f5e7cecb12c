"""A hub's own database: SQLite on a node-local volume the platform provides, or external PostgreSQL.

In kubeadm mode a `sqlite-pvc` hub with no `storage_class` gets a static `local` PersistentVolume
on one schedulable node (class `hub-db-local`, directory created over SSH), so the default works on
bare metal with no storage provisioner. In `existing` mode there is no SSH access: the hub must name
a StorageClass of that cluster.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from config.base import StrictModel
from config.fields import url_check
from config.inventory import NODE_NAME_PATTERN, Node

EXAMPLE_URL = "postgresql+psycopg2://jhub@db.example.org:5432/teaching"
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
    url: Annotated[str, BeforeValidator(url_check(EXAMPLE_URL, ("postgresql",), user_allowed=True))] | None = None
    """SQLAlchemy URL without the password, e.g. `postgresql+psycopg2://jhub@db.example.org:5432/teaching`;
    the password is the secret `hub_<name>_db_password`."""


def blocking_taints(node: Node) -> list[str]:
    """Taints of `node` that keep the hub pod off it (GPU nodes get the GPU taint when they join)."""
    blocking = [
        f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}"
        for t in node.taints
        if t.effect != "PreferNoSchedule" and (t.key, t.value) not in HUB_TOLERATED_TAINTS
    ]
    if node.gpu is not None:
        blocking.append("nvidia.com/gpu=present:NoSchedule (GPU node)")
    return blocking
