"""oauth2-proxy in front of one admin console: its command line and its Kubernetes objects (pure).

TLS ends at oauth2-proxy with the console's provided certificate (HAProxy passes 443 through by SNI, as
for the hubs), so cookies are `Secure` and no hop between the load balancer and the login sees plain
text. Port 80 only redirects to HTTPS. Secrets reach the container as environment variables from a
Secret (`OAUTH2_PROXY_CLIENT_SECRET`, `OAUTH2_PROXY_COOKIE_SECRET`), never on its command line.
oauth2-proxy's flags run one listener only once TLS is configured (HTTPS), so port 80 is answered by HAProxy
with a redirect to HTTPS (`HubRoute.http_port` None).
The same argument list is what the live test runs (tests/test_consoles_live.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROXY_LABEL = "app.kubernetes.io/name"
HTTPS_CONTAINER_PORT = 8443
TLS_DIR = "/etc/oauth2-proxy/tls"
CALLBACK_PATH = "/oauth2/callback"
SIGN_OUT_PATH = "/oauth2/sign_out"
CLIENT_SECRET_ENV = "OAUTH2_PROXY_CLIENT_SECRET"
COOKIE_SECRET_ENV = "OAUTH2_PROXY_COOKIE_SECRET"
# The distroless image runs as this user.
NONROOT_UID = 65532


@dataclass(frozen=True)
class ProxySettings:
    """Everything one console's oauth2-proxy needs, resolved from the validated config."""

    name: str
    host: str
    issuer: str
    client_id: str
    groups_claim: str
    scopes: tuple[str, ...]
    allowed_groups: tuple[str, ...]
    upstreams: tuple[str, ...]
    """`http://service:port/path`: requests under `path` go to that service (most specific path wins)."""
    session_hours: int
    refresh_minutes: int
    api_routes: tuple[str, ...] = ()
    """Path regexes of the app's API: no redirect to the login there, 401 instead."""

    @property
    def url(self) -> str:
        return f"https://{self.host}/"

    @property
    def logout_url(self) -> str:
        return f"https://{self.host}{SIGN_OUT_PATH}"

    @property
    def cookie_name(self) -> str:
        return f"_console_{self.name.replace('-', '_')}"

    @property
    def resource_name(self) -> str:
        return f"console-{self.name}"


def proxy_args(
    s: ProxySettings,
    *,
    https_address: str = f"0.0.0.0:{HTTPS_CONTAINER_PORT}",
    tls_dir: str = TLS_DIR,
) -> list[str]:
    """oauth2-proxy's command line (no secrets: those come from the environment)."""
    args = [
        "--provider=oidc",
        f"--oidc-issuer-url={s.issuer}",
        f"--client-id={s.client_id}",
        f"--redirect-url=https://{s.host}{CALLBACK_PATH}",
        f"--scope={' '.join(s.scopes)}",
        # PKCE on top of the client secret: a stolen authorization code is useless.
        "--code-challenge-method=S256",
        # Admission is by group only; any e-mail domain the provider vouches for may try.
        "--email-domain=*",
        f"--oidc-groups-claim={s.groups_claim}",
        *(f"--allowed-group={g}" for g in s.allowed_groups),
        *(f"--upstream={u}" for u in s.upstreams),
        # REST clients without a session get 401 instead of a login redirect they cannot follow.
        *(f"--api-route={r}" for r in s.api_routes),
        f"--https-address={https_address}",
        f"--tls-cert-file={tls_dir}/tls.crt",
        f"--tls-key-file={tls_dir}/tls.key",
        "--tls-min-version=TLS1.2",
        f"--cookie-name={s.cookie_name}",
        "--cookie-secure=true",
        "--cookie-httponly=true",
        "--cookie-samesite=lax",
        f"--cookie-expire={s.session_hours}h",
        f"--cookie-refresh={s.refresh_minutes}m",
        # Straight to the provider: the console has no page of its own before login.
        "--skip-provider-button=true",
        "--silence-ping-logging=true",
    ]
    return args


def _labels(s: ProxySettings) -> dict[str, str]:
    return {PROXY_LABEL: "oauth2-proxy", "app.kubernetes.io/instance": s.resource_name}


def deployment_manifest(s: ProxySettings, *, namespace: str, image: str, secret: str, tls_secret: str) -> dict[str, Any]:
    env = [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for var, key in ((CLIENT_SECRET_ENV, "client-secret"), (COOKIE_SECRET_ENV, "cookie-secret"))
    ]
    probe = {"httpGet": {"path": "/ping", "port": "https", "scheme": "HTTPS"}, "periodSeconds": 10, "timeoutSeconds": 3}
    container = {
        "name": "oauth2-proxy",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": proxy_args(s),
        "env": env,
        "ports": [
            {"name": "https", "containerPort": HTTPS_CONTAINER_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 6},
        "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": NONROOT_UID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": s.resource_name, "namespace": namespace, "labels": _labels(s)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": _labels(s)},
            "template": {
                "metadata": {"labels": _labels(s)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [container],
                    "volumes": [{"name": "tls", "secret": {"secretName": tls_secret}}],
                },
            },
        },
    }


def service_manifest(s: ProxySettings, *, namespace: str, https_node_port: int) -> dict[str, Any]:
    """NodePort for HAProxy only. `Local`: only the node running the proxy answers, so HAProxy's checks find it
    and the proxy sees the load balancer's address (TLS passes through HAProxy untouched)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": s.resource_name, "namespace": namespace, "labels": _labels(s)},
        "spec": {
            "type": "NodePort",
            "externalTrafficPolicy": "Local",
            "selector": _labels(s),
            "ports": [
                {"name": "https", "port": 443, "targetPort": "https", "nodePort": https_node_port, "protocol": "TCP"},
            ],
        },
    }


def namespace_manifest(namespace: str) -> dict[str, Any]:
    # The proxies need nothing privileged: enforce the restricted Pod Security profile.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
    }
