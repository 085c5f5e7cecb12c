"""Rules of the cluster lifecycle: supported Kubernetes minors, end of life, what a minor needs.

Errors join `PLATFORM_CHECKS`; the end-of-life and unencrypted-Secrets notices join
`config.advisories.WARNING_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING

from config.advisories import ConfigWarning
from config.errors import ConfigIssue
from config.kubernetes_versions import (
    BY_MINOR,
    END_OF_LIFE_WARNING_DAYS,
    KubernetesMinor,
    minor_of,
    next_minor,
    parse_calico,
)

if TYPE_CHECKING:
    from config.platform import PlatformConfig

# Tests replace this to check the date rules on fixed days.
today: Callable[[], date] = date.today


def _target(cfg: PlatformConfig) -> KubernetesMinor | None:
    return BY_MINOR.get(minor_of(cfg.cluster.kubernetes_version))


def _end_of_life_passed(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    # Unsupported minors are refused by the model (config.cluster); this is the date rule.
    minor = _target(cfg)
    if cfg.builds_cluster and minor is not None and minor.end_of_life < today():
        yield ConfigIssue(
            "cluster.kubernetes_version",
            f"Kubernetes {minor.minor} reached its end of life on {minor.end_of_life.isoformat()}; "
            f"upgrade to {next_minor(minor.minor)}.x",
        )


def _calico_supports_minor(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    minor = _target(cfg)
    if not cfg.builds_cluster or minor is None:
        return
    have, need = parse_calico(cfg.cluster.calico_version), parse_calico(minor.min_calico)
    if have is None:
        yield ConfigIssue("cluster.calico_version", f"{cfg.cluster.calico_version!r} is not a release like {minor.min_calico}")
    elif need is not None and have < need:
        yield ConfigIssue(
            "cluster.calico_version",
            f"Calico {cfg.cluster.calico_version} is not tested on Kubernetes {minor.minor}; "
            f"use {minor.min_calico} or newer (it is upgraded before the cluster)",
        )


def _end_of_life_soon(cfg: PlatformConfig) -> Iterator[ConfigWarning]:
    minor = _target(cfg)
    if not cfg.builds_cluster or minor is None:
        return
    left = (minor.end_of_life - today()).days
    if 0 <= left <= END_OF_LIFE_WARNING_DAYS:
        yield ConfigWarning(
            "cluster.kubernetes_version",
            f"Kubernetes {minor.minor} reaches its end of life on {minor.end_of_life.isoformat()} "
            f"(in {left} days); plan the upgrade to {next_minor(minor.minor)}.x",
        )


def _secrets_unencrypted(cfg: PlatformConfig) -> Iterator[ConfigWarning]:
    if cfg.builds_cluster and cfg.cluster.encryption_at_rest is None:
        yield ConfigWarning(
            "cluster.encryption_at_rest",
            "Secrets are stored unencrypted in etcd; set `encryption_at_rest: {}` and the secret encryption_key_key1",
        )


LIFECYCLE_CHECKS = [_end_of_life_passed, _calico_supports_minor]
LIFECYCLE_WARNINGS = [_end_of_life_soon, _secrets_unencrypted]
