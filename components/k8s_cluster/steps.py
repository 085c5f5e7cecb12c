"""The scripts of every cluster bootstrap step, rendered per node. Pure: no Pulumi import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from pathlib import Path

from components.common.shell import COMMON_SCRIPTS, HostFile, RenderedScript, render_script, render_sections
from components.gpu_pool.host import DROP_IN_CONFIG as NVIDIA_DROP_IN
from components.k8s_cluster.kubeadm_config import node_labels, render_init_config, render_join_config
from components.k8s_cluster.waves import join_order
from config.inventory import Node, Role, Taint
from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
KERNEL_MODULES = "overlay\nbr_netfilter\n"
SYSCTLS = "net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n"
# Ports kubeadm's own preflight checks, plus etcd's on control planes.
WORKER_PORTS = (10250, 10256)
CONTROL_PLANE_PORTS = (10250, 10257, 10259, 2379, 2380)
# Ports the node's host firewall must let in from the other nodes (preflight checks ufw, firewalld
# and an nftables input policy). Calico: BGP 179, Typha 5473, and VXLAN 4789/udp when it encapsulates.
NODE_FIREWALL_PORTS = ("10250/tcp", "179/tcp", "5473/tcp")
CONTROL_PLANE_FIREWALL_PORTS = ("2379-2380/tcp", "10257/tcp", "10259/tcp")
VXLAN_PORT = "4789/udp"
# containerd.io from Docker's apt repository, this exact upstream version (the package version is
# `<this>~<distro>.<release>~<codename>`). Kubernetes 1.35+ warns on containerd 1.x and 1.38 drops it;
# nvidia-ctk's drop-in needs 2.1+. One constant, so a Kubernetes version table can take it over.
CONTAINERD_VERSION = "2.2.6-1"
CRICTL_CONFIG = (
    "runtime-endpoint: unix:///run/containerd/containerd.sock\n"
    "image-endpoint: unix:///run/containerd/containerd.sock\n"
    "timeout: 10\n"
)
DRAIN_TIMEOUT_SECONDS = 600
REGISTER_TIMEOUT_SECONDS = 300
KUBE_DIR = "/etc/kubernetes"
# Every node this platform joined carries it (applied with its labels): only such nodes are ever
# drained and deleted when they leave the inventory.
MANAGED_LABEL = "node.jupyterhub-platform/managed"
ADDRESS_ANNOTATION = "node.jupyterhub-platform/address"
MINT_STEP = "mint-join"
# kubeadm deletes uploaded control-plane certificates after 2 h; control planes refuse the
# certificate key a little before that.
CERTS_TTL_SECONDS = 2 * 3600 - 600
# What one node's preparation usually takes at most (packages from the network), for the token's lifetime.
PREPARE_ROUND_SECONDS = 1200
# Bootstrap tokens: at least kubeadm's usual hour, at most its default day.
MIN_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS = 3600, 24 * 3600
SSHD_DROP_IN = "/etc/ssh/sshd_config.d/05-jupyterhub-platform.conf"
SSHD_CONFIG = "/etc/ssh/sshd_config"
# Without a bound from ssh.max_parallel_sessions, what each node's sshd accepts at once.
UNBOUNDED_SSHD_STARTUPS = 64


@dataclass(frozen=True)
class HostPaths:
    """Where a step keeps kubeadm's files on the host; tests point it at a scratch directory."""

    kube_dir: str = KUBE_DIR
    sshd_config: str = SSHD_CONFIG
    sshd_drop_in: str = SSHD_DROP_IN

    # Written only after `kubeadm init` / `kubeadm join` succeeded: the guards of those steps.
    @property
    def init_marker(self) -> str:
        return f"{self.kube_dir}/jupyterhub-platform-initialised"

    @property
    def join_marker(self) -> str:
        return f"{self.kube_dir}/jupyterhub-platform-joined"


