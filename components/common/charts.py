"""Helm charts the one way this platform installs them."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from config.charts import KNOWN_CHARTS, ChartsConfig, chart_source

_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
# Keep a few revisions for `helm rollback`, not every one ever made.
MAX_HISTORY = 10


def pinned_release(
    resource_name: str,
    *,
    release: str,
    chart: str,
    version: str,
    repo: str,
    sources: ChartsConfig,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    opts: pulumi.ResourceOptions,
    **extra: Any,
) -> k8s.helm.v3.Release:
    """A `helm.v3.Release` (real Helm: hooks run, previews cope with a cluster that does not exist
    yet) of an exact chart version, with a bounded wait and history. The chart comes from `repo` (its
    upstream repository) unless `sources` (the `charts` config section) names a local file or a mirror."""
    if not _EXACT_VERSION.match(version):
        raise ValueError(f"chart {chart} must be pinned to an exact version, got {version!r}")
    if chart not in KNOWN_CHARTS:
        raise ValueError(f"chart {chart} is missing from config.charts.KNOWN_CHARTS (overrides are checked against it)")
    source = chart_source(sources, chart, version, repo)
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=source.chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=source.repo) if source.repo else None,
        namespace=namespace,
        values=values,
        timeout=timeout,
        max_history=MAX_HISTORY,
        opts=opts,
        **extra,
    )
