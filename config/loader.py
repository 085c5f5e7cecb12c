"""Turn raw stack configuration into a validated `PlatformConfig`, reporting every problem at once.

This module is pure (no Pulumi import): `config.pulumi_source` feeds it from `pulumi.Config`,
`tools.render` from a stack file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from config.advisories import ConfigWarning, platform_warnings
from config.errors import ConfigError, ConfigIssue
from config.platform import PlatformConfig, check_platform
from config.secrets import SECRET_VALUE_RULES, known_secret_keys, required_secrets

_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling)",
    "missing": "required key is missing",
}


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _issues_from(error: ValidationError) -> list[ConfigIssue]:
    issues = []
    for e in error.errors():
        message = _MESSAGES.get(e["type"], e["msg"])
        if e["type"] == "value_error":
            message = str(e["ctx"].get("error", message)) if e.get("ctx") else message
        issues.append(ConfigIssue(_path(tuple(e["loc"])), message))
    return issues


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
        hint = " (it is a secret: set it with --secret)" if key in allowed_secrets else ""
        issues.append(ConfigIssue(key, f"unknown config key{hint}"))
    for key in sorted(set(secret_keys) - allowed_secrets - model_fields):
        issues.append(ConfigIssue(key, "unknown secret config key"))
    for key in sorted(set(secret_keys) & model_fields):
        issues.append(ConfigIssue(key, "this section is plain configuration, not a secret"))
    try:
        cfg = PlatformConfig.model_validate({k: v for k, v in raw.items() if k in model_fields and k in plain_keys})
    except ValidationError as err:
        raise ConfigError(sorted(issues + _issues_from(err), key=lambda i: i.path)) from None
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
