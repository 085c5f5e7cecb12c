"""NFS renderers compared whole: the export line (all_squash to the notebook user, per client), the
server's nfs.conf and ports (NFSv3 and rpcbind only when a mount option asks for v3), the CSI values
(controllers on separate nodes, retained volumes), the class, and the static volumes and claims that
bind only to each other and outlive their claims."""

from __future__ import annotations

from typing import Any

import pytest

from components.nfs_storage.manifests import (
    StaticVolume,
    csi_values,
    exports_file,
    exports_line,
    homes_volume,
    nfs_conf,
    nfs_server_ports,
    nfs_v4_only,
    persistent_volume,
    persistent_volume_claim,
    shared_volumes,
    storage_class,
)
from config.nfs import NfsConfig

SETTINGS = NfsConfig.model_validate(
    {
        "export_path": "/srv/x",
        "owner_uid": 1001,
        "owner_gid": 101,
        "server_threads": 32,
        "mount_options": ["nfsvers=4.2", "hard"],
        "homes_capacity": "2Ti",
        "shared_folders": [{"name": "data", "mount_path": "/srv/data", "capacity": "5Ti"}],
        "storage_class_name": "nfs-x",
    }
)
MANAGED = {"app.kubernetes.io/managed-by": "jupyterhub-platform"}
OPTIONS = "rw,sync,no_subtree_check,all_squash,anonuid=1001,anongid=101"
HEADER = "# Managed by jupyterhub-platform (NfsStorage): edits are overwritten on the next deployment.\n"


def test_exports() -> None:
    assert exports_line(SETTINGS, ["192.0.2.21", "192.0.2.31"]) == f"/srv/x 192.0.2.21({OPTIONS}) 192.0.2.31({OPTIONS})"
    assert exports_file(SETTINGS, ["192.0.2.21"]) == f"{HEADER}/srv/x 192.0.2.21({OPTIONS})\n"
    with pytest.raises(ValueError, match="an NFS export needs at least one client"):
        exports_line(SETTINGS, [])


def test_v4_only_unless_a_mount_option_asks_for_v3() -> None:
    assert nfs_v4_only(SETTINGS) and nfs_server_ports(SETTINGS) == ["2049/tcp"]
    assert nfs_conf(SETTINGS) == f"{HEADER}[nfsd]\nthreads=32\nvers3=n\nudp=n\n"
    for option in ("vers=3", "nfsvers=3"):
        v3 = SETTINGS.model_copy(update={"mount_options": ["hard", option]})
        assert not nfs_v4_only(v3)
        assert nfs_server_ports(v3) == ["111/tcp", "111/udp", "2049/tcp"]
        assert nfs_conf(v3) == f"{HEADER}[nfsd]\nthreads=32\nvers3=y\nudp=n\n"
    # Only an option that starts with the version counts.
    assert nfs_v4_only(SETTINGS.model_copy(update={"mount_options": ["x-vers=3"]}))


def test_csi_values() -> None:
    assert csi_values(2) == {
        "controller": {
            "replicas": 2,
            "defaultOnDeletePolicy": "retain",
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
                        ]
                    }
                },
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "csi-nfs-controller"}}}
                    ]
                },
            },
        },
        "externalSnapshotter": {"enabled": False},
        "storageClass": {"create": False},
    }


def klass(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": "nfs.csi.k8s.io",
        "parameters": {
            "server": "192.0.2.51",
            "share": "/srv/x/dynamic",
            "subDir": "${pvc.metadata.namespace}/${pvc.metadata.name}",
            "onDelete": "retain",
        },
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
        "mountOptions": ["nfsvers=4.2", "hard"],
    }


def test_storage_class() -> None:
    assert storage_class(SETTINGS, "192.0.2.51") == klass({"name": "nfs-x", "labels": MANAGED})
    default = SETTINGS.model_copy(update={"default_storage_class": True})
    assert storage_class(default, "192.0.2.51") == klass(
        {"name": "nfs-x", "labels": MANAGED, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}
    )


def test_static_volumes() -> None:
    homes = homes_volume(SETTINGS, "jhub-a")
    assert homes == StaticVolume("nfs-homes-jhub-a", "homes", "jhub-a", "/srv/x/homes/jhub-a", "2Ti", "homes")
    assert shared_volumes(SETTINGS, "jhub-a") == [
        StaticVolume("nfs-shared-jhub-a-data", "shared-data", "jhub-a", "/srv/x/shared/data", "5Ti", "shared")
    ]
    labels = {**MANAGED, "jupyterhub-platform/volume": "homes"}
    assert persistent_volume(homes, SETTINGS, "192.0.2.51") == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "nfs-homes-jhub-a", "labels": labels},
        "spec": {
            "capacity": {"storage": "2Ti"},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "volumeMode": "Filesystem",
            "mountOptions": ["nfsvers=4.2", "hard"],
            "nfs": {"server": "192.0.2.51", "path": "/srv/x/homes/jhub-a"},
            "claimRef": {"namespace": "jhub-a", "name": "homes"},
        },
    }
    assert persistent_volume_claim(homes) == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "homes", "namespace": "jhub-a", "labels": labels},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": "nfs-homes-jhub-a",
            "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": "2Ti"}},
        },
    }
