"""The rendered upgrade step run for real against stand-in kubeadm/kubectl/apt (this machine is no
cluster node): the order on a node, refusal of skipped minors and downgrades on the host, and
resumption of an interrupted upgrade."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from components.k8s_cluster.upgrade_scripts import upgrade_node
from config.platform import PlatformConfig
from tests.helpers import stack_platform

# Installed package versions live in $PKGS/<name>; the API's view of the cluster in $API.
SHIMS = {
    "dpkg-query": r"""#!/usr/bin/env bash
name=${!#}
[[ -f "$PKGS/$name" ]] || exit 1
printf '%s-1.1' "$(cat "$PKGS/$name")"
""",
    "apt-cache": r"""#!/usr/bin/env bash
for v in $AVAILABLE; do printf ' %s | %s-1.1 | https://pkgs.k8s.io Packages\n' "$2" "$v"; done
""",
    "apt-get": r"""#!/usr/bin/env bash
printf 'apt-get %s\n' "$*" >>"$CALLS"
for arg in "$@"; do
  if [[ "$arg" == *=*-1.1 ]]; then
    name=${arg%%=*}
    [[ "$name" == kubelet && -n "${FAIL_KUBELET:-}" && ! -f "$PKGS/.failed" ]] && { touch "$PKGS/.failed"; exit 100; }
    v=${arg#*=}; printf '%s' "${v%-1.1}" >"$PKGS/$name"
  fi
done
""",
    "kubeadm": r"""#!/usr/bin/env bash
printf 'kubeadm %s\n' "$*" >>"$CALLS"
if [[ "$1 $2" == "upgrade apply" ]]; then
  printf '    image: registry.k8s.io/kube-apiserver:%s\n' "$4" >"$KUBE_DIR/manifests/kube-apiserver.yaml"
  printf '%s' "$4" >"$API/cluster-version"
fi
""",
    "kubectl": r"""#!/usr/bin/env bash
[[ "$1" == --request-timeout=* ]] && shift
printf 'kubectl %s\n' "$*" >>"$CALLS"
[[ -s "$KUBECONFIG" ]] && printf 'kubeconfig-readable\n' >>"$CALLS"
case "$1 $2" in
  "get node") printf 'v%s True' "$(cat "$PKGS/kubelet")" ;;
  "get pods") ;;
  "get nodes") ;;
  "get configmap") printf 'apiServer: {}\nkubernetesVersion: %s\n' "$(cat "$API/cluster-version")" ;;
  "drain "*) exit "${DRAIN_EXIT:-0}" ;;
