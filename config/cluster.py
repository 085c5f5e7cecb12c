"""The Kubernetes cluster and its load balancer."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel
from config.fields import ChartVersion
from config.kubernetes_versions import NEWEST, parse_version, unsupported_minor
from config.lifecycle import CertificatesConfig, EncryptionAtRestConfig, UpgradeConfig

MAX_LOAD_BALANCERS = 10
"""keepalived hosts sharing one VIP: priorities 200, 190, ... stay in 1..254 with the failover weight."""
# A DNS name (RFC 1123 labels) or an IPv4 address: what a certificate SAN and kubeconfig accept.
HOST_PATTERN = r"^(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$"
HostName = Annotated[str, Field(pattern=HOST_PATTERN, max_length=253)]


class ApiEndpoint(StrictModel):
    """Where clients reach the API server: baked into every certificate and kubeconfig."""

    host: HostName | None = None
    """DNS name of the endpoint (recommended, must resolve to the VIP). Defaults to the VIP,
    the single load balancer, or the single control plane."""
    port: Annotated[int, Field(ge=1, le=65535)] = 6443
    """Port clients use; the load balancer's frontend listens on it."""


class ClusterConfig(StrictModel):
    """The kubeadm-built cluster, or an existing cluster the platform is installed on."""

    mode: Literal["kubeadm", "existing"] = "kubeadm"
    """`kubeadm` builds the cluster on the inventory; `existing` only installs the platform on the
    cluster named by the secret `kubeconfig` (a laptop cluster, a managed cluster)."""
    name: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "jupyterhub"
    """Cluster name written into the kubeconfig."""
    kubernetes_version: str = "1.37.1"
    """Exact Kubernetes version (kubeadm, kubelet, kubectl are pinned to it and held). Must be a
    supported minor (`config.kubernetes_versions`); raising it by one minor, or changing the
    patch, upgrades the running cluster (see `upgrade`)."""
    pod_cidr: IPv4Network = IPv4Network("10.244.0.0/16")
    """Pod network (Calico IP pool); must not overlap the service or node networks."""
    service_cidr: IPv4Network = IPv4Network("10.96.0.0/12")
    """Service network; must not overlap the pod or node networks."""
    api_server_port: Annotated[int, Field(ge=1, le=65535)] = 6443
    """Port each API server binds on its control plane."""
    endpoint: ApiEndpoint = ApiEndpoint()
    """The API endpoint behind the load balancer."""
    extra_cert_sans: list[HostName] = []
    """Extra names or addresses for the API server certificate."""
    calico_version: ChartVersion = NEWEST.min_calico
    """tigera-operator chart version (Calico), which enforces NetworkPolicy."""
    calico_encapsulation: Literal["VXLANCrossSubnet", "VXLAN", "IPIP", "None"] = "VXLANCrossSubnet"
    """Calico pod traffic encapsulation."""
    manage_hostnames: bool = True
    """Set each host's hostname to its inventory name (kubeadm needs unique host names)."""
    min_cpus: Annotated[int, Field(ge=1)] = 2
    """Preflight: fewest CPUs a Kubernetes node may have."""
    min_memory_mib: Annotated[int, Field(ge=512)] = 1700
    """Preflight: least memory (MiB) a Kubernetes node may have."""
    join_timeout_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    """Bound on each `kubeadm init`/`join` and on waiting for nodes and the API."""
    upgrade: UpgradeConfig = UpgradeConfig()
    """How a version change is rolled out: batch size, drain bounds, notebook grace time."""
    certificates: CertificatesConfig = CertificatesConfig()
    """Expiry monitoring and renewal of the control-plane certificates."""
    encryption_at_rest: EncryptionAtRestConfig | None = None
    """Encrypt Secrets in etcd with keys from stack secrets; off when absent (a warning says so)."""

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _supported_version(cls, version: object) -> str:
        # Whether a supported minor is past its end of life is a rule of config.lifecycle_rules,
        # which knows today's date.
        example = f'"{NEWEST.minor}.1"'
        if isinstance(version, int | float) and not isinstance(version, bool):
            raise ValueError(f"is a number (YAML reads {version} as one): quote an exact version, e.g. {example}")
        if not isinstance(version, str):
            raise ValueError(f"must be an exact version in quotes, e.g. {example}")
        if parse_version(version) is None:
            raise ValueError(f"must be an exact version like {NEWEST.minor}.1 (major.minor.patch)")
        problem = unsupported_minor(version)
        if problem:
            raise ValueError(problem)
        return version.removeprefix("v")

    @field_validator("pod_cidr")
    @classmethod
    def _pod_cidr_holds_node_ranges(cls, net: IPv4Network) -> IPv4Network:
        # Each node gets a /24 out of it (kube-controller-manager's default node CIDR mask).
        if net.prefixlen > 24:
            raise ValueError(f"{net} is smaller than one node's /24 pod range: use /24 or larger (e.g. /16)")
        return net

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr_size(cls, net: IPv4Network) -> IPv4Network:
        # The API server refuses IPv4 service ranges larger than /12.
        if net.prefixlen < 12:
            raise ValueError(f"{net} is larger than the API server allows for services: use /12 or smaller")
        return net

    @property
    def kubernetes_minor(self) -> str:
        return ".".join(self.kubernetes_version.split(".")[:2])


class LoadBalancerConfig(StrictModel):
    """HAProxy on the `load-balancer` hosts, sharing a keepalived VIP when there are two or more."""

    vip: IPv4Address | None = None
    """Virtual IP held by one load balancer at a time; required with two or more LB hosts."""
    interface: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,15}$")] = "eth0"
    """Network interface that carries the VIP on every LB host."""
    virtual_router_id: Annotated[int, Field(ge=1, le=255)] = 51
    """VRRP router id: the same on all LB hosts, unique on the L2 segment."""
    unicast: bool = True
    """Send VRRP to the peers' addresses instead of multicast (works where multicast is filtered)."""
    timeout_client_seconds: Annotated[int, Field(ge=3600)] = 3 * 3600
    """Idle timeout on client connections; at least 1 h so `kubectl logs -f`/`exec` survive."""
    timeout_server_seconds: Annotated[int, Field(ge=3600)] = 3 * 3600
    """Idle timeout on API server connections; at least 1 h."""
    stats_port: Annotated[int, Field(ge=1, le=65535)] = 8404
    """HAProxy stats page, bound to 127.0.0.1 only."""
    health_check_interval_ms: Annotated[int, Field(ge=200, le=60000)] = 2000
    """How often each API server's /readyz is checked."""
