"""The stack contract document: built from config, valid against its committed schema, versioned, secret-free."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.contract.document import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    ContractError,
    build_contract,
    contract_errors,
    contract_json,
    validate_contract,
)
from config.loader import load_platform
from config.platform import PlatformConfig
from tests import hub_fixtures
from tests.helpers import ROOT, stack_raw

FINGERPRINTS = ROOT / "tests" / "golden" / "contract" / "schema-fingerprints.json"


def stack_config(stack: str) -> PlatformConfig:
    raw, secret_keys = stack_raw(stack)
    return load_platform(raw, secret_keys, missing_secrets_ok=True)


def contract(stack: str) -> dict[str, Any]:
    return build_contract(stack_config(stack), project="jupyterhub-platform", stack=stack)


def test_schema_is_valid_and_pins_the_version() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["additionalProperties"] is False  # a new key is a shape change, caught below


def test_schema_changes_bump_the_version() -> None:
    """Each released version has one schema; edit the schema and this fails until the version moves on.

    After bumping SCHEMA_VERSION (and the const in the schema), record it with UPDATE_GOLDEN=1;
    recorded versions are never overwritten."""
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    recorded: dict[str, str] = json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.is_file() else {}
    if SCHEMA_VERSION not in recorded and os.environ.get("UPDATE_GOLDEN") == "1":
        recorded[SCHEMA_VERSION] = digest
        FINGERPRINTS.parent.mkdir(parents=True, exist_ok=True)
        FINGERPRINTS.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    assert SCHEMA_VERSION in recorded, "new schema version: record it with UPDATE_GOLDEN=1"
    assert recorded[SCHEMA_VERSION] == digest, (
        f"{SCHEMA_PATH.name} changed but schema_version is still {SCHEMA_VERSION}: bump SCHEMA_VERSION "
        "(minor for additions, major for removals/renames) and the schema's const"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_match_the_schema(stack: str) -> None:
    document = contract(stack)
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()), cls=jsonschema.Draft202012Validator)
    assert document["schema_version"] == SCHEMA_VERSION and document["stack"] == stack
    assert document["cluster"]["kubeconfig_output"] == "kubeconfig"


def test_dev_contract_values() -> None:
    document = contract("dev")
    assert document["cluster"]["api_endpoint"] == "https://192.0.2.100:6443"
    assert document["nfs"]["server"] == "192.0.2.100"
    assert document["gpu"] is None
    queues = {q["path"]: q for q in document["queues"]}
    assert queues["root.students"]["max"] == {"cpu": "3", "memory": "6Gi"}
    assert queues["root.students"]["leaf"] is True and queues["root.students"]["fallback"] is False
    assert queues["root.system"]["fallback"] is True and queues["root.system"]["max"]["gpu"] == 0
    assert document["storage_classes"][0]["provisioner"] == "nfs.csi.k8s.io"


def test_prod_contract_values() -> None:
    cfg = stack_config("prod")
    document = contract("prod")
    assert document["cluster"]["api_endpoint"] == "https://k8s-api.example.org:6443"
    assert document["gpu"]["resource_name"] == "nvidia.com/gpu"
    assert document["gpu"]["total_seats"] == 14 and document["gpu"]["sharing"] == "mig"
    assert {"name": cfg.gpu.namespace, "purpose": "gpu"} in document["namespaces"]
    gpu_queue = next(q for q in document["queues"] if q["path"] == "root.gpu")
    assert gpu_queue["guaranteed"] == {"cpu": "16", "memory": "128Gi", "gpu": 10}
    for hub in cfg.hubs:
        entry = next(h for h in document["hubs"] if h["name"] == hub.name)
        assert entry["namespace"] == hub.k8s_namespace
        assert {"name": hub.k8s_namespace, "purpose": f"hub:{hub.name}"} in document["namespaces"]


def test_hub_entries() -> None:
    cfg = hub_fixtures.platform()
    document = build_contract(cfg, project="p", stack="s")
    assert document["hubs"] == [
        {
            "name": "teaching",
            "namespace": "jhub-teaching",
            "url": "https://hub.example.org/",
            "entry": {"via": "external", "address": None, "allowed_networks": []},
            "queues": ["root.users"],
            "profiles": [
                {"slug": "small", "queue": "root.users", "gpu": 0},
                {"slug": "large", "queue": "root.users", "gpu": 0},
            ],
        }
    ]
    assert document["nfs"]["homes"] == [{"hub": "teaching", "path": cfg.nfs.homes_path("jhub-teaching")}]
    no_host = build_contract(hub_fixtures.platform(host=None, https={"mode": "none"}), project="p", stack="s")
    assert no_host["hubs"][0]["url"] is None


def test_prod_and_dev_contracts_say_where_users_reach_each_hub() -> None:
    prod_hubs = {h["name"]: h for h in contract("prod")["hubs"]}
    assert prod_hubs["teaching"]["url"] == "https://jupyter.example.org/"
    assert prod_hubs["teaching"]["entry"] == {"via": "haproxy", "address": "192.0.2.10", "allowed_networks": []}
    assert prod_hubs["exam"]["entry"]["allowed_networks"] == ["198.51.100.0/25", "198.51.100.128/26", "203.0.113.0/24"]
    (dev_hub,) = contract("dev")["hubs"]
    assert dev_hub["url"] == "https://jupyter-dev.example.org/"
    assert dev_hub["entry"] == {"via": "metallb", "address": "192.0.2.240", "allowed_networks": []}


def test_existing_cluster_has_no_endpoint_in_the_contract() -> None:
    raw = copy.deepcopy(hub_fixtures.raw())
    raw["cluster"] = {"mode": "existing"}
    raw["nfs"] = {"mode": "external", "server": "nas.example.org"}
    raw["inventory"]["nodes"] = [n | {"roles": ["worker"]} for n in raw["inventory"]["nodes"]]
    document = build_contract(PlatformConfig.model_validate(raw), project="p", stack="s")
    assert document["cluster"]["api_endpoint"] is None and document["cluster"]["kubernetes_version"] is None
    assert document["nfs"] == document["nfs"] | {"mode": "external", "server": "nas.example.org"}


def test_monitoring_section() -> None:
    """Prod runs monitoring: its namespace and URLs; dev has none (null)."""
    assert contract("dev")["monitoring"] is None
    document = contract("prod")
    assert document["monitoring"] == {
        "namespace": "monitoring",
        "grafana_url": "https://grafana.example.org/",
        "prometheus_url": "http://monitoring-prometheus.monitoring.svc:9090/",
        "alertmanager_url": "http://monitoring-alertmanager.monitoring.svc:9093/",
    }
    assert {"name": "monitoring", "purpose": "monitoring"} in document["namespaces"]
    bad = {**document, "monitoring": {**document["monitoring"], "grafana_url": "http://g.example.org"}}
    assert any("grafana_url" in e for e in contract_errors(bad))


def test_invalid_document_is_refused_with_its_path() -> None:
    document = contract("dev")
    document["queues"][0]["path"] = "students"
    document["extra"] = 1
    errors = contract_errors(document)
    assert any(e.startswith("$.queues[0].path: 'students' does not match") for e in errors), errors
    assert any(e.startswith("$: Additional properties are not allowed ('extra'") for e in errors), errors
    with pytest.raises(ContractError, match=r"platform-v1\.schema\.json"):
        validate_contract(document)


def test_contract_json_is_stable() -> None:
    document = contract("prod")
    text = contract_json(document)
    assert text == contract_json(json.loads(text)) and text.endswith("}\n")
    assert list(json.loads(text)) == sorted(document)


SECRET_WORDS = ("password", "secret", "token", "private_key", "BEGIN ", "client_secret")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_secrets_in_the_contract(stack: str) -> None:
    for text in _strings(contract(stack)):
        assert not any(word in text for word in SECRET_WORDS), text


def test_rendered_output_is_the_contract_and_not_secret(rendered: Any) -> None:
    plan, out = rendered("prod")
    assert plan["outputs"]["platform"] == contract("prod")  # plain, not "[secret]"
    assert plan["outputs"]["kubeconfig"] == "[secret]"
    assert (Path(out) / "files" / "contract" / "platform.json").read_text() == contract_json(contract("prod"))
    flat = json.dumps(plan["outputs"]["platform"])
    assert "placeholder-" not in flat and "[secret]" not in flat