ON_HOST = HostPaths()
INIT_MARKER, JOIN_MARKER = ON_HOST.init_marker, ON_HOST.join_marker
# kubeadm's own control-plane preflight floors; the configured minimums cannot go below them.
CONTROL_PLANE_MIN_CPUS, CONTROL_PLANE_MIN_MEMORY_MIB = 2, 1700


def _script(
    name: str,
    body: str,
    params: dict[str, str | int | bool] | None = None,
    files: dict[str, HostFile] | None = None,
    paths: HostPaths = ON_HOST,
) -> RenderedScript:
    """A cluster step script: every one knows where kubeadm keeps its files (tests point it elsewhere)."""
    return render_script(name, SCRIPTS / body, {"KUBE_DIR": paths.kube_dir, **(params or {})}, files)


def _ports(cfg: PlatformConfig, node: Node) -> str:
    ports = list(WORKER_PORTS)
    if node.has(Role.CONTROL_PLANE):
        ports = [cfg.cluster.api_server_port, *CONTROL_PLANE_PORTS]
    return " ".join(str(p) for p in sorted(set(ports)))


def _firewall_ports(cfg: PlatformConfig, node: Node) -> str:
    ports = list(NODE_FIREWALL_PORTS)
    if node.has(Role.CONTROL_PLANE):
        ports += [f"{cfg.cluster.api_server_port}/tcp", *CONTROL_PLANE_FIREWALL_PORTS]
    if cfg.cluster.calico_encapsulation.startswith("VXLAN"):
        ports.append(VXLAN_PORT)
    return " ".join(sorted(set(ports)))


def _api_address(cfg: PlatformConfig) -> str:
    """The address the API endpoint's name must resolve to on every node: the VIP, or the single
    load balancer. Empty when the platform does not run the load balancer (any address will do)."""
    if cfg.load_balancer.vip is not None:
        return str(cfg.load_balancer.vip)
    lbs = cfg.inventory.load_balancers
    return str(lbs[0].address) if lbs else ""


def _preflight_params(cfg: PlatformConfig, node: Node) -> dict[str, str | int | bool]:
    cp = node.has(Role.CONTROL_PLANE)
    return {
        "NODE_NAME": node.name,
        "MIN_CPUS": max(cfg.cluster.min_cpus, CONTROL_PLANE_MIN_CPUS if cp else 1),
        "MIN_MEMORY_MIB": max(cfg.cluster.min_memory_mib, CONTROL_PLANE_MIN_MEMORY_MIB if cp else 0),
        "MANAGE_HOSTNAMES": cfg.cluster.manage_hostnames,
        "CHECK_PORTS": _ports(cfg, node),
        "FIREWALL_PORTS": _firewall_ports(cfg, node),
        "API_HOST": cfg.api_endpoint_host(),
        "API_ADDRESS": _api_address(cfg),
    }


PREFLIGHT_SECTION = (COMMON_SCRIPTS / "firewall.sh", SCRIPTS / "preflight.sh")


def preflight(cfg: PlatformConfig, node: Node) -> RenderedScript:
    """The preflight on its own (the first section of `prepare`; tests run it alone)."""
    params = {"KUBE_DIR": KUBE_DIR, **_preflight_params(cfg, node)}
    return render_script(f"{node.name}/preflight", list(PREFLIGHT_SECTION), params)


def unique_hosts(first: Node) -> RenderedScript:
    """Compare the identities every node's preflight printed (stdin): product_uuid and MACs."""
    return _script(f"{first.name}/unique-hosts", "unique-hosts.sh")


def sshd_limits(cfg: PlatformConfig) -> str:
    """sshd drop-in: room for every connection setup the platform may open at once (two per step
    that goes through a jump host), and for multiplexed sessions."""
    lanes = cfg.ssh.session_lanes()
    start = UNBOUNDED_SSHD_STARTUPS if lanes is None else max(10, 2 * lanes)
    return (
        "# Written by jupyterhub-platform (node preparation): see ssh.max_parallel_sessions.\n"
        f"MaxStartups {start}:30:{2 * start + 100}\n"
        f"MaxSessions {max(10, lanes or 0)}\n"
    )


