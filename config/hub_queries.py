"""Questions about hubs that need the whole platform: where a hub's database lives, what the nodes can hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.hub_database import blocking_taints

if TYPE_CHECKING:
    from config.hubs import HubConfig
    from config.inventory import Node
    from config.platform import PlatformConfig


def uses_platform_volume(cfg: PlatformConfig, hub: HubConfig) -> bool:
    """True when the platform itself provides the hub's SQLite volume (kubeadm, sqlite-pvc, no class)."""
    db = hub.database
    return cfg.builds_cluster and db.type == "sqlite-pvc" and db.storage_class is None



def default_db_node(cfg: PlatformConfig) -> Node | None:
    """The first schedulable CPU node the hub pod can run on, in inventory order."""
    return next((n for n in cfg.inventory.schedulable_nodes if not blocking_taints(n)), None)


def hub_db_node(cfg: PlatformConfig, hub: HubConfig) -> Node | None:
    """The node holding the hub's platform volume (None when the platform provides no volume for it)."""
    if not uses_platform_volume(cfg, hub):
        return None
    if hub.database.node is None:
        return default_db_node(cfg)
    return next((n for n in cfg.inventory.nodes if n.name == hub.database.node), None)


@dataclass(frozen=True)
class NodeCapacity:
    """Allocatable size of one schedulable node, as the inventory states it."""

    name: str
    cpus: float
    memory_gib: float
    gpus: int = 0


def node_capacities(cfg: PlatformConfig) -> list[NodeCapacity]:
    """Schedulable nodes with a stated size (`cpus`, `memory_gib` on the inventory node); others are skipped."""
    nodes = []
    for node in cfg.inventory.schedulable_nodes:
        if node.cpus is not None and node.memory_gib is not None:
            gpus = node.gpu.count if node.gpu is not None else 0
            nodes.append(NodeCapacity(node.name, float(node.cpus), float(node.memory_gib), gpus))
    return nodes
