"""The cluster part of the real-engine tier, without the engine or the API server: its PKI (a TLS server
on 127.0.0.1 that demands the client certificate), the existing-cluster stack file, the objects expected
from a plan and what each check accepts, and the test-only transformation for a cluster without controllers."""

from __future__ import annotations

import http.server
import json
import runpy
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.charts import KNOWN_CHARTS
from config.loader import load_platform
from config.secrets import required_secrets
from tests.helpers import ROOT
from tools import e2e_kube, mockrun


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        peer = self.request.getpeercert()
        subject = {k: v for rdn in peer["subject"] for k, v in rdn}
        body = json.dumps({"path": self.path, "organization": subject.get("organizationName")}).encode()
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A server with the PKI's serving certificate that only talks to clients with a CA-signed cert."""
    pki = tmp_path / "pki"
    e2e_kube.write_pki(pki)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / "apiserver.crt"), str(pki / "apiserver.key"))
    context.load_verify_locations(str(pki / "ca.crt"))
    context.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pki, f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_admin_certificate_is_a_system_master_the_server_certificate_is_for_127_0_0_1(
    tls_server: tuple[Path, str],
) -> None:
    pki, url = tls_server
    assert e2e_kube.get(pki, url, "/api/v1/namespaces") == (200, {"path": "/api/v1/namespaces", "organization": "system:masters"})
    assert e2e_kube.get(pki, url, "/missing")[0] == 404
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in pki.glob("*.key")} == dict.fromkeys(
        ["admin.key", "apiserver.key", "sa.key"], "0o600"
    )
    config = yaml.safe_load(e2e_kube.kubeconfig(pki, url))
    assert config["clusters"][0]["cluster"]["server"] == url and config["current-context"] == "e2e"


def test_wait_ready_gives_up_in_time_when_nothing_answers(tmp_path: Path) -> None:
    e2e_kube.write_pki(tmp_path)
    (port,) = e2e_kube.free_ports(1)
    assert not e2e_kube.wait_ready(tmp_path, f"https://127.0.0.1:{port}", 1.0)


def test_the_stack_file_is_dev_in_existing_cluster_mode_with_protected_hubs() -> None:
    text = e2e_kube.existing_cluster_stack((ROOT / "Pulumi.dev.yaml").read_text(), "http://127.0.0.1:8000")
    config = yaml.safe_load(text)["config"]
    assert config["jupyterhub-platform:cluster"]["mode"] == "existing"
    assert all("protect" not in hub for hub in config["jupyterhub-platform:hubs"]), "the default, protect: true"
    assert config["jupyterhub-platform:charts"]["repository_overrides"] == dict.fromkeys(KNOWN_CHARTS, "http://127.0.0.1:8000")
    raw = {k.split(":", 1)[1]: v for k, v in config.items()}
    cfg = load_platform(raw, set(), missing_secrets_ok=True)
    assert not cfg.builds_cluster and all(hub.protect for hub in cfg.hubs)
    assert {"kubeconfig"} <= {r.key for r in required_secrets(cfg)} and "ssh_private_key" not in {
        r.key for r in required_secrets(cfg)
    }


def _resource(typ: str, name: str, inputs: dict[str, Any], protect: bool = False, retain: bool = False) -> dict[str, Any]:
    return {"type": typ, "name": name, "inputs": inputs, "protect": protect, "retain_on_delete": retain}


