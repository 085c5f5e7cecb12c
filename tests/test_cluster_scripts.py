"""The kubeadm steps run for real against stand-in kubeadm/kubectl/systemctl: guards, resumption
after a half-finished init or join, and secrets kept off command lines."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from components.common.shell import HostFile, render_script
from components.k8s_cluster.steps import SCRIPTS

TOKEN = "abcdef.0123456789abcdef"
CA_HASH = "sha256:" + "a" * 64
CERT_KEY = "b" * 64
LATER = str(int(time.time()) + 3600)  # join material's expiry (Unix time)

# Stand-ins log their argv; kubeadm behaves like the real one as far as files are concerned.
KUBEADM = r"""#!/usr/bin/env bash
printf 'kubeadm %s\n' "$*" >>"$CALLS"
case "$1 $2" in
  "init --config") touch "$KUBE_DIR/kubelet.conf" "$KUBE_DIR/admin.conf"; exit "${INIT_EXIT:-0}" ;;
  "join --config") cp "$3" "$KUBE_DIR/seen-join.yaml"; touch "$KUBE_DIR/kubelet.conf"; exit "${JOIN_EXIT:-0}" ;;
  "reset --force") rm -f "$KUBE_DIR/kubelet.conf" "$KUBE_DIR/bootstrap-kubelet.conf"; rm -rf "$KUBE_DIR/pki" ;;
  "token create") echo "abcdef.0123456789abcdef" ;;
  "init phase")
    if [[ "$3" == upload-certs ]]; then echo "[upload-certs] Using certificate key:"; echo "$(printf 'b%.0s' {1..64})"; fi ;;
