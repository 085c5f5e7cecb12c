"""The platform's Grafana dashboards as code, built with grafana-foundation-sdk (pure).

Each dashboard is a list of rows of panels; a panel is a title, a unit and its PromQL queries. The SDK
builds the typed dashboard model and its JSON encoder writes what Grafana provisions (one ConfigMap per
dashboard, picked up by the chart's dashboard sidecar) and what the render shows
(`files/monitoring/dashboards/<name>.json`). Queries use the Prometheus datasource the chart provisions
(uid `prometheus`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus as gp
from grafana_foundation_sdk.builders import stat as gs
from grafana_foundation_sdk.builders import timeseries as gt
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from components.monitoring.backup_metrics import BACKUP_LAST_SUCCESS, JOB_LABEL, NODE_LABEL
from components.monitoring.scrape import NFS_JOB

if TYPE_CHECKING:
    from config.platform import PlatformConfig

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
RATE = "5m"
# A backup series is one job on one host (the labels backup_metrics.py names).
BACKUP_LEGEND = f"{{{{{JOB_LABEL}}}}} {{{{{NODE_LABEL}}}}}"
LOCAL_FS = '{fstype!~"tmpfs|nfs.*"}'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    unit: str
    queries: tuple[Query, ...]
    stat: bool = False


def _p(title: str, unit: str, *queries: tuple[str, str], stat: bool = False) -> PanelSpec:
    return PanelSpec(title, unit, tuple(Query(e, legend) for e, legend in queries), stat)


@dataclass(frozen=True)
class DashboardSpec:
    name: str
    title: str
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]

    def expressions(self) -> list[str]:
        return [q.expr for _, panels in self.rows for p in panels for q in p.queries]


def _spawn_quantile(q: float) -> str:
    return (
        f"histogram_quantile({q}, sum by (le, namespace) "
        f'(rate(jupyterhub_server_spawn_duration_seconds_bucket{{status="success"}}[{RATE}])))'
    )


def _overview() -> DashboardSpec:
    return DashboardSpec(
        "platform-overview",
        "Platform overview",
        (
            (
                "Users and servers",
                (
                    _p(
                        "Active users (24 h) per hub",
                        "short",
                        ('sum by (namespace) (jupyterhub_active_users{period="24h"})', "{{namespace}}"),
                    ),
                    _p("Running servers per hub", "short", ("sum by (namespace) (jupyterhub_running_servers)", "{{namespace}}")),
                    # A profile submits to its queue: servers per hub and queue show the profiles' use.
                    _p(
                        "Running servers per hub and profile queue",
                        "short",
                        (
                            "count by (namespace, label_yunikorn_apache_org_queue) "
                            '(kube_pod_labels{label_component="singleuser-server"}'
                            ' * on (namespace, pod) group_left () (kube_pod_status_phase{phase="Running"} == 1))',
                            "{{namespace}} {{label_yunikorn_apache_org_queue}}",
                        ),
                    ),
                ),
            ),
            (
                "Spawns",
                (
                    _p("Spawn duration p50", "s", (_spawn_quantile(0.5), "{{namespace}}")),
                    _p("Spawn duration p95", "s", (_spawn_quantile(0.95), "{{namespace}}")),
                    _p(
                        "Spawn failures per hour",
                        "short",
                        (
                            'sum by (namespace) (increase(jupyterhub_server_spawn_duration_seconds_count{status="failure"}[1h]))',
                            "{{namespace}}",
                        ),
                    ),
                ),
            ),
        ),
    )


def _queue_panel(resource: str, unit: str) -> PanelSpec:
    metric = f'yunikorn_queue_resource{{queue=~"$queue",resource="{resource}"'
    return _p(
        f"{resource}: used, guaranteed, max",
        unit,
        (f'sum by (queue) ({metric},state="allocated"}})', "{{queue}} used"),
        (f'sum by (queue) ({metric},state="guaranteed"}})', "{{queue}} guaranteed"),
        (f'sum by (queue) ({metric},state="max"}})', "{{queue}} max"),
    )


def _queues(cfg: PlatformConfig) -> DashboardSpec:
    gpu = "nvidia.com/gpu"
    pending = (
        "(time() - kube_pod_created) * on (namespace, pod) group_left (label_yunikorn_apache_org_queue) "
        '(kube_pod_labels{label_component="singleuser-server"} * on (namespace, pod) '
        '(kube_pod_status_phase{phase="Pending"} == 1))'
    )
    return DashboardSpec(
        "queues",
        "Queues",
        (
            (
                "Resources per queue",
                (_queue_panel("vcore", "short"), _queue_panel("memory", "bytes"), _queue_panel(gpu, "short")),
            ),
            (
                "Waiting",
                (
                    _p(
                        "Applications per queue and state",
                        "short",
                        ('sum by (queue, state) (yunikorn_queue_app{queue=~"$queue"})', "{{queue}} {{state}}"),
                    ),
                    _p(
                        "Pending notebooks per queue",
                        "short",
                        (
                            "count by (label_yunikorn_apache_org_queue) "
                            '(kube_pod_labels{label_component="singleuser-server"}'
                            ' * on (namespace, pod) group_left () (kube_pod_status_phase{phase="Pending"} == 1))',
                            "{{label_yunikorn_apache_org_queue}}",
                        ),
                    ),
                    _p(
                        "Longest wait per queue",
                        "s",
                        (f"max by (label_yunikorn_apache_org_queue) ({pending})", "{{label_yunikorn_apache_org_queue}}"),
                    ),
                ),
            ),
        ),
    )


def _gpus() -> DashboardSpec:
    return DashboardSpec(
        "gpus",
        "GPUs",
        (
            (
                "Devices",
                (
                    _p(
                        "Utilisation per GPU",
                        "percent",
                        ("avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "{{Hostname}} GPU {{gpu}}"),
                    ),
                    _p(
                        "Memory used per GPU",
                        "percentunit",
                        (
                            "sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED)"
                            " / sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)",
                            "{{Hostname}} GPU {{gpu}}",
                        ),
                    ),
                    _p("Temperature", "celsius", ("max by (Hostname, gpu) (DCGM_FI_DEV_GPU_TEMP)", "{{Hostname}} GPU {{gpu}}")),
                ),
            ),
            (
                "Users and MIG slices",
                (
                    _p(
                        "Utilisation per user pod",
                        "percent",
                        ('avg by (namespace, pod) (DCGM_FI_DEV_GPU_UTIL{pod!=""})', "{{namespace}}/{{pod}}"),
                    ),
                    _p(
                        "Memory per MIG slice",
                        "decmbytes",
                        (
                            'sum by (Hostname, gpu, GPU_I_PROFILE, GPU_I_ID) (DCGM_FI_DEV_FB_USED{GPU_I_PROFILE!=""})',
                            "{{Hostname}} GPU {{gpu}} {{GPU_I_PROFILE}} #{{GPU_I_ID}}",
                        ),
                    ),
                    _p(
                        "Last XID error",
                        "short",
                        ("max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS)", "{{Hostname}} GPU {{gpu}}"),
                        stat=True,
                    ),
                ),
            ),
        ),
    )


def _nodes() -> DashboardSpec:
    return DashboardSpec(
        "nodes",
        "Nodes",
        (
            (
                "Load",
                (
                    _p(
                        "CPU busy",
                        "percentunit",
                        (f'1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[{RATE}]))', "{{instance}}"),
                    ),
                    _p(
                        "Memory used",
                        "percentunit",
                        ("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "{{instance}}"),
                    ),
                    _p("Load (1 min)", "short", ("node_load1", "{{instance}}")),
                ),
            ),
            (
                "Disks and network",
                (
                    _p(
                        "Filesystem used",
                        "percentunit",
                        (
                            f"1 - node_filesystem_avail_bytes{LOCAL_FS} / node_filesystem_size_bytes{LOCAL_FS}",
                            "{{instance}} {{mountpoint}}",
                        ),
                    ),
                    _p(
                        "Network received",
                        "Bps",
                        (f'sum by (instance) (rate(node_network_receive_bytes_total{{device!="lo"}}[{RATE}]))', "{{instance}}"),
                    ),
                    _p(
                        "Network sent",
                        "Bps",
                        (f'sum by (instance) (rate(node_network_transmit_bytes_total{{device!="lo"}}[{RATE}]))', "{{instance}}"),
                    ),
                    _p(
                        "Not Ready",
                        "short",
                        ('kube_node_status_condition{condition="Ready",status="true"} == 0', "{{node}}"),
                        stat=True,
                    ),
                ),
            ),
        ),
    )


def _nfs() -> DashboardSpec:
    fs = f'{{job="{NFS_JOB}",fstype!~"tmpfs"}}'
    ops = "node_mountstats_nfs_operations"
    return DashboardSpec(
        "nfs",
        "NFS and backups",
        (
            (
                "Server",
                (
                    _p(
                        "Export filesystem capacity",
                        "bytes",
                        (f"node_filesystem_size_bytes{fs}", "{{mountpoint}} size"),
                        (f"node_filesystem_size_bytes{fs} - node_filesystem_avail_bytes{fs}", "{{mountpoint}} used"),
                    ),
                    _p("nfsd requests", "reqps", (f"sum by (method) (rate(node_nfsd_requests_total[{RATE}]))", "{{method}}")),
                    _p("nfsd threads", "short", ("node_nfsd_server_threads", "{{instance}}"), stat=True),
                ),
            ),
            (
                "Use and latency",
                (
                    # Per claim of each hub namespace, as the NFS CSI driver reports it to the kubelet.
                    _p("Use per hub", "bytes", ("sum by (namespace) (kubelet_volume_stats_used_bytes)", "{{namespace}}")),
                    _p(
                        "Client latency per operation",
                        "s",
                        (
                            f"sum by (operation) (rate({ops}_request_time_seconds_total[{RATE}]))"
                            f" / sum by (operation) (rate({ops}_requests_total[{RATE}]))",
                            "{{operation}}",
                        ),
                    ),
                    _p("Age of the last successful backup", "s", (f"time() - {BACKUP_LAST_SUCCESS}", BACKUP_LEGEND), stat=True),
                ),
            ),
        ),
    )


def _control_plane() -> DashboardSpec:
    return DashboardSpec(
        "control-plane",
        "Control plane",
        (
            (
                "API servers",
                (
                    _p(
                        "Request latency p99 by verb",
                        "s",
                        (
                            "histogram_quantile(0.99, sum by (le, verb) "
                            f'(rate(apiserver_request_duration_seconds_bucket{{verb!~"WATCH|CONNECT"}}[{RATE}])))',
                            "{{verb}}",
                        ),
                    ),
                    _p(
                        "Errors (5xx) per second",
                        "reqps",
                        (f'sum by (code) (rate(apiserver_request_total{{code=~"5.."}}[{RATE}]))', "{{code}}"),
                    ),
                ),
            ),
            (
                "etcd",
                (
                    _p(
                        "Leader changes (1 h)",
                        "short",
                        ("sum by (instance) (increase(etcd_server_leader_changes_seen_total[1h]))", "{{instance}}"),
                    ),
                    _p(
                        "Database size of quota",
                        "percentunit",
                        ("etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes", "{{instance}}"),
                    ),
                ),
            ),
            (
                "Load balancer",
                (
                    _p("Live backend servers", "short", ("haproxy_backend_active_servers", "{{instance}} {{proxy}}")),
                    _p("VIP holder", "short", ("jhub_keepalived_vip_master == 1", "{{instance}}"), stat=True),
                ),
            ),
        ),
    )


def dashboards(cfg: PlatformConfig) -> list[DashboardSpec]:
    """The six dashboards, in the order Grafana lists them."""
    return [_overview(), _queues(cfg), _gpus(), _nodes(), _nfs(), _control_plane()]


def _panel(spec: PanelSpec) -> Any:
    panel: Any = gs.Panel() if spec.stat else gt.Panel()
    panel.title(spec.title).unit(spec.unit).datasource(PROMETHEUS).height(8).span(24 // 3)
    for i, query in enumerate(spec.queries):
        panel.with_target(gp.Dataquery().expr(query.expr).legend_format(query.legend).ref_id(chr(ord("A") + i)))
    return panel


def dashboard_json(spec: DashboardSpec) -> str:
    """The dashboard as Grafana JSON (stable key order, so renders are deterministic)."""
    builder = (
        gd.Dashboard(spec.title)
        .uid(f"jhub-{spec.name}")
        .tags(["jupyterhub-platform"])
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("utc")
    )
    if spec.name == "queues":
        builder.with_variable(
            gd.QueryVariable("queue")
            .label("Queue")
            .datasource(PROMETHEUS)
            .query("label_values(yunikorn_queue_resource, queue)")
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    for title, panels in spec.rows:
        builder.with_row(gd.Row(title))
        for panel in panels:
            builder.with_panel(_panel(panel))
    return json.dumps(builder.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
