"""Encryption keys, the Secrets rewrite, certificate renewal and the expiry export, run for real
against stand-in kubeadm/kubectl/crictl/systemctl: root-only key file, keys never on a command
line, the drop of an old key refused until Secrets were rewritten, once-per-generation renewal."""

from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from components.common.shell import RenderedScript
from components.k8s_cluster import security_scripts
from components.monitoring.alerts import KUBEADM_CERT_CHECK, KUBEADM_CERT_EXPIRY, platform_alerts
from config.platform import PlatformConfig
from tests.helpers import stack_platform

KEY1 = base64.b64encode(b"k" * 32).decode()
KEY2 = base64.b64encode(b"n" * 32).decode()
SHIMS = {
    "kubeadm": """#!/usr/bin/env bash
printf 'kubeadm %s\\n' "$*" >>"$CALLS"
if [[ "$1 $2" == "certs check-expiration" ]]; then
  printf 'CERTIFICATE   EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\\n'
  printf 'admin.conf    Nov 30, 2027 13:26 UTC   364d            ca                      no\\n'
  printf 'apiserver     Nov 30, 2027 13:26 UTC   364d            ca                      no\\n\\n'
  printf 'CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED\\n'
  printf 'ca                      Nov 28, 2036 13:26 UTC   9y              no\\n'
fi
[[ "$*" == *"--config"* ]] && cp "${!#}" "$CALLS.config"
exit 0
""",
    "kubectl": """#!/usr/bin/env bash
[[ "$1" == --request-timeout=* ]] && shift
printf 'kubectl %s\\n' "$*" >>"$CALLS"
case "$1 $2" in
  "get configmap") printf '%s' "${REWRITTEN_WITH:-}" ;;
  "get secrets") echo '{"items": []}' ;;
  *) cat >/dev/null ;;
esac
""",
    "crictl": "#!/usr/bin/env bash\nprintf 'crictl %s\\n' \"$*\" >>\"$CALLS\"\n",
    "curl": "#!/usr/bin/env bash\nexit 0\n",
    "systemctl": "#!/usr/bin/env bash\nprintf 'systemctl %s\\n' \"$*\" >>\"$CALLS\"\n",
}


@pytest.fixture(scope="module")
def prod() -> PlatformConfig:
    cfg: PlatformConfig = stack_platform("prod")
    return cfg


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for sub in ("bin", "kube/manifests", "kube/pki", "textfiles"):
        (tmp_path / sub).mkdir(parents=True)
    for name, text in SHIMS.items():
        (tmp_path / "bin" / name).write_text(text)
        (tmp_path / "bin" / name).chmod(stat.S_IRWXU)
    return tmp_path


