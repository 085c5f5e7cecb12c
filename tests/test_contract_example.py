"""The example consumer (examples/team-namespace) reading real dev/prod contracts through a StackReference."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from components.contract.document import build_contract
from config.loader import load_platform
from tests.helpers import ROOT, stack_raw
from tools import mockrun

EXAMPLE = ROOT / "examples" / "team-namespace"
PLATFORM_STACK = "organization/jupyterhub-platform/prod"


@pytest.fixture(scope="module")
def example() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield importlib.import_module("team_contract"), importlib.import_module("team_stack")
    finally:
        sys.path.remove(str(EXAMPLE))


def contract(stack: str) -> dict[str, Any]:
    raw, secret_keys = stack_raw(stack)
    cfg = load_platform(raw, secret_keys, missing_secrets_ok=True)
    return build_contract(cfg, project="jupyterhub-platform", stack=stack)


def _run(team_stack: ModuleType, document: dict[str, Any], team: dict[str, Any], **config: Any) -> mockrun.Recorder:
    refs = {PLATFORM_STACK: mockrun.StackOutputs({"platform": document, "kubeconfig": "apiVersion: v1\n"}, ("kubeconfig",))}
    return mockrun.run(
        "team-namespace",
        "genomics",
        team_stack.deploy,
        config={"platform_stack": PLATFORM_STACK, "team": team, **config},
        stack_references=refs,
    )


def test_prod_contract_to_team_namespace(example: tuple[ModuleType, ModuleType]) -> None:
    _, team_stack = example
    recorder = _run(team_stack, contract("prod"), {"name": "genomics", "queue": "root.gpu"})
    namespace = recorder.named("team", "kubernetes:core/v1:Namespace").inputs
    assert namespace["metadata"]["name"] == "team-genomics"
    assert namespace["metadata"]["annotations"] == {"yunikorn.apache.org/parentqueue": "root.gpu"}
    quota = recorder.named("team-quota", "kubernetes:core/v1:ResourceQuota").inputs
    # The queue's max from Pulumi.prod.yaml; numbers crossed the StackReference as floats.
    assert quota["spec"]["hard"] == {"requests.cpu": "44", "requests.memory": "360Gi", "requests.nvidia.com/gpu": "14"}
    assert quota["metadata"]["namespace"] == "team-genomics"
    data = recorder.named("team-platform", "kubernetes:core/v1:ConfigMap").inputs["data"]
    assert data["api_endpoint"] == "https://k8s-api.example.org:6443"
    default_class = next((c["name"] for c in contract("prod")["storage_classes"] if c["default"]), "")
    assert data["storage_class"] == default_class  # no class named by the team: the platform's default, if any
    assert data["gpu_resource"] == "nvidia.com/gpu" and data["contract_version"] == "1.2"
    provider = recorder.named("platform", "pulumi:providers:kubernetes")
    assert provider.raw_inputs["kubeconfig"].get(mockrun.SECRET_SIG)  # the platform's kubeconfig stays secret
    assert recorder.outputs["namespace"] == "team-genomics" and recorder.outputs["queue"] == "root.gpu"


def test_dev_contract_and_own_storage_class(example: tuple[ModuleType, ModuleType]) -> None:
    _, team_stack = example
    document = contract("dev")
    team = {"name": "lab", "queue": "root.students", "storage_class": "nfs-retain"}
    recorder = _run(team_stack, document, team)
    quota = recorder.named("team-quota", "kubernetes:core/v1:ResourceQuota").inputs
    assert quota["spec"]["hard"] == {"requests.cpu": "3", "requests.memory": "6Gi"}  # dev has no GPU pool
    assert recorder.named("team-platform").inputs["data"]["storage_class"] == "nfs-retain"


def test_manifests_pass_kubernetes_validate(example: tuple[ModuleType, ModuleType]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    _, team_stack = example
    recorder = _run(team_stack, contract("prod"), {"name": "genomics", "queue": "root.students"})
    for name in ("team", "team-quota", "team-platform"):
        manifest = recorder.named(name).inputs
        kubernetes_validate.validate(manifest, "1.34", strict=True)


@pytest.mark.parametrize(
    ("change", "team", "message"),
    [
        ({"schema_version": "2.0"}, {"name": "a", "queue": "root.students"}, "schema_version '2.0' is not supported"),
        ({}, {"name": "a", "queue": "root.nope"}, "team.queue: 'root.nope' is not a queue of the platform"),
        ({}, {"name": "a", "queue": "root.students", "storage_class": "fast"}, "team.storage_class: 'fast' is not offered"),
    ],
)
def test_contract_mismatches_are_clear(
    example: tuple[ModuleType, ModuleType], change: dict[str, Any], team: dict[str, Any], message: str
) -> None:
    team_contract, _ = example
    with pytest.raises(team_contract.ContractError, match=message.replace(".", r"\.")):
        team_contract.team_objects({**contract("prod"), **change}, team_contract.parse_team(team))


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ({"name": "Bad_Name", "queue": "root.x"}, "team.name"),
        ({"name": "ok", "queue": "students"}, "team.queue"),
        ({"name": "ok", "queue": "root.x", "extra": 1}, "unknown keys"),
    ],
)
def test_team_config_is_checked(example: tuple[ModuleType, ModuleType], team: dict[str, Any], message: str) -> None:
    team_contract, _ = example
    with pytest.raises(team_contract.ContractError, match=message):
        team_contract.parse_team(team)


def test_unknown_stack_reference_is_reported(example: tuple[ModuleType, ModuleType]) -> None:
    recorder = mockrun.install("team-namespace", "x")
    with pytest.raises(KeyError, match="no mocked outputs for StackReference 'org/other/prod'"):
        recorder.stack_reference_state("org/other/prod")
