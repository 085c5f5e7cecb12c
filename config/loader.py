"""Turn raw stack configuration into a validated `PlatformConfig`, reporting every problem at once.

This module is pure (no Pulumi import): `config.pulumi_source` feeds it from `pulumi.Config`,
`tools.render` from a stack file.
"""

from __future__ import annotations

import difflib
import warnings as python_warnings
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from config.advisories import ConfigWarning
from config.checks import check_platform, platform_warnings
from config.errors import ConfigError, ConfigIssue
from config.messages import issues_from, swapped_scalars
from config.platform import PlatformConfig
from config.secrets import SECRET_VALUE_RULES, known_secret_keys, required_secrets


def project_prefix_hint(namespace: str, key: str, project: str) -> str | None:
    """For a config key under another namespace: a message when it looks like a misspelt project name
    (its settings would be ignored), None for a real other package (`kubernetes:context`)."""
    if not key or namespace == project:
        return None
    close = namespace.lower() == project.lower() or difflib.SequenceMatcher(None, namespace, project).ratio() >= 0.8
    if not close:
        return None
    return f"the prefix {namespace!r} is not the project name: write `{project}:{key}` (as written it is ignored)"


def load_platform(
    raw: Mapping[str, Any],
    secret_keys: Collection[str],
    *,
    missing_secrets_ok: bool = False,
    secret_values: Mapping[str, str] | None = None,
    warnings: list[ConfigWarning] | None = None,
) -> PlatformConfig:
    """Validate `raw` (config keys without the project prefix) and check required secrets.

    `secret_keys` names the secret config keys that have a value; `missing_secrets_ok` is for
    the offline render, which needs no secrets. `secret_values`, where known, are checked by
    `SECRET_VALUE_RULES`. Raises `ConfigError` with every problem. Warnings (valid, but act soon)
    are appended to `warnings` when the caller passes a list; they never fail the load.
    """
    plain_keys = {k for k in raw if k not in secret_keys}
    issues: list[ConfigIssue] = []
    allowed_secrets = known_secret_keys()
    model_fields = set(PlatformConfig.model_fields)
    for key in sorted(plain_keys - model_fields):
        close = difflib.get_close_matches(key, sorted(model_fields), n=1, cutoff=0.75)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        hint = " (it is a secret: set it with --secret)" if key in allowed_secrets else hint
        issues.append(ConfigIssue(key, f"unknown config key{hint}"))
    for key in sorted(set(secret_keys) - allowed_secrets - model_fields):
        issues.append(ConfigIssue(key, "unknown secret config key"))
    for key in sorted(set(secret_keys) & model_fields):
        issues.append(ConfigIssue(key, "this section is plain configuration, not a secret"))
    plain = {k: v for k, v in raw.items() if k in model_fields and k in plain_keys}
    issues += swapped_scalars(PlatformConfig, plain)
    try:
        with python_warnings.catch_warnings():
            # ipaddress warns when pydantic hands it a bool; `swapped_scalars` has reported that value already.
            python_warnings.filterwarnings("ignore", message=r"__int__ returned non-int", category=DeprecationWarning)
            cfg = PlatformConfig.model_validate(plain)
    except ValidationError as err:
        reported = {i.path for i in issues}
        found = [i for i in issues_from(err, plain, PlatformConfig) if i.path not in reported]
        raise ConfigError(sorted(issues + found, key=lambda i: i.path)) from None
    if issues:
        raise ConfigError(sorted(issues, key=lambda i: i.path))
    issues.extend(check_platform(cfg))
    for req in required_secrets(cfg):
        if req.key not in secret_keys and not missing_secrets_ok:
            issues.append(ConfigIssue(req.key, f"missing secret ({req.purpose}); set it with: {req.example}"))
    for key, value in (secret_values or {}).items():
        rule = SECRET_VALUE_RULES.get(key)
        problem = rule(value) if rule is not None else None
        if problem:
            issues.append(ConfigIssue(key, problem))
    if issues:
        raise ConfigError(issues)
    if warnings is not None:
        warnings.extend(platform_warnings(cfg))
    return cfg
