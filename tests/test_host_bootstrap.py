"""Host-harness tier: the rendered bootstrap steps, run as a node runs them, against simulated host
states (see tests/host_harness.py): apt busy at first contact, an interrupted dpkg, kubeadm init
stopped after each phase, a join finished without its marker, swap services, cloned hosts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from components.common.shell import RenderedScript
from components.k8s_cluster import steps
from components.k8s_cluster.steps import CONTAINERD_VERSION, INIT_MARKER, JOIN_MARKER
from components.nfs_storage.component import client_script, server_script
from config.inventory import Role
from config.nfs import NfsConfig
from tests.graph import Graph
from tests.helpers import stack_platform
from tests.host_harness import PAUSE_IMAGE, Host

TOKEN, CA_HASH, CERT_KEY = "abcdef.0123456789abcdef", "sha256:" + "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def cfg() -> Any:
    """The prod stack with short waits (the config's floor of 60 s would make failing tests slow)."""
    prod = stack_platform("prod")
    return prod.model_copy(update={"cluster": prod.cluster.model_copy(update={"join_timeout_seconds": 6})})


def node(cfg: Any, name: str) -> Any:
    return next(n for n in cfg.inventory.nodes if n.name == name)


def prepare(cfg: Any, name: str = "worker-1") -> RenderedScript:
    return steps.prepare(cfg, node(cfg, name))


# --- 1. apt at first contact and under contention -------------------------------------------------


def test_prepare_waits_for_the_apt_lists_lock(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "worker-1")
    host.write(".sim/lists-lock", "2")  # two `apt-get update` attempts find the lists lock held
    result = host.run(prepare(cfg))
    assert result.returncode == 0, result.stderr
    assert "another apt or dpkg process holds a lock: running 'timeout 900 apt-get" in result.stderr
    assert len([c for c in host.calls("apt-get") if " update" in c]) >= 3


def test_first_contact_waits_for_cloud_init_and_apt_daily(tmp_path: Path) -> None:
    host = Host(tmp_path, "worker-1")
    host.write(".sim/cloud-init-running", "")  # cloud-init's package_update holds apt until it ends
    host.write(".sim/busy/apt-daily-upgrade.service", "3")
    result = host.run(client_script())
    assert result.returncode == 0, result.stderr
    calls = host.calls()
    first_apt = next(i for i, c in enumerate(calls) if c.startswith("apt-get"))
    assert any(c.startswith("cloud-init status --wait") for c in calls[:first_apt])
    assert "waiting for apt-daily / unattended-upgrades to finish" in result.stderr
    assert (host.sim / "pkgs/nfs-common").is_file()


def test_nfs_client_runs_after_node_preparation(rendered: Any) -> None:
    # The NFS client is a section of each Kubernetes node's prepare step (one SSH session per node),
    # after the node preparation (prepare.sh) and before the node joins.
    plan, out = rendered("prod")
    by_name = {r["name"]: r for r in plan["resources"]}
    graph = Graph(plan["resources"])
    assert not [n for n in by_name if n.endswith("-nfs-client")]
    nodes = [n.removesuffix("-prepare") for n in by_name if n.endswith("-prepare") and not n.startswith("lb-")]
    assert set(nodes) == {"cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "gpu-1"}
    for node_name in nodes:
        text = (out / "files" / "nodes" / node_name / "prepare.sh").read_text()
        sections = text.split("\n(\n")[1:]  # render_sections runs each section in its own subshell
        prepared = next(i for i, body in enumerate(sections) if 'pin_packages "${KUBERNETES_VERSION}-" kubeadm' in body)
        client = next(i for i, body in enumerate(sections) if "apt_install nfs-common" in body)
        assert prepared < client, node_name
        if f"{node_name}-kubeadm-join" in by_name:
            assert graph.waits_for(f"{node_name}-kubeadm-join", f"{node_name}-prepare"), node_name


# --- 2. an interrupted dpkg -------------------------------------------------------------------------


def test_an_interrupted_dpkg_is_finished_before_installing(tmp_path: Path) -> None:
    host = Host(tmp_path, "worker-1")
    host.write(".sim/dpkg-interrupted", "")
    result = host.run(client_script())
    assert result.returncode == 0, result.stderr
    calls = host.calls()
    repair = calls.index("dpkg --force-confdef --force-confold --configure -a")
    install = next(i for i, c in enumerate(calls) if c.startswith("apt-get") and " install " in c)
    assert repair < install


# --- 3. kubeadm init stopped after each phase -------------------------------------------------------

INIT_PHASES = ["preflight", "certs", "kubeconfig", "etcd", "control-plane", "kubelet-start", "wait-control-plane",
               "upload-config", "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon"]  # fmt: skip
AFTER_API = ["upload-config", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon"]


@pytest.mark.parametrize("stopped_after", INIT_PHASES)
def test_init_stopped_after_any_phase_is_finished_by_the_next_run(tmp_path: Path, cfg: Any, stopped_after: str) -> None:
    host = Host(tmp_path, "cp-1")
    script = steps.init(cfg, node(cfg, "cp-1"), [])
    host.write(".sim/stop-after", stopped_after)
    first = host.run(script)
    assert first.returncode != 0 and "kubeadm init failed or timed out; run pulumi up again" in first.stderr
    (host.sim / "phases").write_text("")
    second = host.run(script)
    assert second.returncode == 0, second.stderr
    assert (host.root / INIT_MARKER.lstrip("/")).is_file()
    done = (host.sim / "phases").read_text().split()
    assert all(p in done for p in AFTER_API), done
    assert not any(c.startswith("kubeadm reset") for c in host.calls())


def test_init_that_never_gets_an_api_says_reset_is_safe(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "cp-1")
    host.write(".sim/stop-after", "kubeconfig")
    host.run(steps.init(cfg, node(cfg, "cp-1"), []))
    host.write(".sim/api-broken", "")  # e.g. a wrong image or an etcd that cannot start
    started = time.monotonic()
    result = host.run(steps.init(cfg, node(cfg, "cp-1"), []))
    assert result.returncode != 0 and time.monotonic() - started < 60
    assert "did not become ready within 6s" in result.stderr
    assert "so 'kubeadm reset -f' on cp-1 is safe" in result.stderr
    assert not (host.root / INIT_MARKER.lstrip("/")).exists()


# --- 4. a join that finished, without its marker ----------------------------------------------------


def _join(host: Host, cfg: Any, name: str) -> Any:
    # What the join reads: the mint's line (token, hash, key, token and certificate expiries, as
    # mint-join.sh prints it) cut for this node by the program, as in a real up.
    expires = int(time.time()) + 3600
    minted = f"{TOKEN} {CA_HASH} {CERT_KEY} {expires} {expires + 60}\n"
    material = steps.join_material(minted, control_plane=node(cfg, name).has(Role.CONTROL_PLANE))
    return host.run(steps.join(cfg, node(cfg, "cp-1"), node(cfg, name), []), stdin=material)


@pytest.mark.parametrize(
    "ready",
    [
        "True kubelet is posting ready status",
        "False container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        "message:cni plugin not initialized",
    ],
)
def test_a_finished_worker_join_without_marker_is_kept(tmp_path: Path, cfg: Any, ready: str) -> None:
    host = Host(tmp_path, "worker-1")
    host.write("etc/kubernetes/kubelet.conf", "kubelet\n")
    host.write(".sim/node/worker-1", ready)
    result = _join(host, cfg, "worker-1")
    assert result.returncode == 0, result.stderr
    assert "finished joining earlier" in result.stderr and "writing the marker, not resetting" in result.stderr
    assert not [c for c in host.calls("kubeadm") if c.startswith("kubeadm reset") or c.startswith("kubeadm join")]
    assert "role=worker" in (host.root / JOIN_MARKER.lstrip("/")).read_text()


def test_a_finished_control_plane_join_needs_a_healthy_etcd_member(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "cp-2")
    host.write("etc/kubernetes/kubelet.conf", "kubelet\n")
    host.write("etc/kubernetes/admin.conf", "admin\n")
    host.write(".sim/node/cp-2", "True kubelet is posting ready status")
    host.write(".sim/pod/etcd-cp-2", "True")
    result = _join(host, cfg, "cp-2")
    assert result.returncode == 0, result.stderr
    assert not [c for c in host.calls("kubeadm") if c.startswith("kubeadm reset")]
    assert "role=control-plane" in (host.root / JOIN_MARKER.lstrip("/")).read_text()


@pytest.mark.parametrize("etcd", ["False", None])
def test_a_control_plane_without_a_healthy_etcd_member_is_joined_again(tmp_path: Path, cfg: Any, etcd: str | None) -> None:
    host = Host(tmp_path, "cp-2")
    host.write("etc/kubernetes/kubelet.conf", "kubelet\n")
    host.write(".sim/node/cp-2", "True kubelet is posting ready status")
    if etcd is not None:
        host.write(".sim/pod/etcd-cp-2", etcd)
    result = _join(host, cfg, "cp-2")
    assert result.returncode == 0, result.stderr
    assert [c.split()[1] for c in host.calls("kubeadm")] == ["reset", "join"]


def test_a_join_whose_kubelet_stopped_reporting_is_reset(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "worker-1")
    host.write("etc/kubernetes/kubelet.conf", "kubelet\n")
    host.write(".sim/node/worker-1", "Unknown Kubelet stopped posting node status.")
    result = _join(host, cfg, "worker-1")
    assert result.returncode == 0, result.stderr
    assert [c.split()[1] for c in host.calls("kubeadm")] == ["reset", "join"]


# --- 5. swap turned on by services ------------------------------------------------------------------


def test_swap_services_are_masked_and_swap_stays_off_after_a_reboot(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "worker-1")
    host.unit("zramswap.service", swap="/dev/zram0")  # Debian zram-tools
    host.unit("dev-zram0.swap", swap="/dev/zram0", file=False)  # its swap unit exists only while active
    host.write("etc/systemd/system/swapfile.service", "[Service]\nType=oneshot\nExecStart=/sbin/swapon /swapfile\n")
    host.unit("swapfile.service", swap="/swapfile")
    host.write("etc/fstab", "UUID=abc / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n")
    result = host.run(prepare(cfg))
    assert result.returncode == 0, result.stderr
    assert host.unit_state("zramswap.service")["enabled"] == "masked"
    assert host.unit_state("swapfile.service")["enabled"] == "masked"
    assert host.boot() == [], "swap came back at boot: kubelet would exit (failSwapOn)"


# --- 6, 7. containerd 2, kubeadm's pause image, crictl ----------------------------------------------


def test_prepare_installs_pinned_containerd_2_with_kubeadms_pause_image(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "worker-1")
    result = host.run(prepare(cfg))
    assert result.returncode == 0, result.stderr
    installs = [c for c in host.calls("apt-get") if " install " in c]
    assert any(f"containerd.io={CONTAINERD_VERSION}~debian.12~bookworm" in c for c in installs), installs
    assert not any(c.endswith(" containerd") or " containerd " in c for c in installs), "Debian's containerd 1.x"
    docker_list = (host.root / "etc/apt/sources.list.d/docker.list").read_text()
    assert "https://download.docker.com/linux/debian bookworm stable" in docker_list
    config = (host.root / "etc/containerd/config.toml").read_text()
    assert f"sandbox = '{PAUSE_IMAGE}'" in config and "SystemdCgroup = true" in config
    crictl = (host.root / "etc/crictl.yaml").read_text()
    assert "runtime-endpoint: unix:///run/containerd/containerd.sock" in crictl
    # A second run changes nothing and restarts nothing.
    (host.sim / "calls").write_text("")
    again = host.run(prepare(cfg))
    assert again.returncode == 0, again.stderr
    assert not [c for c in host.calls("apt-get") if " install " in c]
    assert "systemctl restart containerd" not in host.calls()


def test_prepare_moves_an_existing_config_to_kubeadms_pause_image(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "gpu-1")
    host.write("etc/containerd/config.toml", (
        "version = 3\nimports = ['/etc/containerd/conf.d/*.toml']\n"
        "[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.6'\n"
        "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n"
    ))  # fmt: skip
    host.write("etc/containerd/conf.d/99-nvidia.toml", "[plugins.'io.containerd.cri.v1.runtime']\n")
    result = host.run(prepare(cfg, "gpu-1"))
    assert result.returncode == 0, result.stderr
    config = (host.root / "etc/containerd/config.toml").read_text()
    assert f"sandbox = '{PAUSE_IMAGE}'" in config and "imports = ['/etc/containerd/conf.d/*.toml']" in config
    # 8. The NVIDIA drop-in is regenerated from the new main config (before 2.1 it copies the CRI section).
    ctk = host.calls("nvidia-ctk")
    assert any(f"--drop-in-config={host.root}/etc/containerd/conf.d/99-nvidia.toml" in c for c in ctk), ctk


# --- 10. preflight: what kubeadm needs, with the fixes ----------------------------------------------


def test_preflight_reports_every_problem_with_its_fix(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "cp-2")
    host.write("etc/hosts", "127.0.0.1 localhost\n192.0.2.99 k8s-api.example.org\n")
    host.write(".sim/ntp", "no\n")
    host.write(".sim/ufw", "Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere\n6443/tcp ALLOW 192.0.2.0/24\n")
    host.write(".sim/listening", "2379\n")
    result = host.run(steps.preflight(cfg, node(cfg, "cp-2")))
    assert result.returncode != 0
    err = result.stderr
    assert "the API endpoint k8s-api.example.org resolves to 192.0.2.99, not to the load balancer address 192.0.2.10" in err
    assert "fix DNS or /etc/hosts (192.0.2.10 k8s-api.example.org)" in err
    assert "the clock is not synchronised (timedatectl: NTPSynchronized=no): install and enable chrony" in err
    for port in ("2379-2380/tcp", "10250/tcp", "10257/tcp", "10259/tcp", "179/tcp", "4789/udp", "5473/tcp"):
        assert f"the ufw firewall has no rule for {port} (needed between nodes)" in err, port
    assert "the ufw firewall has no rule for 6443/tcp" not in err
    assert "ufw allow from <node network> to any port 2379:2380 proto tcp" in err  # ufw writes ranges as a:b
    assert "port 2379 is already in use" in err
    assert "cp-2 failed 10 preflight check(s)" in err


@pytest.mark.parametrize(
    ("firewall", "file", "text"),
    [
        ("firewalld", "firewalld-ports", "6443/tcp\n"),
        ("nftables", "nft", "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
         "  tcp dport { 22, 6443 } accept\n }\n}\n"),
    ],
)  # fmt: skip
def test_preflight_reads_firewalld_and_nftables(tmp_path: Path, cfg: Any, firewall: str, file: str, text: str) -> None:
    host = Host(tmp_path, "worker-1")
    host.write(f".sim/{file}", text)
    if firewall == "firewalld":
        host.unit("firewalld.service")
        host.unit("firewalld")
    result = host.run(steps.preflight(cfg, node(cfg, "worker-1")))
    assert result.returncode != 0
    assert f"the {firewall} firewall has no rule for 10250/tcp" in result.stderr
    assert f"the {firewall} firewall has no rule for 4789/udp" in result.stderr


def _identities(tmp_path: Path, cfg: Any, hosts: list[Host]) -> str:
    out = []
    for host in hosts:
        result = host.run(steps.preflight(cfg, node(cfg, host.name)))
        assert result.returncode == 0, result.stderr
        out.append(result.stdout)
    return "".join(out)


def test_two_nodes_with_one_product_uuid_are_refused(tmp_path: Path, cfg: Any) -> None:
    hosts = [
        Host(tmp_path, "cp-1", "c10e-0001", "52:54:00:00:00:01"),
        Host(tmp_path, "worker-1", "C10E-0001", "52:54:00:00:00:02"),  # same UUID, other case
        Host(tmp_path, "worker-2", "c10e-0003", "52:54:00:00:00:01"),  # same MAC
    ]
    identities = _identities(tmp_path, cfg, hosts)
    result = hosts[0].run(steps.unique_hosts(node(cfg, "cp-1")), stdin=identities)
    assert result.returncode != 0
    assert "cp-1 and worker-1 share product_uuid c10e-0001: give each (cloned) VM its own SMBIOS UUID" in result.stderr
    assert "cp-1 and worker-2 share MAC address 52:54:00:00:00:01: give each VM its own MAC address" in result.stderr


def test_unique_nodes_pass(tmp_path: Path, cfg: Any) -> None:
    hosts = [Host(tmp_path, "cp-1", "u-1", "52:54:00:00:00:01"), Host(tmp_path, "worker-1", "u-2", "52:54:00:00:00:02")]
    result = hosts[0].run(steps.unique_hosts(node(cfg, "cp-1")), stdin=_identities(tmp_path, cfg, hosts))
    assert result.returncode == 0, result.stderr
    assert "2 nodes have unique product_uuids and MAC addresses" in result.stderr


def test_unique_hosts_runs_before_init_and_every_join(rendered: Any) -> None:
    # Preflight is the first section of each node's prepare step; its identity line reaches the
    # unique-hosts step through the prepare steps' stdout, so unique-hosts waits for all of them.
    plan, _ = rendered("prod")
    by_name = {r["name"]: r for r in plan["resources"]}
    graph = Graph(plan["resources"])
    check = by_name["cp-1-unique-hosts"]
    prepares = [n for n in by_name if n.endswith("-prepare") and not n.startswith("lb-")]
    assert {by_name[n]["urn"] for n in prepares} <= set(check["depends_on"])
    assert check["urn"] in by_name["cp-1-kubeadm-init"]["depends_on"]
    assert graph.waits_for("cp-1-mint-join", "cp-1-unique-hosts")
    joins = [n for n in by_name if n.endswith("-kubeadm-join")]
    assert len(joins) == 5 and all(graph.waits_for(j, "cp-1-unique-hosts") for j in joins)


# --- 11. the NFS server's settings ------------------------------------------------------------------


def test_nfs_server_threads_from_config_and_v4_only(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "nfs-1")
    host.write("etc/default/nfs-kernel-server", "RPCNFSDCOUNT=8\nRPCMOUNTDOPTS=--manage-gids\n")
    settings: NfsConfig = cfg.nfs.model_copy(update={"server_threads": 128})
    result = host.run(server_script(settings, ["192.0.2.31"]))
    assert result.returncode == 0, result.stderr
    conf = (host.root / "etc/nfs.conf.d/jupyterhub-platform.conf").read_text()
    assert "[nfsd]\nthreads=128\nvers3=n\n" in conf
    assert "RPCNFSDCOUNT=128\n" in (host.root / "etc/default/nfs-kernel-server").read_text()
    for unit in ("rpcbind.service", "rpcbind.socket", "rpc-statd.service"):
        assert host.unit_state(unit)["enabled"] == "masked", unit
    assert "systemctl restart nfs-server" in host.calls()
    (host.sim / "calls").write_text("")
    assert host.run(server_script(settings, ["192.0.2.31"])).returncode == 0
    assert "systemctl restart nfs-server" not in host.calls()


def test_nfs_server_keeps_v3_and_rpcbind_for_v3_clients(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "nfs-1")
    settings: NfsConfig = cfg.nfs.model_copy(update={"mount_options": ["nfsvers=3", "hard"]})
    result = host.run(server_script(settings, ["192.0.2.31"]))
    assert result.returncode == 0, result.stderr
    assert "vers3=y" in (host.root / "etc/nfs.conf.d/jupyterhub-platform.conf").read_text()
    assert host.unit_state("rpcbind.service").get("enabled") != "masked"


def test_nfs_server_refuses_a_firewall_that_blocks_nfs(tmp_path: Path, cfg: Any) -> None:
    host = Host(tmp_path, "nfs-1")
    host.write(".sim/ufw", "Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere\n")
    result = host.run(server_script(cfg.nfs, ["192.0.2.31"]))
    assert result.returncode != 0
    expected = "the ufw firewall has no rule for 2049/tcp (NFS clients need it): ufw allow from <node network> to any port 2049"
    assert expected in result.stderr
    assert not (host.root / "etc/exports.d").exists()
