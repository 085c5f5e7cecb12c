"""The `publish` config section: every rule fails with its dotted path; credentials come as a pair."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import load_platform
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET
from config.secrets import known_secret_keys, required_secrets
from tests.helpers import stack_raw


def _dev_secrets() -> set[str]:
    """Every secret the committed dev stack needs (set), so only publication secrets can be missing."""
    raw, keys = stack_raw("dev")
    return set(keys) | {r.key for r in required_secrets(load_platform(raw, keys, missing_secrets_ok=True))}


BASE_SECRETS = _dev_secrets()


def dev_with(publish: Any) -> dict[str, Any]:
    raw, _ = stack_raw("dev")
    raw = copy.deepcopy(raw)
    raw["publish"] = publish
    return raw


def errors(raw: dict[str, Any], secrets: set[str] = BASE_SECRETS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_platform(raw, secrets)
    return caught.value.lines()


def test_s3_and_ssm_targets_load_with_defaults() -> None:
    cfg = load_platform(dev_with({"s3": {"bucket": "platform-contracts"}, "ssm": {}}), BASE_SECRETS)
    assert cfg.publish is not None and cfg.publish.s3 is not None and cfg.publish.ssm is not None
    assert cfg.publish.s3.key == "jupyterhub-platform/{stack}/platform.json"
    assert cfg.publish.ssm.parameter_name == "/jupyterhub-platform/{stack}/platform"
    assert cfg.publish.credentials == "environment"


def test_endpoint_url_trailing_slash_is_dropped() -> None:
    cfg = load_platform(dev_with({"s3": {"bucket": "abc", "endpoint_url": "https://minio.example.org:9000/"}}), BASE_SECRETS)
    assert cfg.publish is not None and cfg.publish.s3 is not None
    assert cfg.publish.s3.endpoint_url == "https://minio.example.org:9000"


@pytest.mark.parametrize(
    ("publish", "expected"),
    [
        ({}, "error: publish: name at least one target"),
        ({"s3": {"bucket": "Bad_Bucket"}}, "error: publish.s3.bucket: "),
        (
            {"s3": {"bucket": "ok-bucket", "endpoint_url": "minio:9000"}},
            "error: publish.s3.endpoint_url: must be a URL like https://rgw.example.org (scheme https or http)",
        ),
        ({"s3": {"bucket": "ok-bucket", "key": "/abs/key.json"}}, "error: publish.s3.key: '/abs/key.json'"),
        ({"s3": {"bucket": "ok-bucket", "bucet": "x"}}, "error: publish.s3.bucet: unknown key"),
        ({"ssm": {"parameter_name": "no-slash"}}, "error: publish.ssm.parameter_name: 'no-slash'"),
        ({"ssm": {"parameter_name": "/aws/reserved"}}, "error: publish.ssm.parameter_name: '/aws/reserved'"),
        ({"ssm": {"tier": "Huge"}}, "error: publish.ssm.tier: "),
        ({"ssm": {}, "credentials": "keys"}, "error: publish.credentials: "),
        ({"ssm": {}, "connect_timeout_seconds": 0}, "error: publish.connect_timeout_seconds: "),
        (
            {"s3": {"bucket": "ok-bucket", "ca_bundle": "/etc/ca.pem", "verify_tls": False}},
            "error: publish.s3.ca_bundle: a CA bundle",
        ),
    ],
)
def test_bad_values_are_reported_at_their_path(publish: Any, expected: str) -> None:
    found = errors(dev_with(publish))
    assert any(line.startswith(expected) for line in found), found


def test_stack_secrets_require_both_keys() -> None:
    raw = dev_with({"s3": {"bucket": "ok-bucket"}, "credentials": "stack-secrets"})
    found = errors(raw)
    assert [line.split(":")[1].strip() for line in found] == [ACCESS_KEY_SECRET, SECRET_KEY_SECRET]
    assert all("missing secret" in line and "pulumi config set --secret" in line for line in found)
    assert errors(raw, BASE_SECRETS | {ACCESS_KEY_SECRET}) == [found[1]]  # one alone is not enough
    cfg = load_platform(raw, BASE_SECRETS | {ACCESS_KEY_SECRET, SECRET_KEY_SECRET})
    assert cfg.publish is not None and cfg.publish.credentials == "stack-secrets"


def test_publish_secrets_are_known_and_must_be_secret() -> None:
    assert {ACCESS_KEY_SECRET, SECRET_KEY_SECRET} <= known_secret_keys()
    raw = dev_with({"ssm": {}})
    raw[ACCESS_KEY_SECRET] = "AKIAEXAMPLE"
    found = errors(raw)
    assert f"error: {ACCESS_KEY_SECRET}: unknown config key (it is a secret: set it with --secret)" in found