def prepare(
    cfg: PlatformConfig, node: Node, extra_sections: Sequence[Sequence[Path]] = (), paths: HostPaths = ON_HOST
) -> RenderedScript:
    """One session per node for what used to be several steps, in order: preflight (refuses the host
    before anything changes), preparation, sshd limits, then other components' host sections (the
    NFS client). Each section runs in its own subshell; the first failure stops the step."""
    sections: list[Sequence[Path]] = [PREFLIGHT_SECTION, [SCRIPTS / "prepare.sh"], [SCRIPTS / "sshd-limits.sh"]]
    sections += list(extra_sections)
    return render_sections(
        f"{node.name}/prepare",
        sections,
        {
            "KUBE_DIR": paths.kube_dir,
            **_preflight_params(cfg, node),
            "KUBERNETES_VERSION": cfg.cluster.kubernetes_version,
            "KUBERNETES_MINOR": cfg.cluster.kubernetes_minor,
            "CONTAINERD_VERSION": CONTAINERD_VERSION,
            "NVIDIA_DROP_IN": NVIDIA_DROP_IN,
            "SSHD_CONFIG": paths.sshd_config,
        },
        {
            "MODULES": HostFile("/etc/modules-load.d/kubernetes.conf", KERNEL_MODULES),
            "SYSCTL": HostFile("/etc/sysctl.d/90-kubernetes.conf", SYSCTLS),
            "CRICTL": HostFile("/etc/crictl.yaml", CRICTL_CONFIG),
            "SSHD_LIMITS": HostFile(paths.sshd_drop_in, sshd_limits(cfg)),
        },
    )


def init(cfg: PlatformConfig, node: Node, extra_taints: list[Taint]) -> RenderedScript:
    return _script(
        f"{node.name}/kubeadm-init",
        "init.sh",
        {
            "API_ENDPOINT": cfg.api_endpoint(),
            "NODE_NAME": node.name,
            "JOIN_TIMEOUT": cfg.cluster.join_timeout_seconds,
            "INIT_MARKER": INIT_MARKER,
            "JOIN_MARKER": JOIN_MARKER,
        },
        {"KUBEADM_CONFIG": HostFile(f"{KUBE_DIR}/kubeadm-init.yaml", render_init_config(cfg, node, extra_taints), "0600")},
    )


def admin_kubeconfig(node: Node) -> RenderedScript:
    return _script(f"{node.name}/admin-kubeconfig", "admin-kubeconfig.sh")


def token_ttl_seconds(cfg: PlatformConfig) -> int:
    """A token that outlives every join of one `pulumi up`. It is minted right after the first
    control plane is up, so it must last through the preparation rounds (nodes in lanes, each
    round estimated at PREPARE_ROUND_SECONDS), then the join rounds: control planes one after
    another and workers in their lanes, each bounded by the join and registration timeouts."""
    lanes = cfg.ssh.session_lanes()
    nodes, joining = len(cfg.inventory.kubernetes_nodes), len(join_order(cfg))
    prepare_rounds = ceil(nodes / lanes) if lanes else 1
    join_rounds = (ceil(joining / lanes) if lanes else 1) + len(cfg.inventory.control_planes)
    wanted = prepare_rounds * PREPARE_ROUND_SECONDS + join_rounds * (cfg.cluster.join_timeout_seconds + REGISTER_TIMEOUT_SECONDS)
    return min(MAX_TOKEN_TTL_SECONDS, max(MIN_TOKEN_TTL_SECONDS, wanted + 900))


