"""What single-user servers may reach: the chart's `singleuser.networkPolicy` (pure).

The chart's policy is an allow list. Its `nonPrivateIPs` rule only excludes RFC 1918 ranges, so a
node network in public (or documentation) address space would stay reachable, and with it the NFS
server's ports and the API server behind the load balancer. The platform therefore turns that rule
off and allows the internet through its own rule that excludes every cluster-internal range.
"""

from __future__ import annotations

from ipaddress import IPv4Network, collapse_addresses
from typing import TYPE_CHECKING, Any

from components.courses import ngshare
from config.hubs import HubConfig

if TYPE_CHECKING:
    from config.platform import PlatformConfig

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
LINK_LOCAL = "169.254.0.0/16"  # cloud metadata and friends


def blocked_ranges(cfg: PlatformConfig) -> list[str]:
    """Ranges user servers never reach: private space, link-local, the node, pod and service networks.

    The node network holds the NFS server (2049, 111, 20048) and the API endpoint (VIP and control planes)."""
    nets = [IPv4Network(n) for n in (*PRIVATE_RANGES, LINK_LOCAL)]
    nets += [cfg.inventory.node_network, cfg.cluster.pod_cidr, cfg.cluster.service_cidr]
    return [str(n) for n in collapse_addresses(nets)]


def singleuser_network_policy(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    rules = {
        "cloudMetadataServer": False,
        "dnsPortsCloudMetadataServer": False,
        # Cluster DNS stays open even in lockdown: the server finds the hub by its Service name.
        "dnsPortsKubeSystemNamespace": True,
        "dnsPortsPrivateIPs": not hub.network.lockdown,
        "nonPrivateIPs": False,
        "privateIPs": False,
    }
    egress: list[dict[str, Any]] = []
    if hub.network.internet and not hub.network.lockdown:
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": blocked_ranges(cfg)}}]})
    if ngshare.runs_exchange(cfg, hub):
        # The hub's nbgrader exchange, also in lockdown (exam submissions go there).
        egress.append(ngshare.singleuser_egress())
    return {
        "enabled": True,
        "egressAllowRules": rules,
        "egress": egress,
        # Ingress only from the hub and proxy (the chart's built-in rule); nothing else is opened.
        "ingress": [],
        "allowedIngressPorts": [],
        "interNamespaceAccessLabels": "ignore",
    }
