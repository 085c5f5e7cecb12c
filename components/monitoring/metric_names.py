"""Every metric name a dashboard or an alert uses, by exporter, with where the name comes from (data).

`tests/test_monitoring_metrics.py` extracts each metric from every rule and dashboard expression and
fails on a name missing here and on a name here that nothing reads (except HAProxy's, which it checks
against a real HAProxy's exporter); the platform's own backup names are checked against their writer
in `tests/test_backup_metrics_contract.py`.
"""

from __future__ import annotations

from components.monitoring.backup_metrics import BACKUP_LAST_RUN, BACKUP_LAST_SUCCESS, BACKUP_SUCCESS

EXPORTERS: dict[str, tuple[str, frozenset[str]]] = {
    "prometheus": (
        "Prometheus itself: synthetic `up` per target and its TSDB metrics (prometheus/tsdb/db.go, head.go)",
        frozenset(
            {
                "up",
                "prometheus_tsdb_storage_blocks_bytes",
                "prometheus_tsdb_wal_storage_size_bytes",
            }
        ),
    ),
    "node-exporter": (
        "prometheus/node_exporter collectors filesystem, cpu, meminfo, loadavg, netdev, nfsd, "
        "mountstats, textfile (Debian prometheus-node-exporter 1.5 and the chart's 1.9)",
        frozenset(
            {
                "node_filesystem_avail_bytes",
                "node_filesystem_size_bytes",
                "node_cpu_seconds_total",
                "node_memory_MemAvailable_bytes",
                "node_memory_MemTotal_bytes",
                "node_load1",
                "node_network_receive_bytes_total",
                "node_network_transmit_bytes_total",
                "node_nfsd_server_threads",
                "node_nfsd_requests_total",
                "node_mountstats_nfs_operations_requests_total",
                "node_mountstats_nfs_operations_request_time_seconds_total",
            }
        ),
    ),
    "kube-state-metrics": (
        "kubernetes/kube-state-metrics docs/metrics (node, pod, persistentvolumeclaim)",
        frozenset(
            {"kube_node_status_condition", "kube_pod_created", "kube_pod_status_phase", "kube_pod_info", "kube_pod_labels"}
        ),
    ),
    "kubelet": (
        "kubelet /metrics (k8s.io/kubernetes pkg/kubelet/metrics)",
        frozenset(
            {
                "kubelet_certificate_manager_client_ttl_seconds",
                "kubelet_volume_stats_used_bytes",
            }
        ),
    ),
    "kube-apiserver": (
        "k8s.io/apiserver pkg/endpoints/metrics",
        frozenset({"apiserver_request_total", "apiserver_request_duration_seconds_bucket"}),
    ),
    "etcd": (
        "etcd server/etcdserver/metrics.go and server/storage/mvcc/metrics.go",
        frozenset(
            {
                "etcd_server_has_leader",
                "etcd_server_leader_changes_seen_total",
                "etcd_mvcc_db_total_size_in_bytes",
                "etcd_server_quota_backend_bytes",
            }
        ),
    ),
    "haproxy": (
        "HAProxy 2.6 built-in exporter (addons/promex), names read from a running Debian haproxy 2.6.12",
        frozenset(
            {
                "haproxy_server_status",
                "haproxy_backend_active_servers",
                "haproxy_backend_status",
                "haproxy_frontend_current_sessions",
            }
        ),
    ),
    "jupyterhub": (
        "jupyterhub/metrics.py (JupyterHub 5)",
        frozenset(
            {
                "jupyterhub_active_users",
                "jupyterhub_running_servers",
                "jupyterhub_server_spawn_duration_seconds_bucket",
                "jupyterhub_server_spawn_duration_seconds_count",
            }
        ),
    ),
    "yunikorn": (
        "yunikorn-core pkg/metrics/queue.go (1.6+ names with a `queue` label)",
        frozenset({"yunikorn_queue_resource", "yunikorn_queue_app"}),
    ),
    "dcgm-exporter": (
        "NVIDIA dcgm-exporter default-counters.csv",
        frozenset(
            {
                "DCGM_FI_DEV_GPU_UTIL",
                "DCGM_FI_DEV_FB_USED",
                "DCGM_FI_DEV_FB_FREE",
                "DCGM_FI_DEV_GPU_TEMP",
                "DCGM_FI_DEV_XID_ERRORS",
            }
        ),
    ),
    "platform": (
        "written by this platform to node-exporter's textfile collector: backup_metrics, the VIP holder "
        "timer, the kubeadm certificate check",
        frozenset(
            {
                BACKUP_LAST_RUN,
                BACKUP_LAST_SUCCESS,
                BACKUP_SUCCESS,
                "jhub_keepalived_vip_master",
                "kubeadm_certificate_expiry_timestamp_seconds",
                "kubeadm_certificate_check_success",
            }
        ),
    ),
}

KNOWN_METRICS: frozenset[str] = frozenset().union(*(names for _, names in EXPORTERS.values()))
