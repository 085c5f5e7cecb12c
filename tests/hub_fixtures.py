"""Small configurations for the hub tests (not a test module)."""

from __future__ import annotations

import copy
from typing import Any

from config.platform import PlatformConfig

INVENTORY: dict[str, Any] = {
    "node_network": "192.0.2.0/24",
    "nodes": [
        {"name": "cp-1", "address": "192.0.2.21", "roles": ["control-plane", "worker", "nfs"], "cpus": 16, "memory_gib": 64},
        {"name": "worker-1", "address": "192.0.2.31", "roles": ["worker"], "cpus": 32, "memory_gib": 128},
    ],
}

HUB: dict[str, Any] = {
    "name": "teaching",
    "host": "hub.example.org",
    "auth": {"type": "generic-oauth", "client_id": "jupyter", "issuer": "https://idp.example.org/realms/uni"},
    "https": {"contact_email": "ops@example.org"},
    "admin_users": ["alice"],
    "profiles": [
        {"slug": "small", "display_name": "Small", "queue": "root.users", "default": True},
        {
            "slug": "large",
            "display_name": "Large",
            "queue": "root.users",
            "cpu_guarantee": 4,
            "cpu_limit": 8,
            "mem_guarantee_gib": 16,
            "mem_limit_gib": 32,
            "allowed_groups": ["staff"],
        },
    ],
}


def raw(**hub_changes: Any) -> dict[str, Any]:
    """A whole raw config with one hub; keyword arguments replace keys of the hub."""
    hub = copy.deepcopy(HUB)
    hub.update(copy.deepcopy(hub_changes))
    # The site's own load balancer serves the LoadBalancer Service (config.traffic_rules refuses it otherwise).
    return {"inventory": copy.deepcopy(INVENTORY), "hubs": [hub], "traffic": {"external_load_balancer": True}}


def platform(**hub_changes: Any) -> PlatformConfig:
    return PlatformConfig.model_validate(raw(**hub_changes))
