"""Which secrets a stack needs, and how to set each one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from config.platform import PlatformConfig


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


# Later sections (hub authentication, publication) append their rules here.
SECRET_RULES: list[SecretRule] = [_cluster_secrets]


def required_secrets(cfg: PlatformConfig) -> list[SecretRequirement]:
    return [req for rule in SECRET_RULES for req in rule(cfg)]


# Secret keys a stack may set without being required (e.g. optional credentials).
OPTIONAL_SECRET_KEYS: set[str] = {"keepalived_auth_pass"}


def known_secret_keys() -> set[str]:
    """Every secret key name any rule can ask for, so a typo in one is reported."""
    names = set(OPTIONAL_SECRET_KEYS) | {"ssh_private_key", "kubeconfig"}
    return names
