"""Pure renderers for NFS storage: the export line, CSI driver values, StorageClass, volumes and claims.

No Pulumi import: every function returns plain data that tests validate with kubernetes-validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from config.nfs import NfsConfig

MANAGED_BY = {"app.kubernetes.io/managed-by": "jupyterhub-platform"}
CSI_DRIVER = "nfs.csi.k8s.io"
CSI_CONTROLLER_APP = "csi-nfs-controller"
HOMES_CLAIM = "homes"

# all_squash maps every client uid (root included) to the notebook user: directories kubelet creates
# for each user's subPath are then owned by 1000:100 and writable, instead of nobody:nogroup under
# root_squash (the classic z2jh permission failure); no_root_squash would hand root on the export
# to any container that runs as root. Isolation between users comes from subPath mounts, not uids.
EXPORT_OPTIONS = "rw,sync,no_subtree_check,all_squash,anonuid={uid},anongid={gid}"


def exports_line(settings: NfsConfig, clients: Sequence[str]) -> str:
    """The `/etc/exports.d` entry: the export, readable and writable by the given clients only (the
    Kubernetes nodes' addresses, see `config.nfs_queries.nfs_export_clients`), each with its own options."""
    if not clients:
        raise ValueError("an NFS export needs at least one client")
    options = EXPORT_OPTIONS.format(uid=settings.owner_uid, gid=settings.owner_gid)
    return " ".join([settings.export_path, *(f"{client}({options})" for client in clients)])


def exports_file(settings: NfsConfig, clients: Sequence[str]) -> str:
    return (
        "# Managed by jupyterhub-platform (NfsStorage): edits are overwritten on the next deployment.\n"
        f"{exports_line(settings, clients)}\n"
    )


def csi_values(replicas: int) -> dict[str, Any]:
    """csi-driver-nfs chart values: two controllers on different nodes, retained volumes, no snapshots."""
    anti_affinity = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": CSI_CONTROLLER_APP}},
                    },
                }
            ]
        }
    }
    return {
        "controller": {
            "replicas": replicas,
            "defaultOnDeletePolicy": "retain",
            "affinity": anti_affinity,
        },
        "externalSnapshotter": {"enabled": False},
        "storageClass": {"create": False},
    }


def storage_class(settings: NfsConfig, server: str) -> dict[str, Any]:
    """The retained dynamic class: each claim gets `<export>/dynamic/<namespace>/<claim>`, kept on delete."""
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if settings.default_storage_class else {}
    metadata: dict[str, Any] = {"name": settings.storage_class_name, "labels": dict(MANAGED_BY)}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": CSI_DRIVER,
        "parameters": {
            "server": server,
            "share": settings.dynamic_path,
            # A re-created claim with the same name finds its old data again.
            "subDir": "${pvc.metadata.namespace}/${pvc.metadata.name}",
            "onDelete": "retain",
        },
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
        "mountOptions": list(settings.mount_options),
    }


@dataclass(frozen=True)
class StaticVolume:
    """One NFS directory offered to one namespace as a pre-bound PersistentVolume + claim."""

    pv_name: str
    claim_name: str
    namespace: str
    path: str
    capacity: str
    role: str
    """`homes` or `shared` (a label, for people looking at the cluster)."""


def homes_volume(settings: NfsConfig, namespace: str) -> StaticVolume:
    return StaticVolume(
        pv_name=f"nfs-homes-{namespace}",
        claim_name=HOMES_CLAIM,
        namespace=namespace,
        path=settings.homes_path(namespace),
        capacity=settings.homes_capacity,
        role="homes",
    )


def shared_volumes(settings: NfsConfig, namespace: str) -> list[StaticVolume]:
    return [
        StaticVolume(
            pv_name=f"nfs-shared-{namespace}-{folder.name}",
            claim_name=f"shared-{folder.name}",
            namespace=namespace,
            path=settings.shared_path(folder.name),
            capacity=folder.capacity,
            role="shared",
        )
        for folder in settings.shared_folders
    ]


def persistent_volume(volume: StaticVolume, settings: NfsConfig, server: str) -> dict[str, Any]:
    """A static NFS volume that only its own claim can bind, and that outlives the claim (Retain)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume.pv_name,
            "labels": {**MANAGED_BY, "jupyterhub-platform/volume": volume.role},
        },
        "spec": {
            "capacity": {"storage": volume.capacity},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "volumeMode": "Filesystem",
            "mountOptions": list(settings.mount_options),
            "nfs": {"server": server, "path": volume.path},
            "claimRef": {"namespace": volume.namespace, "name": volume.claim_name},
        },
    }


def persistent_volume_claim(volume: StaticVolume) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": volume.claim_name,
            "namespace": volume.namespace,
            "labels": {**MANAGED_BY, "jupyterhub-platform/volume": volume.role},
        },
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": volume.pv_name,
            "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": volume.capacity}},
        },
    }
