"""etcd round trip with Debian's etcd 3.4 (server and client) on 127.0.0.1 ephemeral ports: write keys,
run the project's snapshot job (restic to a local repository), wipe the data, run the project's restore
steps (static pods stop/start, member restore), read the keys back.

The round trip uses plain http; a second test runs the snapshot job over TLS with client certificate
authentication and kubeadm's file layout (`ca.crt`, `healthcheck-client.crt/key`). Debian 12 has etcd
3.4 and no etcdutl, so etcdctl checks and restores the snapshot here (the scripts prefer etcdutl where
it exists, as on etcd 3.6 hosts).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.backup import jobs, restore_steps
from tests.backup_helpers import backup_config, metrics, restic_json, restic_settings, run_script
from tests.helpers import free_port, require_tool


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


def _kubeadm_like_pki(pki: Path) -> None:
    """`ca.crt`, `server.crt/key` (127.0.0.1) and `healthcheck-client.crt/key`, as kubeadm lays out /etc/kubernetes/pki/etcd."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    pki.mkdir(parents=True)

    def write(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        (pki / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        (pki / f"{name}.key").write_bytes(pem)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etcd-ca")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    write("ca", ca, ca_key)
    for name, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH), ("healthcheck-client", ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"kube-etcd-{name}")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        )  # fmt: skip
        write(name, builder.sign(ca_key, hashes.SHA256()), key)


def test_snapshot_through_kubeadms_client_certificate(tmp_path: Path) -> None:
    require_tool("restic")
    require_tool("etcdctl")
    pki = tmp_path / "pki" / "etcd"
    _kubeadm_like_pki(pki)
    client = f"https://127.0.0.1:{free_port()}"
    peer = f"http://127.0.0.1:{free_port()}"
    args = [
        require_tool("etcd"), "--name", "cp-1", "--data-dir", str(tmp_path / "data"),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", f"cp-1={peer}",
        "--cert-file", str(pki / "server.crt"), "--key-file", str(pki / "server.key"),
        "--trusted-ca-file", str(pki / "ca.crt"), "--client-cert-auth",
    ]  # fmt: skip
    tls = [
        "--cacert",
        str(pki / "ca.crt"),
        "--cert",
        str(pki / "healthcheck-client.crt"),
        "--key",
        str(pki / "healthcheck-client.key"),
    ]
    env = dict(os.environ, ETCDCTL_API="3")
    with (tmp_path / "etcd.log").open("ab") as log:
        server = subprocess.Popen(args, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        ctl = ["etcdctl", "--endpoints", client, "--dial-timeout=2s", *tls]
        while subprocess.run([*ctl, "put", "/registry/k", "v"], env=env, capture_output=True, timeout=30).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "etcd.log").read_text()[-2000:]
            time.sleep(0.3)
        restic = restic_settings(tmp_path, str(tmp_path / "repo"), host="cp-1")
        snapshot = jobs.etcd_script(
            restic, backup_config(), endpoint=client, pki=str(pki), snapshot_dir=str(tmp_path / "snap"),
            etcdctl="etcdctl", etcdutl="etcdutl-not-installed",
        )  # fmt: skip
        assert f"export ETCD_CERT={pki}/healthcheck-client.crt" in snapshot.text
        run_script(snapshot, tmp_path)
        assert metrics(restic, "etcd")["jupyterhub_platform_backup_success"] == 1
        # Without the client certificate the server refuses: the job fails and says so to monitoring.
        no_cert = jobs.etcd_script(
            restic, backup_config(), endpoint=client, pki=str(tmp_path / "missing"), snapshot_dir=str(tmp_path / "snap"),
            etcdctl="etcdctl", etcdutl="etcdutl-not-installed",
        )  # fmt: skip
        failed = run_script(type(no_cert)(no_cert.name, no_cert.text.replace("600s", "3s")), tmp_path, check=False)
        assert failed.returncode != 0
        assert metrics(restic, "etcd")["jupyterhub_platform_backup_success"] == 0
        assert len(restic_json(restic, "snapshots")) == 1
    finally:
        server.terminate()
        server.wait(timeout=20)
