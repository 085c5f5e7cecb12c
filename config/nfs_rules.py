"""Cross-section rules of NFS storage (registered in `config.checks`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.inventory import Role

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def nfs_issues(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    nfs = cfg.nfs
    if nfs.mode == "managed":
        if not cfg.builds_cluster:
            yield ConfigIssue("nfs.mode", "an existing cluster has no SSH access to set up a server: use mode external")
        elif not cfg.inventory.with_role(Role.NFS):
            yield ConfigIssue("nfs.mode", "managed NFS needs an inventory node with the nfs role (or use mode external)")
        if nfs.server is not None:
            yield ConfigIssue("nfs.server", "only for mode external (managed mode serves from the nfs node)")
    elif nfs.server is None:
        yield ConfigIssue("nfs.server", "mode external needs the NAS address or DNS name")
    elif cfg.inventory.with_role(Role.NFS) and cfg.builds_cluster:
        yield ConfigIssue("nfs.mode", "a node has the nfs role but nfs.mode is external: drop the role or use managed")
    for i, net in enumerate(nfs.extra_client_networks):
        path = f"nfs.extra_client_networks.{i}"
        if nfs.mode != "managed":
            yield ConfigIssue(path, "only for mode managed (restrict a NAS's export on the NAS itself)")
        elif net.prefixlen < 8:
            yield ConfigIssue(path, f"{net} is far too wide: every host in it could mount every hub's homes")
    names: dict[str, int] = {}
    paths: dict[str, int] = {}
    for i, folder in enumerate(nfs.shared_folders):
        if folder.name in names:
            yield ConfigIssue(
                f"nfs.shared_folders.{i}.name", f"duplicate folder {folder.name!r} (also shared_folders.{names[folder.name]})"
            )
        names.setdefault(folder.name, i)
        for other, j in paths.items():
            if (
                folder.mount_path == other
                or folder.mount_path.startswith(f"{other}/")
                or other.startswith(f"{folder.mount_path}/")
            ):
                yield ConfigIssue(f"nfs.shared_folders.{i}.mount_path", f"overlaps the mount path of shared_folders.{j}")
        paths.setdefault(folder.mount_path, i)
    replicas = nfs.csi_controller_replicas
    kube_nodes = len(cfg.inventory.kubernetes_nodes)
    if replicas is not None and cfg.builds_cluster and replicas > kube_nodes:
        yield ConfigIssue(
            "nfs.csi_controller_replicas",
            f"{replicas} replicas on {kube_nodes} node(s): the controller uses the host network, one per node",
        )


NFS_CHECKS = [nfs_issues]
