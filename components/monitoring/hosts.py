"""Steps on machines (pure): Prometheus' data directory, node-exporter on the hosts outside Kubernetes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from components.common.shell import HostFile, RenderedScript, render_script
from components.monitoring import naming
from components.monitoring.backup_metrics import TEXTFILE_DIR
from components.monitoring.scrape import NODE_EXPORTER_PORT, off_cluster
from config.inventory import Role

if TYPE_CHECKING:
    from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
# The NFS host also reports nfsd statistics (node_exporter's nfsd collector reads /proc/net/rpc/nfsd).
NFS_COLLECTORS = "--collector.nfsd"
VIP_METRIC_SCRIPT = "/usr/local/lib/jupyterhub-platform/vip-holder-metric.sh"
VIP_METRIC_UNIT = "jhub-vip-metric"
VIP_METRIC_SECONDS = 15


@dataclass(frozen=True)
class HostStep:
    node: str
    step: str
    script: RenderedScript


def directory_script() -> RenderedScript:
    return render_script(
        "prometheus-dir",
        SCRIPTS / "prometheus-dir.sh",
        {"DATA_DIR": naming.DATA_DIR, "DATA_UID": naming.PROMETHEUS_UID, "DATA_GID": naming.PROMETHEUS_GID},
    )


def node_exporter_script(address: str, collectors: str) -> RenderedScript:
    return render_script(
        "node-exporter",
        SCRIPTS / "node-exporter.sh",
        {"LISTEN_ADDRESS": f"{address}:{NODE_EXPORTER_PORT}", "COLLECTOR_ARGS": collectors, "TEXTFILE_DIR": TEXTFILE_DIR},
    )


def node_exporter_steps(cfg: PlatformConfig) -> list[HostStep]:
    """One step per load-balancer and NFS host (a host with both roles gets one, with the NFS collectors)."""
    steps = []
    for node in cfg.inventory.nodes:
        if (node.has(Role.LOAD_BALANCER) or node.has(Role.NFS)) and off_cluster(node):
            collectors = NFS_COLLECTORS if node.has(Role.NFS) else ""
            steps.append(HostStep(node.name, "node-exporter", node_exporter_script(str(node.address), collectors)))
    if cfg.load_balancer.vip is not None:
        steps += [
            HostStep(n.name, "vip-metric", vip_metric_script(str(cfg.load_balancer.vip))) for n in cfg.inventory.load_balancers
        ]
    return steps


def vip_metric_script(vip: str) -> RenderedScript:
    """A systemd timer writing `jhub_keepalived_vip_master` every VIP_METRIC_SECONDS (load-balancer hosts)."""
    service = f"""\
[Unit]
Description=Write whether this host holds the VIP {vip} for node-exporter (jupyterhub-platform)

[Service]
Type=oneshot
ExecStart={VIP_METRIC_SCRIPT} {vip} {TEXTFILE_DIR}
TimeoutStartSec=30
"""
    timer = f"""\
[Unit]
Description=Refresh the VIP holder metric (jupyterhub-platform)

[Timer]
OnBootSec=30s
OnUnitActiveSec={VIP_METRIC_SECONDS}s
AccuracySec=1s

[Install]
WantedBy=timers.target
"""
    return render_script(
        "vip-metric",
        SCRIPTS / "vip-metric.sh",
        {"HOLDER_SCRIPT_PATH": VIP_METRIC_SCRIPT},
        files={
            "METRIC_SERVICE": HostFile(f"/etc/systemd/system/{VIP_METRIC_UNIT}.service", service),
            "METRIC_TIMER": HostFile(f"/etc/systemd/system/{VIP_METRIC_UNIT}.timer", timer),
        },
    )