esac
"""
OK = "#!/usr/bin/env bash\nprintf '%s %s\\n' \"$(basename \"$0\")\" \"$*\" >>\"$CALLS\"\n"


@pytest.fixture
def host(tmp_path: Path) -> dict[str, str]:
    bin_dir, kube = tmp_path / "bin", tmp_path / "kube"
    bin_dir.mkdir()
    kube.mkdir()
    for name, text in {"kubeadm": KUBEADM, "kubectl": OK, "systemctl": OK}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls.log"),
        "KUBE_DIR": str(kube),
    }


def run(
    host: dict[str, str], body: str, params: dict[str, str], stdin: str = "", **extra_env: str
) -> subprocess.CompletedProcess[str]:
    kube = host["KUBE_DIR"]
    base = {"KUBE_DIR": kube, "INIT_MARKER": f"{kube}/initialised", "JOIN_MARKER": f"{kube}/joined"}
    files = {}
    if body == "init.sh":
        files["KUBEADM_CONFIG"] = HostFile(f"{kube}/kubeadm-init.yaml", "kind: InitConfiguration\n", "0600")
    if body == "join.sh":
        template = "token: @TOKEN@\nhash: @CA_HASH@\nkey: @CERT_KEY@\n"
        files["JOIN_CONFIG"] = HostFile(f"{kube}/join-template.yaml", template, "0600")
    script = render_script("t", SCRIPTS / body, {**base, **params}, files)
    env = {**os.environ, **host, **extra_env}
    return subprocess.run(["bash", "-c", script.text], input=stdin, env=env, capture_output=True, text=True, timeout=60)


def calls(host: dict[str, str]) -> list[str]:
    path = Path(host["CALLS"])
    return path.read_text().splitlines() if path.exists() else []


INIT = {"API_ENDPOINT": "k8s-api.example.org:6443", "JOIN_TIMEOUT": "30", "NODE_NAME": "cp-1"}
JOIN = {"NODE_NAME": "worker-1", "JOIN_ROLE": "worker", "JOIN_TIMEOUT": "30", "MINT_STEP": "cp-1-mint-join"}


def test_init_runs_once(host: dict[str, str]) -> None:
    assert run(host, "init.sh", INIT).returncode == 0
    assert run(host, "init.sh", INIT).returncode == 0
    expected = f"kubeadm init --config {host['KUBE_DIR']}/kubeadm-init.yaml --skip-token-print"
    assert [c for c in calls(host) if c.startswith("kubeadm init")] == [expected]


def test_interrupted_init_is_finished_not_restarted(host: dict[str, str]) -> None:
    Path(host["KUBE_DIR"], "kubelet.conf").touch()  # kubeadm wrote it, then died before the end
    result = run(host, "init.sh", INIT)
    assert result.returncode == 0, result.stderr
    phases = [c.split(" --config")[0] for c in calls(host) if c.startswith("kubeadm")]
    assert "kubeadm init phase upload-config all" in phases and "kubeadm init phase addon all" in phases
    assert not any(c.startswith("kubeadm init --config") for c in calls(host))
    assert Path(host["KUBE_DIR"], "initialised").is_file()


def test_init_refuses_a_node_that_joined_as_another_control_plane(host: dict[str, str]) -> None:
    Path(host["KUBE_DIR"], "joined").touch()
    result = run(host, "init.sh", INIT)
    assert result.returncode != 0 and "must stay first" in result.stderr
    assert not any(c.startswith("kubeadm") for c in calls(host))


def test_join_fills_the_template_from_stdin_and_runs_once(host: dict[str, str]) -> None:
    material = f"{TOKEN} {CA_HASH} {CERT_KEY} {LATER}\n"
    result = run(host, "join.sh", JOIN, stdin=material)
    assert result.returncode == 0, result.stderr
    seen = Path(host["KUBE_DIR"], "seen-join.yaml").read_text()
    assert f"token: {TOKEN}" in seen and f"hash: {CA_HASH}" in seen and f"key: {CERT_KEY}" in seen
    assert not list(Path(host["KUBE_DIR"]).glob("join-??????.yaml")), "filled config left on disk"
    assert TOKEN not in "\n".join(calls(host)), "a secret reached a command line"
    assert run(host, "join.sh", JOIN, stdin=material).returncode == 0
    assert len([c for c in calls(host) if c.startswith("kubeadm join")]) == 1


def test_half_finished_join_is_reset_first(host: dict[str, str]) -> None:
    Path(host["KUBE_DIR"], "bootstrap-kubelet.conf").touch()
    result = run(host, "join.sh", JOIN, stdin=f"{TOKEN} {CA_HASH} - {LATER}\n")
    assert result.returncode == 0, result.stderr
    kubeadm = [c.split()[1] for c in calls(host) if c.startswith("kubeadm")]
    assert kubeadm == ["reset", "join"]


def test_failed_join_says_how_to_mint_fresh_material(host: dict[str, str]) -> None:
    result = run(host, "join.sh", JOIN, stdin=f"{TOKEN} {CA_HASH} - {LATER}\n", JOIN_EXIT="1")
    assert result.returncode != 0
    assert "pulumi up --replace '<urn of cp-1-mint-join>'" in result.stderr
    assert not Path(host["KUBE_DIR"], "joined").exists()


def test_stale_join_material_is_refused_before_kubeadm_runs(host: dict[str, str]) -> None:
    stale = str(int(time.time()) - 10)
    result = run(host, "join.sh", JOIN, stdin=f"{TOKEN} {CA_HASH} - {stale}\n")
    assert result.returncode != 0
    assert "join material expired at" in result.stderr and "pulumi up --replace '<urn of cp-1-mint-join>'" in result.stderr
    assert not any(c.startswith("kubeadm") for c in calls(host))
    missing = run(host, "join.sh", JOIN, stdin=f"{TOKEN} {CA_HASH} -\n")
    assert missing.returncode != 0 and "no expiry time" in missing.stderr


def test_join_rejects_garbage_material(host: dict[str, str]) -> None:
    result = run(host, "join.sh", JOIN, stdin="not a token\n")
    assert result.returncode != 0 and "no valid bootstrap token" in result.stderr


def test_mint_prints_material_without_secrets_on_command_lines(host: dict[str, str], tmp_path: Path) -> None:
    pki = Path(host["KUBE_DIR"], "pki")
    pki.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kubernetes", "-days", "1",
         "-keyout", str(tmp_path / "ca.key"), "-out", str(pki / "ca.crt")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    params = {"TOKEN_TTL_SECONDS": "7200", "CERTS_TTL_SECONDS": "6600", "CONTROL_PLANE_JOINS": "true"}
    before = int(time.time())
    result = run(host, "mint-join.sh", params)
    assert result.returncode == 0, result.stderr
    token, ca_hash, cert_key, token_expires, certs_expires = result.stdout.split()
    assert token == TOKEN and cert_key == CERT_KEY and ca_hash.startswith("sha256:") and len(ca_hash) == 71
    assert before + 7200 <= int(token_expires) <= int(time.time()) + 7200
    assert int(certs_expires) == int(token_expires) - 600
    assert "kubeadm token create --ttl 7200s" in "\n".join(calls(host))
    logged = "\n".join(calls(host))
    assert TOKEN not in logged and CERT_KEY not in logged
    # Without control-plane joins nothing is uploaded and there is no certificate key.
    workers_only = run(host, "mint-join.sh", {**params, "CONTROL_PLANE_JOINS": "false"})
    assert workers_only.stdout.split()[2:5:2] == ["-", "-"]
    assert sum("upload-certs" in c for c in calls(host)) == 1


DRAIN = {"EXPECTED_NODES": "cp-1=192.0.2.21 worker-1=192.0.2.31", "MANAGED_LABEL": "node.x/managed", "DRAIN_TIMEOUT": "5"}


def test_drain_stops_when_the_api_cannot_be_asked(host: dict[str, str]) -> None:
    kubectl = Path(host["PATH"].split(":")[0], "kubectl")
    kubectl.write_text("#!/usr/bin/env bash\necho 'connection refused' >&2\nexit 1\n")
    result = run(host, "drain-node.sh", DRAIN)
    assert result.returncode != 0 and "drained" not in result.stderr


def test_only_managed_nodes_that_left_or_moved_are_drained(host: dict[str, str]) -> None:
    # kubectl stand-in: the API lists the managed nodes (the script asks with the label selector).
    kubectl = Path(host["PATH"].split(":")[0], "kubectl")
    listing = "cp-1 192.0.2.21\nworker-1 192.0.2.99\nworker-7 192.0.2.37\n"
    kubectl.write_text(
        "#!/usr/bin/env bash\nprintf 'kubectl %s\\n' \"$*\" >>\"$CALLS\"\n"
        f"if [[ $1 == get && $2 == nodes ]]; then printf '{listing}'; fi\n"
    )
    result = run(host, "drain-node.sh", DRAIN)
    assert result.returncode == 0, result.stderr
    log = calls(host)
    assert any(c.startswith("kubectl get nodes -l node.x/managed=true") for c in log)
    drained = [c.split()[2] for c in log if c.startswith("kubectl drain")]
    deleted = [c.split()[3] for c in log if c.startswith("kubectl delete node")]
    assert drained == deleted == ["worker-1", "worker-7"]  # moved to another address; left the inventory
    assert "the host was replaced" in result.stderr


def test_register_waits_for_the_node_with_its_own_credentials(host: dict[str, str]) -> None:
    params = {"NODE_NAME": "worker-1", "REGISTER_TIMEOUT": "5"}
    missing = run(host, "register-node.sh", params)
    assert missing.returncode != 0 and "has not joined" in missing.stderr
    Path(host["KUBE_DIR"], "kubelet.conf").write_text("kubelet credentials\n")
    result = run(host, "register-node.sh", params)
    assert result.returncode == 0, result.stderr
    assert f"kubectl --kubeconfig {host['KUBE_DIR']}/kubelet.conf get node worker-1 --request-timeout=15s" in calls(host)


def test_a_joined_node_whose_role_changed_is_refused(host: dict[str, str]) -> None:
    material = f"{TOKEN} {CA_HASH} {CERT_KEY} {LATER}\n"
    assert run(host, "join.sh", JOIN, stdin=material).returncode == 0
    result = run(host, "join.sh", {**JOIN, "JOIN_ROLE": "control-plane"}, stdin=material)
    assert result.returncode != 0 and "joined as worker and is now configured as control-plane" in result.stderr
