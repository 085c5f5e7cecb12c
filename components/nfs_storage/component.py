"""NfsStorage: the NFS server (or a NAS), NFS clients on the nodes, csi-driver-nfs, and the volumes.

Runbook order: server step on the `nfs` host in parallel with node preparation, which installs
the client packages on every Kubernetes node (`nfs_client_extras`: a section of the cluster's
prepare step, so no resource or SSH session of its own) ▸ CSI driver release and the retained
StorageClass once the cluster is ready ▸ per hub namespace (`claims_for_namespace`): its homes
directory on the server, then pre-bound static volumes and claims for homes and shared folders.

Data safety: every volume is `Retain`, the dynamic class retains on delete, static volumes and
claims are `protect`ed and `retain_on_delete` in Pulumi, and no step ever deletes a directory.
The single NFS server is the platform's largest single point of failure (see field notes 8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.common.shell import COMMON_SCRIPTS, HostFile, RenderedScript, render_script
from components.k8s_cluster.component import NodeExtras
from components.nfs_storage import manifests
from config.charts import ChartsConfig
from config.course_queries import nfs_with_courses
from config.inventory import Node
from config.nfs import DYNAMIC_DIR, EXCHANGE_DIR, HOMES_DIR, SHARED_DIR, NfsConfig
from config.nfs_queries import csi_controller_replicas, nfs_export_clients, nfs_server_address, nfs_server_node
from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
EXPORTS_DROP_IN = "/etc/exports.d/jupyterhub-platform.exports"


@dataclass(frozen=True)
class SharedFolderClaim:
    """A shared folder's claim in a hub namespace; the hub mounts it read-only for non-admins."""

    name: str
    claim_name: str
    mount_path: str
    read_only_for_users: bool


@dataclass(frozen=True)
class NfsClaims:
    """What a hub mounts: the homes claim (users get subPath `<escaped username>`) and shared folders."""

    home_claim: str
    shared: list[SharedFolderClaim]
    resources: list[pulumi.Resource]
    """Everything the hub's pods must wait for (claims, volumes, server directories)."""


def server_script(settings: NfsConfig, clients: Sequence[str]) -> RenderedScript:
    subdirs = [HOMES_DIR, SHARED_DIR, DYNAMIC_DIR, EXCHANGE_DIR] + [f"{SHARED_DIR}/{f.name}" for f in settings.shared_folders]
    return render_script(
        "nfs-server",
        [COMMON_SCRIPTS / "firewall.sh", SCRIPTS / "nfs-server.sh"],
        params={
            "EXPORT_PATH": settings.export_path,
            "OWNER_UID": settings.owner_uid,
            "OWNER_GID": settings.owner_gid,
            "SUBDIRS": " ".join(subdirs),
            "THREADS": settings.server_threads,
            "V4_ONLY": manifests.nfs_v4_only(settings),
            "FIREWALL_PORTS": " ".join(manifests.nfs_server_ports(settings)),
        },
        files={
            "EXPORTS": HostFile(EXPORTS_DROP_IN, manifests.exports_file(settings, clients)),
            "NFS_CONF": HostFile(manifests.NFS_CONF_DROP_IN, manifests.nfs_conf(settings)),
        },
    )


# The NFS client, as bodies the cluster runs inside each node's prepare step.
CLIENT_SECTION = [SCRIPTS / "nfs-client.sh"]


def client_script() -> RenderedScript:
    return render_script("nfs-client", CLIENT_SECTION)


def nfs_client_extras(cfg: PlatformConfig) -> dict[str, NodeExtras]:
    """nfs-common on every Kubernetes node the platform builds, before it joins (so before any pod
    that mounts a home can land on it)."""
    if not cfg.builds_cluster:
        return {}
    return {n.name: NodeExtras(prepare_sections=[CLIENT_SECTION]) for n in cfg.inventory.kubernetes_nodes}


def directory_script(step: str, settings: NfsConfig, directory: str) -> RenderedScript:
    return render_script(
        step,
        SCRIPTS / "nfs-dir.sh",
        params={"DIRECTORY": directory, "OWNER_UID": settings.owner_uid, "OWNER_GID": settings.owner_gid},
    )


# Nominal size on the ngshare volume (NFS does not enforce it; the export's quota report covers the folder).
EXCHANGE_CAPACITY = "10Gi"


