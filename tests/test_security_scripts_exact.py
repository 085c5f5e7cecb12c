"""Certificate and encryption-at-rest steps read back: every parameter each step exports (parsed from its
header), the expiry check's systemd units, and the kubeadm configuration the encryption step installs
root-only (no key material anywhere in a rendered step)."""

from __future__ import annotations

from components.k8s_cluster.kubeadm_config import render_init_config
from components.k8s_cluster.security_scripts import certs_check, certs_renew, encryption_keys, encryption_rewrite
from config.platform import PlatformConfig
from tests.helpers import script_exports


def platform() -> PlatformConfig:
    nodes = [{"name": f"cp-{n}", "address": f"192.0.2.{20 + n}", "roles": ["control-plane", "worker"]} for n in (1, 2, 3)]
    cluster = {
        "endpoint": {"host": "api.example.org", "port": 8443},
        "api_server_port": 6444,
        "certificates": {"renew_generation": 3, "check_calendar": "*-*-* 04:00:00", "textfile_directory": "/var/lib/textfiles"},
        "encryption_at_rest": {"provider": "aescbc", "keys": ["key2", "key1"]},
    }
    return PlatformConfig.model_validate({"inventory": {"node_network": "192.0.2.0/24", "nodes": nodes}, "cluster": cluster})


def test_the_expiry_check() -> None:
    cfg = platform()
    script = certs_check(cfg, cfg.inventory.nodes[1])
    assert script.name == "cp-2/certs-check"
    exports = script_exports(script.text)
    files = {k: exports.pop(k) for k in ("SERVICE", "TIMER")}
    assert exports == {
        "STEP_NAME": "cp-2/certs-check",
        "KUBE_DIR": "/etc/kubernetes",
        "NODE_NAME": "cp-2",
        "API_PORT": "6444",
        "EXPORTER_PATH": "/usr/local/sbin/jupyterhub-platform-certs-expiry",
        "TEXTFILE_DIR": "/var/lib/textfiles",
        "SERVICE_PATH": "/etc/systemd/system/jupyterhub-platform-certs-expiry.service",
        "SERVICE_MODE": "0644",
        "TIMER_PATH": "/etc/systemd/system/jupyterhub-platform-certs-expiry.timer",
        "TIMER_MODE": "0644",
    }
    assert files == {
        "SERVICE": "[Unit]\nDescription=Export kubeadm certificate expiry for node-exporter\n\n"
        "[Service]\nType=oneshot\nExecStart=/usr/local/sbin/jupyterhub-platform-certs-expiry /var/lib/textfiles",
        "TIMER": "[Unit]\nDescription=Daily kubeadm certificate expiry check\n\n"
        "[Timer]\nOnCalendar=*-*-* 04:00:00\nPersistent=true\nRandomizedDelaySec=900\n\n[Install]\nWantedBy=timers.target",
    }


def test_the_renewal() -> None:
    cfg = platform()
    assert script_exports(certs_renew(cfg, cfg.inventory.nodes[0]).text) == {
        "STEP_NAME": "cp-1/certs-renew",
        "KUBE_DIR": "/etc/kubernetes",
        "NODE_NAME": "cp-1",
        "GENERATION": "3",
        "API_PORT": "6444",
    }


def test_the_encryption_keys_step() -> None:
    cfg = platform()
    expected = {
        "KUBE_DIR": "/etc/kubernetes",
        "PROVIDER": "aescbc",
        "KEY_NAMES": "key2 key1",
        "API_PORT": "6444",
        "ENCRYPTION_CONFIG": "/etc/kubernetes/encryption/config.yaml",
        "MANIFEST": "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "MARKER_CONFIGMAP": "jupyterhub-platform-encryption",
        "KUBEADM_CONFIG_PATH": "/etc/kubernetes/jupyterhub-platform-reconfigure.yaml",
        "KUBEADM_CONFIG_MODE": "0600",
    }
    for node, first in ((cfg.inventory.nodes[0], "true"), (cfg.inventory.nodes[2], "false")):
        exports = script_exports(encryption_keys(cfg, node).text)
        assert exports.pop("KUBEADM_CONFIG") == render_init_config(cfg, node).rstrip("\n")
        assert exports == {**expected, "STEP_NAME": f"{node.name}/encryption-keys", "NODE_NAME": node.name, "IS_FIRST": first}


def test_the_rewrite_uses_the_first_key() -> None:
    cfg = platform()
    assert script_exports(encryption_rewrite(cfg, cfg.inventory.nodes[0]).text) == {
        "STEP_NAME": "cp-1/encryption-rewrite",
        "KUBE_DIR": "/etc/kubernetes",
        "PRIMARY_KEY": "key2",
        "MARKER_CONFIGMAP": "jupyterhub-platform-encryption",
        "REWRITE_TIMEOUT": "1800",
    }
