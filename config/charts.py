"""Where each Helm chart comes from: its upstream repository, a mirror, or a folder of chart files.

Sites without internet access (many university and HPC clusters) keep charts in a mirror (a Harbor
project, a ChartMuseum, an OCI registry) or as `.tgz` files beside the stack. `charts.repository_overrides`
maps a chart name to such a repository; `charts.local_dir` names a folder of `<chart>-<version>.tgz`
files (what `helm pull --version` writes), which win over any repository. The chart VERSION is never
overridden: a mirror must hold the exact version the platform pins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from config.base import StrictModel

# Every chart the platform installs (components/common/charts.py refuses any other name), so a typo
# in an override key is an error rather than an override that silently never applies.
KNOWN_CHARTS = (
    "csi-driver-nfs",
    "gpu-operator",
    "jupyterhub",
    "kube-prometheus-stack",
    "metallb",
    "nvidia-device-plugin",
    "tigera-operator",
    "yunikorn",
)
_REPOSITORY_URL = re.compile(r"^(https?|oci)://[^\s/@]+(/[^\s@]*)?$")
_CREDENTIALS_IN_URL = re.compile(r"^[a-z]+://[^/]*@")


def repository_problem(chart: str, url: str) -> str | None:
    """Why `url` cannot stand in for `chart`'s repository, or None when it can."""
    if chart not in KNOWN_CHARTS:
        return f"unknown chart {chart!r}: the platform installs {', '.join(KNOWN_CHARTS)}"
    if _CREDENTIALS_IN_URL.match(url):
        return (
            "credentials do not belong in the repository URL (the render and the contract show it): "
            "give the mirror anonymous read access, or use charts.local_dir"
        )
    if not _REPOSITORY_URL.match(url):
        return (
            f"{url!r} is not a chart repository: write an HTTP(S) repository URL "
            "(https://harbor.example.org/chartrepo/mirror) or an OCI registry path (oci://harbor.example.org/mirror)"
        )
    return None


def local_dir_problem(local_dir: str) -> str | None:
    """Why `local_dir` cannot be the folder of chart files, or None when it can."""
    if not local_dir.strip():
        return "empty folder name: name the folder of chart .tgz files, or remove the key"
    if not Path(local_dir).is_dir():
        return f"{local_dir!r} is not a folder on this machine: create it, or fix the path"
    return None


class ChartsConfig(StrictModel):
    """Chart sources for sites that cannot, or should not, reach each chart's upstream repository."""

    repository_overrides: dict[str, str] = {}
    """Chart name -> repository to take it from instead of upstream: an HTTP(S) chart repository
    (`https://harbor.example.org/chartrepo/mirror`, holding an `index.yaml`) or an OCI registry path
    (`oci://harbor.example.org/mirror`, the chart is `<path>/<chart>`). Anonymous read access only:
    URLs with credentials are refused (they would be shown in the render and the contract)."""
    local_dir: str | None = None
    """Folder of chart files named `<chart>-<version>.tgz` (as `helm pull` writes them) on the machine
    running Pulumi, absolute or relative to the project directory. A chart whose file is there is
    installed from it; other charts come from their (possibly overridden) repository."""


@dataclass(frozen=True)
class ChartSource:
    """The `chart` and repository a Helm Release is given, and how the render/contract names its origin."""

    chart: str
    """The Release's `chart`: a name (with `repo`), an `oci://` reference or a local `.tgz` path."""
    repo: str | None
    """The Release's `repository_opts.repo`, or None for OCI references and local files."""
    origin: str
    """Where the chart comes from, for people: a repository URL, `oci://...` or `file:<path>`."""


def chart_source(charts: ChartsConfig, chart: str, version: str, upstream: str) -> ChartSource:
    """The source of `chart` at `version`: a local file first, then an override, then `upstream`."""
    if charts.local_dir is not None:
        path = Path(charts.local_dir) / f"{chart}-{version}.tgz"
        if path.is_file():
            return ChartSource(chart=str(path), repo=None, origin=f"file:{path}")
    override = charts.repository_overrides.get(chart)
    repo = override.rstrip("/") if override is not None else upstream
    if repo.startswith("oci://"):
        reference = f"{repo}/{chart}"
        return ChartSource(chart=reference, repo=None, origin=reference)
    return ChartSource(chart=chart, repo=repo, origin=repo)
