"""The `charts` config section: mirrors and a folder of chart files, validated at their dotted paths,
and the source each Release gets (render shows it)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from config.charts import KNOWN_CHARTS, ChartsConfig, chart_source
from config.errors import ConfigError
from config.loader import load_platform
from tests.helpers import stack_raw


def dev_with(charts: Any, stack: str = "dev") -> tuple[dict[str, Any], set[str]]:
    raw, keys = stack_raw(stack)
    raw = copy.deepcopy(raw)
    raw["charts"] = charts
    return raw, keys


def errors(charts: Any) -> list[str]:
    raw, keys = dev_with(charts)
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, keys, missing_secrets_ok=True)
    return caught.value.lines()


def test_no_section_means_upstream_repositories() -> None:
    raw, keys = stack_raw("dev")
    cfg = load_platform(raw, keys, missing_secrets_ok=True)
    assert cfg.charts == ChartsConfig()
    source = chart_source(cfg.charts, "yunikorn", "1.6.3", "https://apache.github.io/yunikorn-release")
    assert (source.chart, source.repo, source.origin) == (
        "yunikorn", "https://apache.github.io/yunikorn-release", "https://apache.github.io/yunikorn-release"
    )  # fmt: skip


def test_every_problem_is_reported_at_its_dotted_path(tmp_path: Path) -> None:
    found = errors(
        {
            "repository_overrides": {
                "jupyterhbu": "https://mirror.example.org/charts",
                "yunikorn": "ftp://mirror.example.org/charts",
                "tigera-operator": "https://reader:hunter2@mirror.example.org/charts",
            },
            "local_dir": str(tmp_path / "missing"),
        }
    )
    assert found == [
        "error: charts.repository_overrides.jupyterhbu: unknown chart 'jupyterhbu': the platform installs "
        + ", ".join(KNOWN_CHARTS),
        "error: charts.repository_overrides.tigera-operator: credentials do not belong in the repository URL "
        "(the render and the contract show it): give the mirror anonymous read access, or use charts.local_dir",
        "error: charts.repository_overrides.yunikorn: 'ftp://mirror.example.org/charts' is not a chart repository: "
        "write an HTTP(S) repository URL (https://harbor.example.org/chartrepo/mirror) or an OCI registry path "
        "(oci://harbor.example.org/mirror)",
        f"error: charts.local_dir: '{tmp_path / 'missing'}' is not a folder on this machine: create it, or fix the path",
    ]
    assert not any("hunter2" in line for line in found)


def test_unknown_keys_are_refused() -> None:
    assert errors({"local_directory": "/srv/charts"}) == [
        "error: charts.local_directory: unknown key (did you mean `local_dir`?)"
    ]


def test_http_and_oci_overrides(tmp_path: Path) -> None:
    raw, keys = dev_with(
        {
            "repository_overrides": {
                "jupyterhub": "http://127.0.0.1:8879/charts/",
                "yunikorn": "oci://harbor.example.org/mirror",
            }
        }
    )
    charts = load_platform(raw, keys, missing_secrets_ok=True).charts
    hub = chart_source(charts, "jupyterhub", "4.2.0", "https://hub.jupyter.org/helm-chart/")
    assert (hub.chart, hub.repo, hub.origin) == (
        "jupyterhub", "http://127.0.0.1:8879/charts", "http://127.0.0.1:8879/charts"
    )  # fmt: skip
    yk = chart_source(charts, "yunikorn", "1.6.3", "https://apache.github.io/yunikorn-release")
    assert (yk.chart, yk.repo, yk.origin) == (
        "oci://harbor.example.org/mirror/yunikorn", None, "oci://harbor.example.org/mirror/yunikorn"
    )  # fmt: skip
    other = chart_source(charts, "csi-driver-nfs", "v4.11.0", "https://upstream.example.org")
    assert other.repo == "https://upstream.example.org"


def test_a_local_file_wins_only_for_its_exact_version(tmp_path: Path) -> None:
    (tmp_path / "yunikorn-1.6.3.tgz").write_bytes(b"not read here")
    charts = ChartsConfig(local_dir=str(tmp_path), repository_overrides={"yunikorn": "https://mirror.example.org"})
    local = chart_source(charts, "yunikorn", "1.6.3", "https://upstream.example.org")
    assert (local.chart, local.repo, local.origin) == (
        str(tmp_path / "yunikorn-1.6.3.tgz"), None, f"file:{tmp_path / 'yunikorn-1.6.3.tgz'}"
    )  # fmt: skip
    # Another version is not in the folder: the override applies.
    assert chart_source(charts, "yunikorn", "1.7.0", "https://upstream.example.org").repo == "https://mirror.example.org"


def test_render_shows_each_release_source() -> None:
    """The Release inputs in the offline plan carry the overridden source."""
    from tools import render as render_tool

    # prod: the mocks keep the first stack name a process renders, and the render tests expect prod.
    raw, keys = dev_with({"repository_overrides": {"yunikorn": "http://127.0.0.1:9/charts"}}, "prod")
    cfg = load_platform(raw, keys, missing_secrets_ok=True)
    plan = render_tool.plan_document("prod", render_tool.render_plan("prod", cfg, set(keys)))
    releases = {r["name"]: r["inputs"] for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"}
    assert releases["yunikorn-release"]["repositoryOpts"] == {"repo": "http://127.0.0.1:9/charts"}
    others = [inputs["repositoryOpts"]["repo"] for name, inputs in releases.items() if name != "yunikorn-release"]
    assert others and all(repo.startswith("https://") for repo in others)


def test_every_chart_the_platform_installs_is_known() -> None:
    """pinned_release refuses a chart missing from KNOWN_CHARTS, so overrides can be checked against it."""
    from components.common.charts import pinned_release

    with pytest.raises(ValueError, match="KNOWN_CHARTS"):
        pinned_release("x", release="x", chart="not-a-platform-chart", version="1.0.0", repo="https://e",
                       sources=ChartsConfig(), namespace="n", values={}, timeout=60,
                       opts=None)  # type: ignore[arg-type]  # fmt: skip
