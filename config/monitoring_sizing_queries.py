"""Prometheus sizing from the inventory: active series per exporter, then memory and disk (pure).

Series per target are estimates of each exporter's output on a kubeadm node (counted on typical targets;
see README "Monitoring: sizing"), scaled by what grows them (CPUs, pods, backends, GPUs). Disk uses
2 bytes per sample (Prometheus' documentation gives 1-2 after compression; the upper end, so the estimate
errs on the safe side); memory 4 KiB per head series plus a fixed base (Prometheus' own rule of thumb is
about 3 KiB; queries and compaction need the rest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.inventory import Role

if TYPE_CHECKING:
    from config.monitoring import MonitoringConfig
    from config.platform import PlatformConfig

BYTES_PER_SAMPLE = 2.0
BYTES_PER_SERIES_IN_MEMORY = 4096
BASE_MEMORY_BYTES = 512 * 2**20
# Share of the volume Prometheus may fill with blocks; the rest holds the WAL and compaction's scratch space.
USABLE_SHARE = 0.85
PODS_PER_WORKER = 40
"""Pods assumed per schedulable node (notebooks plus daemons) when no better number is known."""
GIB = 2**30


@dataclass(frozen=True)
class SeriesEstimate:
    exporter: str
    targets: int
    series: int


@dataclass(frozen=True)
class PrometheusSizing:
    series: tuple[SeriesEstimate, ...]
    total_series: int
    samples_per_second: float
    disk_bytes_per_day: float
    memory_bytes: int

    def disk_gib(self, days: int) -> float:
        return self.disk_bytes_per_day * days / GIB

    def days_held(self, gib: float) -> int:
        """Whole days of samples that fit in `gib` GiB."""
        return math.floor(gib * GIB / self.disk_bytes_per_day)


def series_estimates(cfg: PlatformConfig) -> list[SeriesEstimate]:
    nodes = cfg.inventory.nodes
    k8s_nodes = [n for n in nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)]
    cps = len(cfg.inventory.control_planes)
    lbs = cfg.inventory.load_balancers
    # DCGM reports each MIG instance as well as the GPU; at most 7 instances per GPU.
    per_gpu = 8 if cfg.gpu.sharing.mode == "mig" else 1
    gpus = per_gpu * sum(n.gpu.count for n in nodes if n.gpu is not None)
    pods = PODS_PER_WORKER * len(cfg.inventory.schedulable_nodes) + 15 * len(k8s_nodes)
    # Each hub has an HTTP and an HTTPS backend listing the nodes that may run its proxy.
    hub_servers = 2 * len(cfg.hubs) * len(cfg.inventory.schedulable_nodes)
    queues = len(cfg.scheduler.leaf_queue_paths())
    estimates = [
        # node-exporter: ~600 fixed series plus ~10 per CPU (8 cpu modes, softnet, cpufreq).
        SeriesEstimate("node-exporter", len(nodes), sum(600 + 10 * (n.cpus or 8) for n in nodes)),
        # kubelet (~400) plus cAdvisor (~60 per pod: CPU, memory, network, filesystem per container).
        SeriesEstimate("kubelet/cAdvisor", len(k8s_nodes), 400 * len(k8s_nodes) + 60 * pods),
        SeriesEstimate("kube-state-metrics", 1, 60 * len(k8s_nodes) + 25 * pods),
        SeriesEstimate("kube-apiserver", cps, 8000 * cps),
        SeriesEstimate("etcd", cps, 1500 * cps),
        SeriesEstimate("controller-manager/scheduler", 2 * cps, 2300 * cps),
        # HAProxy: ~60 per server line and ~80 per frontend/backend, on each LB host.
        SeriesEstimate("haproxy", len(lbs), len(lbs) * (60 * (cps + hub_servers) + 80 * (2 + 2 * len(cfg.hubs)))),
        SeriesEstimate("jupyterhub", len(cfg.hubs), 400 * len(cfg.hubs)),
        SeriesEstimate("yunikorn", 1, 300 + 60 * queues),
        SeriesEstimate("dcgm-exporter", gpus, 40 * gpus),
        SeriesEstimate("prometheus/alertmanager/grafana/operator", 4, 4000),
    ]
    return [e for e in estimates if e.targets > 0]


def prometheus_sizing(cfg: PlatformConfig, mon: MonitoringConfig) -> PrometheusSizing:
    estimates = series_estimates(cfg)
    total = sum(e.series for e in estimates)
    rate = total / mon.scrape_interval_seconds
    return PrometheusSizing(
        series=tuple(estimates),
        total_series=total,
        samples_per_second=rate,
        disk_bytes_per_day=rate * 86400 * BYTES_PER_SAMPLE,
        memory_bytes=BASE_MEMORY_BYTES + total * BYTES_PER_SERIES_IN_MEMORY,
    )
