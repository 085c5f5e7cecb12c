"""Helm charts the one way this platform installs them."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

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
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    opts: pulumi.ResourceOptions,
    **extra: Any,
) -> k8s.helm.v3.Release:
    """A `helm.v3.Release` (real Helm: hooks run, previews cope with a cluster that does not exist
    yet) of an exact chart version from its repository, with a bounded wait and history."""
    if not _EXACT_VERSION.match(version):
        raise ValueError(f"chart {chart} must be pinned to an exact version, got {version!r}")
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        values=values,
        timeout=timeout,
        max_history=MAX_HISTORY,
        opts=opts,
        **extra,
    )
