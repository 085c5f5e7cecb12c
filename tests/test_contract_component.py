"""The contract component under Pulumi mocks: the `platform` output and its publication resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.contract.component import CREDENTIAL_KEYS
from components.contract.document import build_contract, contract_json
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET
from tests.helpers import ROOT, run_stack, stack_raw
from tools import mockrun
from tools.render import load_for_render

S3_TYPE = "pulumi-python:dynamic/contract:S3Object"
SSM_TYPE = "pulumi-python:dynamic/contract:SsmParameter"
CONTRACT_TYPE = "jupyterhub-platform:contract:PlatformContract"


def _dev_with_publish(tmp_path: Path) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config = document["config"]
    config["jupyterhub-platform:publish"] = {
        "s3": {"bucket": "contracts", "endpoint_url": "https://minio.example.org:9000"},
        "ssm": {"region": "eu-central-1"},
        "credentials": "stack-secrets",
    }
    # Encrypted values as the CLI writes them; the render never decrypts them.
    config[f"jupyterhub-platform:{ACCESS_KEY_SECRET}"] = {"secure": "v1:AAAA"}
    config[f"jupyterhub-platform:{SECRET_KEY_SECRET}"] = {"secure": "v1:BBBB"}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_prod_publishes_to_s3_after_the_platform() -> None:
    recorder = run_stack("prod")
    cfg, _, _ = load_for_render(ROOT / "Pulumi.prod.yaml")
    component = recorder.by_type(CONTRACT_TYPE)
    assert [c.name for c in component] == ["platform"]
    [s3] = recorder.by_type(S3_TYPE)
    assert s3.parent == component[0].urn
    assert s3.inputs["bucket"] == "platform-contracts"
    assert s3.inputs["key"] == "jupyterhub-platform/prod/platform.json"
    assert s3.inputs["content"] == contract_json(build_contract(cfg, project="jupyterhub-platform", stack="prod"))
    assert "access_key_id" not in s3.raw_inputs or s3.raw_inputs["access_key_id"] is None  # environment credentials
    assert s3.additional_secret_outputs == sorted(CREDENTIAL_KEYS)
    waits_for = " ".join(s3.depends_on)
    for part in ("YuniKornScheduler", "NfsStorage", "cluster-calico", "GpuNodePool"):
        assert part in waits_for, part
    assert recorder.by_type(SSM_TYPE) == []
    assert "platform" in recorder.outputs and "platform" not in recorder.secret_outputs


def test_dev_contract_output_without_publication() -> None:
    recorder = run_stack("dev")
    assert recorder.by_type(S3_TYPE) == [] and recorder.by_type(SSM_TYPE) == []
    raw, _ = stack_raw("dev")
    assert recorder.outputs["platform"]["stack"] == "dev"
    assert "publish" not in raw


def test_stack_secret_credentials_stay_secret(tmp_path: Path) -> None:
    recorder = run_stack("dev", _dev_with_publish(tmp_path))
    [s3] = recorder.by_type(S3_TYPE)
    [ssm] = recorder.by_type(SSM_TYPE)
    assert ssm.inputs["parameter_name"] == "/jupyterhub-platform/dev/platform"
    assert ssm.inputs["region"] == "eu-central-1"
    for reg in (s3, ssm):
        for key in CREDENTIAL_KEYS:
            assert reg.raw_inputs[key].get(mockrun.SECRET_SIG), f"{reg.name}.{key} is not a secret input"
        assert reg.inputs["access_key_id"] == f"placeholder-{ACCESS_KEY_SECRET}"
        plan: dict[str, Any] = reg.to_plan()
        assert plan["inputs"]["access_key_id"] == "[secret]" and plan["inputs"]["secret_access_key"] == "[secret]"
        assert "placeholder-" not in reg.inputs["content"]  # the document never carries credentials
        assert plan["inputs"]["content"] == reg.inputs["content"]  # while the document itself is plain
    assert "platform" not in recorder.secret_outputs
