"""Live: the real oauth2-proxy (built from its Go module by tools/build_oauth2_proxy.sh) with the command
line the platform renders, in front of a stub console on 127.0.0.1, logging in against a local OIDC
issuer (tests/oidc_issuer.py). Ephemeral loopback ports only.

Checked: no session -> redirect to the issuer's login (and 401 on the REST API); an admin reaches the
console and its REST API; a user outside the groups gets 403 and never reaches it; forged, tampered and
expired cookies are refused; the session cookie is Secure, HttpOnly and lasts the session length;
logout clears it. (Port 80 is HAProxy's redirect, checked in tests/test_consoles_render.py.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from components.consoles.proxy import CLIENT_SECRET_ENV, COOKIE_SECRET_ENV, ProxySettings, proxy_args
from config.consoles import OAUTH2_PROXY_VERSION
from tests.helpers import free_port, self_signed_certificate
from tests.oidc_issuer import Issuer, User, start_issuer

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jupyterhub-platform" / "oauth2-proxy"
BINARY = CACHE / OAUTH2_PROXY_VERSION / "oauth2-proxy"
HOST = "console.test"
COOKIE = "_console_yunikorn"
COOKIE_SECRET = "Q7rT2vX9kLm4Np8Zs3Wd6Hy1Bc5Fg0Jq"  # 32 letters and digits, like the stack's RandomPassword
CLIENT_SECRET = "test-client-secret"
ADMIN = User("alice", "alice@example.org", ["platform-admins", "staff"])
OUTSIDER = User("bob", "bob@example.org", ["students"])
SESSION_HOURS = 8

pytestmark = pytest.mark.skipif(
    not BINARY.exists(), reason=f"oauth2-proxy {OAUTH2_PROXY_VERSION} not built: run tools/build_oauth2_proxy.sh"
)


@dataclass
class Stub:
    """The console stand-in: records what reaches it."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _start_stub(stub: Stub) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            stub.requests.append((self.path, dict(self.headers.items())))
            body = f"console stub: {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Response:
    status: int
    location: str
    cookies: dict[str, str]
    set_cookie: list[str]
    body: str


@dataclass
class Proxy:
    https_port: int
    tls: ssl.SSLContext
    issuer: Issuer
    stub: Stub

    def get(self, path: str, cookies: dict[str, str] | None = None, *, html: bool = True) -> Response:
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10, context=self.tls)
        headers = {"Host": HOST, "Accept": "text/html" if html else "application/json"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            set_cookie = resp.headers.get_all("Set-Cookie") or []
            jar = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in set_cookie}
            return Response(resp.status, resp.headers.get("Location", ""), jar, set_cookie, resp.read().decode(errors="replace"))
        finally:
            conn.close()

    def login(self, user: User) -> tuple[Response, dict[str, str]]:
        """The browser's dance: console -> issuer (logs `user` in) -> callback. Returns the callback's answer."""
        start = self.get("/")
        assert start.status == 302 and start.location.startswith(f"{self.issuer.url}/authorize?"), start
        self.issuer.login_as = user
        authorize = urlsplit(start.location)
        conn = http.client.HTTPConnection(authorize.hostname or "", authorize.port, timeout=10)
        try:
            conn.request("GET", f"{authorize.path}?{authorize.query}")
            answer = conn.getresponse()
            callback = answer.headers.get("Location", "")
            answer.read()
        finally:
            conn.close()
        assert answer.status == 302 and callback.startswith(f"https://{HOST}/oauth2/callback?"), callback
        url = urlsplit(callback)
        return self.get(f"{url.path}?{url.query}", start.cookies), start.cookies


def _settings(issuer: Issuer, stub_port: int) -> ProxySettings:
    stub = f"http://127.0.0.1:{stub_port}"
    return ProxySettings(
        name="yunikorn",
        host=HOST,
        issuer=issuer.url,
        client_id=issuer.client_id,
        groups_claim="groups",
        scopes=("openid", "profile", "email"),
        allowed_groups=("platform-admins",),
        upstreams=(f"{stub}/", f"{stub}/ws/"),
        session_hours=SESSION_HOURS,
        refresh_minutes=30,
        api_routes=("^/ws/",),
    )


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"oauth2-proxy exited {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"oauth2-proxy did not listen on {port} within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp(f"consoles-{os.getpid()}")
    cert, _ = self_signed_certificate(tmp, HOST)
    issuer = Issuer(client_id="platform-consoles", client_secret=CLIENT_SECRET)
    issuer_server = start_issuer(issuer)
    stub = Stub()
    stub_server = _start_stub(stub)
    https_port = free_port()
    args = proxy_args(
        _settings(issuer, stub_server.server_address[1]),
        https_address=f"127.0.0.1:{https_port}",
        tls_dir=str(tmp),
    )
    # Secrets as the pod gets them: environment variables, not the command line.
    env = {"PATH": os.environ.get("PATH", ""), CLIENT_SECRET_ENV: CLIENT_SECRET, COOKIE_SECRET_ENV: COOKIE_SECRET}
    log = tmp / "oauth2-proxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BINARY), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, https_port, log)
        tls = ssl.create_default_context(cafile=str(cert))
        tls.check_hostname = False  # the certificate names console.test; we connect to 127.0.0.1
        tls.verify_flags &= ~ssl.VERIFY_X509_STRICT  # a bare self-signed test certificate (no key identifiers)
        yield Proxy(https_port, tls, issuer, stub)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        issuer_server.shutdown()
        stub_server.shutdown()