esac
exit 0
""",
    "containerd": "#!/usr/bin/env bash\necho \"containerd containerd.io ${CONTAINERD:-2.1.4} abc\"\n",
    "curl": "#!/usr/bin/env bash\necho key\n",
    "gpg": "#!/usr/bin/env bash\ncat >/dev/null\nprintf '%s\\n' \"$*\" >>\"$CALLS\"\n",
    "apt-mark": "#!/usr/bin/env bash\nprintf 'apt-mark %s\\n' \"$*\" >>\"$CALLS\"\n",
    "systemctl": "#!/usr/bin/env bash\nprintf 'systemctl %s\\n' \"$*\" >>\"$CALLS\"\n",
}
UPGRADER_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- user: {token: upgrader-token-value}\n"


@pytest.fixture(scope="module")
def prod() -> PlatformConfig:
    cfg: PlatformConfig = stack_platform("prod")
    return cfg


class Host:
    """A temporary stand-in node: shims on PATH, package state, an API answer for the cluster version."""

    def __init__(self, root: Path, installed: str, cluster: str) -> None:
        self.root = root
        for sub in ("bin", "pkgs", "api", "kube/manifests", "state", "apt"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for name, text in SHIMS.items():
            (root / "bin" / name).write_text(text)
            (root / "bin" / name).chmod(stat.S_IRWXU)
        for pkg in ("kubeadm", "kubelet", "kubectl"):
            (root / "pkgs" / pkg).write_text(installed)
        (root / "api" / "cluster-version").write_text(f"v{cluster}")
        self.env = {
            **os.environ,
            "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
            "CALLS": str(root / "calls.log"),
            "PKGS": str(root / "pkgs"),
            "API": str(root / "api"),
            "KUBE_DIR": str(root / "kube"),
            "TMPDIR": str(root),
            "AVAILABLE": "1.35.9 1.36.5 1.37.0 1.37.1",
        }

    def run(self, cfg: PlatformConfig, node_name: str, **env: str) -> subprocess.CompletedProcess[str]:
        node = next(n for n in cfg.inventory.nodes if n.name == node_name)
        text = upgrade_node(cfg, node).text
        # Point the host paths of the rendered header at the temporary node.
        for key, value in {
            "KUBE_DIR": self.root / "kube",
            "STATE_DIR": self.root / "state",
            "APT_KEYRING": self.root / "apt/keyring.gpg",
            "APT_SOURCES": self.root / "apt/kubernetes.list",
            "READY_TIMEOUT": "10",
        }.items():
            text, count = re.subn(rf"^export {key}=.*$", f"export {key}='{value}'", text, flags=re.M)
            assert count == 1, key
        return subprocess.run(
            ["bash", "-c", text], input=UPGRADER_KUBECONFIG, env={**self.env, **env}, capture_output=True, text=True, timeout=120
        )

    def calls(self) -> list[str]:
        path = self.root / "calls.log"
        return path.read_text().splitlines() if path.exists() else []

    def installed(self, pkg: str) -> str:
        return (self.root / "pkgs" / pkg).read_text()


def index(calls: list[str], prefix: str) -> int:
    found = [i for i, c in enumerate(calls) if c.startswith(prefix)]
    assert found, f"no call starting with {prefix!r} in {calls}"
    return found[0]


def test_worker_is_drained_before_its_upgrade_and_back_in_service_after(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.36.5", cluster="1.37.1")
    result = host.run(prod, "worker-1")
    assert result.returncode == 0, result.stderr
    calls = host.calls()
    assert index(calls, "kubectl cordon worker-1") < index(calls, "kubectl drain worker-1")
    assert index(calls, "apt-get -o DPkg::Lock::Timeout=300 install -y -q --allow-change-held-packages kubeadm=") < index(
        calls, "kubectl drain"
    )
    assert index(calls, "kubectl drain") < index(calls, "kubeadm upgrade node") < index(calls, "systemctl restart kubelet")
    assert index(calls, "systemctl restart kubelet") < index(calls, "kubectl uncordon worker-1")
    assert "kubeconfig-readable" in calls  # the upgrader's kubeconfig from stdin
    assert not any("upgrader-token-value" in c for c in calls), "a credential reached a command line"
    assert not list(tmp_path.glob("tmp.*")), "the kubeconfig file from stdin was left behind"
    assert {host.installed(p) for p in ("kubeadm", "kubelet", "kubectl")} == {"1.37.1"}
    assert "/v1.37/deb/" in (tmp_path / "apt/kubernetes.list").read_text()


def test_a_node_at_the_version_is_left_alone(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.37.1", cluster="1.37.1")
    result = host.run(prod, "worker-1")
    assert result.returncode == 0, result.stderr
    assert "already runs Kubernetes 1.37.1" in result.stderr
    assert host.calls() == []


def test_skipping_a_minor_is_refused_on_the_host_with_the_way_out(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.35.9", cluster="1.35.9")
    result = host.run(prod, "worker-1")
    assert result.returncode != 0
    assert "refusing to skip from 1.35.9 to 1.37.1" in result.stderr
    assert "Set cluster.kubernetes_version to 1.36.x" in result.stderr
    assert host.calls() == []


@pytest.mark.parametrize("installed", ["1.37.2", "1.38.0"])
def test_a_downgrade_is_refused_on_the_host(tmp_path: Path, prod: PlatformConfig, installed: str) -> None:
    host = Host(tmp_path, installed=installed, cluster=installed)
    result = host.run(prod, "cp-1")
    assert result.returncode != 0
    assert f"refusing to downgrade cp-1 from {installed} to 1.37.1" in result.stderr
    assert f"Set cluster.kubernetes_version back to {installed}" in result.stderr
    assert host.calls() == []


def test_a_blocked_drain_stops_the_upgrade_and_the_next_run_resumes(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.36.5", cluster="1.37.1")
    blocked = host.run(prod, "worker-1", DRAIN_EXIT="1")
    assert blocked.returncode != 0
    assert "PodDisruptionBudget" in blocked.stderr and "resumes here" in blocked.stderr
    assert not any(c.startswith("kubeadm upgrade") for c in host.calls())
    assert host.installed("kubelet") == "1.36.5"
    (tmp_path / "calls.log").unlink()
    resumed = host.run(prod, "worker-1")
    assert resumed.returncode == 0, resumed.stderr
    calls = host.calls()
    assert not any("kubeadm=" in c for c in calls), "kubeadm was installed again"
    assert index(calls, "kubectl drain") < index(calls, "kubeadm upgrade node")
    assert host.installed("kubelet") == "1.37.1"


def test_first_control_plane_plans_then_applies_once_even_when_interrupted(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.36.5", cluster="1.36.5")
    failed = host.run(prod, "cp-1", FAIL_KUBELET="1")
    assert failed.returncode != 0
    calls = host.calls()
    assert index(calls, "kubectl drain cp-1") < index(calls, "kubeadm upgrade plan v1.37.1")
    assert index(calls, "kubeadm upgrade plan v1.37.1") < index(calls, "kubeadm upgrade apply -y v1.37.1")
    (tmp_path / "calls.log").unlink()
    resumed = host.run(prod, "cp-1")
    assert resumed.returncode == 0, resumed.stderr
    calls = host.calls()
    assert not any(c.startswith("kubeadm upgrade") for c in calls), "the control plane was upgraded twice"
    assert not any(c.startswith("kubectl drain") for c in calls), "drained twice"
    assert host.installed("kubelet") == "1.37.1"


def test_other_control_planes_wait_for_the_first(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.36.5", cluster="1.36.5")
    result = host.run(prod, "cp-2")
    assert result.returncode != 0
    assert "the first control plane upgrades first" in result.stderr
    assert not any(c.startswith("kubeadm upgrade") for c in host.calls())


def test_containerd_too_old_for_the_minor_is_refused(tmp_path: Path, prod: PlatformConfig) -> None:
    host = Host(tmp_path, installed="1.36.5", cluster="1.37.1")
    result = host.run(prod, "worker-1", CONTAINERD="1.7.28")
    assert result.returncode != 0
    assert "containerd 1.7.28 on worker-1 is too old for Kubernetes 1.37 (needs 2.0.0 or newer)" in result.stderr
    assert host.calls() == []


def test_upgrade_credentials_are_a_kubeconfig_on_stdout_only(tmp_path: Path, prod: PlatformConfig) -> None:
    from components.k8s_cluster.upgrade_scripts import upgrade_credentials

    host = Host(tmp_path, installed="1.37.1", cluster="1.37.1")
    (tmp_path / "bin" / "kubectl").write_text(
        "#!/usr/bin/env bash\n[[ \"$1\" == --request-timeout=* ]] && shift\n"
        "printf 'kubectl %s\\n' \"$*\" >>\"$CALLS\"\n"
        "case \"$1 $2\" in\n"
        "  'create token') echo minted-token-value ;;\n"
        "  'config view') [[ \"$*\" == *server* ]] && echo https://k8s-api.example.org:6443 || echo Q0EtREFUQQ== ;;\n"
        "esac\n"
    )
    first = next(n for n in prod.inventory.nodes if n.name == "cp-1")
    text = re.sub(r"^export KUBE_DIR=.*$", f"export KUBE_DIR='{tmp_path / 'kube'}'", upgrade_credentials(first).text, flags=re.M)
    text = re.sub(r"^export RBAC_PATH=.*$", f"export RBAC_PATH='{tmp_path / 'rbac.yaml'}'", text, flags=re.M)
    result = subprocess.run(["bash", "-c", text], env=host.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "token: minted-token-value" in result.stdout
    assert "server: https://k8s-api.example.org:6443" in result.stdout
    assert "create token jupyterhub-platform-upgrader -n kube-system --duration=72h" in "\n".join(host.calls())
    assert not any("minted-token-value" in c for c in host.calls())
    rbac = (tmp_path / "rbac.yaml").read_text()
    assert "secrets" not in rbac and "pods/eviction" in rbac


@pytest.mark.parametrize(("answer", "ok"), [("v1.37.1 True ", True), ("v1.36.5 True ", False), ("v1.37.1 True true", False)])
def test_the_gate_between_batches_wants_every_node_ready_and_schedulable(
    tmp_path: Path, prod: PlatformConfig, answer: str, ok: bool
) -> None:
    from components.k8s_cluster.upgrade_scripts import batch_ready

    host = Host(tmp_path, installed="1.37.1", cluster="1.37.1")
    (tmp_path / "bin" / "kubectl").write_text(f"#!/usr/bin/env bash\nprintf '%s' '{answer}'\n")
    first, *workers = [n for n in prod.inventory.nodes if n.name in ("cp-1", "worker-1", "worker-2")]
    text = batch_ready(prod, first, 1, workers).text
    text = re.sub(r"^export READY_TIMEOUT=.*$", "export READY_TIMEOUT=3", text, flags=re.M)
    result = subprocess.run(["bash", "-c", text], env=host.env, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        expected = "timed out after 3s waiting for the batch (worker-1 worker-2) to be Ready and schedulable at v1.37.1"
        assert expected in result.stderr
