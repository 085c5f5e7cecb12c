"""tools/engine/versions.env is the one place the engine tier's versions are written: the wrapper
modules must pin exactly what it says, and its test-cluster section must stay out of the engine's
cache key (build.sh hashes the lines above it), so a cluster change never rebuilds the Pulumi CLI."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import ROOT

ENGINE = ROOT / "tools" / "engine"


def versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ENGINE / "versions.env").read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    return dict(pairs)


def test_the_apiserver_module_pins_kubernetes_and_every_staging_module_at_versions_env() -> None:
    pinned = versions()
    gomod = (ENGINE / "apiserver" / "go.mod").read_text()
    assert re.search(rf"^require k8s\.io/kubernetes {re.escape(pinned['KUBERNETES_VERSION'])}$", gomod, re.M)
    replaces = re.findall(r"^\t(k8s\.io/[a-z-]+) => (k8s\.io/[a-z-]+) (v\S+)$", gomod, re.M)
    assert len(replaces) >= 30, "every staging module k8s.io/kubernetes requires at v0.0.0 is replaced"
    assert {(a == b, v) for a, b, v in replaces} == {(True, pinned["KUBERNETES_STAGING_VERSION"])}
    # Same Kubernetes release: v1.N.P <-> v0.N.P.
    assert pinned["KUBERNETES_STAGING_VERSION"] == "v0." + pinned["KUBERNETES_VERSION"].split(".", 1)[1]


def test_the_etcd_module_pins_the_server_at_versions_env() -> None:
    gomod = (ENGINE / "etcd" / "go.mod").read_text()
    assert re.search(rf"^require go\.etcd\.io/etcd/server/v3 {re.escape(versions()['ETCD_SERVER_VERSION'])}$", gomod, re.M)


def test_the_cluster_section_is_last_and_outside_the_engine_key() -> None:
    text = (ENGINE / "versions.env").read_text()
    head, marker, tail = text.partition("# --- test cluster")
    assert marker and "PULUMI_" not in tail and "KUBERNETES_PROVIDER" not in tail
    cluster_keys = set(re.findall(r"^([A-Z_]+)=", tail, re.M))
    assert {"KUBERNETES_VERSION", "KUBERNETES_STAGING_VERSION", "ETCD_SERVER_VERSION"} <= cluster_keys
    # What build.sh feeds its engine key: the same sed expression, so this breaks if either drifts.
    script = (ENGINE / "build.sh").read_text()
    assert "sed \"/$cluster_marker/,\\$d\" versions.env" in script
    sed = ["sed", "/^# --- test cluster/,$d", str(ENGINE / "versions.env")]
    cut = subprocess.run(sed, capture_output=True, text=True, check=True)
    assert cut.stdout == head