def _sign(value: str, timestamp: str, secret: str) -> str:
    """oauth2-proxy's cookie signature: HMAC-SHA256(secret, name + value + timestamp), URL-safe base64."""
    mac = hmac.new(secret.encode(), (COOKIE + value + timestamp).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()


@pytest.fixture(scope="module")
def admin_cookie(proxy: Proxy) -> dict[str, str]:
    callback, _ = proxy.login(ADMIN)
    assert callback.status == 302, callback
    assert COOKIE in callback.cookies, callback.set_cookie
    return {COOKIE: callback.cookies[COOKIE]}


def test_no_session_redirects_to_the_login(proxy: Proxy) -> None:
    before = len(proxy.stub.requests)
    start = proxy.get("/")
    assert start.status == 302
    login = urlsplit(start.location)
    assert f"{login.scheme}://{login.netloc}" == proxy.issuer.url and login.path == "/authorize"
    assert "code_challenge_method=S256" in login.query and f"redirect_uri=https%3A%2F%2F{HOST}%2Foauth2%2Fcallback" in login.query
    # The REST API answers 401 instead of a redirect a script cannot follow.
    assert proxy.get("/ws/v1/queues", html=False).status == 401
    assert len(proxy.stub.requests) == before


def test_admin_reaches_the_console_and_its_api(proxy: Proxy, admin_cookie: dict[str, str]) -> None:
    page = proxy.get("/", admin_cookie)
    assert page.status == 200 and page.body == "console stub: /"
    api = proxy.get("/ws/v1/queues", admin_cookie, html=False)
    assert api.status == 200 and api.body == "console stub: /ws/v1/queues"
    path, headers = proxy.stub.requests[-1]
    assert path == "/ws/v1/queues"
    assert headers.get("X-Forwarded-Email") == ADMIN.email
    # The client secret travelled to the token endpoint (the issuer refuses a wrong one).
    assert proxy.issuer.tokens_issued >= 1


def test_session_cookie_is_secure_and_expires(proxy: Proxy) -> None:
    callback, _ = proxy.login(ADMIN)
    header = next(c for c in callback.set_cookie if c.startswith(f"{COOKIE}="))
    attributes = {a.strip().split("=", 1)[0].lower(): a.strip().partition("=")[2] for a in header.split(";")[1:]}
    assert "secure" in attributes and "httponly" in attributes and attributes["samesite"].lower() == "lax"
    # The browser drops it after the session length; the server refuses older cookies anyway (test below).
    assert int(attributes["max-age"]) == SESSION_HOURS * 3600


def test_user_outside_the_groups_gets_403(proxy: Proxy) -> None:
    before = len(proxy.stub.requests)
    callback, _ = proxy.login(OUTSIDER)
    assert callback.status == 403
    assert COOKIE not in callback.cookies
    assert len(proxy.stub.requests) == before


def test_forged_and_stale_cookies_are_refused(proxy: Proxy, admin_cookie: dict[str, str]) -> None:
    value, timestamp, _ = admin_cookie[COOKIE].split("|")
    # Control: re-signing the real value with the real secret is accepted, so the forgeries below are
    # refused for their signature or age, not for a malformed cookie.
    assert proxy.get("/", {COOKIE: f"{value}|{timestamp}|{_sign(value, timestamp, COOKIE_SECRET)}"}).status == 200
    before = len(proxy.stub.requests)
    wrong_key = "x" * 32
    forgeries = {
        "signed with another secret": f"{value}|{timestamp}|{_sign(value, timestamp, wrong_key)}",
        "tampered payload": f"{value[:-4]}AAAA|{timestamp}|{_sign(value, timestamp, COOKIE_SECRET)}",
        "made-up session": f"{base64.urlsafe_b64encode(b'alice@example.org').decode()}|{timestamp}|"
        f"{_sign(base64.urlsafe_b64encode(b'alice@example.org').decode(), timestamp, wrong_key)}",
    }
    stale = str(int(timestamp) - (SESSION_HOURS + 1) * 3600)
    forgeries["older than the session (correctly signed)"] = f"{value}|{stale}|{_sign(value, stale, COOKIE_SECRET)}"
    for what, cookie in forgeries.items():
        answer = proxy.get("/", {COOKIE: cookie})
        assert answer.status == 302 and answer.location.startswith(f"{proxy.issuer.url}/authorize?"), what
        assert proxy.get("/ws/v1/queues", {COOKIE: cookie}, html=False).status == 401, what
    assert len(proxy.stub.requests) == before


def test_logout_clears_the_session_cookie(proxy: Proxy, admin_cookie: dict[str, str]) -> None:
    answer = proxy.get("/oauth2/sign_out", admin_cookie)
    assert answer.status == 302
    cleared = next(c for c in answer.set_cookie if c.startswith(f"{COOKIE}="))
    assert cleared.split(";", 1)[0] == f"{COOKIE}=" and "Max-Age=0" in cleared.split("; ")
