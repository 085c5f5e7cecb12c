"""Sections of the stack contract compared with their EXACT expected values: the cluster, the backups
(S3, SFTP, quotas alone), a queue limit on pods, and the published JSON text."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.contract.document import ContractError, build_contract, contract_errors, contract_json, validate_contract
from config.loader import load_platform
from tests.helpers import stack_raw

HOST_KEY = "ssh-ed25519 " + "A" * 68


def prod_contract(edit: Any = None) -> dict[str, Any]:
    raw, secret_keys = stack_raw("prod")
    raw = copy.deepcopy(raw)
    if edit is not None:
        edit(raw)
    cfg = load_platform(raw, secret_keys, missing_secrets_ok=True)
    return build_contract(cfg, project="jupyterhub-platform", stack="prod")


def test_cluster_section() -> None:
    assert prod_contract()["cluster"] == {
        "name": "jupyterhub",
        "mode": "kubeadm",
        "api_endpoint": "https://k8s-api.example.org:6443",
        "kubernetes_version": "1.37.1",
        "pod_cidr": "10.244.0.0/16",
        "service_cidr": "10.96.0.0/12",
        "scheduler_name": "yunikorn",
        "kubeconfig_output": "kubeconfig",
    }


PROD_JOBS = [
    {"job": "backup-etcd", "node": "cp-1", "schedule": "hourly"},
    {"job": "backup-etcd", "node": "cp-2", "schedule": "hourly"},
    {"job": "backup-etcd", "node": "cp-3", "schedule": "hourly"},
    {"job": "backup-hub-db", "node": "worker-1", "schedule": "*-*-* 00/6:15:00"},
    {"job": "backup-homes", "node": "nfs-1", "schedule": "*-*-* 01:30:00"},
    {"job": "home-quotas", "node": "nfs-1", "schedule": "*:0/5"},
]


def test_backups_to_s3() -> None:
    assert prod_contract()["backups"] == {
        "target": "s3",
        "jobs": PROD_JOBS,
        "metrics_dir": "/var/lib/prometheus/node-exporter",
    }


def test_backups_to_sftp() -> None:
    def sftp(raw: dict[str, Any]) -> None:
        raw["backup"].pop("s3")
        raw["backup"]["sftp"] = {"host": "backup.example.org", "user": "restic", "path": "/srv/restic", "host_key": HOST_KEY}

    assert prod_contract(sftp)["backups"]["target"] == "sftp"


def test_quotas_without_backups() -> None:
    section = prod_contract(lambda raw: raw.pop("backup"))["backups"]
    assert section == {"target": None, "jobs": [PROD_JOBS[-1]], "metrics_dir": "/var/lib/prometheus/node-exporter"}


def test_no_backups_and_no_quotas_is_null() -> None:
    def neither(raw: dict[str, Any]) -> None:
        raw.pop("backup")
        raw.pop("quotas")

    assert prod_contract(neither)["backups"] is None


def test_a_pod_limit_is_published_with_the_queue() -> None:
    def pods(raw: dict[str, Any]) -> None:
        raw["scheduler"]["queues"][0]["queues"][3]["max"]["pods"] = 200

    exam = next(q for q in prod_contract(pods)["queues"] if q["path"] == "root.exam")
    assert exam["max"] == {"cpu": "24", "memory": "96Gi", "gpu": 0, "pods": 200}


def test_published_text_is_sorted_indented_and_ends_with_a_newline() -> None:
    expected = '{\n  "a": {\n    "c": [\n      1,\n      "x"\n    ]\n  },\n  "b": 1\n}\n'
    assert contract_json({"b": 1, "a": {"c": [1, "x"]}}) == expected


def test_namespaces_and_gpu_sections() -> None:
    document = prod_contract()
    assert document["namespaces"] == [
        {"name": "consoles", "purpose": "consoles"},
        {"name": "gpu-operator", "purpose": "gpu"},
        {"name": "jhub-exam", "purpose": "hub:exam"},
        {"name": "jhub-grading", "purpose": "hub:grading"},
        {"name": "jhub-teaching", "purpose": "hub:teaching"},
        {"name": "kube-system", "purpose": "storage"},
        {"name": "monitoring", "purpose": "monitoring"},
        {"name": "yunikorn", "purpose": "scheduler"},
    ]
    assert document["gpu"] == {
        "resource_name": "nvidia.com/gpu",
        "resource_names": ["nvidia.com/gpu"],
        "sharing": "mig",
        "seats": {"nvidia.com/gpu": 14},
        "total_seats": 14,
        "nodes": [{"name": "gpu-1", "model": "H100-80GB", "gpus": 2}],
    }
    fallback = next(q for q in document["queues"] if q["fallback"])
    assert fallback["leaf"] is True and fallback["interactive"] is False and fallback["max"]["gpu"] == 0


def test_an_invalid_document_is_refused_naming_every_problem() -> None:
    document = prod_contract()
    document["cluster"]["scheduler_name"] = 7
    document["hubs"] = "none"
    with pytest.raises(ContractError) as refused:
        validate_contract(document)
    errors = ["$.cluster.scheduler_name: 7 is not of type 'string'", "$.hubs: 'none' is not of type 'array'"]
    assert contract_errors(document) == errors
    assert str(refused.value) == "the platform contract does not match platform-v1.schema.json: " + "; ".join(errors)
