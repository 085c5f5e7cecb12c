"""The whole platform's configuration: one field per section, and the API endpoint it implies.

Only the model lives here. Questions that need the whole configuration live in `config/*_queries.py`,
rules that span sections in `config/*_rules.py` (assembled in `config.checks`); both import this
module, never the other way round (import-linter enforces the layers, see pyproject.toml).
"""

from __future__ import annotations

from config.backup import BackupConfig
from config.base import StrictModel
from config.charts import ChartsConfig
from config.cluster import ClusterConfig, LoadBalancerConfig
from config.consoles import ConsolesConfig
from config.courses import CoursesConfig
from config.gpu import GpuConfig
from config.hubs import HubConfig
from config.inventory import Inventory
from config.monitoring import MonitoringConfig
from config.nfs import NfsConfig
from config.publish import PublishConfig
from config.quotas import QuotaConfig
from config.scheduler import SchedulerConfig
from config.ssh import SshConfig
from config.traffic import TrafficConfig


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
    traffic: TrafficConfig = TrafficConfig()
    """How users reach the hubs: HAProxy hub frontends (SNI/Host), MetalLB or an external load balancer."""
    backup: BackupConfig | None = None
    """Backups (etcd, homes, hub databases) with restic to S3-compatible storage or SFTP; none when absent."""
    quotas: QuotaConfig | None = None
    """Per-user XFS project quotas on the managed NFS server's homes; none when absent."""
    consoles: ConsolesConfig | None = None
    """Admin consoles (the YuniKorn web UI) behind oauth2-proxy and the load balancer; none when absent."""
    monitoring: MonitoringConfig | None = None
    """Prometheus, Alertmanager and Grafana (kube-prometheus-stack), alerts and dashboards; absent: none."""
    charts: ChartsConfig = ChartsConfig()
    """Where Helm charts come from: per-chart repository mirrors (HTTP(S) or OCI) and a folder of chart files."""
    courses: CoursesConfig = CoursesConfig()
    """Courses: groups, hubs, profiles, material folders, the ngshare exchange and the roster (`config.courses`)."""

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


# Cross-section rules are NOT registered here: a new `config/<topic>_rules.py` adds its `<TOPIC>_CHECKS`
# with one line where `PLATFORM_CHECKS` is assembled, in config/checks.py (importing a rule module here
# would break the layers that `lint-imports` enforces).
