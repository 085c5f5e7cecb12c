"""kubeadm configuration and step scripts of the cluster, checked as data and with shellcheck."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.k8s_cluster import steps
from components.k8s_cluster.kubeadm_config import render_init_config, render_join_config
from config.platform import PlatformConfig
from tests.helpers import ROOT, check_golden, require_tool, stack_platform
from tests.scale_fixtures import BASTION, scale_platform

Rendered = Callable[[str], tuple[dict[str, Any], Path]]


def node(cfg: PlatformConfig, name: str) -> Any:
    return next(n for n in cfg.inventory.nodes if n.name == name)


def test_init_config_for_prod() -> None:
    cfg = stack_platform("prod")
    text = render_init_config(cfg, node(cfg, "cp-1"), [])
    check_golden("cluster", "prod-cp-1-kubeadm-init.yaml", text)
    init, cluster, kubelet = yaml.safe_load_all(text)
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert cluster["controlPlaneEndpoint"] == "k8s-api.example.org:6443"
    sans = cluster["apiServer"]["certSANs"]
    assert {"k8s-api.example.org", "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.21"} <= set(sans)
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    assert cluster["kubernetesVersion"] == "v1.37.1"
    assert kubelet["cgroupDriver"] == "systemd"
    # v1beta4 takes extra arguments as name/value lists, not maps.
    assert all(set(arg) == {"name", "value"} for arg in cluster["apiServer"]["extraArgs"])
    assert init["nodeRegistration"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]


def test_dev_control_plane_runs_workloads_and_uses_its_own_address() -> None:
    cfg = stack_platform("dev")
    init, cluster, _ = yaml.safe_load_all(render_init_config(cfg, node(cfg, "dev-1"), []))
    assert cluster["controlPlaneEndpoint"] == "192.0.2.100:6443"
    assert init["nodeRegistration"]["taints"] == []


def test_join_config_has_slots_not_secrets() -> None:
    cfg = stack_platform("prod")
    cp = yaml.safe_load(render_join_config(cfg, node(cfg, "cp-2"), []))
    worker = yaml.safe_load(render_join_config(cfg, node(cfg, "worker-1"), []))
    assert cp["discovery"]["bootstrapToken"] == {
        "apiServerEndpoint": "k8s-api.example.org:6443",
        "token": "@TOKEN@",
        "caCertHashes": ["@CA_HASH@"],
    }
    assert cp["controlPlane"] == {
        "localAPIEndpoint": {"advertiseAddress": "192.0.2.22", "bindPort": 6443},
        "certificateKey": "@CERT_KEY@",
    }
    assert "controlPlane" not in worker
    assert worker["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "hostname-override", "value": "worker-1"},
        {"name": "node-ip", "value": "192.0.2.31"},
    ]


def test_labels_include_roles_extras_and_the_managed_marker() -> None:
    cfg = stack_platform("prod")
    labels = steps.labels(node(cfg, "gpu-1"), {"extra/label": "x"})
    assert labels["node-role.kubernetes.io/worker"] == "" and labels["extra/label"] == "x"
    assert labels[steps.MANAGED_LABEL] == "true"
    first = steps.labels(node(cfg, "cp-1"), {})
    assert first[steps.MANAGED_LABEL] == "true" and "node-role.kubernetes.io/worker" not in first


def test_join_material_keeps_the_certificate_key_from_workers() -> None:
    minted = f"abcdef.0123456789abcdef sha256:{'a' * 64} {'b' * 64} 2000 1500\n"
    assert steps.join_material(minted, control_plane=False) == f"abcdef.0123456789abcdef sha256:{'a' * 64} - 2000\n"
    assert steps.join_material(minted, control_plane=True) == f"abcdef.0123456789abcdef sha256:{'a' * 64} {'b' * 64} 1500\n"
    assert steps.join_material("garbage", control_plane=False) == "garbage"


def test_token_lives_through_every_preparation_and_join_round() -> None:
    cfg = stack_platform("prod")
    # Unbounded lanes: one preparation round, one round of worker joins beside three control-plane
    # rounds (a conservative count), plus a quarter hour.
    assert steps.token_ttl_seconds(cfg) == 1200 + (1 + 3) * (600 + 300) + 900
    big = scale_platform(bastion=BASTION, max_parallel_sessions=10)
    assert len(big.inventory.kubernetes_nodes) == 204  # 3 control planes, 200 CPU workers, a GPU worker
    # 21 preparation rounds of 10 lanes; 21 join rounds (203 joining) plus the 3 control planes.
    assert steps.token_ttl_seconds(big) == 21 * 1200 + (21 + 3) * (600 + 300) + 900
    assert steps.token_ttl_seconds(scale_platform(max_parallel_sessions=2)) == 24 * 3600  # capped at a day


def test_every_rendered_script_passes_shellcheck(rendered: Rendered, tmp_path: Path) -> None:
    tool = require_tool("shellcheck")
    scripts = [p for stack in ("dev", "prod") for p in sorted((rendered(stack)[1] / "files" / "nodes").rglob("*.sh"))]
    assert len(scripts) > 20
    result = subprocess.run(
        [tool, "-s", "bash", "-S", "style", "-f", "gcc", *map(str, scripts)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-5000:]


def test_every_script_source_passes_shellcheck() -> None:
    tool = require_tool("shellcheck")
    sources = sorted((ROOT / "components").rglob("*.sh"))
    result = subprocess.run([tool, "-s", "bash", "-S", "style", *map(str, sources)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-5000:]


def test_scripts_fail_loudly_and_guard_kubeadm(rendered: Rendered) -> None:
    files = rendered("prod")[1] / "files" / "nodes"
    for script in files.rglob("*.sh"):
        text = script.read_text()
        assert "set -euo pipefail" in text.splitlines()[:6], script
    init = (files / "cp-1" / "kubeadm-init.sh").read_text()
    assert 'elif [[ -f "${HOST_ROOT}${INIT_MARKER}" ]]' in init and "export INIT_MARKER=/etc/kubernetes/" in init
    assert "timeout \"$JOIN_TIMEOUT\" kubeadm init" in init
    join = (files / "worker-1" / "kubeadm-join.sh").read_text()
    assert "read_secret_stdin" in join and "@TOKEN@" in join
    assert (files / "cp-1" / "etc" / "kubernetes" / "kubeadm-init.yaml").is_file()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_prepare_pins_and_holds_the_kubernetes_version(stack: str) -> None:
    cfg = stack_platform(stack)
    text = steps.prepare(cfg, cfg.inventory.control_planes[0]).text
    assert "export KUBERNETES_VERSION=1.37.1" in text and "export KUBERNETES_MINOR=1.37" in text
    assert 'pin_packages "${KUBERNETES_VERSION}-" kubeadm kubelet kubectl' in text and 'apt-mark hold "$@"' in text
    assert f"export CONTAINERD_VERSION={steps.CONTAINERD_VERSION}" in text
    assert "SystemdCgroup = true" in text
    assert "swapoff -a" in text


def test_calico_takes_the_node_address_kubelet_registered() -> None:
    """On multi-NIC hosts `firstFound` can pick another network than kubelet's node IP."""
    from components.k8s_cluster.kubeadm_config import calico_values

    network = calico_values(stack_platform("prod"))["installation"]["calicoNetwork"]
    assert network["nodeAddressAutodetectionV4"] == {"kubernetes": "NodeInternalIP"}
