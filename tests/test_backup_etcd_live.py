"""etcd round trip with Debian's etcd 3.4 (server and client) on 127.0.0.1 ephemeral ports: write keys,
run the project's snapshot job (restic to a local repository), wipe the data, run the project's restore
steps (static pods stop/start, member restore), read the keys back.

Differences from a kubeadm host, on purpose: plain http instead of kubeadm's client certificates (the
TLS flags are rendered only with a PKI directory), and etcdctl 3.4 checks and restores the snapshot
since Debian 12 has no etcdutl (the script prefers etcdutl where it exists, as on 3.6 hosts).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.backup import jobs, restore_steps
from tests.backup_helpers import backup_config, free_port, metrics, restic_json, restic_settings, run_script
from tests.helpers import require_tool


class LocalEtcd:
    """One etcd member on loopback; start/stop on the same data directory and ports."""

    def __init__(self, tmp: Path) -> None:
        self.data_dir = tmp / "etcd-data"
        self.client = f"http://127.0.0.1:{free_port()}"
        self.peer = f"http://127.0.0.1:{free_port()}"
        self.name = "cp-test"
        self.log = tmp / "etcd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def initial_cluster(self) -> str:
        return f"{self.name}={self.peer}"

    def start(self) -> None:
        args = [
            require_tool("etcd"), "--name", self.name, "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client, "--advertise-client-urls", self.client,
            "--listen-peer-urls", self.peer, "--initial-advertise-peer-urls", self.peer,
            "--initial-cluster", self.initial_cluster,
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while self.ctl("endpoint", "health", check=False).returncode != 0:
            assert self.process.poll() is None, f"etcd exited:\n{self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "etcd did not become healthy in 30 s"
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run(
            ["etcdctl", "--endpoints", self.client, "--dial-timeout=2s", "--command-timeout=5s", *args],
            env=env, capture_output=True, text=True, timeout=30, check=check,
        )  # fmt: skip


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[LocalEtcd]:
    require_tool("etcdctl")
    server = LocalEtcd(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_snapshot_wipe_restore_reads_keys_back(etcd: LocalEtcd, tmp_path: Path) -> None:
    require_tool("restic")
    repo = tmp_path / "repo"
    restic = restic_settings(tmp_path, str(repo), host="cp-test")
    keys = {f"/registry/configmaps/default/cm-{i}": f"value-{i}" for i in range(25)}
    for key, value in keys.items():
        etcd.ctl("put", key, value)

    snapshot = jobs.etcd_script(
        restic, backup_config(), endpoint=etcd.client, pki=None, snapshot_dir=str(tmp_path / "snap"),
        etcdctl="etcdctl", etcdutl="etcdutl-not-installed",
    )  # fmt: skip
    run_script(snapshot, tmp_path)
    first = restic_json(restic, "snapshots")
    run_script(snapshot, tmp_path)  # a second run: a new snapshot, and retention (24 hourly...) keeps
    snapshots = restic_json(restic, "snapshots")  # only the newest of this hour
    assert len(first) == 1 and len(snapshots) == 1
    assert snapshots[0]["id"] != first[0]["id"] and snapshots[0]["parent"] == first[0]["id"]
    assert all(s["hostname"] == "cp-test" and s["tags"] == ["etcd"] for s in snapshots)
    job = metrics(restic, "etcd")
    assert job["jupyterhub_platform_backup_success"] == 1
    assert job["jupyterhub_platform_backup_size_bytes"] > 0
    assert job["jupyterhub_platform_backup_last_success_timestamp_seconds"] >= time.time() - 120

    # The restore runbook's steps: stop the static pods, restore the member, start them again.
    manifests, stopped = tmp_path / "manifests", tmp_path / "stopped"
    manifests.mkdir()
    for pod in ("kube-apiserver", "etcd"):
        (manifests / f"{pod}.yaml").write_text(f"# {pod}\n")
    stop = restore_steps.static_pods_script("stop", manifest_dir=str(manifests), stopped_dir=str(stopped))
    run_script(stop, tmp_path)
    run_script(stop, tmp_path)  # idempotent
    assert sorted(p.name for p in stopped.iterdir()) == ["etcd.yaml", "kube-apiserver.yaml"]
    assert not list(manifests.iterdir())

    etcd.stop()
    original = etcd.data_dir
    subprocess.run(["rm", "-rf", str(original)], check=True, timeout=30)  # the disaster
    restore = restore_steps.etcd_member_script(
        restic, snapshot_id=snapshots[-1]["id"], member=etcd.name, initial_cluster=etcd.initial_cluster,
        peer_url=etcd.peer, data_dir=str(original), restore_dir=str(tmp_path / "restore"),
        etcdctl="etcdctl", etcdutl="etcdutl-not-installed",
    )  # fmt: skip
    run_script(restore, tmp_path)
    again = run_script(restore, tmp_path)
    assert "already restored" in again.stderr

    health = f"ETCDCTL_API=3 etcdctl --endpoints {etcd.client} --dial-timeout=2s endpoint health"
    start = restore_steps.static_pods_script(
        "start", manifest_dir=str(manifests), stopped_dir=str(stopped), wait_seconds=60, health_check=health
    )
    etcd.start()
    run_script(start, tmp_path)
    assert sorted(p.name for p in manifests.iterdir()) == ["etcd.yaml", "kube-apiserver.yaml"]
    for key, value in keys.items():
        assert etcd.ctl("get", key, "--print-value-only").stdout.strip() == value


def test_failed_snapshot_is_reported_to_monitoring(tmp_path: Path) -> None:
    require_tool("restic")
    require_tool("etcdctl")
    restic = restic_settings(tmp_path, str(tmp_path / "repo"), host="cp-test")
    unreachable = f"http://127.0.0.1:{free_port()}"
    script = jobs.etcd_script(
        restic, backup_config(), endpoint=unreachable, pki=None, snapshot_dir=str(tmp_path / "snap"),
        etcdctl="etcdctl", etcdutl="etcdutl-not-installed",
    )  # fmt: skip
    script = type(script)(script.name, script.text.replace("--command-timeout=600s", "--command-timeout=3s"))
    result = run_script(script, tmp_path, check=False, timeout=120)
    assert result.returncode != 0
    job = metrics(restic, "etcd")
    assert job["jupyterhub_platform_backup_success"] == 0
    assert job["jupyterhub_platform_backup_last_success_timestamp_seconds"] == 0
    assert not (tmp_path / "snap" / "etcd-snapshot.db").exists()
