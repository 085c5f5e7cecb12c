"""The real-engine tier's helpers, without the engine: test charts and their repository, the stack
file it previews, and the plan-vs-preview comparison."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.charts import KNOWN_CHARTS
from tests.helpers import ROOT
from tools import e2e_support

STACK_URN = "urn:pulumi:e2e-dev::jupyterhub-platform::pulumi:pulumi:Stack::jupyterhub-platform-e2e-dev"


def urn(typ: str, name: str, parent_types: str = "") -> str:
    return f"urn:pulumi:e2e-dev::jupyterhub-platform::{parent_types}{typ}::{name}"


PLAN: dict[str, Any] = {
    "resources": [
        {"type": "jupyterhub-platform:scheduler:YuniKornScheduler", "name": "yunikorn", "inputs": {}},
        {
            "type": "kubernetes:helm.sh/v3:Release",
            "name": "yunikorn-release",
            "inputs": {"chart": "yunikorn", "version": "1.6.3"},
        },
        {"type": "command:remote:Command", "name": "dev-1-kubeadm::init", "inputs": {}},
    ]
}


def preview(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"steps": [{"op": op, "urn": u} for op, u in steps]}


MATCHING = preview(
    ("create", STACK_URN),
    ("create", urn("pulumi:providers:command", "default_1_2_1")),
    ("create", urn("jupyterhub-platform:scheduler:YuniKornScheduler", "yunikorn")),
    ("create", urn("kubernetes:helm.sh/v3:Release", "yunikorn-release", "jupyterhub-platform:scheduler:YuniKornScheduler$")),
    ("create", urn("command:remote:Command", "dev-1-kubeadm::init")),
)  # fmt: skip


def test_a_preview_with_the_same_resources_matches() -> None:
    assert e2e_support.compare(PLAN, MATCHING) == []


def test_missing_extra_and_duplicate_resources_are_each_reported() -> None:
    steps = [s for s in MATCHING["steps"] if "yunikorn-release" not in s["urn"]]
    steps += [
        {"op": "create", "urn": urn("kubernetes:core/v1:Namespace", "extra")},
        {"op": "create", "urn": urn("command:remote:Command", "dev-1-kubeadm::init")},
    ]
    assert e2e_support.compare(PLAN, {"steps": steps}) == [
        "only in plan.json: kubernetes:helm.sh/v3:Release yunikorn-release (x1)",
        "only in the preview: command:remote:Command dev-1-kubeadm::init (x1)",
        "only in the preview: kubernetes:core/v1:Namespace extra (x1)",
    ]


def test_deletes_and_explicit_providers_are_not_the_engines_own() -> None:
    with_delete = {"steps": [*MATCHING["steps"], {"op": "delete", "urn": urn("kubernetes:core/v1:Namespace", "gone")}]}
    assert e2e_support.compare(PLAN, with_delete) == []
    explicit = {"steps": [*MATCHING["steps"], {"op": "create", "urn": urn("pulumi:providers:kubernetes", "existing")}]}
    assert e2e_support.compare(PLAN, explicit) == ["only in the preview: pulumi:providers:kubernetes existing (x1)"]


def test_a_malformed_urn_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        e2e_support.compare(PLAN, {"steps": [{"op": "create", "urn": "urn:nope"}]})


def test_chart_repository_is_what_helm_reads(tmp_path: Path) -> None:
    e2e_support.write_chart_repository(e2e_support.releases(PLAN), tmp_path)
    index = yaml.safe_load((tmp_path / "index.yaml").read_text())
    (entry,) = index["entries"]["yunikorn"]
    archive = (tmp_path / "yunikorn-1.6.3.tgz").read_bytes()
    assert entry["urls"] == ["yunikorn-1.6.3.tgz"] and entry["digest"] == hashlib.sha256(archive).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert sorted(tar.getnames()) == ["yunikorn/Chart.yaml", "yunikorn/templates/configmap.yaml"]
        chart_file = tar.extractfile("yunikorn/Chart.yaml")
        assert chart_file is not None
        assert yaml.safe_load(chart_file.read()) | {"description": None} == {
            "apiVersion": "v2", "name": "yunikorn", "version": "1.6.3", "description": None
        }  # fmt: skip
    assert e2e_support.chart_archive("yunikorn", "1.6.3") == archive  # byte-identical run to run


def test_served_repository_answers_on_loopback(tmp_path: Path) -> None:
    e2e_support.write_chart_repository([("jupyterhub", "4.2.0")], tmp_path / "charts")
    port_file = tmp_path / "port"
    server = subprocess.Popen(
        [sys.executable, "-m", "tools.e2e_support", "serve", str(tmp_path / "charts"), str(port_file)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "the chart server did not start"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        with urllib.request.urlopen(f"{url}/index.yaml", timeout=10) as response:
            assert "jupyterhub" in yaml.safe_load(response.read())["entries"]
        with urllib.request.urlopen(f"{url}/jupyterhub-4.2.0.tgz", timeout=10) as response:
            assert response.read() == (tmp_path / "charts" / "jupyterhub-4.2.0.tgz").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_stack_file_takes_every_chart_from_the_test_repository(tmp_path: Path) -> None:
    text = e2e_support.stack_file((ROOT / "Pulumi.dev.yaml").read_text(), "http://127.0.0.1:8879")
    config = yaml.safe_load(text)["config"]
    assert config["jupyterhub-platform:charts"] == {
        "repository_overrides": {chart: "http://127.0.0.1:8879" for chart in KNOWN_CHARTS}
    }
    (tmp_path / "Pulumi.e2e-dev.yaml").write_text(text)
    assert e2e_support.secret_keys(tmp_path / "Pulumi.e2e-dev.yaml") == [
        "encryption_key_key1",
        "hub_dev_oauth_client_secret",
        "ssh_private_key",
    ]


def test_s3_object_reads_the_published_contract_or_says_absent(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, "-m", "tools.e2e_support", "s3-server", str(port_file)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline and server.poll() is None, "moto_server did not start"
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port_file.read_text().strip()}"
        assert e2e_support.s3_object(endpoint, "a/platform.json") is None
        e2e_support._s3_client(endpoint).put_object(Bucket="contracts", Key="a/platform.json", Body=b'{"revision": "3"}')
        assert e2e_support.s3_object(endpoint, "a/platform.json") == {"revision": "3"}
        assert e2e_support.s3_object(endpoint, "a/platform") is None  # a prefix is not the object
    finally:
        server.terminate()
        server.wait(timeout=10)
