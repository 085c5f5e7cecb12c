"""Which secrets a stack needs, and how to set each one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass

from config.hubs import HUB_SECRET_KEY, hub_secrets
from config.monitoring import MONITORING_SECRET_KEY, monitoring_secrets
from config.platform import PlatformConfig
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET, publish_secrets


@dataclass(frozen=True)
class SecretRequirement:
    """A secret config key the stack cannot deploy without."""

    key: str
    """Pulumi config key (without the project prefix)."""
    purpose: str
    """What it is for, shown in the error."""
    example: str
    """How to set it; the error prints this exact command."""


SecretRule = Callable[[PlatformConfig], Iterator[SecretRequirement]]


def _cluster_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    if cfg.builds_cluster:
        yield SecretRequirement(
            "ssh_private_key",
            "the SSH private key that logs in to every node",
            "pulumi config set --secret ssh_private_key < ~/.ssh/id_ed25519",
        )
    else:
        yield SecretRequirement(
            "kubeconfig",
            "the kubeconfig of the existing cluster",
            "pulumi config set --secret kubeconfig < ~/.kube/config",
        )


def _publish_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    # Both keys together or neither: `publish.credentials: stack-secrets` asks for the pair.
    for key, purpose in publish_secrets(cfg):
        yield SecretRequirement(key, purpose, f"pulumi config set --secret {key} <value>")


# Later sections (hub authentication, publication) append their rules here.
SECRET_RULES: list[SecretRule] = [_cluster_secrets]
SECRET_RULES.append(_publish_secrets)
SECRET_RULES.append(hub_secrets)
SECRET_RULES.append(monitoring_secrets)


def required_secrets(cfg: PlatformConfig) -> list[SecretRequirement]:
    return [req for rule in SECRET_RULES for req in rule(cfg)]


# Secret keys a stack may set without being required (e.g. optional credentials).
OPTIONAL_SECRET_KEYS: set[str] = {"keepalived_auth_pass"}
OPTIONAL_SECRET_KEYS |= {ACCESS_KEY_SECRET, SECRET_KEY_SECRET}  # publish.credentials: stack-secrets


# Secret key names that depend on the config (e.g. `hub_<hub name>_oauth_client_secret`).
SECRET_KEY_PATTERNS: list[re.Pattern[str]] = [HUB_SECRET_KEY, MONITORING_SECRET_KEY]


class KnownSecretKeys(set[str]):
    """The fixed names, plus every name a pattern of `SECRET_KEY_PATTERNS` allows.

    `key in known` and `keys - known` (the loader's unknown-key check) both honour the patterns."""

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (isinstance(key, str) and any(p.match(key) for p in SECRET_KEY_PATTERNS))

    def __rsub__(self, other: Set[str]) -> set[str]:
        return {k for k in other if k not in self}


def known_secret_keys() -> set[str]:
    """Every secret key name any rule can ask for, so a typo in one is reported."""
    names = KnownSecretKeys(set(OPTIONAL_SECRET_KEYS) | {"ssh_private_key", "kubeconfig"})
    return names


def _vrrp_password(value: str) -> str | None:
    # VRRP PASS authentication carries at most 8 characters; keepalived silently truncates longer ones.
    if not re.fullmatch(r"[A-Za-z0-9._:+=@%/-]{1,8}", value):
        return "must be 1 to 8 characters from A-Z a-z 0-9 . _ : + = @ % / - (VRRP PASS authentication)"
    return None


# Checks on secret values, run where the values exist (`pulumi up`/`preview`), never in the render.
# A rule returns a message that never repeats the value.
SECRET_VALUE_RULES: dict[str, Callable[[str], str | None]] = {"keepalived_auth_pass": _vrrp_password}
