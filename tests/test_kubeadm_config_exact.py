"""kubeadm documents parsed back from YAML and compared whole (prod: HA endpoint, encryption at rest)."""

from __future__ import annotations

from typing import Any

import yaml

from components.k8s_cluster.kubeadm_config import (
    calico_values,
    cert_sans,
    kubeadm_api,
    node_labels,
    node_taints,
    render_init_config,
    render_join_config,
)
from config.inventory import Node, Taint
from config.kubernetes_versions import NEWEST
from config.platform import PlatformConfig
from tests.helpers import stack_platform

METRICS_LISTENER = {"extraArgs": [{"name": "profiling", "value": "false"}, {"name": "bind-address", "value": "0.0.0.0"}]}


def node(cfg: PlatformConfig, name: str) -> Node:
    return next(n for n in cfg.inventory.nodes if n.name == name)


def registration(name: str, address: str, taints: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "criSocket": "unix:///run/containerd/containerd.sock",
        "taints": taints,
        "kubeletExtraArgs": [{"name": "hostname-override", "value": name}, {"name": "node-ip", "value": address}],
    }


CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_prod_init_documents_exactly() -> None:
    cfg = stack_platform("prod")
    init, cluster, kubelet = yaml.safe_load_all(render_init_config(cfg, node(cfg, "cp-1")))
    assert init == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": "192.0.2.21", "bindPort": 6443},
        "nodeRegistration": registration("cp-1", "192.0.2.21", [CP_TAINT]),
        "timeouts": {"controlPlaneComponentHealthCheck": "4m0s", "kubeletHealthCheck": "4m0s"},
    }
    assert cluster == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "clusterName": "jupyterhub",
        "kubernetesVersion": "v1.37.1",
        "controlPlaneEndpoint": "k8s-api.example.org:6443",
        "networking": {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        "apiServer": {
            "certSANs": [
                "k8s-api.example.org",
                "192.0.2.10",
                "192.0.2.11",
                "192.0.2.12",
                "192.0.2.21",
                "192.0.2.22",
                "192.0.2.23",
                "cp-1",
                "cp-2",
                "cp-3",
            ],
            "extraArgs": [
                {"name": "profiling", "value": "false"},
                {"name": "encryption-provider-config", "value": "/etc/kubernetes/encryption/config.yaml"},
            ],
            "extraVolumes": [
                {
                    "name": "encryption-config",
                    "hostPath": "/etc/kubernetes/encryption",
                    "mountPath": "/etc/kubernetes/encryption",
                    "readOnly": True,
                    "pathType": "DirectoryOrCreate",
                }
            ],
        },
        # prod runs monitoring: the metrics listeners leave 127.0.0.1 so Prometheus can scrape them.
        "controllerManager": METRICS_LISTENER,
        "scheduler": METRICS_LISTENER,
        "etcd": {"local": {"dataDir": "/var/lib/etcd", "extraArgs": [{"name": "listen-metrics-urls", "value": "http://0.0.0.0:2381"}]}},
    }
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "rotateCertificates": True,
        "serverTLSBootstrap": False,
        "failSwapOn": True,
    }


def test_without_encryption_the_api_server_mounts_nothing() -> None:
    cfg = stack_platform("prod")
    plain = cfg.model_copy(update={"cluster": cfg.cluster.model_copy(update={"encryption_at_rest": None})})
    _, cluster, _ = yaml.safe_load_all(render_init_config(plain, node(plain, "cp-1")))
    assert cluster["apiServer"] == {"certSANs": cert_sans(plain), "extraArgs": [{"name": "profiling", "value": "false"}]}


def test_join_documents_exactly() -> None:
    cfg = stack_platform("prod")
    discovery = {
        "bootstrapToken": {"apiServerEndpoint": "k8s-api.example.org:6443", "token": "@TOKEN@", "caCertHashes": ["@CA_HASH@"]}
    }
    timeouts = {"discovery": "5m0s", "tlsBootstrap": "5m0s"}
    assert yaml.safe_load(render_join_config(cfg, node(cfg, "cp-2"))) == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": discovery,
        "nodeRegistration": registration("cp-2", "192.0.2.22", [CP_TAINT]),
        "timeouts": timeouts,
        "controlPlane": {
            "localAPIEndpoint": {"advertiseAddress": "192.0.2.22", "bindPort": 6443},
            "certificateKey": "@CERT_KEY@",
        },
    }
    worker = node(cfg, "worker-1")
    tainted = worker.model_copy(update={"taints": [Taint(key="dedicated", value="exam", effect="NoExecute")]})
    extra = [Taint(key="nvidia.com/gpu", effect="NoSchedule")]
    assert yaml.safe_load(render_join_config(cfg, tainted, extra)) == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": discovery,
        "nodeRegistration": registration(
            "worker-1",
            str(worker.address),
            [{"key": "dedicated", "value": "exam", "effect": "NoExecute"}, {"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
        ),
        "timeouts": timeouts,
    }


def test_dev_single_node_endpoint_and_taints() -> None:
    cfg = stack_platform("dev")
    dev = node(cfg, "dev-1")
    assert node_taints(dev) == []
    init, cluster, _ = yaml.safe_load_all(render_init_config(cfg, dev))
    assert init["nodeRegistration"]["taints"] == []
    assert cluster["controlPlaneEndpoint"] == f"{dev.address}:{cfg.cluster.api_server_port}"
    assert cluster["apiServer"]["certSANs"] == [str(dev.address), "dev-1"]


def test_cert_sans_add_extra_names_once() -> None:
    cfg = stack_platform("prod")
    cluster = cfg.cluster.model_copy(update={"extra_cert_sans": ["api.internal", "cp-1"]})
    assert cert_sans(cfg.model_copy(update={"cluster": cluster}))[-2:] == ["cp-3", "api.internal"]


def test_kubeadm_api_falls_back_to_the_newest() -> None:
    cfg = stack_platform("prod")
    unknown = cfg.model_copy(update={"cluster": cfg.cluster.model_copy(update={"kubernetes_version": "9.99.0"})})
    assert kubeadm_api(unknown) == NEWEST.kubeadm_api


def test_node_labels_roles_then_config_then_extra_sorted() -> None:
    cfg = stack_platform("prod")
    assert node_labels(node(cfg, "gpu-1"), {"a": "1"}) == {
        "a": "1",
        "node-role.kubernetes.io/worker": "",
        "node.jupyterhub-platform/pool": "gpu",
    }
    assert node_labels(node(cfg, "cp-1")) == {}
    assert node_labels(node(cfg, "worker-1"), {"node-role.kubernetes.io/worker": "x"}) == {"node-role.kubernetes.io/worker": "x"}


def test_calico_values_exactly() -> None:
    cfg = stack_platform("prod")
    assert calico_values(cfg) == {
        "installation": {
            "cni": {"type": "Calico"},
            "calicoNetwork": {
                "nodeAddressAutodetectionV4": {"kubernetes": "NodeInternalIP"},
                "ipPools": [
                    {
                        "cidr": "10.244.0.0/16",
                        "encapsulation": "VXLANCrossSubnet",
                        "natOutgoing": "Enabled",
                        "nodeSelector": "all()",
                    }
                ],
            },
        },
        "apiServer": {"enabled": False},
    }
