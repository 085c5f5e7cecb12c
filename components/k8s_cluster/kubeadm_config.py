"""kubeadm configuration documents (v1beta4), rendered from the typed config. Pure."""

from __future__ import annotations

from typing import Any

import yaml

from config.inventory import Node, Role, Taint
from config.kubernetes_versions import BY_MINOR, NEWEST
from config.platform import PlatformConfig

CRI_SOCKET = "unix:///run/containerd/containerd.sock"
CONTROL_PLANE_TAINT = Taint(key="node-role.kubernetes.io/control-plane", effect="NoSchedule")
# Slots the join script fills from stdin, so no secret is ever part of the rendered file.
TOKEN_SLOT, CA_HASH_SLOT, CERT_KEY_SLOT = "@TOKEN@", "@CA_HASH@", "@CERT_KEY@"
KUBE_DIR = "/etc/kubernetes"
# The EncryptionConfiguration (root-only, written by encryption-keys.sh before the API server starts).
ENCRYPTION_DIR = f"{KUBE_DIR}/encryption"
ENCRYPTION_CONFIG = f"{ENCRYPTION_DIR}/config.yaml"


def kubeadm_api(cfg: PlatformConfig) -> str:
    """The kubeadm configuration API of the configured minor (`config.kubernetes_versions`)."""
    return BY_MINOR.get(cfg.cluster.kubernetes_minor, NEWEST).kubeadm_api


# libyaml's emitter when PyYAML has it: one join config per node, and at 1,000 nodes the pure-Python
# emitter is seconds of the render. For these documents (short scalars, no multi-line strings) both
# emit the same text; the golden files check it.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(*documents: dict[str, Any]) -> str:
    return "---\n".join(yaml.dump(d, Dumper=_DUMPER, sort_keys=False) for d in documents)


def node_taints(node: Node) -> list[Taint]:
    """Taints at registration: control planes keep theirs unless they also run workloads."""
    base = [CONTROL_PLANE_TAINT] if node.has(Role.CONTROL_PLANE) and not node.has(Role.WORKER) else []
    return base + list(node.taints)


