"""End to end: publish, read back, update and delete against a moto server on 127.0.0.1.

The providers talk HTTP to the server through `endpoint_url`, as they would to MinIO or Ceph RGW.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from components.contract.component import s3_settings, ssm_settings
from components.contract.document import contract_json
from components.contract.publish import S3ContractProvider, SsmContractProvider
from config.publish import PublishConfig
from tests.helpers import moto_server


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # Given as inputs (as `credentials: stack-secrets` does), not through the environment.
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return {"access_key_id": "e2e-key", "secret_access_key": "e2e-secret"}


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
    )


def test_s3_publish_read_update_delete(endpoint: str, creds: dict[str, str]) -> None:
    reader = _client("s3", endpoint, "us-east-1")
    reader.create_bucket(Bucket="contracts")
    cfg = PublishConfig.model_validate(
        {"s3": {"bucket": "contracts", "endpoint_url": endpoint}, "connect_timeout_seconds": 2, "max_attempts": 1}
    )
    assert cfg.s3 is not None
    settings = s3_settings(cfg.s3, cfg, "e2e")
    assert settings["key"] == "jupyterhub-platform/e2e/platform.json"
    v1 = {"schema_version": "1.0", "stack": "e2e"}
    props = {**settings, **creds, "content": contract_json(v1)}
    provider = S3ContractProvider()

    created = provider.create(props)
    body = reader.get_object(Bucket="contracts", Key=settings["key"])["Body"].read()
    assert json.loads(body) == v1

    v2 = {**v1, "schema_version": "1.1"}
    news = {**props, "content": contract_json(v2)}
    assert provider.diff(created.id, created.outs or {}, news).changes is True
    updated = provider.update(created.id, created.outs or {}, news)
    body = reader.get_object(Bucket="contracts", Key=settings["key"])["Body"].read()
    assert json.loads(body) == v2
    assert provider.read(created.id, updated.outs or {}).outs == updated.outs  # no drift

    provider.delete(created.id, updated.outs or {})
    assert reader.list_objects_v2(Bucket="contracts").get("KeyCount") == 0


def test_ssm_publish_read_update_delete(endpoint: str, creds: dict[str, str]) -> None:
    reader = _client("ssm", endpoint, "eu-west-1")
    cfg = PublishConfig.model_validate({"ssm": {"region": "eu-west-1", "endpoint_url": endpoint}, "max_attempts": 1})
    assert cfg.ssm is not None
    props = {**ssm_settings(cfg.ssm, cfg, "e2e"), **creds, "content": contract_json({"v": 1})}
    provider = SsmContractProvider()
    created = provider.create(props)
    assert created.id == "/jupyterhub-platform/e2e/platform"
    assert json.loads(reader.get_parameter(Name=created.id)["Parameter"]["Value"]) == {"v": 1}
    updated = provider.update(created.id, created.outs or {}, {**props, "content": contract_json({"v": 2})})
    assert json.loads(reader.get_parameter(Name=created.id)["Parameter"]["Value"]) == {"v": 2}
    provider.delete(created.id, updated.outs or {})
    assert reader.describe_parameters()["Parameters"] == []


def test_missing_bucket_against_the_server(endpoint: str, creds: dict[str, str]) -> None:
    from components.contract.publish import PublishError

    props = {"bucket": "absent", "key": "k.json", "endpoint_url": endpoint, "region": "us-east-1", **creds,
             "content": "{}\n", "max_attempts": 1}  # fmt: skip
    with pytest.raises(PublishError) as err:
        S3ContractProvider().create(props)
    assert str(err.value) == f"publish.s3.bucket: bucket 'absent' does not exist at {endpoint}; create it first"
