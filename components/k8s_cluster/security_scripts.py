"""Scripts for control-plane certificates and the encryption of Secrets at rest. Pure: no Pulumi.

Key material never appears here: the encryption keys reach `encryption-keys.sh` on stdin and live
only in a root-only file on the control planes.
"""

from __future__ import annotations

from pathlib import Path

from components.common.shell import HostFile, RenderedScript, render_script
from components.k8s_cluster.kubeadm_config import ENCRYPTION_CONFIG, KUBE_DIR, render_init_config
from config.inventory import Node
from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
APISERVER_MANIFEST = f"{KUBE_DIR}/manifests/kube-apiserver.yaml"
# Records which key every Secret was last rewritten with (guards the drop of older keys).
MARKER_CONFIGMAP = "jupyterhub-platform-encryption"
EXPORTER = "/usr/local/sbin/jupyterhub-platform-certs-expiry"
UNIT = "jupyterhub-platform-certs-expiry"
REWRITE_TIMEOUT_SECONDS = 1800


def _script(
    name: str, body: str, params: dict[str, str | int | bool], files: dict[str, HostFile] | None = None
) -> RenderedScript:
    # Every step here may restart static pods: the shared helpers come after lib.sh.
    return render_script(name, [SCRIPTS / "static-pods.sh", SCRIPTS / body], {"KUBE_DIR": KUBE_DIR, **params}, files)


def certs_check(cfg: PlatformConfig, node: Node) -> RenderedScript:
    """Install the daily `kubeadm certs check-expiration` export (node-exporter textfile)."""
    c = cfg.cluster.certificates
    service = (
        "[Unit]\nDescription=Export kubeadm certificate expiry for node-exporter\n\n"
        f"[Service]\nType=oneshot\nExecStart={EXPORTER} {c.textfile_directory}\n"
    )
    timer = (
        "[Unit]\nDescription=Daily kubeadm certificate expiry check\n\n"
        f"[Timer]\nOnCalendar={c.check_calendar}\nPersistent=true\nRandomizedDelaySec=900\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return _script(
        f"{node.name}/certs-check",
        "certs-check.sh",
        {
            "NODE_NAME": node.name,
            "API_PORT": cfg.cluster.api_server_port,
            "EXPORTER_PATH": EXPORTER,
            "TEXTFILE_DIR": c.textfile_directory,
        },
        {
            "SERVICE": HostFile(f"/etc/systemd/system/{UNIT}.service", service),
            "TIMER": HostFile(f"/etc/systemd/system/{UNIT}.timer", timer),
        },
    )


def certs_renew(cfg: PlatformConfig, node: Node) -> RenderedScript:
    return _script(
        f"{node.name}/certs-renew",
        "certs-renew.sh",
        {
            "NODE_NAME": node.name,
            "GENERATION": cfg.cluster.certificates.renew_generation,
            "API_PORT": cfg.cluster.api_server_port,
        },
    )


def encryption_keys(cfg: PlatformConfig, node: Node) -> RenderedScript:
    """The EncryptionConfiguration of one control plane; keys arrive on stdin."""
    settings = cfg.cluster.encryption_at_rest
    assert settings is not None
    return _script(
        f"{node.name}/encryption-keys",
        "encryption-keys.sh",
        {
            "NODE_NAME": node.name,
            "IS_FIRST": node == cfg.inventory.control_planes[0],
            "PROVIDER": settings.provider,
            "KEY_NAMES": " ".join(settings.keys),
            "API_PORT": cfg.cluster.api_server_port,
            "ENCRYPTION_CONFIG": ENCRYPTION_CONFIG,
            "MANIFEST": APISERVER_MANIFEST,
            "MARKER_CONFIGMAP": MARKER_CONFIGMAP,
        },
        # Used only to turn encryption on for an API server started without it.
        {"KUBEADM_CONFIG": HostFile(f"{KUBE_DIR}/jupyterhub-platform-reconfigure.yaml", render_init_config(cfg, node), "0600")},
    )


def encryption_rewrite(cfg: PlatformConfig, first: Node) -> RenderedScript:
    settings = cfg.cluster.encryption_at_rest
    assert settings is not None
    return _script(
        f"{first.name}/encryption-rewrite",
        "encryption-rewrite.sh",
        {"PRIMARY_KEY": settings.keys[0], "MARKER_CONFIGMAP": MARKER_CONFIGMAP, "REWRITE_TIMEOUT": REWRITE_TIMEOUT_SECONDS},
    )