PLAN = {
    "resources": [
        _resource("pulumi:providers:kubernetes", "existing-cluster", {}),
        _resource("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "jhub-dev"}}, protect=True),
        _resource("kubernetes:helm.sh/v3:Release", "hub", {"name": "jupyterhub", "namespace": "jhub-dev"}),
        _resource("kubernetes:core/v1:PersistentVolume", "pv", {"metadata": {"name": "homes"}}, protect=True, retain=True),
        _resource("kubernetes:core/v1:Secret", "s", {"metadata": {"name": "hub-secret", "namespace": "jhub-dev"}}),
        _resource("pulumi-python:dynamic/generated:Secret", "cookie", {}, protect=True),
    ]
}
PATHS = {
    "ns": "/api/v1/namespaces/jhub-dev",
    "hub": "/api/v1/namespaces/jhub-dev/configmaps/jupyterhub-e2e",
    "pv": "/api/v1/persistentvolumes/homes",
    "s": "/api/v1/namespaces/jhub-dev/secrets/hub-secret",
}


def test_expected_objects_follow_the_plan_and_refuse_unknown_kinds() -> None:
    assert {o["name"]: o["path"] for o in e2e_kube.expected_objects(PLAN)} == PATHS
    unknown = {"resources": [_resource("kubernetes:apps/v1:DaemonSet", "d", {"metadata": {"name": "x"}})]}
    with pytest.raises(ValueError, match="no API path known"):
        e2e_kube.expected_objects(unknown)


def _serve(monkeypatch: pytest.MonkeyPatch, objects: dict[str, dict[str, Any]]) -> None:
    def fake_get(_pki: Path, _url: str, path: str, timeout: float = 10) -> tuple[int, Any]:
        return (200, {"metadata": objects[path]}) if path in objects else (404, {"reason": "NotFound"})

    monkeypatch.setattr(e2e_kube, "get", fake_get)


def test_up_then_unchanged_compare_resource_versions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    snapshot = tmp_path / "versions.json"
    _serve(monkeypatch, {p: {"resourceVersion": "1"} for p in PATHS.values()})
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "up", snapshot) == []
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "unchanged", snapshot) == []
    _serve(monkeypatch, {p: {"resourceVersion": "2" if n == "hub" else "1"} for n, p in PATHS.items() if n != "s"})
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "unchanged", snapshot) == [
        f"hub ({PATHS['hub']}): rewritten (resourceVersion 1 -> 2)",
        f"s ({PATHS['s']}): missing",
    ]


def test_protected_objects_must_survive_a_refused_destroy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _serve(monkeypatch, {PATHS["pv"]: {}})  # the namespace (protected) is gone; the Release and Secret may be
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "protected", tmp_path / "v") == [
        f"ns ({PATHS['ns']}): protected, but deleted"
    ]


def test_after_destroy_only_retained_objects_and_terminating_namespaces_remain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _serve(monkeypatch, {PATHS["pv"]: {}, PATHS["ns"]: {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "destroyed", tmp_path / "v") == []
    _serve(monkeypatch, {PATHS["ns"]: {}, PATHS["s"]: {}})
    assert e2e_kube.check_objects(PLAN, tmp_path, "https://x", "destroyed", tmp_path / "v") == [
        f"ns ({PATHS['ns']}): still there after destroy",
        f"pv ({PATHS['pv']}): retain_on_delete, but deleted",
        f"s ({PATHS['s']}): still there after destroy",
    ]


def test_the_cluster_program_deletes_in_background_and_skips_waits_only_for_controller_kinds(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text((ROOT / "tools" / "e2e_cluster" / "__main__.py").read_text())
    (tmp_path / "platform_main.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "k8s.core.v1.Namespace('ns', metadata={'name': 'a', 'annotations': {'keep': 'me'}})\n"
        "k8s.core.v1.PersistentVolumeClaim('pvc', metadata={'name': 'c', 'namespace': 'a'}, spec={})\n"
        "k8s.core.v1.Secret('secret', metadata={'name': 's', 'namespace': 'a'})\n"
        "k8s.apps.v1.Deployment('deploy', metadata={'name': 'd', 'namespace': 'a'}, spec={})\n"
        "k8s.core.v1.Service('svc', metadata={'name': 'v', 'namespace': 'a'}, spec={})\n"
        "k8s.core.v1.ConfigMap('cm', metadata={'name': 'm', 'namespace': 'a'})\n"
    )

    def program() -> dict[str, Any]:
        runpy.run_path(str(tmp_path / "__main__.py"), run_name="__main__")
        return {}

    recorder = mockrun.run("jupyterhub-platform", "e2e-cluster", program)
    annotations = {r.name: r.inputs["metadata"].get("annotations") for r in recorder.registrations.values()}
    background = {"pulumi.com/deletionPropagationPolicy": "background"}
    assert annotations == {
        "ns": {"keep": "me", "pulumi.com/skipAwait": "true", **background},
        "pvc": {"pulumi.com/skipAwait": "true", **background},
        "secret": background,
        "deploy": {"pulumi.com/skipAwait": "true", **background},
        "svc": {"pulumi.com/skipAwait": "true", **background},
        "cm": background,
    }
