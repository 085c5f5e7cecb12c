"""NFS storage: the server (on the `nfs` host or an existing NAS), the CSI driver and the volumes.

Layout of the export (the same on a managed server and on a NAS):
`<export_path>/homes/<hub namespace>/<user>` (one static volume per hub, users mount their subPath),
`<export_path>/shared/<folder>` (shared folders), `<export_path>/dynamic/<namespace>/<pvc>` (the
retained StorageClass). With a NAS, create `homes/<namespace>` and `shared/<folder>` there, owned
by `owner_uid:owner_gid`, before the first deployment: the platform cannot log in to it.

Who may mount: the managed server exports to the address of each Kubernetes node (every node with
the worker or control-plane role), one client entry per node, plus `extra_client_networks` when a
team really needs one; never to the whole `inventory.node_network` (load balancers and other hosts
there must not mount every hub's homes). With a NAS, restrict its export the same way by hand.

Every file is written as `owner_uid` (all_squash), so without the `quotas` section one user can fill
the export and stop every hub's users from saving. `homes_capacity` is a nominal size (the quota report
compares it with quota x expected users). Per-user limits: the `quotas` section (`config/quotas.py`,
XFS project quotas reconciled on the managed NFS server).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from config.base import StrictModel
from config.fields import ChartVersion, url_check

CSI_DRIVER_NFS_VERSION = "4.13.4"
CSI_CHART_REPOSITORY = "https://kubernetes-csi.github.io/csi-driver-nfs"
HOMES_DIR = "homes"
SHARED_DIR = "shared"
DYNAMIC_DIR = "dynamic"
EXCHANGE_DIR = "ngshare"
_PATH_PATTERN = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
_MOUNT_OPTION = re.compile(r"^[a-z0-9_]+(=[A-Za-z0-9._:-]+)?$")
_QUANTITY = r"^[0-9]+(Mi|Gi|Ti|Pi)$"
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class SharedFolder(StrictModel):
    """A folder every notebook mounts: read-only for users, writable for admins (datasets, course material)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$")]
    """Folder name (`<export_path>/shared/<name>`; also names its volume claim `shared-<name>`)."""
    mount_path: str
    """Where notebooks see it, e.g. `/srv/shared/datasets`."""
    read_only_for_users: bool = True
    """Users get it read-only (admins always read-write); false makes it a shared scratch space."""
    capacity: Annotated[str, Field(pattern=_QUANTITY)] = "1Ti"
    """Nominal size recorded on the volume (NFS does not enforce it)."""

    @field_validator("mount_path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not _PATH_PATTERN.match(path) or "/../" in f"{path}/" or path.startswith("/home/jovyan/"):
            raise ValueError(f"{path!r} must be an absolute path of plain names, outside the home directory")
        return path


def _default_folders() -> list[SharedFolder]:
    return [
        SharedFolder(name="datasets", mount_path="/srv/shared/datasets"),
        SharedFolder(name="course-material", mount_path="/srv/shared/course-material"),
    ]


class NfsConfig(StrictModel):
    """Where homes and shared folders live, and how Kubernetes reaches them."""

    mode: Literal["managed", "external"] = "managed"
    """`managed`: install and configure the NFS server on the inventory node with the `nfs` role;
    `external`: use an existing NAS (give `server` and `export_path`; nothing is run on it)."""
    server: str | None = None
    """External NAS: its address or DNS name (managed mode uses the `nfs` node's address)."""
    export_path: str = "/srv/nfs/jupyterhub"
    """Exported directory on the server: homes, shared folders and dynamic volumes live below it."""
    owner_uid: Annotated[int, Field(ge=1, le=2**31)] = 1000
    """UID every file is owned by (`all_squash` maps every client user to it): the notebook user `jovyan`."""
    owner_gid: Annotated[int, Field(ge=1, le=2**31)] = 100
    """GID every file is owned by (`users`, the notebook user's group)."""
    mount_options: Annotated[list[str], Field(min_length=1)] = ["nfsvers=4.1", "hard", "timeo=600", "retrans=3", "noatime"]
    """Client mount options. `hard` keeps writes safe when the server restarts (processes wait instead of
    getting I/O errors that corrupt notebooks); `soft` trades that for never hanging."""
    server_threads: Annotated[int, Field(ge=8, le=1024)] = 64
    """Managed server: nfsd threads (Debian's default of 8 queues requests once a few dozen notebooks
    write at once; 64 suits hundreds of users, more for thousands)."""
    homes_capacity: Annotated[str, Field(pattern=_QUANTITY)] = "10Ti"
    """Nominal size recorded on each hub's homes volume, and the export size the quota report compares
    with quota x expected users. Not enforced by NFS: per-user limits come from the `quotas` section."""
    extra_client_networks: list[IPv4Network] = []
    """Managed server only: networks allowed to mount the export besides the Kubernetes nodes (which are
    always allowed, one entry per node address), e.g. `192.0.2.64/28` for a backup host. Default none:
    each entry can read and write every hub's homes as the notebook user."""
    shared_folders: list[SharedFolder] = _default_folders()
    """Shared folders mounted by every notebook."""
    csi_driver_version: ChartVersion = CSI_DRIVER_NFS_VERSION
    """csi-driver-nfs chart version (no `v` prefix since 4.11)."""
    csi_chart_repository: Annotated[str, BeforeValidator(url_check(CSI_CHART_REPOSITORY, ("https",)))] = CSI_CHART_REPOSITORY
    """Helm repository of csi-driver-nfs."""
    csi_namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "kube-system"
    """Namespace of the CSI driver (kube-system: it is node infrastructure, and YuniKorn leaves it alone)."""
    csi_controller_replicas: Annotated[int, Field(ge=1, le=3)] | None = None
    """CSI controller replicas (host network: at most one per node). Default: 2, or 1 on a one-node cluster."""
    storage_class_name: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")] = "nfs-retain"
    """The dynamic StorageClass: `reclaimPolicy: Retain` and `onDelete: retain`, so deleting a claim keeps the data."""
    default_storage_class: bool = False
    """Mark the NFS class as the cluster default (claims without a class then land on NFS)."""

    @field_validator("export_path")
    @classmethod
    def _export_path(cls, path: str) -> str:
        if not _PATH_PATTERN.match(path) or "/../" in f"{path}/" or "/./" in f"{path}/" or path.count("/") < 2:
            raise ValueError(f"{path!r} must be an absolute path of plain names at least two levels deep (not /, /srv)")
        return path

    @field_validator("server")
    @classmethod
    def _server(cls, server: str | None) -> str | None:
        if server is not None and not _DNS_NAME.match(server):
            raise ValueError("must be an address or DNS name like nas.example.org (no scheme, user or path)")
        return server

    @field_validator("mount_options")
    @classmethod
    def _options(cls, options: list[str]) -> list[str]:
        bad = [o for o in options if not _MOUNT_OPTION.match(o)]
        if bad:
            raise ValueError(f"invalid mount option(s): {', '.join(bad)}")
        return options

    def homes_path(self, namespace: str) -> str:
        return f"{self.export_path}/{HOMES_DIR}/{namespace}"

    def exchange_path(self, namespace: str) -> str:
        """The hub's ngshare database and files (courses' exchange); see components/courses/ngshare.py."""
        return f"{self.export_path}/{EXCHANGE_DIR}/{namespace}"

    def shared_path(self, folder: str) -> str:
        return f"{self.export_path}/{SHARED_DIR}/{folder}"

    @property
    def dynamic_path(self) -> str:
        return f"{self.export_path}/{DYNAMIC_DIR}"
