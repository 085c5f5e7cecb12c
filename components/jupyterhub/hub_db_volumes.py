"""HubDatabaseVolumes: node-local storage for the hubs' SQLite databases on a kubeadm cluster.

Runbook: the `hub-db-local` StorageClass ▸ per hub, once its node has joined: create the directory
on that node (SSH) ▸ a static `local` PersistentVolume pinned to the node and pre-bound to the
chart's `hub-db-dir` claim ▸ (the hub's Release waits for it). Volumes are protected and kept in
the cluster if removed from the program; the directory is never deleted by Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.common.remote import NodeAccess, run_step
from components.jupyterhub import hub_db
from config.platform import PlatformConfig

TYPE = "jupyterhub-platform:hub:HubDatabaseVolumes"


class HubDatabaseVolumes(pulumi.ComponentResource):
    """The StorageClass and, per hub, the directory step and local PersistentVolume."""

    ready: dict[str, list[pulumi.Resource]]
    """Hub name -> what its Release waits for (the directory step and the PV)."""

    def __init__(
        self,
        name: str,
        *,
        volumes: Sequence[hub_db.HubDbVolume],
        access: Mapping[str, NodeAccess],
        joined: Mapping[str, pulumi.Resource],
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        sc = hub_db.storage_class()
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=sc["metadata"],
            provisioner=sc["provisioner"],
            reclaim_policy=sc["reclaimPolicy"],
            volume_binding_mode=sc["volumeBindingMode"],
            allow_volume_expansion=sc["allowVolumeExpansion"],
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )
        self.ready = {}
        for volume in volumes:
            # After the node has joined (it exists in the cluster, its disk is prepared); no delete script.
            after_join = [joined[volume.node]] if volume.node in joined else list(depends_on)
            directory = run_step(
                access[volume.node], volume.step, hub_db.directory_script(volume), parent=self, depends_on=after_join
            )
            pv = hub_db.persistent_volume(volume)
            keep = pulumi.ResourceOptions(
                depends_on=[directory, storage_class],
                # The hub's database: never deleted or replaced by Pulumi, left in the cluster if dropped.
                protect=True,
                retain_on_delete=True,
            )
            volume_resource = k8s.core.v1.PersistentVolume(
                f"{name}-{volume.hub}",
                metadata=pv["metadata"],
                spec=pv["spec"],
                opts=pulumi.ResourceOptions.merge(k8s_opts, keep),
            )
            self.ready[volume.hub] = [directory, volume_resource]
        self.register_outputs({"storage_class": sc["metadata"]["name"], "nodes": {v.hub: v.node for v in volumes}})


def hub_database_volumes(
    cfg: PlatformConfig,
    *,
    access: Mapping[str, NodeAccess],
    joined: Mapping[str, pulumi.Resource],
    provider: k8s.Provider,
    depends_on: Sequence[pulumi.Resource] = (),
) -> dict[str, list[pulumi.Resource]]:
    """Create the volumes the hubs need (none in `existing` mode or with PostgreSQL / an own class);
    returns hub name -> resources its Release must wait for."""
    volumes = [v for hub in cfg.hubs if (v := hub_db.hub_db_volume(cfg, hub)) is not None]
    if not volumes:
        return {}
    return HubDatabaseVolumes(
        "hub-db", volumes=volumes, access=access, joined=joined, provider=provider, depends_on=depends_on
    ).ready
