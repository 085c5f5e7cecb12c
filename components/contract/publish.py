"""Dynamic providers that publish the contract to S3-compatible storage and to SSM Parameter Store.

Each provider writes one object (or parameter) with one atomic call after checking everything it
can check first, so a failure never leaves a half-written contract. Inputs are plain dicts (the
dynamic provider protocol); credentials arrive as secret inputs or come from the standard AWS chain
of the process running Pulumi. Every error names the config path to fix.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import boto3
import pulumi
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

CONNECTION_KEYS = ("region", "endpoint_url", "connect_timeout_seconds", "max_attempts", "access_key_id", "secret_access_key")
S3_KEYS = ("bucket", "key", "addressing_style", "verify_tls", "ca_bundle", "content", *CONNECTION_KEYS)
SSM_KEYS = ("parameter_name", "tier", "content", *CONNECTION_KEYS)
SSM_LIMITS = {"Standard": 4096, "Advanced": 8192}
NO_CREDENTIALS = (
    "publish.credentials: no AWS credentials found: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(or AWS_PROFILE) where `pulumi up` runs, or set publish.credentials: stack-secrets with the secrets "
    "publish_aws_access_key_id and publish_aws_secret_access_key"
)
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)
_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "UnrecognizedClientException",
           "InvalidClientTokenId", "AccessDeniedException", "ExpiredToken"}


class PublishError(Exception):
    """A publication failed; the message starts with the config path to fix."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _client(service: str, props: dict[str, Any]) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=props.get("access_key_id") or None,
        aws_secret_access_key=props.get("secret_access_key") or None,
        region_name=props.get("region") or "us-east-1",
    )
    style = props.get("addressing_style") or "auto"
    if style == "auto":
        style = "path" if props.get("endpoint_url") else "virtual"
    config = Config(
        connect_timeout=int(props.get("connect_timeout_seconds") or 5),
        read_timeout=30,
        retries={"max_attempts": int(props.get("max_attempts") or 3), "mode": "standard"},
        s3={"addressing_style": style},
    )
    verify: bool | str = props.get("ca_bundle") or props.get("verify_tls", True) is not False
    return session.client(service, endpoint_url=props.get("endpoint_url") or None, config=config, verify=verify)


def _where(service: str, props: dict[str, Any]) -> str:
    return str(props.get("endpoint_url") or f"the AWS {service} endpoint of {props.get('region') or 'us-east-1'}")


def _explain(err: Exception, section: str, service: str, props: dict[str, Any], what: str) -> PublishError:
    """Turn a boto error into one clear line that starts with the config path to fix."""
    where = _where(service, props)
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return PublishError(NO_CREDENTIALS)
    if isinstance(err, _UNREACHABLE):
        path = f"{section}.endpoint_url" if props.get("endpoint_url") else f"{section}.region"
        return PublishError(f"{path}: cannot reach {where} ({err}); nothing was written")
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = err.response.get("Error", {}).get("Message", "") or code
        if code in _DENIED:
            return PublishError(f"publish.credentials: access denied while {what} at {where} ({code}: {message})")
        return PublishError(f"{section}: {what} failed at {where} ({code}: {message})")
    return PublishError(f"{section}: {what} failed at {where} ({err})")


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Changed inputs; the content counts as changed when the stored object's hash differs (drift too)."""
    changed = [k for k in keys if k != "content" and olds.get(k) != news.get(k)]
    if "content" in keys and olds.get("sha256") != sha256(str(news.get("content"))):
        changed.append("content")
    return changed


def _inputs(props: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: props.get(k) for k in keys}


