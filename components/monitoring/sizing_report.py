"""The monitoring part of the capacity report (pure): Prometheus' series, memory and disk for this stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.monitoring_sizing_queries import BYTES_PER_SAMPLE, BYTES_PER_SERIES_IN_MEMORY, USABLE_SHARE, prometheus_sizing

if TYPE_CHECKING:
    from config.platform import PlatformConfig

GIB = 2**30


def sizing_markdown(cfg: PlatformConfig) -> str:
    """Markdown section, empty without monitoring."""
    mon = cfg.monitoring
    if mon is None:
        return ""
    s = prometheus_sizing(cfg, mon)
    lines = [
        "",
        "# Prometheus sizing",
        "",
        f"Active series estimated per exporter, scraped every {mon.scrape_interval_seconds}s; disk at "
        f"{BYTES_PER_SAMPLE:g} bytes per sample, memory at {BYTES_PER_SERIES_IN_MEMORY // 1024} KiB per series "
        "plus a fixed base (see `config/monitoring_sizing_queries.py`).",
        "",
        "| exporter | targets | series |",
        "|---|---|---|",
        *(f"| {e.exporter} | {e.targets} | {e.series} |" for e in s.series),
        f"| **total** | | **{s.total_series}** |",
        "",
        f"- samples per second: {s.samples_per_second:.0f}",
        f"- memory: about {s.memory_bytes / GIB:.1f} GiB (requested by Prometheus' pod)",
        f"- disk per day: {s.disk_gib(1):.2f} GiB; {mon.retention_days} days: {s.disk_gib(mon.retention_days):.1f} GiB",
        f"- volume: {mon.volume_gib} GiB, of which {mon.volume_gib * USABLE_SHARE:.0f} GiB for blocks; "
        f"retention size {mon.retention_size_gib} GiB holds about {s.days_held(mon.retention_size_gib)} days",
    ]
    return "\n".join(lines) + "\n"
