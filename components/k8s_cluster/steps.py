"""The scripts of every cluster bootstrap step, rendered per node. Pure: no Pulumi import."""

from __future__ import annotations

from pathlib import Path

from components.common.shell import COMMON_SCRIPTS, HostFile, RenderedScript, render_script
from components.gpu_pool.host import DROP_IN_CONFIG as NVIDIA_DROP_IN
from components.k8s_cluster.kubeadm_config import node_labels, render_init_config, render_join_config
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
# Written only after `kubeadm init` / `kubeadm join` succeeded: the guards of those steps.
KUBE_DIR = "/etc/kubernetes"
INIT_MARKER = f"{KUBE_DIR}/jupyterhub-platform-initialised"
JOIN_MARKER = f"{KUBE_DIR}/jupyterhub-platform-joined"
# kubeadm's own control-plane preflight floors; the configured minimums cannot go below them.
CONTROL_PLANE_MIN_CPUS, CONTROL_PLANE_MIN_MEMORY_MIB = 2, 1700


def _script(
    name: str, body: str, params: dict[str, str | int | bool] | None = None, files: dict[str, HostFile] | None = None
) -> RenderedScript:
    """A cluster step script: every one knows where kubeadm keeps its files (tests point it elsewhere)."""
    return render_script(name, SCRIPTS / body, {"KUBE_DIR": KUBE_DIR, **(params or {})}, files)


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


def preflight(cfg: PlatformConfig, node: Node) -> RenderedScript:
    cp = node.has(Role.CONTROL_PLANE)
    return render_script(
        f"{node.name}/preflight",
        [COMMON_SCRIPTS / "firewall.sh", SCRIPTS / "preflight.sh"],
        {
            "KUBE_DIR": KUBE_DIR,
            "NODE_NAME": node.name,
            "MIN_CPUS": max(cfg.cluster.min_cpus, CONTROL_PLANE_MIN_CPUS if cp else 1),
            "MIN_MEMORY_MIB": max(cfg.cluster.min_memory_mib, CONTROL_PLANE_MIN_MEMORY_MIB if cp else 0),
            "MANAGE_HOSTNAMES": cfg.cluster.manage_hostnames,
            "CHECK_PORTS": _ports(cfg, node),
            "FIREWALL_PORTS": _firewall_ports(cfg, node),
            "API_HOST": cfg.api_endpoint_host(),
            "API_ADDRESS": _api_address(cfg),
        },
    )


def unique_hosts(first: Node) -> RenderedScript:
    """Compare the identities every node's preflight printed (stdin): product_uuid and MACs."""
    return _script(f"{first.name}/unique-hosts", "unique-hosts.sh")


def prepare(cfg: PlatformConfig, node: Node) -> RenderedScript:
    return _script(
        f"{node.name}/prepare",
        "prepare.sh",
        {
            "NODE_NAME": node.name,
            "MANAGE_HOSTNAMES": cfg.cluster.manage_hostnames,
            "KUBERNETES_VERSION": cfg.cluster.kubernetes_version,
            "KUBERNETES_MINOR": cfg.cluster.kubernetes_minor,
            "CONTAINERD_VERSION": CONTAINERD_VERSION,
            "NVIDIA_DROP_IN": NVIDIA_DROP_IN,
        },
        {
            "MODULES": HostFile("/etc/modules-load.d/kubernetes.conf", KERNEL_MODULES),
            "SYSCTL": HostFile("/etc/sysctl.d/90-kubernetes.conf", SYSCTLS),
            "CRICTL": HostFile("/etc/crictl.yaml", CRICTL_CONFIG),
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


def mint_join(first: Node, joining: Node) -> RenderedScript:
    return _script(
        f"{first.name}/mint-join-{joining.name}",
        "mint-join.sh",
        {"JOINING_NODE": joining.name, "CONTROL_PLANE_JOIN": joining.has(Role.CONTROL_PLANE)},
    )


def join(cfg: PlatformConfig, first: Node, node: Node, extra_taints: list[Taint]) -> RenderedScript:
    # The template (no secrets) is kept on the host; the filled copy is removed after use.
    return _script(
        f"{node.name}/kubeadm-join",
        "join.sh",
        {
            "NODE_NAME": node.name,
            "JOIN_ROLE": "control-plane" if node.has(Role.CONTROL_PLANE) else "worker",
            "JOIN_TIMEOUT": cfg.cluster.join_timeout_seconds,
            "JOIN_MARKER": JOIN_MARKER,
            "INIT_MARKER": INIT_MARKER,
            "MINT_STEP": f"{first.name}-mint-join-{node.name}",
        },
        {"JOIN_CONFIG": HostFile(f"{KUBE_DIR}/join-template.yaml", render_join_config(cfg, node, extra_taints), "0600")},
    )


def reset(node: Node) -> RenderedScript:
    return _script(f"{node.name}/kubeadm-reset", "reset-node.sh", {"NODE_NAME": node.name, "JOIN_MARKER": JOIN_MARKER})


def register(first: Node, node: Node, extra_labels: dict[str, str]) -> RenderedScript:
    labels = " ".join(f"{k}={v}" for k, v in node_labels(node, extra_labels).items())
    return _script(f"{first.name}/register-{node.name}", "register-node.sh", {"NODE_NAME": node.name, "NODE_LABELS": labels})


def drain(first: Node, node: Node) -> RenderedScript:
    return _script(
        f"{first.name}/drain-{node.name}",
        "drain-node.sh",
        {"NODE_NAME": node.name, "DRAIN_TIMEOUT": DRAIN_TIMEOUT_SECONDS},
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
