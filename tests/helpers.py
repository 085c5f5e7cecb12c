"""Test helpers shared by every test module."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT.parent / "shared" / "upstream"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of a command-line tool; skips naming the tool when it is missing (fails in CI)."""
    path = shutil.which(name) or (shutil.which(name, path="/usr/sbin:/sbin"))
    if path is None:
        message = f"{name} is not installed (bash tools/test.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_upstream(filename: str) -> Path:
    """A file from ../shared/upstream; skips when that folder is absent (fails in CI)."""
    path = UPSTREAM / filename
    if not path.is_file():
        message = f"{path} is missing (the shared/ folder must sit beside the project)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_upstream_yaml(filename: str) -> Any:
    return yaml.safe_load(require_upstream(filename).read_text())


def shellcheck(script: str, tmp_path: Path, name: str = "script.sh") -> None:
    """Fail with shellcheck's findings when the script has any."""
    tool = require_tool("shellcheck")
    target = tmp_path / name
    target.write_text(script)
    result = subprocess.run([tool, "-s", "bash", "-S", "style", str(target)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"shellcheck {name}:\n{result.stdout}{result.stderr}"


def stack_raw(stack: str) -> tuple[dict[str, Any], set[str]]:
    """Plain config and secret key names of a committed stack file."""
    from tools.render import read_stack_file

    return read_stack_file(ROOT / f"Pulumi.{stack}.yaml")


def run_stack(stack: str, stack_file: Path | None = None) -> Any:
    """Run a stack under mocks and return its `tools.mockrun.Recorder` (valid until the next run)."""
    from tools import render as render_tool

    cfg, _, secret_keys = render_tool.load_for_render(stack_file or ROOT / f"Pulumi.{stack}.yaml")
    return render_tool.render_plan(stack, cfg, secret_keys)


def check_golden(area: str, name: str, text: str) -> None:
    """Compare `text` with tests/golden/<area>/<name>; `UPDATE_GOLDEN=1` rewrites the file instead."""
    path = ROOT / "tests" / "golden" / area / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{area}/{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)"


def stack_platform(stack: str) -> Any:
    """The validated `PlatformConfig` of a committed stack (secrets not needed)."""
    from config.loader import load_platform

    raw, secret_keys = stack_raw(stack)
    return load_platform(raw, secret_keys, missing_secrets_ok=True)


def restic_params(job: str, repository: str, host_tag: str, forget_args: str = "") -> dict[str, str]:
    """The parameters backup-lib.sh expects (components/backup/targets.py) for an S3 target with the
    default paths, spelled out for the exact tests of the backup and restore steps."""
    return {
        "JOB": job,
        "REPOSITORY": repository,
        "HOST_TAG": host_tag,
        "RESTIC_ENV_FILE": "/etc/jupyterhub-platform/backup/restic.env",
        "RESTIC_SFTP_COMMAND": "",
        "METRICS_DIR": "/var/lib/prometheus/node-exporter",
        "STATE_DIR": "/var/lib/jupyterhub-platform/backup",
        "FORGET_ARGS": forget_args,
        "RESTIC": "restic",
        "RESTIC_TIMEOUT": "21600",
    }


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago (tests run beside others on this machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """`tls.crt` and `tls.key` in `folder`: a one-day EC certificate for `name` (an IP address or a
    DNS name, as its subject alternative name), for the live tests' TLS servers."""
    import datetime
    from ipaddress import ip_address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    try:
        alt_name: x509.GeneralName = x509.IPAddress(ip_address(name))
    except ValueError:
        alt_name = x509.DNSName(name)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@contextmanager
def moto_server() -> Iterator[str]:
    """A real moto_server (S3, SSM) on 127.0.0.1 for the duration; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def script_exports(text: str) -> dict[str, str]:
    """The `export K=V` header of a script rendered by `components.common.shell` (between `set -euo
    pipefail` and the shared lib.sh the renderer inlines next), read the way bash reads it, so a test
    compares every parameter a step gets."""
    from components.common.shell import COMMON_SCRIPTS, read_body

    start = text.index("set -euo pipefail\n\n") + len("set -euo pipefail\n\n")
    end = text.index("\n\n" + read_body(COMMON_SCRIPTS / "lib.sh"), start)
    words = [w for w in shlex.split(text[start:end]) if w != "export"]
    return dict(w.split("=", 1) for w in words)
