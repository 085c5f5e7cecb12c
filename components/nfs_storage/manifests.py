"""Pure renderers for NFS storage: the export line, CSI driver values, StorageClass, volumes and claims.

No Pulumi import: every function returns plain data that tests validate with kubernetes-validate.
"""

from __future__ import annotations

import re
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


NFS_CONF_DROP_IN = "/etc/nfs.conf.d/jupyterhub-platform.conf"
_V3_OPTION = re.compile(r"^(nfs)?vers=3")


def nfs_v4_only(settings: NfsConfig) -> bool:
    """Clients mount NFSv4 (the default options say 4.1): the server then needs no NFSv3, rpcbind or statd."""
    return not any(_V3_OPTION.match(option) for option in settings.mount_options)


def nfs_server_ports(settings: NfsConfig) -> list[str]:
    """Ports clients reach on the server: nfsd, plus rpcbind for NFSv3 (whose mountd and statd ports are
    dynamic unless fixed by hand: one more reason for NFSv4)."""
    return ["2049/tcp"] if nfs_v4_only(settings) else ["111/tcp", "111/udp", "2049/tcp"]


def nfs_conf(settings: NfsConfig) -> str:
    """nfs.conf drop-in of the managed server: thread count from config, NFSv3 (and UDP) off when unused."""
    vers3 = "n" if nfs_v4_only(settings) else "y"
    return (
        "# Managed by jupyterhub-platform (NfsStorage): edits are overwritten on the next deployment.\n"
        f"[nfsd]\nthreads={settings.server_threads}\nvers3={vers3}\nudp=n\n"
    )


def csi_values(replicas: int) -> dict[str, Any]:
    """csi-driver-nfs chart values: controllers on different nodes, retained volumes, no snapshots.

    The 4.13.4 chart renders `controller.affinity` only when its text contains `nodeSelectorTerms` (else it
    falls back to its run-on-control-plane switches and silently drops the rest). So the affinity carries a
    node term the chart's own `nodeSelector` implies anyway (Linux nodes), which keeps the anti-affinity.
    The anti-affinity is required: the controllers use the host network, so two on one node would also
    contend for the same host ports."""
    linux_nodes = {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [linux_nodes]}},
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": CSI_CONTROLLER_APP}}}
            ]
        },
    }
    return {
        "controller": {
            "replicas": replicas,
            "defaultOnDeletePolicy": "retain",
            "affinity": affinity,
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


def exchange_volume(settings: NfsConfig, namespace: str, claim_name: str, capacity: str) -> StaticVolume:
    """The hub's ngshare data (its SQLite database and the exchanged files): submissions are user data."""
    return StaticVolume(
        pv_name=f"nfs-ngshare-{namespace}",
        claim_name=claim_name,
        namespace=namespace,
        path=settings.exchange_path(namespace),
        capacity=capacity,
        role="ngshare",
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