class NfsStorage(pulumi.ComponentResource):
    """NFS homes and shared folders for the hubs, plus a retained dynamic StorageClass."""

    storage_class_name: str
    server_address: str

    def __init__(
        self,
        name: str,
        *,
        settings: NfsConfig,
        charts: ChartsConfig,
        server_address: str,
        export_clients: Sequence[str],
        server_node: Node | None,
        access: Mapping[str, NodeAccess],
        controller_replicas: int,
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        prepared: Mapping[str, pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("jupyterhub-platform:storage:NfsStorage", name, None, opts)
        self._name = name
        self._settings = settings
        self._provider = provider
        self.server_address = server_address
        self.storage_class_name = settings.storage_class_name
        self._server_access = access.get(server_node.name) if server_node is not None else None

        # The server step waits for its host's preparation when that host is also a Kubernetes node
        # (two steps of one host never use apt at the same time); a dedicated NFS host starts at once.
        # The clients are part of each node's preparation (`nfs_client_extras`).
        prepared = dict(prepared or {})
        self.server_step = None
        if self._server_access is not None and server_node is not None:
            self.server_step = run_step(
                self._server_access,
                "nfs-server",
                server_script(settings, export_clients),
                parent=self,
                depends_on=[prepared[server_node.name]] if server_node.name in prepared else [],
            )
        host_steps: list[pulumi.Resource] = [self.server_step] if self.server_step else []

        k8s_opts = pulumi.ResourceOptions(provider=provider, parent=self, depends_on=[*depends_on, *host_steps])
        self.csi_driver = pinned_release(
            f"{name}-csi-driver",
            release="csi-driver-nfs",
            chart="csi-driver-nfs",
            version=settings.csi_driver_version,
            repo=settings.csi_chart_repository,
            sources=charts,
            namespace=settings.csi_namespace,
            values=manifests.csi_values(controller_replicas),
            timeout=600,
            opts=k8s_opts,
        )
        sc = manifests.storage_class(settings, server_address)
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=sc["metadata"],
            provisioner=sc["provisioner"],
            parameters=sc["parameters"],
            reclaim_policy=sc["reclaimPolicy"],
            volume_binding_mode=sc["volumeBindingMode"],
            allow_volume_expansion=sc["allowVolumeExpansion"],
            mount_options=sc["mountOptions"],
            opts=pulumi.ResourceOptions(provider=provider, parent=self, depends_on=[self.csi_driver]),
        )
        self._host_steps = host_steps
        self._depends_on = list(depends_on)
        self.register_outputs(
            {"storage_class_name": self.storage_class_name, "server": server_address, "export_path": settings.export_path}
        )

    @classmethod
    def from_config(
        cls,
        name: str,
        cfg: PlatformConfig,
        *,
        access: Mapping[str, NodeAccess],
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        prepared: Mapping[str, pulumi.Resource] | None = None,
    ) -> NfsStorage:
        """Take this component's slice of the platform config."""
        return cls(
            name,
            settings=nfs_with_courses(cfg),  # course material folders are shared folders the hubs mount per user
            charts=cfg.charts,
            server_address=nfs_server_address(cfg),
            export_clients=nfs_export_clients(cfg),
            server_node=nfs_server_node(cfg),
            access=access,
            controller_replicas=csi_controller_replicas(cfg),
            provider=provider,
            depends_on=depends_on,
            prepared=prepared,
        )

    def claims_for_namespace(self, namespace: str, depends_on: Sequence[pulumi.Resource]) -> NfsClaims:
        """Static, pre-bound homes and shared-folder volumes for one hub namespace (which must exist)."""
        settings = self._settings
        created = self._server_directory(f"nfs-homes-{namespace}", settings.homes_path(namespace))
        prereqs: list[pulumi.Resource] = [*self._depends_on, *self._host_steps, *depends_on, *created]
        shared: list[SharedFolderClaim] = []
        volumes = [manifests.homes_volume(settings, namespace), *manifests.shared_volumes(settings, namespace)]
        for volume, folder in zip(volumes, [None, *settings.shared_folders], strict=True):
            created.extend(self._volume(volume, prereqs))
            if folder is not None:
                shared.append(SharedFolderClaim(folder.name, volume.claim_name, folder.mount_path, folder.read_only_for_users))
        return NfsClaims(home_claim=manifests.HOMES_CLAIM, shared=shared, resources=created)

    def exchange_claim(self, namespace: str, claim_name: str, depends_on: Sequence[pulumi.Resource]) -> list[pulumi.Resource]:
        """The hub's ngshare volume (`<export_path>/ngshare/<namespace>`), kept like the homes: protected and
        retained, its directory created on a managed server and never deleted."""
        settings = self._settings
        created = self._server_directory(f"nfs-ngshare-{namespace}", settings.exchange_path(namespace))
        prereqs: list[pulumi.Resource] = [*self._depends_on, *self._host_steps, *depends_on, *created]
        volume = manifests.exchange_volume(settings, namespace, claim_name, EXCHANGE_CAPACITY)
        return [*created, *self._volume(volume, prereqs)]

    def _server_directory(self, step: str, path: str) -> list[pulumi.Resource]:
        """The step creating `path` on the managed server (after the server's own step); none with a NAS."""
        if self._server_access is None:
            return []
        after_server = [self.server_step] if self.server_step is not None else []
        script = directory_script(step, self._settings, path)
        return [run_step(self._server_access, step, script, parent=self, depends_on=after_server)]

    def _volume(self, volume: manifests.StaticVolume, prereqs: list[pulumi.Resource]) -> list[pulumi.Resource]:
        # User data: Pulumi must never delete these (protect), and removing them from the program must
        # leave the objects in the cluster (retain_on_delete); the volume's own policy is Retain.
        pv = manifests.persistent_volume(volume, self._settings, self.server_address)
        pvc = manifests.persistent_volume_claim(volume)
        base = f"{self._name}-{volume.namespace}-{volume.claim_name}"
        pv_res = k8s.core.v1.PersistentVolume(f"{base}-pv", metadata=pv["metadata"], spec=pv["spec"], opts=self._keep(prereqs))
        pvc_res = k8s.core.v1.PersistentVolumeClaim(
            f"{base}-pvc", metadata=pvc["metadata"], spec=pvc["spec"], opts=self._keep([*prereqs, pv_res])
        )
        return [pv_res, pvc_res]

    def _keep(self, depends_on: list[pulumi.Resource]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            provider=self._provider, parent=self, depends_on=depends_on, protect=True, retain_on_delete=True
        )
