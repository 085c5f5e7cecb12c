"""MetalLB: manifests (kubernetes-validate --strict where a schema exists), the webhook wait script run
for real with a kubectl stand-in, and the order in the dev stack graph (pool only after the webhook)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from components.metallb.component import TYPE_TOKEN, wait_webhook_script
from components.metallb.manifests import (
    API_VERSION,
    POOL_NAME,
    advertisement_manifest,
    manifests_yaml,
    metallb_values,
    namespace_manifest,
    pool_manifest,
)
from config.traffic import METALLB_CHART_VERSION, MetalLbConfig
from tests.helpers import run_stack, shellcheck

SETTINGS = MetalLbConfig.model_validate({"addresses": ["192.0.2.240/29", "192.0.2.250/32"]})


def test_namespace_passes_kubernetes_validate_strict() -> None:
    kubernetes_validate.validate(namespace_manifest(SETTINGS), "1.34", strict=True)
    assert namespace_manifest(SETTINGS)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_pool_and_advertisement() -> None:
    """kubernetes-validate has no schema for MetalLB's custom resources (the test proves it); their
    content is checked here, and on the cluster the webhook validates them (server-side dry run) first."""
    pool, advertisement = pool_manifest(SETTINGS), advertisement_manifest(SETTINGS)
    for manifest in (pool, advertisement):
        with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
            kubernetes_validate.validate(manifest, "1.34", strict=True)
        assert manifest["apiVersion"] == API_VERSION and manifest["metadata"]["namespace"] == "metallb-system"
    assert pool["kind"] == "IPAddressPool" and pool["spec"]["addresses"] == ["192.0.2.240/29", "192.0.2.250/32"]
    assert advertisement["kind"] == "L2Advertisement" and advertisement["spec"] == {"ipAddressPools": [POOL_NAME]}
    assert list(yaml.safe_load_all(manifests_yaml(SETTINGS))) == [pool, advertisement]


def test_values_select_plain_l2_mode() -> None:
    values = metallb_values()
    assert values["speaker"]["frr"]["enabled"] is False and values["frrk8s"]["enabled"] is False
    assert METALLB_CHART_VERSION == "0.15.3"


# A stand-in for kubectl, because no API server or MetalLB webhook runs here: the webhook "starts" after
# $FAIL_TIMES refused attempts. The real dry run happens on the cluster.
_KUBECTL = """#!/bin/bash
# Stand-in for kubectl: the webhook "starts" after $FAIL_TIMES refused attempts.
echo "$*" >>"$KUBECTL_LOG"
count=$(wc -l <"$KUBECTL_LOG")
[[ "$*" == "apply --dry-run=server -f $EXPECTED_FILE" ]] || exit 3
(( count > FAIL_TIMES ))
"""


def _run_wait(tmp_path: Path, fail_times: int, timeout: int) -> subprocess.CompletedProcess[str]:
    kube = tmp_path / "kube"
    kube.mkdir(exist_ok=True)
    (kube / "admin.conf").write_text("apiVersion: v1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "kubectl").write_text(_KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    manifests = tmp_path / "pool.yaml"
    script = wait_webhook_script(SETTINGS, kube_dir=str(kube), path=str(manifests))
    text = script.text.replace("export WEBHOOK_TIMEOUT=300", f"export WEBHOOK_TIMEOUT={timeout}")
    log = tmp_path / "kubectl.log"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "KUBECTL_LOG": str(log),
        "FAIL_TIMES": str(fail_times),
        "EXPECTED_FILE": str(manifests),
    }
    result = subprocess.run(["bash", "-c", text], capture_output=True, text=True, timeout=60, env=env)
    assert manifests.read_text().rstrip("\n") == manifests_yaml(SETTINGS).rstrip("\n")
    return result


def test_wait_script_is_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck(wait_webhook_script(SETTINGS).text, tmp_path, "metallb-webhook.sh")


def test_wait_script_retries_until_the_webhook_accepts(tmp_path: Path) -> None:
    result = _run_wait(tmp_path, fail_times=2, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "accepts the address pool" in result.stderr
    assert len((tmp_path / "kubectl.log").read_text().splitlines()) == 3


def test_wait_script_gives_up_at_its_deadline(tmp_path: Path) -> None:
    result = _run_wait(tmp_path, fail_times=1000, timeout=3)
    assert result.returncode != 0
    assert "timed out after 3s waiting for the MetalLB webhook" in result.stderr


def test_dev_stack_creates_the_pool_only_after_the_webhook_answers() -> None:
    recorder = run_stack("dev")
    regs = dict(recorder.registrations)
    by_name = {(r.type, r.name): r for r in regs.values()}
    (component,) = [r for r in regs.values() if r.type == TYPE_TOKEN]
    release = by_name[("kubernetes:helm.sh/v3:Release", "metallb-release")]
    webhook = by_name[("command:remote:Command", "dev-1-metallb-webhook")]
    pool = by_name[(f"kubernetes:{API_VERSION}:IPAddressPool", "metallb-pool")]
    advertisement = by_name[(f"kubernetes:{API_VERSION}:L2Advertisement", "metallb-l2-advertisement")]
    hub = by_name[("kubernetes:helm.sh/v3:Release", "hub-dev")]
    assert release.inputs["version"] == METALLB_CHART_VERSION
    assert (release.inputs["chart"], release.inputs["name"], release.inputs["namespace"]) == (
        "metallb",
        "metallb",
        "metallb-system",
    )
    assert release.inputs["repositoryOpts"] == {"repo": "https://metallb.github.io/metallb"}
    assert release.inputs["values"] == metallb_values()
    assert release.urn in webhook.depends_on
    for cr in (pool, advertisement):
        assert {release.urn, webhook.urn} <= set(cr.depends_on) and cr.parent == component.urn
    assert {pool.urn, advertisement.urn} <= set(hub.depends_on)
    assert hub.inputs["values"]["proxy"]["service"] == {"type": "LoadBalancer", "loadBalancerIP": "192.0.2.240"}
    patch = by_name[("kubernetes:core/v1:ServicePatch", "hub-dev-proxy-public-local")]
    assert patch.inputs["spec"] == {"externalTrafficPolicy": "Local"} and hub.urn in patch.depends_on
