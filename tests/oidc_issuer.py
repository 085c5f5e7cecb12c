"""A small OpenID Connect issuer on 127.0.0.1 for the consoles' live test (not a fake of oauth2-proxy: the
real proxy talks to it). Discovery, JWKS, authorize (logs in whichever user the test chose, no form),
token (checks the client secret and PKCE) and userinfo; ID tokens are RS256 JWTs signed here with
`cryptography` and carry a groups claim.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KID = "test-key-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class User:
    sub: str
    email: str
    groups: list[str]


@dataclass
class Issuer:
    """State of the issuer; `login_as` is who the next authorize request logs in."""

    client_id: str
    client_secret: str
    groups_claim: str = "groups"
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    login_as: User | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": b64url(n), "e": b64url(e)}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def claims(self, user: User, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": user.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "email": user.email,
            "email_verified": True,
            "preferred_username": user.sub,
            self.groups_claim: user.groups,
        }
        if nonce:
            claims["nonce"] = nonce
        return claims


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, issuer.discovery())
            elif url.path == "/jwks":
                self._json(200, issuer.jwks())
            elif url.path == "/authorize":
                self._authorize(query)
            elif url.path == "/userinfo":
                self._userinfo()
            else:
                self._json(404, {"error": "not_found"})

        def _authorize(self, query: dict[str, str]) -> None:
            user = issuer.login_as
            if user is None or query.get("client_id") != issuer.client_id or query.get("response_type") != "code":
                self._json(400, {"error": "invalid_request"})
                return
            code = secrets.token_urlsafe(16)
            with issuer.lock:
                issuer.codes[code] = {
                    "user": user,
                    "nonce": query.get("nonce"),
                    "challenge": query.get("code_challenge"),
                    "redirect_uri": query["redirect_uri"],
                }
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
            self.end_headers()

        def _userinfo(self) -> None:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            with issuer.lock:
                user = next((c["user"] for c in issuer.codes.values() if c.get("access_token") == token), None)
            if user is None:
                self._json(401, {"error": "invalid_token"})
                return
            self._json(200, issuer.claims(user, None))

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            if client_id != issuer.client_id or client_secret != issuer.client_secret:
                self._json(401, {"error": "invalid_client"})
                return
            with issuer.lock:
                grant = issuer.codes.get(form.get("code", ""))
                if grant is None or "access_token" in grant or form.get("redirect_uri") != grant["redirect_uri"]:
                    self._json(400, {"error": "invalid_grant"})
                    return
                verifier = form.get("code_verifier", "")
                if grant["challenge"] and b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                    self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                    return
                grant["access_token"] = secrets.token_urlsafe(24)
                issuer.tokens_issued += 1
            self._json(
                200,
                {
                    "access_token": grant["access_token"],
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": issuer.sign(issuer.claims(grant["user"], grant["nonce"])),
                },
            )

    return Handler


def start_issuer(issuer: Issuer) -> ThreadingHTTPServer:
    """Serve `issuer` on an ephemeral loopback port (sets `issuer.url`); the caller shuts it down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
