"""oauth2-proxy renderers compared whole: the exact command line (every flag, in order), the Deployment,
Service and Namespace, and what `proxy_settings` resolves from a config. The security settings are all
here: PKCE, TLS 1.2 minimum, Secure/HttpOnly cookies, secrets only from a Secret, a non-root read-only
container without capabilities, no service-account token, the restricted Pod Security profile."""

from __future__ import annotations

import copy

import pytest

from components.consoles.proxy import (
    ProxySettings,
    deployment_manifest,
    namespace_manifest,
    proxy_args,
    service_manifest,
)
from components.consoles.settings import console_routes, proxy_settings, upstreams
from components.haproxy_lb.hub_routes import HubRoute
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

SETTINGS = ProxySettings(
    name="yk-ops",
    host="yk.example.org",
    issuer="https://idp.example.org/realms/uni",
    client_id="consoles",
    groups_claim="roles",
    scopes=("openid", "groups"),
    allowed_groups=("admins", "ops"),
    upstreams=("http://a.svc:1/", "http://b.svc:2/ws/"),
    session_hours=8,
    refresh_minutes=30,
    api_routes=("^/ws/", "^/api/"),
)
LABELS = {"app.kubernetes.io/name": "oauth2-proxy", "app.kubernetes.io/instance": "console-yk-ops"}


def test_derived_names_and_urls() -> None:
    assert (SETTINGS.url, SETTINGS.logout_url) == ("https://yk.example.org/", "https://yk.example.org/oauth2/sign_out")
    assert (SETTINGS.cookie_name, SETTINGS.resource_name) == ("_console_yk_ops", "console-yk-ops")


def test_the_whole_command_line() -> None:
    assert proxy_args(SETTINGS) == [
        "--provider=oidc",
        "--oidc-issuer-url=https://idp.example.org/realms/uni",
        "--client-id=consoles",
        "--redirect-url=https://yk.example.org/oauth2/callback",
        "--scope=openid groups",
        "--code-challenge-method=S256",
        "--email-domain=*",
        "--oidc-groups-claim=roles",
        "--allowed-group=admins",
        "--allowed-group=ops",
        "--upstream=http://a.svc:1/",
        "--upstream=http://b.svc:2/ws/",
        "--api-route=^/ws/",
        "--api-route=^/api/",
        "--https-address=0.0.0.0:8443",
        "--tls-cert-file=/etc/oauth2-proxy/tls/tls.crt",
        "--tls-key-file=/etc/oauth2-proxy/tls/tls.key",
        "--tls-min-version=TLS1.2",
        "--cookie-name=_console_yk_ops",
        "--cookie-secure=true",
        "--cookie-httponly=true",
        "--cookie-samesite=lax",
        "--cookie-expire=8h",
        "--cookie-refresh=30m",
        "--skip-provider-button=true",
        "--silence-ping-logging=true",
    ]
    local = proxy_args(SETTINGS, https_address="127.0.0.1:0", tls_dir="/tmp/tls")
    assert "--https-address=127.0.0.1:0" in local and "--tls-cert-file=/tmp/tls/tls.crt" in local
    assert "--tls-key-file=/tmp/tls/tls.key" in local


def test_the_whole_deployment() -> None:
    probe = {"httpGet": {"path": "/ping", "port": "https", "scheme": "HTTPS"}, "periodSeconds": 10, "timeoutSeconds": 3}
    container = {
        "name": "oauth2-proxy",
        "image": "quay.io/oauth2-proxy/oauth2-proxy:v1",
        "imagePullPolicy": "IfNotPresent",
        "args": proxy_args(SETTINGS),
        "env": [
            {"name": "OAUTH2_PROXY_CLIENT_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "client-secret"}}},
            {"name": "OAUTH2_PROXY_COOKIE_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "cookie-secret"}}},
        ],
        "ports": [{"name": "https", "containerPort": 8443, "protocol": "TCP"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 6},
        "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tls", "mountPath": "/etc/oauth2-proxy/tls", "readOnly": True}],
    }
    manifest = deployment_manifest(
        SETTINGS, namespace="consoles", image="quay.io/oauth2-proxy/oauth2-proxy:v1", secret="s", tls_secret="t"
    )
    assert manifest == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "console-yk-ops", "namespace": "consoles", "labels": LABELS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [container],
                    "volumes": [{"name": "tls", "secret": {"secretName": "t"}}],
                },
            },
        },
    }


def test_the_service_and_namespace() -> None:
    assert service_manifest(SETTINGS, namespace="consoles", https_node_port=31443) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "console-yk-ops", "namespace": "consoles", "labels": LABELS},
        "spec": {
            "type": "NodePort",
            "externalTrafficPolicy": "Local",
            "selector": LABELS,
            "ports": [{"name": "https", "port": 443, "targetPort": "https", "nodePort": 31443, "protocol": "TCP"}],
        },
    }
    assert namespace_manifest("consoles") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "consoles", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
    }


def platform(lbs: bool = True, existing: bool = False) -> PlatformConfig:
    inventory = copy.deepcopy(INVENTORY)
    inventory["nodes"][1]["taints"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    if lbs:
        inventory["nodes"].append({"name": "lb-1", "address": "192.0.2.11", "roles": ["load-balancer"]})
    console = {
        "name": "yk",
        "app": "yunikorn",
        "host": "yk.example.org",
        "https_node_port": 31443,
        "allowed_networks": ["198.51.100.0/24"],
    }
    raw = {
        "inventory": inventory,
        "hubs": [copy.deepcopy(HUB)],
        "scheduler": {"namespace": "sched"},
        "consoles": {
            "identity": {"hub": "teaching", "client_id": "consoles"},
            "admin_groups": ["ops"],
            "apps": [console],
            "session_hours": 4,
            "refresh_minutes": 0,
        },
    }
    if existing:
        raw["cluster"] = {"mode": "existing"}
    return PlatformConfig.model_validate(raw)


def test_proxy_settings_from_the_config() -> None:
    cfg = platform()
    assert cfg.consoles is not None
    console = cfg.consoles.apps[0]
    assert upstreams(cfg, console) == (
        "http://yunikorn-service.sched.svc:9889/",
        "http://yunikorn-service.sched.svc:9080/ws/",
    )
    assert proxy_settings(cfg, cfg.consoles, console) == ProxySettings(
        name="yk",
        host="yk.example.org",
        issuer="https://idp.example.org/realms/uni",
        client_id="consoles",
        groups_claim="groups",
        scopes=("openid", "profile", "email"),
        allowed_groups=("ops",),
        upstreams=upstreams(cfg, console),
        session_hours=4,
        refresh_minutes=0,
        api_routes=("^/ws/",),
    )


def test_console_routes_pass_tls_through_to_the_untainted_nodes() -> None:
    assert console_routes(platform()) == [
        HubRoute(
            name="console-yk",
            host="yk.example.org",
            http_port=None,
            https_port=31443,
            servers=(("cp-1", "192.0.2.21"),),
            maxconn=200,
            allowed_networks=("198.51.100.0/24",),
        )
    ]
    assert console_routes(platform(lbs=False)) == []
    assert console_routes(platform(existing=True)) == []


def test_an_app_without_a_known_upstream_is_refused() -> None:
    # The model admits only `yunikorn`; an app added there without a branch here must fail loudly.
    cfg = platform()
    assert cfg.consoles is not None
    unknown = cfg.consoles.apps[0].model_copy(update={"app": "grafana"})
    with pytest.raises(ValueError, match=r"^no upstream known for console app 'grafana'$"):
        upstreams(cfg, unknown)
