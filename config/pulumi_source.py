"""The one place that reads Pulumi configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from config.advisories import ConfigWarning
from config.errors import ConfigError, ConfigIssue
from config.loader import load_platform, project_prefix_hint
from config.platform import PlatformConfig
from config.roster_queries import roster_groups

PROJECT = "jupyterhub-platform"


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values as Pulumi secret Outputs: they never become plain strings here."""

    values: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)

    def require(self, key: str) -> pulumi.Output[str]:
        # The loader already checked required secrets; a KeyError here is a programming error.
        return self.values[key]

    def get(self, key: str) -> pulumi.Output[str] | None:
        return self.values.get(key)

    def has(self, key: str) -> bool:
        return key in self.values


def _decode(value: Any) -> Any:
    # The CLI hands structured values over as JSON text and plain ones as strings.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_raw_config(project: str = PROJECT) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain values (decoded) and secret values (as text) of this project's config keys."""
    prefix = f"{project}:"
    keys = {k for k in {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()} if k.startswith(prefix)}
    plain: dict[str, Any] = {}
    secret: dict[str, str] = {}
    for full_key in sorted(keys):
        short = full_key[len(prefix) :]
        value = runtime_config.get_config(full_key)
        if runtime_config.is_config_secret(full_key) or full_key in runtime_config.get_config_secret_keys_env():
            secret[short] = str(value)
        else:
            plain[short] = _decode(value)
    return plain, secret


def load_from_pulumi(project: str = PROJECT) -> tuple[PlatformConfig, StackSecrets]:
    """Load and validate the stack's config; on bad config log every problem and stop the run."""
    plain, secret = read_raw_config(project)
    notices: list[ConfigWarning] = []
    try:
        misspelt = [
            ConfigIssue(full_key, hint)
            for full_key in sorted({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})
            if (hint := project_prefix_hint(*full_key.partition(":")[::2], project)) is not None
        ]
        if misspelt:
            raise ConfigError(misspelt)
        cfg = load_platform({**plain, **secret}, secret_keys=set(secret), secret_values=secret, warnings=notices)
        roster_groups(cfg)  # validated now, with the rest; the hubs read it again for their groups
    except ConfigError as err:
        for line in err.lines():
            pulumi.log.error(line)
        raise pulumi.RunError(f"the stack configuration has {len(err.issues)} problem(s), listed above") from None
    for notice in notices:
        pulumi.log.warn(str(notice))
    return cfg, StackSecrets({k: pulumi.Output.secret(v) for k, v in secret.items()})