def mint_join(cfg: PlatformConfig, first: Node, paths: HostPaths = ON_HOST) -> RenderedScript:
    return _script(
        f"{first.name}/{MINT_STEP}",
        "mint-join.sh",
        {
            "TOKEN_TTL_SECONDS": token_ttl_seconds(cfg),
            "CERTS_TTL_SECONDS": CERTS_TTL_SECONDS,
            "CONTROL_PLANE_JOINS": len(cfg.inventory.control_planes) > 1,
        },
        paths=paths,
    )


def join_material(minted: str, control_plane: bool) -> str:
    """What one node's join reads on stdin, from the mint's output: workers never see the
    certificate key, and a control plane's expiry is the earlier of token and certificates.
    Output that is not the mint's five fields passes through unchanged (the join refuses it)."""
    fields = minted.split()
    if len(fields) != 5:
        return minted
    token, ca_hash, cert_key, token_expires, certs_expires = fields
    if not control_plane:
        return f"{token} {ca_hash} - {token_expires}\n"
    expires = min(int(token_expires), int(certs_expires)) if certs_expires.isdigit() else token_expires
    return f"{token} {ca_hash} {cert_key} {expires}\n"


def join(cfg: PlatformConfig, first: Node, node: Node, extra_taints: list[Taint], paths: HostPaths = ON_HOST) -> RenderedScript:
    """kubeadm join (guarded), then wait until the node's own Node object exists: one session.
    The template (no secrets) is kept on the host; the filled copy is removed after use."""
    return render_sections(
        f"{node.name}/kubeadm-join",
        [[SCRIPTS / "join.sh"], [SCRIPTS / "register-node.sh"]],
        {
            "KUBE_DIR": paths.kube_dir,
            "NODE_NAME": node.name,
            "JOIN_ROLE": "control-plane" if node.has(Role.CONTROL_PLANE) else "worker",
            "JOIN_TIMEOUT": cfg.cluster.join_timeout_seconds,
            "JOIN_MARKER": paths.join_marker,
            "INIT_MARKER": paths.init_marker,
            "MINT_STEP": f"{first.name}-{MINT_STEP}",
            "REGISTER_TIMEOUT": REGISTER_TIMEOUT_SECONDS,
        },
        {
            "JOIN_CONFIG": HostFile(
                f"{paths.kube_dir}/join-template.yaml", render_join_config(cfg, node, extra_taints), "0600"
            )
        },
    )


def reset(node: Node, paths: HostPaths = ON_HOST) -> RenderedScript:
    return _script(
        f"{node.name}/kubeadm-reset", "reset-node.sh", {"NODE_NAME": node.name, "JOIN_MARKER": paths.join_marker}, paths=paths
    )


def labels(node: Node, extra_labels: dict[str, str]) -> dict[str, str]:
    """The node's labels as the platform applies them through the API, with the managed marker."""
    return {**node_labels(node, extra_labels), MANAGED_LABEL: "true"}


def expected_nodes(cfg: PlatformConfig) -> str:
    return " ".join(f"{n.name}={n.address}" for n in cfg.inventory.kubernetes_nodes)


def drain_removed(cfg: PlatformConfig, first: Node, paths: HostPaths = ON_HOST) -> RenderedScript:
    return _script(
        f"{first.name}/drain-removed-nodes",
        "drain-node.sh",
        {"EXPECTED_NODES": expected_nodes(cfg), "MANAGED_LABEL": MANAGED_LABEL, "DRAIN_TIMEOUT": DRAIN_TIMEOUT_SECONDS},
        paths=paths,
    )


def wait_nodes_ready(cfg: PlatformConfig, first: Node) -> RenderedScript:
    return _script(
        f"{first.name}/wait-nodes-ready",
        "wait-nodes-ready.sh",
        {
            "EXPECTED_NODES": " ".join(n.name for n in cfg.inventory.kubernetes_nodes),
            "READY_TIMEOUT": cfg.cluster.join_timeout_seconds,
        },
    )
