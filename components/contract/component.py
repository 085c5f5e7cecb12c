"""The stack contract as a component: the document, and its publication when `publish` is configured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.common import artifacts
from components.contract.document import build_contract, contract_json
from components.contract.publish import S3ContractObject, SsmContractParameter
from config.platform import PlatformConfig
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET, PublishConfig, S3Target, SsmTarget
from config.pulumi_source import StackSecrets

# Outputs of the publication resources that repeat the (secret) credential inputs.
CREDENTIAL_KEYS = ["access_key_id", "secret_access_key"]


def s3_settings(target: S3Target, publish: PublishConfig, stack: str) -> dict[str, Any]:
    """Plain inputs of the S3 publication (no content, no credentials)."""
    return {
        "bucket": target.bucket,
        "key": target.key.replace("{stack}", stack),
        "endpoint_url": target.endpoint_url,
        "region": target.region,
        "addressing_style": target.addressing_style,
        "verify_tls": target.verify_tls,
        "ca_bundle": target.ca_bundle,
        "connect_timeout_seconds": publish.connect_timeout_seconds,
        "max_attempts": publish.max_attempts,
    }


def ssm_settings(target: SsmTarget, publish: PublishConfig, stack: str) -> dict[str, Any]:
    """Plain inputs of the SSM publication (no content, no credentials)."""
    return {
        "parameter_name": target.parameter_name.replace("{stack}", stack),
        "endpoint_url": target.endpoint_url,
        "region": target.region,
        "tier": target.tier,
        "connect_timeout_seconds": publish.connect_timeout_seconds,
        "max_attempts": publish.max_attempts,
    }


class PlatformContract(pulumi.ComponentResource):
    """The `platform` output document; published to S3 and/or SSM on `up`, removed on `destroy`."""

    document: pulumi.Output[dict[str, Any]]
    locations: list[str]

    def __init__(
        self,
        name: str,
        *,
        document: pulumi.Input[Mapping[str, Any]],
        publish: PublishConfig | None,
        credentials: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("jupyterhub-platform:contract:PlatformContract", name, None, opts)
        self._after = list(after)  # publish only once the platform it describes is up
        self.document = pulumi.Output.from_input(document).apply(dict)
        self.locations = []
        if publish is not None:
            self._publish(name, publish, credentials)
        self.register_outputs({"document": self.document})

    def _publish(
        self, name: str, publish: PublishConfig, credentials: tuple[pulumi.Input[str], pulumi.Input[str]] | None
    ) -> None:
        stack = pulumi.get_stack()
        common: dict[str, Any] = {"content": self.document.apply(contract_json)}
        if credentials is not None:
            # Secret inputs stay secret in the state; the outputs that echo them are marked secret too.
            common["access_key_id"] = pulumi.Output.secret(credentials[0])
            common["secret_access_key"] = pulumi.Output.secret(credentials[1])
        opts = pulumi.ResourceOptions(parent=self, additional_secret_outputs=CREDENTIAL_KEYS, depends_on=self._after)
        if publish.s3 is not None:
            settings = s3_settings(publish.s3, publish, stack)
            S3ContractObject(f"{name}-s3", {**settings, **common}, opts)
            self.locations.append(f"s3://{settings['bucket']}/{settings['key']}")
        if publish.ssm is not None:
            settings = ssm_settings(publish.ssm, publish, stack)
            SsmContractParameter(f"{name}-ssm", {**settings, **common}, opts)
            self.locations.append(f"ssm:{settings['region']}:{settings['parameter_name']}")


def platform_contract(
    cfg: PlatformConfig, secrets: StackSecrets, after: Sequence[pulumi.Resource] = ()
) -> PlatformContract:
    """The stack's contract component: the `platform` output, published when `publish` is set."""
    document = build_contract(cfg, project=pulumi.get_project(), stack=pulumi.get_stack())
    artifacts.record("contract/platform.json", contract_json(document))  # shown by the offline render and its diff
    credentials = None
    if cfg.publish is not None and cfg.publish.credentials == "stack-secrets":
        credentials = (secrets.require(ACCESS_KEY_SECRET), secrets.require(SECRET_KEY_SECRET))
    return PlatformContract("platform", document=document, publish=cfg.publish, credentials=credentials, after=after)
