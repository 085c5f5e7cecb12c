"""Live failover: the generated haproxy.cfg in front of three local TLS "API servers"; one dies, no request fails.

Everything listens on 127.0.0.1 only; haproxy and the servers are always stopped in finalizers.
"""

from __future__ import annotations

import csv
import http.client
import io
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.haproxy_lb.haproxy_cfg import BACKEND_NAME, STATS_URI, render_haproxy_cfg
from components.haproxy_lb.keepalived import render_check_script
from config.cluster import LoadBalancerConfig
from tests.helpers import free_port, require_tool, self_signed_certificate

LOCALHOST = "127.0.0.1"
REQUESTS_AFTER_FAILURE = 200


class _ReadyzHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/readyz"
        body = b"ok" if ok else b"not found"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        super().__init__((LOCALHOST, port), _ReadyzHandler)
        self.context = context

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        # The handshake happens in the handler thread, so a slow client never blocks accept().
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # health checks close without a TLS close_notify; that is not an error here


@pytest.fixture
def api_servers(tmp_path: Path) -> Iterator[list[tuple[int, Callable[[], None]]]]:
    """Three TLS servers answering /readyz; each with a `stop` callable."""
    cert, key = self_signed_certificate(tmp_path, LOCALHOST)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers: list[_TlsServer] = []
    stopped: set[int] = set()

    def stopper(index: int) -> Callable[[], None]:
        def stop() -> None:
            if index not in stopped:
                stopped.add(index)
                servers[index].shutdown()
                servers[index].server_close()

        return stop

    try:
        for _ in range(3):
            server = _TlsServer(free_port(), context)
            servers.append(server)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        yield [(s.server_address[1], stopper(i)) for i, s in enumerate(servers)]
    finally:
        for i in range(len(servers)):
            stopper(i)()


@pytest.fixture
def start_haproxy(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    tool = require_tool("haproxy")
    procs: list[subprocess.Popen[str]] = []

    def start(cfg: str) -> subprocess.Popen[str]:
        path = tmp_path / "haproxy.cfg"
        path.write_text(cfg)
        proc = subprocess.Popen([tool, "-f", str(path), "-db"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _stats(stats_port: int) -> dict[str, dict[str, str]]:
    """Rows of the stats CSV of the API backend, by server name."""
    with urllib.request.urlopen(f"http://{LOCALHOST}:{stats_port}{STATS_URI};csv", timeout=2) as response:
        text = response.read().decode()
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {r["svname"]: r for r in rows if r["pxname"] == BACKEND_NAME and r["svname"] not in ("FRONTEND", "BACKEND")}


def _wait(what: str, predicate: Callable[[], bool], seconds: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"haproxy exited with {proc.returncode} while waiting for {what}:\n{output}")
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out after {seconds}s waiting for {what}")


def _readyz(port: int, context: ssl.SSLContext) -> bool:
    conn = http.client.HTTPSConnection(LOCALHOST, port, context=context, timeout=5)
    try:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        return response.status == 200 and response.read() == b"ok"
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _tracked_check(script: Path) -> int:
    return subprocess.run(["bash", str(script)], capture_output=True, timeout=10).returncode


def test_no_request_fails_when_an_api_server_dies(
    api_servers: list[tuple[int, Callable[[], None]]],
    start_haproxy: Callable[[str], subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    frontend, stats_port = free_port(), free_port()
    settings = LoadBalancerConfig(stats_port=stats_port, health_check_interval_ms=200)
    backends = [(f"cp-{i + 1}", LOCALHOST, port) for i, (port, _) in enumerate(api_servers)]
    cfg = render_haproxy_cfg(backends, LOCALHOST, frontend, settings, stats_bind=LOCALHOST)
    if os.geteuid() != 0:  # only root may switch to the haproxy user; the rest of the config is unchanged
        cfg = "\n".join(line for line in cfg.splitlines() if line.strip() not in ("user haproxy", "group haproxy"))
    proc = start_haproxy(cfg)
    _wait(
        "all API servers to pass their TLS /readyz check",
        lambda: all(r["check_status"] == "L7OK" and r["status"] == "UP" for r in _stats(stats_port).values()),
        10,
        proc,
    )
    client = ssl.create_default_context()
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    assert all(_readyz(frontend, client) for _ in range(30))

    api_servers[0][1]()  # cp-1 dies; haproxy has not noticed yet
    started = time.monotonic()
    failures = sum(not _readyz(frontend, client) for _ in range(REQUESTS_AFTER_FAILURE))
    elapsed = time.monotonic() - started

    _wait("cp-1 to be marked DOWN", lambda: _stats(stats_port)["cp-1"]["status"].startswith("DOWN"), 5, proc)
    stats = _stats(stats_port)
    assert failures == 0, f"{failures} of {REQUESTS_AFTER_FAILURE} requests failed in {elapsed:.1f}s"
    # The window before the check marked cp-1 down was really exercised: connects to it were redispatched.
    assert int(stats["cp-1"]["wredis"] or 0) > 0, stats["cp-1"]
    assert stats["cp-2"]["status"] == "UP" and stats["cp-3"]["status"] == "UP"

    # keepalived's tracked check passes while this HAProxy serves /readyz and fails once it is gone.
    require_tool("curl")
    check = tmp_path / "check_apiserver_lb.sh"
    check.write_text(render_check_script(frontend))
    assert _tracked_check(check) == 0
    proc.terminate()
    proc.wait(timeout=5)
    assert _tracked_check(check) != 0
