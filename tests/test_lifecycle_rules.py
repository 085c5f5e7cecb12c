"""Lifecycle rules: the supported-versions table, end of life (error after, warning 60 days
before), Calico per minor, upgrade batches, encryption keys and their secrets."""

from __future__ import annotations

import base64
import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import lifecycle_rules
from config.advisories import ConfigWarning
from config.errors import ConfigError
from config.kubernetes_versions import BY_MINOR, NEWEST, SUPPORTED_MINORS
from config.lifecycle import UpgradeConfig
from config.loader import load_platform
from config.secrets import required_secrets
from tests.helpers import ROOT, stack_raw
from tools import render as render_tool


def _prod_secrets() -> set[str]:
    """Every secret the committed prod stack needs (as its rules say), plus the encryption keys used here."""
    cfg = load_platform(stack_raw("prod")[0], set(), missing_secrets_ok=True)
    return {req.key for req in required_secrets(cfg)} | {"encryption_key_key1", "encryption_key_key2"}


SECRETS = _prod_secrets()


def prod(**cluster: Any) -> dict[str, Any]:
    raw = copy.deepcopy(stack_raw("prod")[0])
    raw["cluster"].update(cluster)
    return raw


def on(day: date, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle_rules, "today", lambda: day)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on a known day unless it picks another: the date rules must not drift."""
    on(date(2026, 11, 30), monkeypatch)


def errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, SECRETS)
    return caught.value.lines()


def warnings_for(raw: dict[str, Any]) -> list[str]:
    found: list[ConfigWarning] = []
    load_platform(raw, SECRETS, warnings=found)
    return [str(w) for w in found]


def test_the_table_lists_three_minors_newest_last() -> None:
    assert [m.minor for m in SUPPORTED_MINORS] == ["1.35", "1.36", "1.37"]
    assert NEWEST.minor == "1.37" and BY_MINOR["1.37"].end_of_life == date(2027, 10, 28)
    assert BY_MINOR["1.36"].package_repository == "https://pkgs.k8s.io/core:/stable:/v1.36/deb/"
    assert BY_MINOR["1.36"].min_containerd == "2.0.0"  # 1.35 was the last minor with containerd 1.x


def test_the_committed_stacks_run_the_newest_minor() -> None:
    for stack in ("dev", "prod"):
        cluster = stack_raw(stack)[0]["cluster"]
        assert cluster["kubernetes_version"].startswith(NEWEST.minor + ".")
        assert cluster["encryption_at_rest"]["keys"] == ["key1"]


def test_an_old_minor_is_refused_with_the_one_minor_at_a_time_path() -> None:
    assert errors(prod(kubernetes_version="1.34.2")) == [
        "error: cluster.kubernetes_version: Kubernetes 1.34 is not supported; use one of 1.35, 1.36, 1.37 "
        "(newest: 1.37); a running 1.34 cluster moves one minor per `pulumi up`: set 1.35.x first "
        "(README: Upgrading Kubernetes)"
    ]


def test_a_future_minor_is_refused() -> None:
    assert errors(prod(kubernetes_version="1.38.0")) == [
        "error: cluster.kubernetes_version: Kubernetes 1.38 is not supported; use one of 1.35, 1.36, 1.37 (newest: 1.37)"
    ]


def test_a_minor_past_its_end_of_life_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    on(date(2027, 3, 1), monkeypatch)
    assert errors(prod(kubernetes_version="1.35.9", calico_version="v3.33.0")) == [
        "error: cluster.kubernetes_version: Kubernetes 1.35 reached its end of life on 2027-02-28; upgrade to 1.36.x"
    ]


def test_a_warning_within_sixty_days_of_end_of_life_and_none_before(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = prod(kubernetes_version="1.35.9")
    on(date(2026, 12, 30), monkeypatch)  # 60 days before 2027-02-28
    assert warnings_for(raw) == [
        "warning: cluster.kubernetes_version: Kubernetes 1.35 reaches its end of life on 2027-02-28 "
        "(in 60 days); plan the upgrade to 1.36.x"
    ]
    on(date(2026, 12, 29), monkeypatch)
    assert warnings_for(raw) == []


def test_calico_must_support_the_minor() -> None:
    assert errors(prod(calico_version="v3.31.4")) == [
        "error: cluster.calico_version: Calico v3.31.4 is not tested on Kubernetes 1.37; "
        "use v3.33.0 or newer (it is upgraded before the cluster)"
    ]
    load_platform(prod(kubernetes_version="1.35.9", calico_version="v3.31.4"), SECRETS)


def test_unencrypted_secrets_are_a_warning_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    on(date(2026, 11, 30), monkeypatch)
    raw = prod()
    del raw["cluster"]["encryption_at_rest"]
    assert warnings_for(raw) == [
        "warning: cluster.encryption_at_rest: Secrets are stored unencrypted in etcd; "
        "set `encryption_at_rest: {}` and the secret encryption_key_key1"
    ]


def test_each_encryption_key_needs_its_stack_secret() -> None:
    raw = prod(encryption_at_rest={"provider": "aescbc", "keys": ["key2", "key1"]})
    cfg = load_platform(raw, SECRETS)
    wanted = {r.key: r.example for r in required_secrets(cfg) if r.key.startswith("encryption_key_")}
    assert wanted == {
        "encryption_key_key2": "head -c 32 /dev/urandom | base64 | pulumi config set --secret encryption_key_key2",
        "encryption_key_key1": "head -c 32 /dev/urandom | base64 | pulumi config set --secret encryption_key_key1",
    }
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, SECRETS - {"encryption_key_key2"})
    assert [line.split(";")[0] for line in caught.value.lines()] == [
        "error: encryption_key_key2: missing secret (the aescbc key 'key2' that encrypts Secrets in etcd "
        "(32 random bytes, base64))"
    ]


def test_repeated_key_names_are_refused() -> None:
    assert errors(prod(encryption_at_rest={"keys": ["key1", "key1"]})) == [
        "error: cluster.encryption_at_rest.keys: key names must be unique; repeated: key1"
    ]


@pytest.mark.parametrize(
    ("setting", "workers", "batch"),
    [("10%", 200, 20), ("10%", 201, 20), ("10%", 3, 1), ("25%", 8, 2), (5, 200, 5), (50, 3, 3), ("100%", 4, 4)],
)
def test_upgrade_batch_size(setting: int | str, workers: int, batch: int) -> None:
    assert UpgradeConfig(max_unavailable=setting).batch_size(workers) == batch


def test_max_unavailable_must_be_a_count_or_a_percentage() -> None:
    lines = errors(prod(upgrade={"max_unavailable": "ten"}))
    assert lines and all(line.startswith("error: cluster.upgrade.max_unavailable") for line in lines)
    lines = errors(prod(upgrade={"max_unavailable": 0}))
    assert lines and all(line.startswith("error: cluster.upgrade.max_unavailable") for line in lines)


def test_the_render_prints_warnings_and_still_succeeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    del document["config"]["jupyterhub-platform:cluster"]["encryption_at_rest"]
    stack_file = tmp_path / "Pulumi.plain.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    assert render_tool.main(["plain", "--stack-file", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    assert "warning: cluster.encryption_at_rest: Secrets are stored unencrypted in etcd" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "is not base64; create it with: head -c 32 /dev/urandom | base64"),
        (base64.b64encode(b"x" * 16).decode(), "decodes to 16 bytes, not 32; create it with: head -c 32 /dev/urandom | base64"),
    ],
)
def test_an_encryption_key_value_is_checked_without_being_repeated(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_platform(prod(), SECRETS, secret_values={"encryption_key_key1": value})
    assert caught.value.lines() == [f"error: encryption_key_key1: {message}"]
    load_platform(prod(), SECRETS, secret_values={"encryption_key_key1": base64.b64encode(b"k" * 32).decode()})