def run(root: Path, script: RenderedScript, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    text = script.text
    kube = root / "kube"
    for key, value in {
        "KUBE_DIR": kube,
        "ENCRYPTION_CONFIG": kube / "encryption/config.yaml",
        "MANIFEST": kube / "manifests/kube-apiserver.yaml",
        "KUBEADM_CONFIG_PATH": kube / "reconfigure.yaml",
        "EXPORTER_PATH": root / "certs-expiry",
        "SERVICE_PATH": root / "certs.service",
        "TIMER_PATH": root / "certs.timer",
    }.items():
        text = re.sub(rf"^export {key}=.*$", f"export {key}='{value}'", text, flags=re.M)
    environment = {**os.environ, "PATH": f"{root / 'bin'}:{os.environ['PATH']}", "CALLS": str(root / "calls.log"), **env}
    return subprocess.run(["bash", "-c", text], input=stdin, env=environment, capture_output=True, text=True, timeout=120)


def calls(root: Path) -> str:
    path = root / "calls.log"
    return path.read_text() if path.exists() else ""


def with_keys(cfg: PlatformConfig, *names: str) -> PlatformConfig:
    settings = cfg.cluster.encryption_at_rest
    assert settings is not None
    cluster = cfg.cluster.model_copy(update={"encryption_at_rest": settings.model_copy(update={"keys": list(names)})})
    return cfg.model_copy(update={"cluster": cluster})


def keys_step(cfg: PlatformConfig, node: str = "cp-1") -> RenderedScript:
    return security_scripts.encryption_keys(cfg, next(n for n in cfg.inventory.nodes if n.name == node))


def test_keys_land_in_a_root_only_file_before_the_api_server_exists(root: Path, prod: PlatformConfig) -> None:
    result = run(root, keys_step(prod), stdin=f"key1 {KEY1}\n")
    assert result.returncode == 0, result.stderr
    config = root / "kube/encryption/config.yaml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    text = config.read_text()
    assert "kind: EncryptionConfiguration" in text and "- secretbox:" in text and f"secret: {KEY1}" in text
    assert text.rstrip().endswith("- identity: {}")
    document = yaml.safe_load(text)
    assert document["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert document["resources"] == [
        {"resources": ["secrets"], "providers": [{"secretbox": {"keys": [{"name": "key1", "secret": KEY1}]}}, {"identity": {}}]}
    ]
    assert KEY1 not in calls(root) and KEY1 not in result.stderr
    assert KEY1 not in keys_step(prod).text


def test_a_key_of_the_wrong_size_is_refused_without_being_shown(root: Path, prod: PlatformConfig) -> None:
    short = base64.b64encode(b"s" * 16).decode()
    result = run(root, keys_step(prod), stdin=f"key1 {short}\n")
    assert result.returncode != 0
    assert "encryption key key1 must be 32 random bytes in base64" in result.stderr
    assert short not in result.stderr
    assert not (root / "kube/encryption/config.yaml").exists()


def test_an_old_key_is_dropped_only_after_secrets_were_rewritten(root: Path, prod: PlatformConfig) -> None:
    assert run(root, keys_step(prod), stdin=f"key1 {KEY1}\n").returncode == 0
    (root / "kube/admin.conf").write_text("admin")
    manifest = root / "kube/manifests/kube-apiserver.yaml"
    manifest.write_text("    - --encryption-provider-config=/etc/kubernetes/encryption/config.yaml\n")
    refused = run(root, keys_step(with_keys(prod, "key2")), stdin=f"key2 {KEY2}\n", REWRITTEN_WITH="key1")
    assert refused.returncode != 0
    assert "refusing to drop encryption key key1: Secrets were not yet rewritten with key2" in refused.stderr
    assert f"secret: {KEY1}" in (root / "kube/encryption/config.yaml").read_text()
    # Phase 1: the new key first, the old one still readable; the API server restarts with it.
    rotated = run(root, keys_step(with_keys(prod, "key2", "key1")), stdin=f"key2 {KEY2}\nkey1 {KEY1}\n")
    assert rotated.returncode == 0, rotated.stderr
    assert "restarted kube-apiserver" in rotated.stderr and manifest.exists()
    providers = yaml.safe_load((root / "kube/encryption/config.yaml").read_text())["resources"][0]["providers"]
    assert [k["name"] for k in providers[0]["secretbox"]["keys"]] == ["key2", "key1"]
    assert not list((root / "kube").glob("manifests-parked.*"))
    # Phase 3 (after the rewrite recorded key2): the old key goes.
    dropped = run(root, keys_step(with_keys(prod, "key2")), stdin=f"key2 {KEY2}\n", REWRITTEN_WITH="key2")
    assert dropped.returncode == 0, dropped.stderr
    assert KEY1 not in (root / "kube/encryption/config.yaml").read_text()


def test_a_running_api_server_without_encryption_is_reconfigured_at_its_version(root: Path, prod: PlatformConfig) -> None:
    (root / "kube/admin.conf").write_text("admin")
    (root / "kube/manifests/kube-apiserver.yaml").write_text("    image: registry.k8s.io/kube-apiserver:v1.36.5\n")
    result = run(root, keys_step(prod), stdin=f"key1 {KEY1}\n")
    assert result.returncode == 0, result.stderr
    log = calls(root)
    assert log.index("kubeadm init phase upload-config kubeadm") < log.index("kubeadm init phase control-plane apiserver")
    used = (root / "calls.log.config").read_text()
    assert "kubernetesVersion: v1.36.5" in used and "encryption-provider-config" in used


def test_secrets_are_rewritten_once_per_primary_key(root: Path, prod: PlatformConfig) -> None:
    first = next(n for n in prod.inventory.nodes if n.name == "cp-1")
    step = security_scripts.encryption_rewrite(prod, first)
    assert run(root, step).returncode == 0
    assert "kubectl replace -f -" in calls(root)
    assert "rewritten-with=key1" in calls(root)
    (root / "calls.log").unlink()
    again = run(root, step, REWRITTEN_WITH="key1")
    assert again.returncode == 0 and "already rewritten" in again.stderr
    assert "replace" not in calls(root)


def test_certificates_renew_once_per_generation_with_a_static_pod_restart(root: Path, prod: PlatformConfig) -> None:
    certificates = prod.cluster.certificates.model_copy(update={"renew_generation": 1})
    renewing = prod.model_copy(update={"cluster": prod.cluster.model_copy(update={"certificates": certificates})})
    node = next(n for n in prod.inventory.nodes if n.name == "cp-2")
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        (root / f"kube/manifests/{name}.yaml").write_text(name)
    step = security_scripts.certs_renew(renewing, node)
    result = run(root, step)
    assert result.returncode == 0, result.stderr
    assert calls(root).count("kubeadm certs renew all") == 1
    assert len(list((root / "kube/manifests").glob("*.yaml"))) == 4
    assert run(root, step).returncode == 0
    assert calls(root).count("kubeadm certs renew all") == 1, "renewed twice for one generation"


def test_expiry_check_exports_every_certificate_for_node_exporter(root: Path, prod: PlatformConfig) -> None:
    node = next(n for n in prod.inventory.nodes if n.name == "cp-1")
    result = run(root, security_scripts.certs_check(prod, node))
    assert result.returncode == 0, result.stderr
    exporter = root / "certs-expiry"
    assert stat.S_IMODE(exporter.stat().st_mode) == 0o755
    assert "OnCalendar=daily" in (root / "certs.timer").read_text()
    env = {**os.environ, "PATH": f"{root / 'bin'}:{os.environ['PATH']}", "CALLS": str(root / "calls.log")}
    subprocess.run([str(exporter), str(root / "textfiles")], env=env, check=True, timeout=60)
    metrics = (root / "textfiles/kubeadm_certificates.prom").read_text()
    assert 'kubeadm_certificate_expiry_timestamp_seconds{certificate="apiserver",authority="false"} 1827581160' in metrics
    assert 'kubeadm_certificate_expiry_timestamp_seconds{certificate="ca",authority="true"}' in metrics
    assert "kubeadm_certificate_check_success 1" in metrics
    # The alerts read exactly these names, and name only labels the series carry (or Prometheus adds).
    assert prod.monitoring is not None
    cfg_alerts = {a.name: a for a in platform_alerts(prod, prod.monitoring)}
    expiring, failing = cfg_alerts["KubeadmCertificateExpiringSoon"], cfg_alerts["KubeadmCertificateCheckFailing"]
    assert expiring.expr.startswith(f"{KUBEADM_CERT_EXPIRY} - time()") and f"{KUBEADM_CERT_EXPIRY}{{certificate=" in metrics
    assert failing.expr == f"{KUBEADM_CERT_CHECK} == 0" and f"{KUBEADM_CERT_CHECK} 1" in metrics
    assert set(re.findall(r"\$labels\.(\w+)", expiring.summary)) == {"certificate", "instance"}
