"""Publication of the stack contract (the `platform` output) to S3-compatible storage and/or SSM.

Only the contract is published: it holds no secrets. Credentials come from the standard AWS chain
of the machine running `pulumi up` (environment, profile, instance role) unless
`credentials: stack-secrets` names the two secret config keys below.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from config.base import StrictModel
from config.fields import url_check

ACCESS_KEY_SECRET = "publish_aws_access_key_id"
SECRET_KEY_SECRET = "publish_aws_secret_access_key"
# S3 bucket naming rules (general purpose buckets): 3-63 chars, lowercase, digits, dots, hyphens.
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
REGION_PATTERN = r"^[a-z0-9-]{2,32}$"
SSM_NAME = re.compile(r"^/[A-Za-z0-9_.\-/{}]+$")


Endpoint = Annotated[str, BeforeValidator(url_check("https://rgw.example.org"))]
"""An http(s) endpoint without credentials (keys come from the AWS chain or the stack secrets)."""


class S3Target(StrictModel):
    """An object in AWS S3 or an S3-compatible store (MinIO, Ceph RGW)."""

    bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)]
    """Existing bucket to write to (the program never creates or deletes buckets)."""
    key: Annotated[str, Field(min_length=1, max_length=1024)] = "jupyterhub-platform/{stack}/platform.json"
    """Object key; `{stack}` is replaced by the stack name."""
    endpoint_url: Endpoint | None = None
    """Endpoint of an S3-compatible store, e.g. `https://minio.example.org:9000`; empty for AWS S3."""
    region: Annotated[str, Field(pattern=REGION_PATTERN)] = "us-east-1"
    """Region (MinIO and RGW accept any value; `us-east-1` is their usual default)."""
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    """`path` puts the bucket in the URL path (what MinIO and RGW usually need); `auto` uses path style
    with an endpoint_url and virtual-hosted style on AWS."""
    verify_tls: bool = True
    """Verify the endpoint's TLS certificate. Turn off only for a lab store with a self-signed certificate."""
    ca_bundle: str | None = None
    """Path (on the machine running Pulumi) of a CA bundle for an internal certificate authority."""

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if key.startswith("/") or "//" in key:
            raise ValueError(f"{key!r}: an object key must not start with '/' or contain '//'")
        return key


class SsmTarget(StrictModel):
    """A String parameter in AWS Systems Manager Parameter Store."""

    parameter_name: Annotated[str, Field(max_length=1011)] = "/jupyterhub-platform/{stack}/platform"
    """Hierarchical parameter name; `{stack}` is replaced by the stack name."""
    region: Annotated[str, Field(pattern=REGION_PATTERN)] = "us-east-1"
    """AWS region of the parameter."""
    endpoint_url: Endpoint | None = None
    """Endpoint override (a VPC endpoint or a test server); empty for the regional AWS endpoint."""
    tier: Literal["Standard", "Advanced"] = "Standard"
    """`Standard` holds up to 4 KB (free), `Advanced` up to 8 KB (charged); a larger contract is refused."""

    @field_validator("parameter_name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not SSM_NAME.match(name) or name.lower().startswith(("/aws", "/ssm")):
            raise ValueError(f"{name!r}: use a path like /team/platform of letters, digits and _.-/ (not /aws or /ssm)")
        return name


class PublishConfig(StrictModel):
    """Where `pulumi up` publishes the contract; `pulumi destroy` removes what it published."""

    s3: S3Target | None = None
    """Publish as a JSON object to this bucket."""
    ssm: SsmTarget | None = None
    """Publish as a String parameter."""
    credentials: Literal["environment", "stack-secrets"] = "environment"
    """`environment`: the standard AWS chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, instance role).
    `stack-secrets`: the secrets `publish_aws_access_key_id` and `publish_aws_secret_access_key`."""
    connect_timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    """Connect timeout of each request, so an unreachable endpoint fails fast."""
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Attempts per request (retries on throttling and transient network errors)."""

    @model_validator(mode="after")
    def _has_target(self) -> PublishConfig:
        if self.s3 is None and self.ssm is None:
            raise ValueError("name at least one target: publish.s3 and/or publish.ssm (or remove the section)")
        return self
