"""Monitoring rules that need the whole platform: the Prometheus node, retention against the volume,
Grafana's host, node port and identity provider against the hubs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.inventory import Node, Role
from config.monitoring_oauth_queries import grafana_oauth, oauth_hubs
from config.monitoring_sizing_queries import USABLE_SHARE, prometheus_sizing

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def prometheus_node(cfg: PlatformConfig) -> Node | None:
    """The node holding Prometheus' local volume: `monitoring.node`, else the first worker without GPUs."""
    mon = cfg.monitoring
    if mon is None:
        return None
    if mon.node is not None:
        return next((n for n in cfg.inventory.nodes if n.name == mon.node), None)
    return next((n for n in cfg.inventory.schedulable_nodes if n.gpu is None), None)


def _node(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    mon = cfg.monitoring
    if mon is None:
        return
    if not cfg.builds_cluster:
        yield ConfigIssue("monitoring", "monitoring needs kubeadm mode (Prometheus' local volume is made over SSH)")
        return
    node = prometheus_node(cfg)
    if mon.node is not None and (node is None or not node.has(Role.WORKER)):
        names = ", ".join(n.name for n in cfg.inventory.schedulable_nodes)
        yield ConfigIssue("monitoring.node", f"{mon.node!r} is not a node with the worker role; use one of: {names}")
    elif node is None:
        yield ConfigIssue("monitoring.node", "no worker without GPUs to hold Prometheus' volume; name a worker here")


def _retention(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    mon = cfg.monitoring
    if mon is None:
        return
    usable = mon.volume_gib * USABLE_SHARE
    if mon.retention_size_gib > usable:
        yield ConfigIssue(
            "monitoring.retention_size_gib",
            f"{mon.retention_size_gib} GiB does not fit a {mon.volume_gib} GiB volume with room for the WAL and "
            f"compaction; use at most {math.floor(usable)} or raise monitoring.volume_gib to "
            f"{math.ceil(mon.retention_size_gib / USABLE_SHARE)}",
        )
    sizing = prometheus_sizing(cfg, mon)
    needed = sizing.disk_gib(mon.retention_days)
    held = min(usable, mon.retention_size_gib)
    if needed > held:
        yield ConfigIssue(
            "monitoring.retention_days",
            f"{mon.retention_days} days of ~{sizing.total_series} series every {mon.scrape_interval_seconds}s need "
            f"~{needed:.0f} GiB but only {held:.0f} GiB may be used (retention_size_gib, volume_gib); "
            f"lower it to {sizing.days_held(held)} or raise monitoring.volume_gib to "
            f"{math.ceil(needed / USABLE_SHARE)} and retention_size_gib to {math.ceil(needed)}",
        )


def _grafana(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    mon = cfg.monitoring
    if mon is None or mon.grafana is None:
        return
    g = mon.grafana
    for i, hub in enumerate(cfg.hubs):
        if hub.host and hub.host.lower() == g.host:
            yield ConfigIssue("monitoring.grafana.host", f"{g.host} is also the host of hubs.{i} ({hub.name})")
        ports = {getattr(hub, "http_node_port", None), getattr(hub, "https_node_port", None)}
        if g.https_node_port in ports:
            yield ConfigIssue(
                "monitoring.grafana.https_node_port", f"{g.https_node_port} is a node port of hubs.{i} ({hub.name})"
            )
    if not cfg.inventory.load_balancers:
        yield ConfigIssue("monitoring.grafana", "Grafana is reached through the load-balancer hosts; none is in the inventory")
    hubs = oauth_hubs(cfg)
    if g.oauth_hub is not None and g.oauth_hub not in {h.name for h in hubs}:
        names = ", ".join(h.name for h in hubs) or "none"
        yield ConfigIssue("monitoring.grafana.oauth_hub", f"{g.oauth_hub!r} is not a generic-oauth hub (those are: {names})")
    elif not hubs:
        yield ConfigIssue("monitoring.grafana", "Grafana logs in through a hub's identity provider: no hub uses generic-oauth")
    elif grafana_oauth(cfg) is None:
        yield ConfigIssue(
            "monitoring.grafana.auth_url",
            "the hub's issuer is not a Keycloak realm, so Grafana's endpoints cannot be derived: "
            "set monitoring.grafana.auth_url, token_url and api_url",
        )


def _textfile_directories(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """The platform's node-exporters read one textfile directory (the models' default); metrics written
    anywhere else would never reach the backup and certificate alerts."""
    if cfg.monitoring is None:
        return
    places = (
        ("backup.metrics_dir", cfg.backup, "metrics_dir"),
        ("quotas.metrics_dir", cfg.quotas, "metrics_dir"),
        ("cluster.certificates.textfile_directory", cfg.cluster.certificates, "textfile_directory"),
    )
    for path, section, field in places:
        if section is None:
            continue
        default = type(section).model_fields[field].default
        if getattr(section, field) != default:
            yield ConfigIssue(
                path,
                f"the platform's node-exporters read {default} only: remove {path} (or set it to {default}) "
                "while `monitoring` is on",
            )


MONITORING_CHECKS = [_node, _retention, _grafana, _textfile_directories]
