"""The Prometheus part of the capacity report compared whole for the two-node inventory of
`tests.hub_fixtures` (28110 series / 30 s = 937 samples/s; 937 x 86400 x 2 bytes = 0.15 GiB a day; 85 %
of 30 GiB = 26 GiB for blocks; 20 GiB hold 132 days), and empty without monitoring."""

from __future__ import annotations

import copy

from components.monitoring.sizing_report import sizing_markdown
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY


def test_the_whole_section() -> None:
    monitoring = {"retention_days": 10, "volume_gib": 30, "retention_size_gib": 20}
    cfg = PlatformConfig.model_validate({"inventory": copy.deepcopy(INVENTORY), "monitoring": monitoring})
    assert sizing_markdown(cfg) == (
        "\n# Prometheus sizing\n\n"
        "Active series estimated per exporter, scraped every 30s; disk at 2 bytes per sample, memory at 4 KiB per series "
        "plus a fixed base (see `config/monitoring_sizing_queries.py`).\n\n"
        "| exporter | targets | series |\n|---|---|---|\n"
        "| node-exporter | 2 | 1680 |\n"
        "| kubelet/cAdvisor | 2 | 7400 |\n"
        "| kube-state-metrics | 1 | 2870 |\n"
        "| kube-apiserver | 1 | 8000 |\n"
        "| etcd | 1 | 1500 |\n"
        "| controller-manager/scheduler | 2 | 2300 |\n"
        "| yunikorn | 1 | 360 |\n"
        "| prometheus/alertmanager/grafana/operator | 4 | 4000 |\n"
        "| **total** | | **28110** |\n\n"
        "- samples per second: 937\n"
        "- memory: about 0.6 GiB (requested by Prometheus' pod)\n"
        "- disk per day: 0.15 GiB; 10 days: 1.5 GiB\n"
        "- volume: 30 GiB, of which 26 GiB for blocks; retention size 20 GiB holds about 132 days\n"
    )


def test_empty_without_monitoring() -> None:
    assert sizing_markdown(PlatformConfig.model_validate({"inventory": copy.deepcopy(INVENTORY)})) == ""
