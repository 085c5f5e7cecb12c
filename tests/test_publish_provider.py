"""The publication providers' methods against moto's in-process AWS (`mock_aws`)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components.contract import publish
from components.contract.publish import PublishError, S3ContractProvider, SsmContractProvider, sha256

BUCKET = "platform-contracts"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def _s3_props(**extra: Any) -> dict[str, Any]:
    return {"bucket": BUCKET, "key": "jupyterhub-platform/dev/platform.json", "region": "us-east-1",
            "content": '{"schema_version": "1.0"}\n', **extra}  # fmt: skip


def _body(s3: Any, key: str = "jupyterhub-platform/dev/platform.json") -> str:
    return str(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())


def test_s3_create_writes_the_object(aws: Any) -> None:
    result = S3ContractProvider().create(_s3_props())
    assert result.id == f"s3://{BUCKET}/jupyterhub-platform/dev/platform.json"
    assert _body(aws) == '{"schema_version": "1.0"}\n'
    head = aws.head_object(Bucket=BUCKET, Key="jupyterhub-platform/dev/platform.json")
    assert head["ContentType"] == "application/json"
    assert result.outs is not None and result.outs["sha256"] == sha256('{"schema_version": "1.0"}\n')
    assert result.outs["etag"]


def test_s3_diff_only_real_changes(aws: Any) -> None:
    provider = S3ContractProvider()
    olds = provider.create(_s3_props()).outs or {}
    assert provider.diff("id", olds, _s3_props()).changes is False
    changed = provider.diff("id", olds, _s3_props(content="{}\n"))
    assert changed.changes is True and changed.replaces == []
    moved = provider.diff("id", olds, _s3_props(key="other/platform.json"))
    assert moved.changes is True and moved.replaces == ["key"]
    assert moved.delete_before_replace is False  # a new key: write it first, then remove the old one
    assert provider.diff("id", olds, _s3_props(bucket="elsewhere")).replaces == ["bucket"]
    aliased = provider.diff("id", olds, _s3_props(endpoint_url="https://s3.us-east-1.amazonaws.com"))
    assert aliased.replaces == ["endpoint_url"] and aliased.delete_before_replace is True
    rotated = provider.diff("id", olds, _s3_props(access_key_id="AKIANEW", secret_access_key="new"))
    assert rotated.changes is True and rotated.replaces == []


def test_s3_update_rewrites_only_when_content_changes(aws: Any) -> None:
    aws.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    provider = S3ContractProvider()
    olds = provider.create(_s3_props()).outs or {}
    same = provider.update("id", olds, _s3_props(connect_timeout_seconds=9))
    assert same.outs is not None and same.outs["connect_timeout_seconds"] == 9
    versions = aws.list_object_versions(Bucket=BUCKET)["Versions"]
    assert len(versions) == 1  # settings alone never rewrite the object
    new = provider.update("id", olds, _s3_props(content='{"schema_version": "1.1"}\n'))
    assert _body(aws) == '{"schema_version": "1.1"}\n'
    assert new.outs is not None and new.outs["sha256"] == sha256('{"schema_version": "1.1"}\n')
    assert len(aws.list_object_versions(Bucket=BUCKET)["Versions"]) == 2


def test_s3_missing_bucket_is_a_clear_error_and_writes_nothing(aws: Any) -> None:
    with pytest.raises(PublishError) as err:
        S3ContractProvider().create(_s3_props(bucket="no-such-bucket"))
    assert str(err.value) == (
        "publish.s3.bucket: bucket 'no-such-bucket' does not exist at the AWS S3 endpoint of us-east-1; create it first"
    )
    assert [b["Name"] for b in aws.list_buckets()["Buckets"]] == [BUCKET]
    assert aws.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_s3_read_detects_drift_and_deletion(aws: Any) -> None:
    provider = S3ContractProvider()
    created = provider.create(_s3_props())
    outs = created.outs or {}
    aws.put_object(Bucket=BUCKET, Key="jupyterhub-platform/dev/platform.json", Body=b"tampered")
    read = provider.read(created.id, outs)
    assert read.outs is not None and read.outs["sha256"] == sha256("tampered")
    assert provider.diff(created.id, read.outs, _s3_props()).changes is True  # the next `up` repairs it
    aws.delete_object(Bucket=BUCKET, Key="jupyterhub-platform/dev/platform.json")
    assert provider.read(created.id, outs).id == ""


def test_s3_delete_removes_and_is_idempotent(aws: Any) -> None:
    provider = S3ContractProvider()
    created = provider.create(_s3_props())
    provider.delete(created.id, created.outs or {})
    assert aws.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    provider.delete(created.id, created.outs or {})  # already gone: no error
    provider.delete("s3://gone/x", _s3_props(bucket="gone-bucket"))


def test_s3_access_denied_names_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stub = Stubber(client)
    stub.add_client_error("head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403)
    stub.activate()
    monkeypatch.setattr(publish, "_client", lambda service, props: client)
    with pytest.raises(PublishError, match=r"^publish\.credentials: access denied while checking bucket"):
        S3ContractProvider().create(_s3_props())
    stub.assert_no_pending_responses()  # no PutObject was attempted


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_endpoint_down_fails_fast_with_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    with pytest.raises(PublishError) as err:
        S3ContractProvider().create(_s3_props(endpoint_url=url, connect_timeout_seconds=1, max_attempts=1))
    assert time.monotonic() - started < 15
    assert str(err.value).startswith(f"publish.s3.endpoint_url: cannot reach {url} (")
    assert str(err.value).endswith("nothing was written")


def test_no_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(PublishError) as err:
        S3ContractProvider().create(_s3_props(endpoint_url=url, connect_timeout_seconds=1, max_attempts=1))
    assert str(err.value) == publish.NO_CREDENTIALS
    with pytest.raises(PublishError) as err:
        SsmContractProvider().create(_ssm_props(endpoint_url=url, connect_timeout_seconds=1, max_attempts=1))
    assert str(err.value) == publish.NO_CREDENTIALS


def test_credentials_from_inputs_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = boto3.session.Session

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(publish.boto3.session, "Session", spy)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        S3ContractProvider().create(_s3_props(access_key_id="AKIAEXAMPLE", secret_access_key="s3cr3t"))
    assert seen["aws_access_key_id"] == "AKIAEXAMPLE" and seen["aws_secret_access_key"] == "s3cr3t"


# ---- SSM Parameter Store ----


def _ssm_props(**extra: Any) -> dict[str, Any]:
    return {"parameter_name": "/jupyterhub-platform/dev/platform", "region": "eu-west-1", "tier": "Standard",
            "content": '{"schema_version": "1.0"}\n', **extra}  # fmt: skip


@pytest.fixture
def ssm(aws: Any) -> Any:
    return boto3.client("ssm", region_name="eu-west-1")


def test_ssm_lifecycle(ssm: Any) -> None:
    provider = SsmContractProvider()
    created = provider.create(_ssm_props())
    assert created.id == "/jupyterhub-platform/dev/platform"
    param = ssm.get_parameter(Name=created.id)["Parameter"]
    assert param["Value"] == '{"schema_version": "1.0"}\n' and param["Type"] == "String"
    olds = created.outs or {}
    assert provider.diff(created.id, olds, _ssm_props()).changes is False
    assert provider.diff(created.id, olds, _ssm_props(parameter_name="/x/y")).replaces == ["parameter_name"]
    assert provider.diff(created.id, olds, _ssm_props(region="us-east-1")).delete_before_replace is True
    updated = provider.update(created.id, olds, _ssm_props(content="{}\n"))
    assert ssm.get_parameter(Name=created.id)["Parameter"]["Value"] == "{}\n"
    assert updated.outs is not None and updated.outs["version"] == 2
    provider.delete(created.id, updated.outs)
    assert provider.read(created.id, updated.outs).id == ""
    provider.delete(created.id, updated.outs)  # already gone: no error


def test_ssm_too_large_for_tier_writes_nothing(ssm: Any) -> None:
    big = "x" * 5000
    with pytest.raises(PublishError, match=r"^publish\.ssm\.tier: the contract is 5000 bytes, more than the 4096"):
        SsmContractProvider().create(_ssm_props(content=big))
    assert ssm.describe_parameters()["Parameters"] == []
    SsmContractProvider().create(_ssm_props(content=big, tier="Advanced"))
    assert len(ssm.get_parameter(Name="/jupyterhub-platform/dev/platform")["Parameter"]["Value"]) == 5000