class S3ContractProvider(ResourceProvider):
    """One JSON object in a bucket that already exists; the id is `s3://bucket/key`."""

    def _put(self, props: dict[str, Any]) -> dict[str, Any]:
        bucket, key, content = props["bucket"], props["key"], props["content"]
        client = _client("s3", props)
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise PublishError(
                    f"publish.s3.bucket: bucket {bucket!r} does not exist at {_where('S3', props)}; create it first"
                ) from None
            raise _explain(err, "publish.s3", "S3", props, f"checking bucket {bucket!r}") from None
        except BotoCoreError as err:
            raise _explain(err, "publish.s3", "S3", props, f"checking bucket {bucket!r}") from None
        body = content.encode()
        try:
            # One PutObject is atomic: readers see the old object or the new one, never a part.
            result = client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ContentMD5=base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode(),
            )
        except (ClientError, BotoCoreError) as err:
            raise _explain(err, "publish.s3", "S3", props, f"writing s3://{bucket}/{key}") from None
        return {
            **_inputs(props, S3_KEYS),
            "sha256": sha256(content),
            "etag": str(result.get("ETag", "")).strip('"'),
            "version_id": result.get("VersionId") or "",
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"s3://{props['bucket']}/{props['key']}", self._put(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("bucket", "key", "endpoint_url"))
        changed = _changed(olds, news, S3_KEYS)
        # Same bucket and key behind another endpoint may be the same object: delete the old one first,
        # or deleting it after the new write would remove what was just published.
        aliased = bool(replaces) and not _changed(olds, news, ("bucket", "key"))
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=aliased)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("sha256") == sha256(news["content"]):
            # Only settings changed (credentials, timeouts): keep the object, record the new inputs.
            return UpdateResult({**olds, **_inputs(news, S3_KEYS)})
        return UpdateResult(self._put(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = _client("s3", props)
        try:
            body = client.get_object(Bucket=props["bucket"], Key=props["key"])["Body"].read().decode()
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NoSuchBucket"):
                return ReadResult("", {})  # gone: a refresh drops it and the next `up` publishes again
            raise _explain(err, "publish.s3", "S3", props, f"reading {id_}") from None
        except BotoCoreError as err:
            raise _explain(err, "publish.s3", "S3", props, f"reading {id_}") from None
        return ReadResult(id_, {**props, "sha256": sha256(body)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = _client("s3", props)
        try:
            client.delete_object(Bucket=props["bucket"], Key=props["key"])
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchBucket", "NoSuchKey"):
                return  # already gone
            raise _explain(err, "publish.s3", "S3", props, f"deleting {id_}") from None
        except BotoCoreError as err:
            raise _explain(err, "publish.s3", "S3", props, f"deleting {id_}") from None


class SsmContractProvider(ResourceProvider):
    """One String parameter; the id is its name."""

    def _put(self, props: dict[str, Any]) -> dict[str, Any]:
        name, content, tier = props["parameter_name"], props["content"], props.get("tier") or "Standard"
        limit = SSM_LIMITS[tier]
        if len(content.encode()) > limit:
            raise PublishError(
                f"publish.ssm.tier: the contract is {len(content.encode())} bytes, more than the {limit} a {tier} "
                "parameter holds; use tier: Advanced or publish to S3"
            )
        client = _client("ssm", props)
        try:
            result = client.put_parameter(Name=name, Value=content, Type="String", Tier=tier, Overwrite=True)
        except (ClientError, BotoCoreError) as err:
            raise _explain(err, "publish.ssm", "SSM", props, f"writing parameter {name}") from None
        return {**_inputs(props, SSM_KEYS), "sha256": sha256(content), "version": int(result.get("Version", 0))}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["parameter_name"], self._put(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _changed(olds, news, ("parameter_name", "endpoint_url", "region"))
        aliased = bool(replaces) and "parameter_name" not in replaces  # see S3ContractProvider.diff
        changes = bool(_changed(olds, news, SSM_KEYS))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=aliased)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("sha256") == sha256(news["content"]) and olds.get("tier") == news.get("tier"):
            return UpdateResult({**olds, **_inputs(news, SSM_KEYS)})
        return UpdateResult(self._put(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = _client("ssm", props)
        try:
            value = client.get_parameter(Name=id_)["Parameter"]["Value"]
        except client.exceptions.ParameterNotFound:
            return ReadResult("", {})
        except (ClientError, BotoCoreError) as err:
            raise _explain(err, "publish.ssm", "SSM", props, f"reading parameter {id_}") from None
        return ReadResult(id_, {**props, "sha256": sha256(value)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = _client("ssm", props)
        try:
            client.delete_parameter(Name=id_)
        except client.exceptions.ParameterNotFound:
            return
        except (ClientError, BotoCoreError) as err:
            raise _explain(err, "publish.ssm", "SSM", props, f"deleting parameter {id_}") from None



class S3ContractObject(Resource, module="contract", name="S3Object"):
    """The contract as an S3 object: type `pulumi-python:dynamic/contract:S3Object`."""

    sha256: pulumi.Output[str]
    etag: pulumi.Output[str]
    version_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = {"sha256": None, "etag": None, "version_id": None}
        super().__init__(S3ContractProvider(), name, {**props, **outputs}, opts)


class SsmContractParameter(Resource, module="contract", name="SsmParameter"):
    """The contract as an SSM String parameter: type `pulumi-python:dynamic/contract:SsmParameter`."""

    sha256: pulumi.Output[str]
    version: pulumi.Output[int]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(SsmContractProvider(), name, {**props, "sha256": None, "version": None}, opts)