def _registration(node: Node, extra_taints: list[Taint]) -> dict[str, Any]:
    taints = node_taints(node) + extra_taints
    return {
        "name": node.name,
        "criSocket": CRI_SOCKET,
        "taints": [{"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect} for t in taints],
        # hostname-override keeps the Node name even if something renames the host later.
        "kubeletExtraArgs": [
            {"name": "hostname-override", "value": node.name},
            {"name": "node-ip", "value": str(node.address)},
        ],
    }


def cert_sans(cfg: PlatformConfig) -> list[str]:
    """Every name clients may use for the API: endpoint, VIP, load balancers, control planes."""
    names = [cfg.api_endpoint_host()]
    if cfg.load_balancer.vip is not None:
        names.append(str(cfg.load_balancer.vip))
    names += [str(n.address) for n in cfg.inventory.load_balancers]
    names += [str(n.address) for n in cfg.inventory.control_planes]
    names += [n.name for n in cfg.inventory.control_planes]
    names += cfg.cluster.extra_cert_sans
    return list(dict.fromkeys(names))


def _api_server(cfg: PlatformConfig) -> dict[str, Any]:
    """kube-apiserver settings; with encryption at rest, the EncryptionConfiguration mounted read-only."""
    server: dict[str, Any] = {"certSANs": cert_sans(cfg), "extraArgs": [{"name": "profiling", "value": "false"}]}
    if cfg.cluster.encryption_at_rest is not None:
        server["extraArgs"].append({"name": "encryption-provider-config", "value": ENCRYPTION_CONFIG})
        server["extraVolumes"] = [
            {
                "name": "encryption-config",
                "hostPath": ENCRYPTION_DIR,
                "mountPath": ENCRYPTION_DIR,
                "readOnly": True,
                "pathType": "DirectoryOrCreate",
            }
        ]
    return server


def render_init_config(cfg: PlatformConfig, node: Node, extra_taints: list[Taint] | None = None) -> str:
    """InitConfiguration + ClusterConfiguration + KubeletConfiguration for the first control plane."""
    c = cfg.cluster
    init = {
        "apiVersion": kubeadm_api(cfg),
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": str(node.address), "bindPort": c.api_server_port},
        "nodeRegistration": _registration(node, extra_taints or []),
        "timeouts": {"controlPlaneComponentHealthCheck": "4m0s", "kubeletHealthCheck": "4m0s"},
    }
    cluster = {
        "apiVersion": kubeadm_api(cfg),
        "kind": "ClusterConfiguration",
        "clusterName": c.name,
        "kubernetesVersion": f"v{c.kubernetes_version}",
        # Baked into every certificate and kubeconfig: changing it later means a rebuild.
        "controlPlaneEndpoint": cfg.api_endpoint(),
        "networking": {"podSubnet": str(c.pod_cidr), "serviceSubnet": str(c.service_cidr), "dnsDomain": "cluster.local"},
        "apiServer": _api_server(cfg),
        "controllerManager": {"extraArgs": [{"name": "profiling", "value": "false"}]},
        "scheduler": {"extraArgs": [{"name": "profiling", "value": "false"}]},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
    }
    _metrics_listeners(cfg, cluster)
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        # Client certificate rotation: the kubelet renews its own certificate before it expires.
        # Serving certificates stay self-signed (serverTLSBootstrap would need a CSR approver).
        "rotateCertificates": True,
        "serverTLSBootstrap": False,
        "failSwapOn": True,
    }
    return _dump(init, cluster, kubelet)


def _metrics_listeners(cfg: PlatformConfig, cluster: dict[str, Any]) -> None:
    """With monitoring, Prometheus (a pod on another node) must reach the metrics of controller-manager,
    scheduler (HTTPS with authentication, 10257/10259) and etcd (plain HTTP, 2381), which kubeadm binds to
    127.0.0.1. The ClusterConfiguration is shared by every control plane, so the one address valid on all of
    them is 0.0.0.0. Anything on the node network can then read etcd's metrics (counters and sizes, no keys
    or values); the platform manages no firewall that would narrow it."""
    if cfg.monitoring is None:
        return
    cluster["controllerManager"]["extraArgs"].append({"name": "bind-address", "value": "0.0.0.0"})
    cluster["scheduler"]["extraArgs"].append({"name": "bind-address", "value": "0.0.0.0"})
    cluster["etcd"]["local"]["extraArgs"] = [{"name": "listen-metrics-urls", "value": "http://0.0.0.0:2381"}]


def render_join_config(cfg: PlatformConfig, node: Node, extra_taints: list[Taint] | None = None) -> str:
    """JoinConfiguration template; the join script fills the token, CA hash and certificate key."""
    join: dict[str, Any] = {
        "apiVersion": kubeadm_api(cfg),
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": cfg.api_endpoint(),
                "token": TOKEN_SLOT,
                "caCertHashes": [CA_HASH_SLOT],
            }
        },
        "nodeRegistration": _registration(node, extra_taints or []),
        "timeouts": {"discovery": "5m0s", "tlsBootstrap": "5m0s"},
    }
    if node.has(Role.CONTROL_PLANE):
        join["controlPlane"] = {
            "localAPIEndpoint": {"advertiseAddress": str(node.address), "bindPort": cfg.cluster.api_server_port},
            "certificateKey": CERT_KEY_SLOT,
        }
    return _dump(join)


def node_labels(node: Node, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels applied after the join: roles as node-role labels, then config labels."""
    labels = {}
    if node.has(Role.WORKER):
        labels["node-role.kubernetes.io/worker"] = ""
    labels.update(node.labels)
    labels.update(extra or {})
    return dict(sorted(labels.items()))


def calico_values(cfg: PlatformConfig) -> dict[str, Any]:
    """tigera-operator chart values: one IP pool on the configured pod CIDR."""
    return {
        "installation": {
            "cni": {"type": "Calico"},
            "calicoNetwork": {
                # The address kubelet registered (node-ip), not the first interface's: on multi-NIC GPU
                # or storage hosts `firstFound` can pick another network than the cluster's.
                "nodeAddressAutodetectionV4": {"kubernetes": "NodeInternalIP"},
                "ipPools": [
                    {
                        "cidr": str(cfg.cluster.pod_cidr),
                        "encapsulation": cfg.cluster.calico_encapsulation,
                        "natOutgoing": "Enabled",
                        "nodeSelector": "all()",
                    }
                ],
            },
        },
        "apiServer": {"enabled": False},
    }
