"""The hub database's storage (pure: no Pulumi): Helm `hub.db` values, and in kubeadm mode the
platform's node-local volume for it: the `hub-db-local` StorageClass, one static `local`
PersistentVolume per hub pre-bound to the chart's claim, and the script that creates its directory.

Why static local volumes: SQLite must not live on NFS, and a bare-metal kubeadm cluster has no
block-storage provisioner. The volume pins the hub pod to one node (the PV's node affinity; the
class binds `WaitForFirstConsumer`); hubs that must move between nodes use PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.common.shell import RenderedScript, render_script
from config.hub_database import HUB_DB_STORAGE_CLASS
from config.hub_queries import hub_db_node

if TYPE_CHECKING:
    from config.hubs import HubConfig
    from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
BASE_DIR = "/var/lib/jupyterhub-platform/hub-db"
# z2jh 4.4.0 names the hub's claim `<fullname->hub-db-dir`; fullnameOverride defaults to "" (we keep it),
# so the claim is `hub-db-dir` in the release's namespace.
CHART_CLAIM = "hub-db-dir"
# The chart runs the hub as uid 1000, gid 1000 (hub.containerSecurityContext) with fsGroup 1000.
HUB_UID = 1000
HUB_GID = 1000
DB_LABEL = "jupyterhub-platform/hub-db"
MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "jupyterhub-platform"}


@dataclass(frozen=True)
class HubDbVolume:
    """The platform's local volume for one hub's SQLite database."""

    hub: str
    namespace: str
    node: str
    size_gib: int

    @property
    def directory(self) -> str:
        return f"{BASE_DIR}/{self.hub}"

    @property
    def pv_name(self) -> str:
        return f"hub-db-{self.hub}"

    @property
    def step(self) -> str:
        """Remote step name (the resource is `<node>-<step>`)."""
        return f"hub-db-dir-{self.hub}"


def hub_db_volume(cfg: PlatformConfig, hub: HubConfig) -> HubDbVolume | None:
    """The hub's platform volume, or None when the hub uses PostgreSQL or its own StorageClass."""
    node = hub_db_node(cfg, hub)
    if node is None:
        return None
    return HubDbVolume(hub.name, hub.k8s_namespace, node.name, hub.database.size_gib)


def db_values(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    """`hub.db` chart values."""
    db = hub.database
    if db.type == "postgres":
        return {"type": "postgres", "url": db.url}
    pvc: dict[str, Any] = {"storage": f"{db.size_gib}Gi", "accessModes": ["ReadWriteOnce"]}
    if hub_db_volume(cfg, hub) is not None:
        # The PV is pre-bound by claimRef; the selector also keeps the claim off any other hub's volume.
        pvc.update(storageClassName=HUB_DB_STORAGE_CLASS, selector={"matchLabels": {DB_LABEL: hub.name}})
    else:
        pvc["storageClassName"] = db.storage_class
    return {"type": "sqlite-pvc", "pvc": pvc}


def storage_class() -> dict[str, Any]:
    """Class of the static local volumes: no provisioner, bound when the hub pod is scheduled."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": HUB_DB_STORAGE_CLASS, "labels": dict(MANAGED_BY)},
        "provisioner": "kubernetes.io/no-provisioner",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }


def persistent_volume(volume: HubDbVolume) -> dict[str, Any]:
    """A `local` PV on the chosen node, reserved for the chart's claim in the hub's namespace."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume.pv_name,
            "labels": {**MANAGED_BY, "jupyterhub-platform/hub": volume.hub, DB_LABEL: volume.hub},
        },
        "spec": {
            "capacity": {"storage": f"{volume.size_gib}Gi"},
            "accessModes": ["ReadWriteOnce"],
            "volumeMode": "Filesystem",
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": HUB_DB_STORAGE_CLASS,
            "local": {"path": volume.directory},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [volume.node]}]}
                    ]
                }
            },
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": volume.namespace,
                "name": CHART_CLAIM,
            },
        },
    }


def directory_script(volume: HubDbVolume) -> RenderedScript:
    """Create the volume's directory on its node, owned by the hub's uid/gid; never removes anything."""
    return render_script(
        volume.step,
        SCRIPTS / "hub-db-dir.sh",
        {"BASE_DIR": BASE_DIR, "DB_DIR": volume.directory, "DB_UID": HUB_UID, "DB_GID": HUB_GID},
    )
