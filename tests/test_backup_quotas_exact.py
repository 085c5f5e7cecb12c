"""Home quotas read back: the limits table (global default, each hub's default, per-user overrides),
the reconcile step's parameters, and the capacity report with its arithmetic (committed = hard limit x
expected users + what overrides add; the verdict at exactly 100 % is "fits")."""

from __future__ import annotations

import copy
from typing import Any

from components.backup.quotas import _gib, limits_text, quota_report, reconcile_script
from config.platform import PlatformConfig
from tests.helpers import script_exports
from tests.hub_fixtures import HUB, INVENTORY

HEADER = (
    "# Home quotas against the export\n\n"
    "Export size (`nfs.homes_capacity`): {size} GiB. Committed = hard limit x expected users (overrides add\n"
    "the difference to the hub default). Above 100 % the export can fill up before every user reaches their limit.\n\n"
    "| hub | namespace | default soft / hard GiB | expected users | overrides | committed GiB |\n"
    "|---|---|---|---|---|---|\n"
)


def platform(quotas: dict[str, Any] | None, capacity: str = "1Ti", **nfs: Any) -> PlatformConfig:
    hubs = [copy.deepcopy(HUB), {**copy.deepcopy(HUB), "name": "exam", "host": "exam.example.org"}]
    raw: dict[str, Any] = {"inventory": copy.deepcopy(INVENTORY), "hubs": hubs, "nfs": {"homes_capacity": capacity, **nfs}}
    if quotas is not None:
        raw["quotas"] = quotas
    return PlatformConfig.model_validate(raw)


QUOTAS = {
    "default": {"soft_gib": 4, "hard_gib": 5},
    "hubs": [
        {
            "hub": "teaching",
            "default": {"soft_gib": 8, "hard_gib": 10},
            "expected_users": 50,
            "users": [{"user": "alice", "soft_gib": 20, "hard_gib": 30}, {"user": "bob", "soft_gib": 1, "hard_gib": 2}],
        },
    ],
}


def test_the_limits_table() -> None:
    cfg = platform(QUOTAS)
    assert cfg.quotas is not None
    assert (
        limits_text(cfg, cfg.quotas)
        == "* * 4 5\njhub-teaching * 8 10\njhub-teaching alice 20 30\njhub-teaching bob 1 2\njhub-exam * 4 5"
    )


def test_the_reconcile_step() -> None:
    script = reconcile_script("/srv/homes", "* * 1 2", metrics_dir="/m")
    assert script.name == "home-quotas"
    assert script_exports(script.text) == {
        "STEP_NAME": "home-quotas",
        "HOMES_ROOT": "/srv/homes",
        "LIMITS": "* * 1 2",
        "FIRST_PROJECT_ID": "100000",
        "STATE_DIR": "/var/lib/jupyterhub-platform/quotas",
        "METRICS_DIR": "/m",
        "XFS_QUOTA": "xfs_quota",
        "FINDMNT": "findmnt",
    }


def test_quantities_in_gib() -> None:
    assert [_gib(q) for q in ("2048Mi", "3Gi", "2Ti", "1Pi")] == [2, 3, 2048, 1024**2]


def test_the_report_adds_overrides_above_the_hub_default() -> None:
    # teaching: 10 x 50 + (30 - 10) + 0 (bob is below the default) = 520; exam: no expected users = 0.
    assert quota_report(platform(QUOTAS)) == HEADER.format(size=1024) + (
        "| teaching | jhub-teaching | 8 / 10 | 50 | 2 | 520 |\n"
        "| exam | jhub-exam | 4 / 5 | 0 | 0 | 0 |\n"
        "\nTotal committed: 520 GiB of 1024 GiB (51 %): fits.\n"
    )


def test_the_report_verdict_boundary() -> None:
    exact = {"hubs": [{"hub": "teaching", "default": {"soft_gib": 1, "hard_gib": 2}, "expected_users": 512}]}
    assert quota_report(platform(exact)).endswith("\nTotal committed: 1024 GiB of 1024 GiB (100 %): fits.\n")
    over = {"hubs": [{"hub": "teaching", "default": {"soft_gib": 1, "hard_gib": 2}, "expected_users": 513}]}
    assert quota_report(platform(over)).endswith("\nTotal committed: 1026 GiB of 1024 GiB (100 %): OVERCOMMITTED.\n")
    # An export smaller than a GiB: no share to divide by.
    assert quota_report(platform(exact, capacity="512Mi")).endswith(
        "\nTotal committed: 1024 GiB of 0 GiB (0 %): OVERCOMMITTED.\n"
    )


def test_no_quotas_enforced() -> None:
    text = (
        "# Home quotas against the export\n\n"
        "No quotas enforced (`quotas` section absent or off, or the homes are on a NAS): "
        "one user can fill the export for everyone.\n"
    )
    assert quota_report(platform(None)) == text
    assert quota_report(platform({"enabled": False})) == text
