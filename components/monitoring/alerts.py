"""The platform's alerts as data (pure): one `Alert` per condition of the runbook, grouped into rule files.

Each alert's PromQL uses only metrics listed in `components.monitoring.metric_names`; thresholds that
depend on the stack (control-plane count, GPU count per node, pending time, backup age) are rendered in.
Every alert has a heading in `docs/runbooks.md` (anchor = lower-case alert name) and a promtool unit
test (tests/test_monitoring_rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.backup.jobs import schedules
from components.monitoring.backup_metrics import BACKUP_LAST_RUN, BACKUP_LAST_SUCCESS, BACKUP_SUCCESS, JOB_LABEL, NODE_LABEL
from components.monitoring.scrape import API_VIP_JOB, HUB_JOB, LB_JOB, NFS_JOB
from config.inventory import Role

if TYPE_CHECKING:
    from config.monitoring import MonitoringConfig
    from config.platform import PlatformConfig

RUNBOOK = "https://github.com/jupyterhub-platform/jupyterhub-platform/blob/main/docs/runbooks.md"
KEEPALIVED_VIP_METRIC = "jhub_keepalived_vip_master"
DAY = 86400
# The control planes' certificate expiry check writes these (tests/test_security_scripts.py runs it).
KUBEADM_CERT_EXPIRY = "kubeadm_certificate_expiry_timestamp_seconds"
KUBEADM_CERT_CHECK = "kubeadm_certificate_check_success"


@dataclass(frozen=True)
class Alert:
    name: str
    group: str
    """Rule file (and rule group) it belongs to."""
    expr: str
    for_minutes: int
    severity: str
    summary: str

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": f"{self.for_minutes}m",
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "runbook_url": f"{RUNBOOK}#{self.name.lower()}"},
        }


def _control_plane(cfg: PlatformConfig) -> list[Alert]:
    members = len(cfg.inventory.control_planes)
    g = "control-plane"
    alerts = [
        Alert(
            "ApiUnreachableThroughVip",
            g,
            f'up{{job="{API_VIP_JOB}"}} == 0',
            2,
            "critical",
            "The Kubernetes API does not answer through the load-balancer address {{ $labels.instance }}",
        ),
        Alert(
            "EtcdNoLeader", g, "etcd_server_has_leader == 0", 1, "critical", "etcd member {{ $labels.instance }} has no leader"
        ),
        Alert(
            "EtcdMemberMissing",
            g,
            f'count(up{{job="kube-etcd"}} == 1) < {members} or absent(up{{job="kube-etcd"}} == 1)',
            5,
            "critical",
            f"fewer than {members} etcd members answer",
        ),
        Alert(
            "EtcdDatabaseNearQuota",
            g,
            "etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes > 0.8",
            10,
            "warning",
            "etcd database of {{ $labels.instance }} is {{ $value | humanizePercentage }} of its quota",
        ),
        Alert(
            "CertificateExpiringSoon",
            g,
            f"kubelet_certificate_manager_client_ttl_seconds < {30 * DAY}",
            60,
            "warning",
            "the kubelet client certificate of {{ $labels.node }} expires within 30 days",
        ),
        # Written on each control plane by its expiry check (components/k8s_cluster/scripts/certs-check.sh).
        Alert(
            "KubeadmCertificateExpiringSoon",
            g,
            f"{KUBEADM_CERT_EXPIRY} - time() < {30 * DAY}",
            60,
            "warning",
            "kubeadm certificate {{ $labels.certificate }} on {{ $labels.instance }} expires within 30 days",
        ),
        Alert(
            "KubeadmCertificateCheckFailing",
            g,
            f"{KUBEADM_CERT_CHECK} == 0",
            60,
            "warning",
            "the kubeadm certificate expiry check on {{ $labels.instance }} could not read every certificate",
        ),
    ]
    if cfg.inventory.load_balancers:
        alerts += [
            Alert(
                "HaproxyBackendServerDown",
                g,
                'haproxy_server_status{proxy="kube-apiserver",state="DOWN"} == 1',
                5,
                "warning",
                "HAProxy on {{ $labels.instance }} marks API server {{ $labels.server }} down",
            ),
            Alert(
                "HaproxyHubBackendDown",
                g,
                'haproxy_backend_active_servers{proxy=~"hub-.*"} == 0',
                5,
                "critical",
                "HAProxy on {{ $labels.instance }} has no live node for {{ $labels.proxy }}",
            ),
            Alert(
                "LoadBalancerHostDown",
                g,
                f'up{{job="{LB_JOB}"}} == 0',
                5,
                "warning",
                "load-balancer host {{ $labels.instance }} does not answer",
            ),
        ]
    if cfg.load_balancer.vip is not None:
        alerts.append(
            Alert(
                "VipNotHeldOnce",
                g,
                f"sum({KEEPALIVED_VIP_METRIC}) != 1",
                2,
                "critical",
                "{{ $value }} load-balancer hosts hold the VIP (expected exactly 1)",
            )
        )
    return alerts


def _nodes() -> list[Alert]:
    return [
        Alert(
            "NodeNotReady",
            "nodes",
            'kube_node_status_condition{condition="Ready",status="true"} == 0',
            5,
            "critical",
            "node {{ $labels.node }} is not Ready",
        ),
    ]


def _storage(cfg: PlatformConfig) -> list[Alert]:
    if not cfg.inventory.with_role(Role.NFS):
        return []
    # The export lives on one of the filesystems mounted at its path or above it; all of them fill with it.
    parts = cfg.nfs.export_path.strip("/").split("/")
    mounts = "|".join(["/" + "/".join(parts[:i]) for i in range(len(parts), 0, -1)] + ["/"])
    used = (
        f'(1 - node_filesystem_avail_bytes{{job="{NFS_JOB}",mountpoint=~"{mounts}"}}'
        f' / node_filesystem_size_bytes{{job="{NFS_JOB}",mountpoint=~"{mounts}"}})'
    )
    g = "storage"
    return [
        Alert(
            "NfsServerDown",
            g,
            f'up{{job="{NFS_JOB}"}} == 0 or node_nfsd_server_threads == 0',
            3,
            "critical",
            "the NFS server {{ $labels.instance }} is down (homes unavailable)",
        ),
        Alert(
            "NfsExportAbove80Percent",
            g,
            f"{used} > 0.8",
            15,
            "warning",
            "the NFS export filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full",
        ),
        Alert(
            "NfsExportAbove90Percent",
            g,
            f"{used} > 0.9",
            5,
            "critical",
            "the NFS export filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full",
        ),
    ]


def _hubs(cfg: PlatformConfig, mon: MonitoringConfig) -> list[Alert]:
    if not cfg.hubs:
        return []
    namespaces = "|".join(sorted(h.k8s_namespace for h in cfg.hubs))
    count = "jupyterhub_server_spawn_duration_seconds_count"
    g = "hubs"
    return [
        Alert(
            "HubDown",
            g,
            # The node the hub pod runs on joins as a label, so a NodeNotReady alert for it silences this one.
            f'(up{{job="{HUB_JOB}",namespace=~"{namespaces}"}} == 0) * on (namespace, pod) group_left (node) kube_pod_info',
            3,
            "critical",
            "the hub in {{ $labels.namespace }} does not answer",
        ),
        Alert(
            "SpawnFailureRateHigh",
            g,
            f'sum by (namespace) (rate({count}{{status="failure"}}[15m]))'
            f" / sum by (namespace) (rate({count}[15m])) > {mon.spawn_failure_ratio}",
            5,
            "warning",
            "{{ $value | humanizePercentage }} of spawns fail in {{ $labels.namespace }}",
        ),
        Alert(
            "NotebookPendingInQueue",
            g,
            f'(time() - kube_pod_created{{namespace=~"{namespaces}",pod=~"jupyter-.*"}})'
            f' * on (namespace, pod) (kube_pod_status_phase{{phase="Pending",namespace=~"{namespaces}"}} == 1)'
            f" > {mon.pending_minutes * 60}",
            1,
            "warning",
            f"notebook {{{{ $labels.pod }}}} waits in its queue for more than {mon.pending_minutes} minutes",
        ),
    ]


def _gpus(cfg: PlatformConfig) -> list[Alert]:
    nodes = [n for n in cfg.inventory.nodes if n.gpu is not None and n.gpu.count > 0]
    if not nodes:
        return []
    missing = " or ".join(
        f'(count(count by (gpu) (DCGM_FI_DEV_GPU_TEMP{{Hostname="{n.name}"}})) < {n.gpu.count})'
        f' or absent(DCGM_FI_DEV_GPU_TEMP{{Hostname="{n.name}"}})'
        for n in nodes
        if n.gpu is not None
    )
    return [
        Alert(
            "GpuXidError",
            "gpus",
            # DCGM names the node `Hostname`; copied to `node` for the NodeNotReady inhibition.
            'label_replace(DCGM_FI_DEV_XID_ERRORS, "node", "$1", "Hostname", "(.*)") > 0',
            0,
            "critical",
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}",
        ),
        Alert("GpuMissing", "gpus", missing, 10, "critical", "a GPU node reports fewer GPUs than its inventory"),
    ]


# The labels every backup job writes beside its metrics (backup_metrics.py), as alert templates.
BACKUP_JOB, BACKUP_NODE = f"{{{{ $labels.{JOB_LABEL} }}}}", f"{{{{ $labels.{NODE_LABEL} }}}}"


def _never_reported(cfg: PlatformConfig, mon: MonitoringConfig) -> list[Alert]:
    """A job the stack installs that has no result at all: never ran, or its file is not scraped.
    Stale and failed results are the alerts below; without a series neither of them can fire."""
    expected = [(row["job"].removeprefix("backup-"), row["node"]) for row in schedules(cfg) if row["job"].startswith("backup-")]
    if not expected:
        return []
    missing = " or ".join(f'absent({BACKUP_LAST_RUN}{{{JOB_LABEL}="{j}",{NODE_LABEL}="{n}"}})' for j, n in expected)
    return [
        Alert(
            "BackupNeverReported",
            "backups",
            missing,
            # A new job gets this long for its first scheduled run.
            mon.backup_max_age_hours * 60,
            "warning",
            f"the {BACKUP_JOB} backup on {BACKUP_NODE} has reported no result in {mon.backup_max_age_hours} h",
        )
    ]


def _backups(cfg: PlatformConfig, mon: MonitoringConfig) -> list[Alert]:
    return [
        *_never_reported(cfg, mon),
        Alert(
            "BackupStale",
            "backups",
            f"time() - {BACKUP_LAST_SUCCESS} > {mon.backup_max_age_hours * 3600}",
            10,
            "warning",
            f"the last successful {BACKUP_JOB} backup on {BACKUP_NODE} is older than {mon.backup_max_age_hours} h",
        ),
        Alert(
            "BackupFailed",
            "backups",
            f"{BACKUP_SUCCESS} == 0",
            0,
            "warning",
            f"the last {BACKUP_JOB} backup on {BACKUP_NODE} failed "
            f"(its log: journalctl -u jupyterhub-platform-backup-{BACKUP_JOB})",
        ),
    ]


def _prometheus(mon: MonitoringConfig) -> list[Alert]:
    capacity = mon.volume_gib * 2**30
    return [
        Alert(
            "PrometheusStorageFilling",
            "prometheus",
            f"(prometheus_tsdb_storage_blocks_bytes + prometheus_tsdb_wal_storage_size_bytes) / {capacity} > 0.85",
            15,
            "warning",
            "Prometheus data uses {{ $value | humanizePercentage }} of its volume",
        ),
    ]


def platform_alerts(cfg: PlatformConfig, mon: MonitoringConfig) -> list[Alert]:
    """Every alert this stack's monitoring evaluates (only those whose components exist)."""
    return [
        *_control_plane(cfg),
        *_nodes(),
        *_storage(cfg),
        *_hubs(cfg, mon),
        *_gpus(cfg),
        *_backups(cfg, mon),
        *_prometheus(mon),
    ]


def rule_groups(alerts: list[Alert], interval_seconds: int) -> dict[str, dict[str, Any]]:
    """Rule file name -> its `groups:` document (also the spec of one PrometheusRule)."""
    files: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        doc = files.setdefault(
            alert.group, {"groups": [{"name": f"platform-{alert.group}", "interval": f"{interval_seconds}s", "rules": []}]}
        )
        doc["groups"][0]["rules"].append(alert.rule())
    return files
