"""Lifecycle rules and warnings called directly, each case compared with the EXACT set of (path,
message) it yields: the end-of-life day itself and the first day after it, the first and last day of
the warning window, Calico at its minimum and one patch below, and an existing cluster (none apply)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from config import lifecycle_rules
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY

EOL_135 = date(2027, 2, 28)
UNENCRYPTED = (
    "cluster.encryption_at_rest",
    "Secrets are stored unencrypted in etcd; set `encryption_at_rest: {}` and the secret encryption_key_key1",
)


def cfg(existing: bool = False, **cluster: Any) -> PlatformConfig:
    raw: dict[str, Any] = {"inventory": copy.deepcopy(INVENTORY), "cluster": {"encryption_at_rest": {}, **cluster}}
    if existing:
        raw["cluster"]["mode"] = "existing"
    return PlatformConfig.model_validate(raw)


def found(
    config: PlatformConfig, day: date, monkeypatch: pytest.MonkeyPatch
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(errors, warnings) on `day`."""
    monkeypatch.setattr(lifecycle_rules, "today", lambda: day)
    errors = {(i.path, i.message) for check in lifecycle_rules.LIFECYCLE_CHECKS for i in check(config)}
    warnings = {(w.path, w.message) for check in lifecycle_rules.LIFECYCLE_WARNINGS for w in check(config)}
    return errors, warnings


def soon(left: int) -> tuple[str, str]:
    return (
        "cluster.kubernetes_version",
        f"Kubernetes 1.35 reaches its end of life on 2027-02-28 (in {left} days); plan the upgrade to 1.36.x",
    )


PASSED = ("cluster.kubernetes_version", "Kubernetes 1.35 reached its end of life on 2027-02-28; upgrade to 1.36.x")


def test_end_of_life_days(monkeypatch: pytest.MonkeyPatch) -> None:
    old = cfg(kubernetes_version="1.35.9", calico_version="v3.31.0")
    assert found(old, date(2026, 12, 28), monkeypatch) == (set(), set())  # 62 days left
    assert found(old, date(2026, 12, 29), monkeypatch) == (set(), set())  # 61
    assert found(old, date(2026, 12, 30), monkeypatch) == (set(), {soon(60)})
    assert found(old, EOL_135, monkeypatch) == (set(), {soon(0)})
    assert found(old, date(2027, 3, 1), monkeypatch) == ({PASSED}, set())


def test_an_existing_cluster_gets_no_lifecycle_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    old = cfg(existing=True, kubernetes_version="1.35.9", calico_version="v3.20.0", encryption_at_rest=None)
    assert found(old, EOL_135, monkeypatch) == (set(), set())
    assert found(old, date(2027, 3, 1), monkeypatch) == (set(), set())


def test_unencrypted_secrets_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2026, 11, 30)
    assert found(cfg(encryption_at_rest=None), day, monkeypatch) == (set(), {UNENCRYPTED})
    assert found(cfg(), day, monkeypatch) == (set(), set())


def test_calico_minimum_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2026, 11, 30)
    assert found(cfg(kubernetes_version="1.37.1", calico_version="v3.33.0"), day, monkeypatch) == (set(), set())
    assert found(cfg(kubernetes_version="1.37.1", calico_version="v3.32.9"), day, monkeypatch) == (
        {
            (
                "cluster.calico_version",
                "Calico v3.32.9 is not tested on Kubernetes 1.37; use v3.33.0 or newer (it is upgraded before the cluster)",
            )
        },
        set(),
    )


def test_a_calico_version_without_the_v_is_no_release(monkeypatch: pytest.MonkeyPatch) -> None:
    assert found(cfg(kubernetes_version="1.37.1", calico_version="3.33.0"), date(2026, 11, 30), monkeypatch) == (
        {("cluster.calico_version", "'3.33.0' is not a release like v3.33.0")},
        set(),
    )
