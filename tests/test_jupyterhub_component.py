"""JupyterHubRelease wiring under Pulumi mocks, with a fake storage component."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.jupyterhub.component import TYPE, JupyterHubRelease
from config.platform import PlatformConfig
from config.pulumi_source import PROJECT, StackSecrets
from tests.hub_fixtures import platform
from tools import mockrun

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


@dataclass
class FakeShared:
    name: str
    claim_name: str
    mount_path: str
    read_only_for_users: bool


@dataclass
class FakeClaims:
    home_claim: str
    shared: list[FakeShared]
    resources: list[pulumi.Resource]


class FakeStorage:
    """Stands in for NfsStorage: one ConfigMap stands in for the claims it would create."""

    def __init__(self, provider: k8s.Provider) -> None:
        self.provider = provider
        self.asked: list[str] = []

    def claims_for_namespace(self, namespace: str, depends_on: Sequence[pulumi.Resource]) -> FakeClaims:
        self.asked.append(namespace)
        marker = k8s.core.v1.ConfigMap(
            f"claims-{namespace}",
            metadata={"name": "claims", "namespace": namespace},
            opts=pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on)),
        )
        return FakeClaims("homes", [FakeShared("course", "shared-course", "/home/jovyan/shared", True)], [marker])


def run(cfg: PlatformConfig, secrets: dict[str, str]) -> mockrun.Recorder:
    def program() -> dict[str, Any]:
        provider = k8s.Provider("test", kubeconfig="x")
        scheduler = k8s.core.v1.ConfigMap("scheduler-ready", opts=pulumi.ResourceOptions(provider=provider))
        stack_secrets = StackSecrets({k: pulumi.Output.secret(v) for k, v in secrets.items()})
        outputs = {}
        for hub in cfg.hubs:
            release = JupyterHubRelease(
                f"hub-{hub.name}",
                cfg=cfg,
                hub=hub,
                storage=FakeStorage(provider),
                secrets=stack_secrets,
                provider=provider,
                depends_on=[scheduler],
            )
            outputs[hub.name] = release.summary()
        return outputs

    return mockrun.run(PROJECT, "test", program)


def test_hub_resources_namespaces_and_order() -> None:
    rec = run(platform(), {"hub_teaching_oauth_client_secret": "client-s3cret"})
    (component,) = rec.by_type(TYPE)
    (release,) = rec.by_type(RELEASE)
    namespace = rec.named("hub-teaching-namespace")
    claims = rec.named("claims-jhub-teaching")
    secret = rec.named("hub-teaching-platform-secrets")
    scheduler = rec.named("scheduler-ready")
    assert release.parent == component.urn and namespace.parent == component.urn
    assert release.inputs["namespace"] == "jhub-teaching" and release.inputs["name"] == "jupyterhub"
    assert release.inputs["chart"] == "jupyterhub" and release.inputs["version"] == "4.4.0"
    assert release.inputs["repositoryOpts"]["repo"] == "https://hub.jupyter.org/helm-chart/"
    assert {namespace.urn, claims.urn, secret.urn, scheduler.urn} <= set(release.depends_on)
    assert namespace.urn in claims.depends_on and namespace.urn in secret.depends_on
    assert secret.inputs["metadata"] == {"name": "hub-platform-secrets", "namespace": "jhub-teaching"}
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert release.provider and release.provider.startswith(rec.named("test").urn)


def test_secrets_stay_secret_and_out_of_plain_values() -> None:
    rec = run(platform(), {"hub_teaching_oauth_client_secret": "client-s3cret"})
    release = rec.named("hub-teaching", RELEASE)
    secret = rec.named("hub-teaching-platform-secrets")
    redacted_values = mockrun.redact(release.raw_inputs["values"])
    # The plain values stay reviewable; the proxy token is a separate secret values file.
    assert isinstance(redacted_values, dict) and "secretToken" not in redacted_values["proxy"]
    assert mockrun.redact(release.raw_inputs["valueYamlFiles"]) == mockrun.SECRET_MARK
    (token_file,) = release.inputs["valueYamlFiles"]
    assert yaml.safe_load(token_file.text) == {"proxy": {"secretToken": "<generated hex hub-teaching-proxy-token>"}}
    assert "client-s3cret" not in yaml.safe_dump(release.inputs["values"])
    assert "<generated hex" not in yaml.safe_dump(redacted_values)
    data = secret.inputs["stringData"]
    assert set(data) == {
        "hub.config.JupyterHub.cookie_secret",
        "hub.config.CryptKeeper.keys",
        "platform.oauth-client-secret",
    }
    assert data["platform.oauth-client-secret"] == "client-s3cret"
    assert mockrun.redact(secret.raw_inputs["stringData"]) == mockrun.SECRET_MARK
    # The rest of the values stays readable in the render.
    assert redacted_values["hub"]["existingSecret"] == "hub-platform-secrets"
    # The Release's `values` output echoes the merged values (token included): it is kept secret in state.
    assert release.additional_secret_outputs == ["values"]


def test_generated_secrets_are_protected_and_stable() -> None:
    rec = run(platform(), {"hub_teaching_oauth_client_secret": "s"})
    randoms = rec.by_type(mockrun.GENERATED_SECRET_TYPE)
    assert [r.name for r in randoms] == ["hub-teaching-cookie-secret", "hub-teaching-crypt-key", "hub-teaching-proxy-token"]
    assert all(r.protect and r.inputs["length"] == 32 and r.inputs["alphabet"] == "hex" for r in randoms)
    assert all(r.additional_secret_outputs == ["value"] for r in randoms)
    assert rec.named("hub-teaching-namespace").protect
    unprotected = run(platform(protect=False), {"hub_teaching_oauth_client_secret": "s"})
    assert not unprotected.named("hub-teaching-namespace").protect


def test_tls_secret_from_pulumi_secrets() -> None:
    cfg = platform(https={"mode": "secret"})
    rec = run(cfg, {"hub_teaching_oauth_client_secret": "s", "hub_teaching_tls_cert": "CERT", "hub_teaching_tls_key": "KEY"})
    tls = rec.named("hub-teaching-tls")
    assert tls.inputs["type"] == "kubernetes.io/tls"
    assert tls.inputs["stringData"] == {"tls.crt": "CERT", "tls.key": "KEY"}
    assert mockrun.redact(tls.raw_inputs["stringData"]) == mockrun.SECRET_MARK
    assert tls.urn in rec.named("hub-teaching", RELEASE).depends_on


def test_several_hubs_each_in_their_namespace() -> None:
    base = platform().model_dump(mode="json")
    exam = {**base["hubs"][0], "name": "exam", "host": "exam.example.org", "network": {"lockdown": True, "internet": False}}
    cfg = PlatformConfig.model_validate({**base, "hubs": [base["hubs"][0], exam]})
    rec = run(cfg, {"hub_teaching_oauth_client_secret": "a", "hub_exam_oauth_client_secret": "b"})
    releases = {r.name: r for r in rec.by_type(RELEASE)}
    assert {n: r.inputs["namespace"] for n, r in releases.items()} == {"hub-exam": "jhub-exam", "hub-teaching": "jhub-teaching"}
    exam_policy = releases["hub-exam"].inputs["values"]["singleuser"]["networkPolicy"]
    assert exam_policy["egress"] == []
    assert rec.outputs["exam"]["namespace"] == "jhub-exam"
    assert rec.outputs["exam"]["url"] == "https://exam.example.org/"
