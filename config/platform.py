"""The whole platform's configuration and the rules that span its sections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from ipaddress import IPv4Address

from config.base import StrictModel
from config.charts import ChartsConfig
from config.charts_rules import CHARTS_CHECKS
from config.cluster import ClusterConfig, LoadBalancerConfig
from config.errors import ConfigIssue
from config.gpu import GpuConfig
from config.gpu_rules import GPU_CHECKS
from config.hub_access import HUB_ACCESS_CHECKS
from config.hubs import HUB_CHECKS, HubConfig
from config.inventory import Inventory, Role
from config.nfs import NFS_CHECKS, NfsConfig
from config.publish import PublishConfig, publish_issues
from config.scheduler import SchedulerConfig
from config.scheduler_rules import SCHEDULER_CHECKS
from config.ssh import SshConfig


class PlatformConfig(StrictModel):
    """Everything one stack deploys. Each component receives only its own slice."""

    inventory: Inventory
    """The machines (see `config.inventory.Node`)."""
    ssh: SshConfig = SshConfig()
    """How the machines are reached."""
    cluster: ClusterConfig = ClusterConfig()
    """Kubernetes cluster settings."""
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    """API load balancer settings (used when nodes have the `load-balancer` role)."""
    gpu: GpuConfig = GpuConfig()
    """NVIDIA GPU pool: provider, sharing (whole GPUs, time-slicing, MIG), GPU notebook culling."""
    publish: PublishConfig | None = None
    """Publish the stack contract (`platform` output) to S3-compatible storage and/or SSM; off when absent."""
    hubs: list[HubConfig] = []
    """JupyterHubs, each a Zero to JupyterHub release in its own namespace (see `config.hubs.HubConfig`)."""
    nfs: NfsConfig = NfsConfig()
    """NFS homes and shared folders: managed server on the `nfs` node or an existing NAS, CSI driver, volumes."""
    scheduler: SchedulerConfig = SchedulerConfig()
    """Apache YuniKorn: chart pin and the typed queue tree (`yunikorn-configs` ConfigMap)."""
    charts: ChartsConfig = ChartsConfig()
    """Where Helm charts come from: per-chart repository mirrors (HTTP(S) or OCI) and a folder of chart files."""

    @property
    def builds_cluster(self) -> bool:
        return self.cluster.mode == "kubeadm"

    def api_endpoint_host(self) -> str:
        """The host name or address clients use for the API (stable: it is in every certificate)."""
        if self.cluster.endpoint.host:
            return self.cluster.endpoint.host
        if self.load_balancer.vip is not None:
            return str(self.load_balancer.vip)
        lbs = self.inventory.load_balancers
        if lbs:
            return str(lbs[0].address)
        return str(self.inventory.control_planes[0].address)

    def api_endpoint_port(self) -> int:
        if self.inventory.load_balancers or self.cluster.endpoint.host:
            return self.cluster.endpoint.port
        return self.cluster.api_server_port

    def api_endpoint(self) -> str:
        return f"{self.api_endpoint_host()}:{self.api_endpoint_port()}"


Check = Callable[[PlatformConfig], Iterator[ConfigIssue]]


def _duplicates(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    seen_names: dict[str, int] = {}
    seen_addresses: dict[IPv4Address, int] = {}
    for i, node in enumerate(cfg.inventory.nodes):
        if node.name in seen_names:
            first = seen_names[node.name]
            yield ConfigIssue(f"inventory.nodes.{i}.name", f"duplicate node name {node.name!r} (also nodes.{first})")
        seen_names.setdefault(node.name, i)
        if node.address in seen_addresses:
            yield ConfigIssue(
                f"inventory.nodes.{i}.address",
                f"duplicate address {node.address} (also nodes.{seen_addresses[node.address]})",
            )
        seen_addresses.setdefault(node.address, i)


def _control_planes(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.builds_cluster:
        return
    count = len(cfg.inventory.control_planes)
    if count == 0:
        yield ConfigIssue("inventory.nodes", "no node has the control-plane role (kubeadm mode needs 1, 3 or 5)")
    elif count % 2 == 0:
        yield ConfigIssue(
            "inventory.nodes",
            f"{count} control planes: etcd needs an odd number (1, 3 or 5) to keep quorum",
        )
    elif count > 1 and not cfg.inventory.load_balancers and not cfg.cluster.endpoint.host:
        yield ConfigIssue(
            "cluster.endpoint.host",
            f"{count} control planes need a load balancer: give nodes the load-balancer role "
            "or name an external one here",
        )
    if not cfg.inventory.schedulable_nodes:
        yield ConfigIssue("inventory.nodes", "no node has the worker role: notebooks would have nowhere to run")


def _load_balancer(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    lbs = cfg.inventory.load_balancers
    vip = cfg.load_balancer.vip
    if vip is not None and len(lbs) < 2:
        yield ConfigIssue("load_balancer.vip", f"a VIP needs at least two load-balancer hosts, found {len(lbs)}")
    if vip is None and len(lbs) >= 2:
        yield ConfigIssue("load_balancer.vip", f"{len(lbs)} load-balancer hosts need a VIP to share")
    if vip is not None:
        for i, node in enumerate(cfg.inventory.nodes):
            if node.address == vip:
                yield ConfigIssue("load_balancer.vip", f"the VIP {vip} is the address of node {node.name!r} (nodes.{i})")
    if lbs and not cfg.builds_cluster:
        yield ConfigIssue("inventory.nodes", "load-balancer hosts are only used in kubeadm mode")
    for node in cfg.inventory.nodes:
        if node.has(Role.LOAD_BALANCER) and node.has(Role.CONTROL_PLANE):
            if cfg.cluster.endpoint.port == cfg.cluster.api_server_port:
                yield ConfigIssue(
                    "cluster.endpoint.port",
                    f"node {node.name!r} runs HAProxy and an API server: both would bind port "
                    f"{cfg.cluster.api_server_port}; use another endpoint port (e.g. 8443)",
                )
            break
    if lbs and cfg.load_balancer.stats_port == cfg.cluster.endpoint.port:
        yield ConfigIssue("load_balancer.stats_port", "the stats port equals the API endpoint port")


def _networks(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    pods, services = cfg.cluster.pod_cidr, cfg.cluster.service_cidr
    if pods.overlaps(services):
        yield ConfigIssue("cluster.pod_cidr", f"{pods} overlaps cluster.service_cidr {services}")
    # Node addresses and the VIP must lie in node_network (checked below), so no overlap with it
    # means none of them falls in a pod or service range either.
    for field, net in (("pod_cidr", pods), ("service_cidr", services)):
        if net.overlaps(cfg.inventory.node_network):
            yield ConfigIssue(f"cluster.{field}", f"{net} overlaps inventory.node_network {cfg.inventory.node_network}")


def _host_keys(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.ssh.require_host_keys:
        return
    if cfg.ssh.bastion is not None and not cfg.ssh.bastion.host_key:
        yield ConfigIssue("ssh.bastion.host_key", "ssh.require_host_keys is set: pin the bastion's host key")
    for i, node in enumerate(cfg.inventory.nodes):
        if not node.ssh.host_key:
            yield ConfigIssue(f"inventory.nodes.{i}.ssh.host_key", "ssh.require_host_keys is set: pin this node's host key")


def _node_network(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    net = cfg.inventory.node_network
    for i, node in enumerate(cfg.inventory.nodes):
        if node.address not in net:
            yield ConfigIssue(f"inventory.nodes.{i}.address", f"{node.address} is outside inventory.node_network {net}")
    vip = cfg.load_balancer.vip
    if vip is not None and vip not in net:
        yield ConfigIssue("load_balancer.vip", f"{vip} is outside inventory.node_network {net}")


def _roles(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    if not cfg.builds_cluster:
        return
    if len(cfg.inventory.with_role(Role.NFS)) > 1:
        yield ConfigIssue("inventory.nodes", "more than one node has the nfs role; the homes live on exactly one server")


# Later sections append their own rules here (see config/__init__.py); order only affects output order.
PLATFORM_CHECKS: list[Check] = [_duplicates, _control_planes, _load_balancer, _networks, _host_keys, _node_network, _roles]
PLATFORM_CHECKS.append(publish_issues)
PLATFORM_CHECKS.extend(GPU_CHECKS)
PLATFORM_CHECKS.extend(HUB_CHECKS)
PLATFORM_CHECKS.extend(HUB_ACCESS_CHECKS)
PLATFORM_CHECKS.extend(NFS_CHECKS)
PLATFORM_CHECKS.extend(SCHEDULER_CHECKS)
PLATFORM_CHECKS.extend(CHARTS_CHECKS)


def check_platform(cfg: PlatformConfig) -> list[ConfigIssue]:
    """Every cross-section rule, all problems at once."""
    return [issue for check in PLATFORM_CHECKS for issue in check(cfg)]
