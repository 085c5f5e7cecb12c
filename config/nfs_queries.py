"""Questions about NFS storage that need the whole platform: which server, its address, who may mount."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.inventory import Role

if TYPE_CHECKING:
    from config.inventory import Node
    from config.platform import PlatformConfig


def nfs_server_node(cfg: PlatformConfig) -> Node | None:
    """The inventory node that runs the managed NFS server (None for a NAS or when missing)."""
    if cfg.nfs.mode != "managed":
        return None
    nodes = cfg.inventory.with_role(Role.NFS)
    return nodes[0] if nodes else None


def nfs_server_address(cfg: PlatformConfig) -> str:
    """Address clients mount from; the rules guarantee one exists once the config is loaded."""
    node = nfs_server_node(cfg)
    if node is not None:
        return str(node.address)
    return cfg.nfs.server or ""


def nfs_export_clients(cfg: PlatformConfig) -> list[str]:
    """Export clients of the managed server: each Kubernetes node's address (a node that can run pods
    mounts homes), then `nfs.extra_client_networks`; sorted and without duplicates, so the rendered
    exports file only changes when the set of clients does."""
    nodes = sorted({n.address for n in cfg.inventory.kubernetes_nodes})
    networks = sorted(set(cfg.nfs.extra_client_networks))
    return [str(a) for a in nodes] + [n.with_prefixlen for n in networks]


def csi_controller_replicas(cfg: PlatformConfig) -> int:
    if cfg.nfs.csi_controller_replicas is not None:
        return cfg.nfs.csi_controller_replicas
    if cfg.builds_cluster and len(cfg.inventory.kubernetes_nodes) < 2:
        return 1
    return 2
