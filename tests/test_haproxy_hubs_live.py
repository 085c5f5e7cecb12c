"""Live: the rendered hub frontends in a real HAProxy on 127.0.0.1, in front of stub "node ports".

Each stub plays one node's NodePort of one hub: it reads the PROXY v2 header when the hub gets one,
terminates TLS (the 443 path is passthrough, so the stub holds the certificate, as the hub's proxy
does) and answers with its own identity and the client address it learned. Clients outside a hub's
allowlist connect from 127.0.0.2 (the whole 127/8 is loopback on Linux). Everything is stopped in
finalizers; every port is ephemeral.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import socketserver
import ssl
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from components.haproxy_lb.haproxy_cfg import STATS_URI, render_haproxy_cfg
from components.haproxy_lb.hub_routes import HubRoute, HubTiming, backend_name, render_hub_sections
from config.cluster import LoadBalancerConfig
from tests.helpers import free_port, self_signed_certificate
from tests.test_haproxy_live import LOCALHOST, _wait, start_haproxy  # noqa: F401 (fixture)

INSIDE, OUTSIDE = "127.0.0.1", "127.0.0.2"
PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
REQUESTS_AFTER_FAILURE = 100
HOSTS = {"teaching": "jupyter.example.org", "exam": "exam.example.org"}


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data


def _proxy_v2_source(sock: socket.socket) -> str:
    """Read a PROXY protocol v2 header (TCP over IPv4) and return the client address it carries."""
    head = _read_exactly(sock, 16)
    if head[:12] != PROXY_V2_SIGNATURE or head[12] != 0x21 or head[13] != 0x11:
        raise ConnectionError(f"not a PROXY v2 TCP4 header: {head!r}")
    body = _read_exactly(sock, int.from_bytes(head[14:16], "big"))
    return socket.inet_ntoa(body[:4])


def _read_request(stream: socket.socket | ssl.SSLSocket) -> dict[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the request ended")
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


class _NodePort(socketserver.ThreadingTCPServer):
    """One node's NodePort of one hub."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, identity: str, tls: ssl.SSLContext | None, proxy_protocol: bool) -> None:
        self.identity, self.tls, self.proxy_protocol = identity, tls, proxy_protocol
        super().__init__((INSIDE, 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # HAProxy's health checks connect and close: not an error


class _Handler(socketserver.BaseRequestHandler):
    server: _NodePort

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(5)
        source = _proxy_v2_source(sock) if self.server.proxy_protocol else "-"
        stream: socket.socket | ssl.SSLSocket = sock
        if self.server.tls is not None:
            stream = self.server.tls.wrap_socket(sock, server_side=True)
        headers = _read_request(stream)
        body = f"{self.server.identity} proxy={source} xff={headers.get('x-forwarded-for', '-')}".encode()
        stream.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def _https_get(port: int, sni: str | None, source: str = INSIDE) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((INSIDE, port), timeout=5, source_address=(source, 0))
    with raw, context.wrap_socket(raw, server_hostname=sni) as tls:
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
        return _read_all(tls)


def _http_get(port: int, host: str, source: str = INSIDE) -> str:
    with socket.create_connection((INSIDE, port), timeout=5, source_address=(source, 0)) as sock:
        sock.sendall(f"GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return _read_all(sock)


def _read_all(stream: socket.socket | ssl.SSLSocket) -> str:
    chunks = []
    while chunk := stream.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _refused(call: Callable[[], str]) -> bool:
    """The connection was closed or reset without any HTTP answer."""
    try:
        return call() == ""
    except (OSError, ssl.SSLError):
        return True


@pytest.fixture
def node_ports(tmp_path: Path) -> Iterator[dict[tuple[str, str], list[_NodePort]]]:
    """(hub, 'https'|'http') -> two stub node ports. teaching gets PROXY v2; exam gets X-Forwarded-For on 80."""
    cert, key = self_signed_certificate(tmp_path, LOCALHOST)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers: dict[tuple[str, str], list[_NodePort]] = {}
    for hub in HOSTS:
        proxy = hub == "teaching"
        servers[(hub, "https")] = [_NodePort(f"{hub}-https-node-{i}", context, proxy) for i in (1, 2)]
        servers[(hub, "http")] = [_NodePort(f"{hub}-http-node-{i}", None, proxy) for i in (1, 2)]
    every = [s for group in servers.values() for s in group]
    for server in every:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield servers
    finally:
        for server in every:
            server.shutdown()
            server.server_close()


def _config(servers: dict[tuple[str, str], list[_NodePort]], https_port: int, http_port: int, stats_port: int) -> str:
    routes = [
        HubRoute("teaching", HOSTS["teaching"], 30080, 30443, (("node-1", INSIDE), ("node-2", INSIDE)), 100, (), True),
        HubRoute(
            "exam", HOSTS["exam"], 30081, 30444, (("node-1", INSIDE), ("node-2", INSIDE)), 100, (f"{INSIDE}/32",), False, True
        ),
    ]
    text = render_hub_sections(routes, INSIDE, https_port=https_port, http_port=http_port, timing=HubTiming(3600, 200))
    # The rendered servers share one NodePort per hub (as real nodes do); on one loopback host each stub
    # node needs its own port, so exactly the rendered server lines get their stub's port.
    for hub in HOSTS:
        for kind, node_port in (
            ("https", 30443 if hub == "teaching" else 30444),
            ("http", 30080 if hub == "teaching" else 30081),
        ):
            for i, stub in enumerate(servers[(hub, kind)], start=1):
                old = f"server node-{i} {INSIDE}:{node_port} check"
                assert text.count(old) == 1, old
                text = text.replace(old, f"server node-{i} {INSIDE}:{stub.server_address[1]} check")
    settings = LoadBalancerConfig(stats_port=stats_port, health_check_interval_ms=200)
    api = [("cp-1", INSIDE, free_port())]  # the API part is not exercised here
    cfg = render_haproxy_cfg(api, INSIDE, free_port(), settings, stats_bind=INSIDE, hub_sections=text, maxconn=5000)
    if os.geteuid() != 0:  # only root may switch to the haproxy user
        cfg = "\n".join(line for line in cfg.splitlines() if line.strip() not in ("user haproxy", "group haproxy"))
    return cfg


def _hub_stats(stats_port: int) -> dict[tuple[str, str], dict[str, str]]:
    with urllib.request.urlopen(f"http://{INSIDE}:{stats_port}{STATS_URI};csv", timeout=2) as response:
        text = response.read().decode()
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {(r["pxname"], r["svname"]): r for r in rows if r["pxname"].startswith("hub-")}


def test_hubs_are_routed_by_name_restricted_and_survive_a_dead_node(
    node_ports: dict[tuple[str, str], list[_NodePort]],
    start_haproxy: Callable[[str], subprocess.Popen[str]],  # noqa: F811 (fixture)
) -> None:
    https_port, http_port, stats_port = free_port(), free_port(), free_port()
    proc = start_haproxy(_config(node_ports, https_port, http_port, stats_port))
    backends = [backend_name(h, kind) for h in HOSTS for kind in ("https", "http")]

    def all_up() -> bool:
        stats = _hub_stats(stats_port)
        servers = [r for (px, sv), r in stats.items() if sv not in ("FRONTEND", "BACKEND")]
        return len(servers) == 8 and all(r["status"] == "UP" for r in servers)

    _wait("every hub node port to pass its check", all_up, 10, proc)
    # The stats page lists every hub backend.
    assert {px for px, _ in _hub_stats(stats_port)} == set(backends)

    # 443: each name reaches its own hub; teaching learns the client over PROXY v2.
    teaching = _https_get(https_port, HOSTS["teaching"])
    assert "200 OK" in teaching and "teaching-https-node-" in teaching and f"proxy={INSIDE}" in teaching
    exam = _https_get(https_port, HOSTS["exam"])
    assert "exam-https-node-" in exam and "proxy=-" in exam
    # 80: routed by Host (port in the header ignored); exam gets X-Forwarded-For, teaching PROXY v2.
    assert "teaching-http-node-" in (answer := _http_get(http_port, HOSTS["teaching"] + ":80")) and f"proxy={INSIDE}" in answer
    assert "exam-http-node-" in (answer := _http_get(http_port, HOSTS["exam"])) and f"xff={INSIDE}" in answer

    # Unknown or missing names are refused: no default hub.
    assert _refused(lambda: _https_get(https_port, "other.example.org"))
    assert _refused(lambda: _https_get(https_port, None))
    assert " 404 " in _http_get(http_port, "other.example.org").split("\r\n")[0] + " "

    # The exam hub admits only its allowlist (127.0.0.1/32), on both ports; teaching is open to all.
    assert _refused(lambda: _https_get(https_port, HOSTS["exam"], source=OUTSIDE))
    assert _http_get(http_port, HOSTS["exam"], source=OUTSIDE).startswith("HTTP/1.1 403")
    assert f"proxy={OUTSIDE}" in _https_get(https_port, HOSTS["teaching"], source=OUTSIDE)

    # One node dies before HAProxy notices: retries on the other node lose no request on either port.
    for stub in (node_ports[("teaching", "https")][0], node_ports[("teaching", "http")][0]):
        stub.shutdown()
        stub.server_close()
    failures = 0
    for _ in range(REQUESTS_AFTER_FAILURE):
        failures += "teaching-https-node-2" not in _https_get(https_port, HOSTS["teaching"])
        failures += "teaching-http-node-2" not in _http_get(http_port, HOSTS["teaching"])
    assert failures == 0, f"{failures} of {2 * REQUESTS_AFTER_FAILURE} requests failed"
    _wait(
        "the dead node to be marked DOWN",
        lambda: _hub_stats(stats_port)[(backend_name("teaching", "https"), "node-1")]["status"].startswith("DOWN"),
        5,
        proc,
    )
    stats = _hub_stats(stats_port)
    assert int(stats[(backend_name("teaching", "https"), "node-1")]["wredis"] or 0) > 0  # the window was exercised


def test_a_host_without_a_port_80_backend_is_redirected_to_https(
    start_haproxy: Callable[[str], subprocess.Popen[str]],  # noqa: F811 (fixture)
) -> None:
    """An admin console (oauth2-proxy serves HTTPS only): HAProxy answers its port 80 itself, after the allowlist."""
    https_port, http_port, stats_port = free_port(), free_port(), free_port()
    console = HubRoute("console-yunikorn", "queues.example.org", None, free_port(), (("node-1", INSIDE),), 100, (f"{INSIDE}/32",))
    text = render_hub_sections([console], INSIDE, https_port=https_port, http_port=http_port, timing=HubTiming(3600, 200))
    settings = LoadBalancerConfig(stats_port=stats_port, health_check_interval_ms=200)
    cfg = render_haproxy_cfg(
        [("cp-1", INSIDE, free_port())], INSIDE, free_port(), settings, stats_bind=INSIDE, hub_sections=text, maxconn=5000
    )
    if os.geteuid() != 0:
        cfg = "\n".join(line for line in cfg.splitlines() if line.strip() not in ("user haproxy", "group haproxy"))
    proc = start_haproxy(cfg)
    _wait("the HTTP frontend", lambda: _http_get(http_port, "other.example.org").startswith("HTTP/1.1 404"), 10, proc)
    answer = _http_get(http_port, "queues.example.org")
    assert answer.startswith("HTTP/1.1 308")
    assert "\r\nlocation: https://queues.example.org/.well-known/acme-challenge/x\r\n" in answer.lower()
    assert _http_get(http_port, "queues.example.org", source=OUTSIDE).startswith("HTTP/1.1 403")
