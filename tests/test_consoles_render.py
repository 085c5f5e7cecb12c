"""Consoles: oauth2-proxy manifests (kubernetes-validate --strict), its command line, the load balancer
routes, YuniKorn's Service kept ClusterIP, and the prod stack graph (secrets stay secret, order)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import kubernetes_validate
import yaml

from components.consoles.component import TYPE_TOKEN
from components.consoles.proxy import (
    CLIENT_SECRET_ENV,
    COOKIE_SECRET_ENV,
    deployment_manifest,
    namespace_manifest,
    proxy_args,
    service_manifest,
)
from components.consoles.settings import console_routes, proxy_settings
from components.contract.document import SCHEMA_VERSION
from components.haproxy_lb.hub_routes import render_hub_sections, routes_from_config, timing_from_config
from components.yunikorn.values import yunikorn_values
from config.consoles import OAUTH2_PROXY_IMAGE, OAUTH2_PROXY_VERSION
from config.platform import PlatformConfig
from tests.helpers import require_upstream, run_stack, shellcheck
from tests.test_config_rules import prod
from tools.mockrun import redact

ROOT = Path(__file__).resolve().parent.parent
K8S_VERSION = "1.34"


def _prod() -> PlatformConfig:
    return PlatformConfig.model_validate(prod())


def _settings():  # type: ignore[no-untyped-def]
    cfg = _prod()
    assert cfg.consoles is not None
    return cfg, cfg.consoles, proxy_settings(cfg, cfg.consoles, cfg.consoles.apps[0])


def test_manifests_pass_kubernetes_validate_strict() -> None:
    _, consoles, s = _settings()
    deployment = deployment_manifest(s, namespace=consoles.namespace, image=consoles.image, secret="a", tls_secret="b")
    service = service_manifest(s, namespace=consoles.namespace, https_node_port=30450)
    for manifest in (namespace_manifest(consoles.namespace), deployment, service):
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_proxy_command_line() -> None:
    _, _, s = _settings()
    args = proxy_args(s)
    assert "--provider=oidc" in args
    assert "--oidc-issuer-url=https://login.example.org/realms/university" in args
    assert "--client-id=platform-consoles" in args
    assert "--redirect-url=https://queues.example.org/oauth2/callback" in args
    assert [a for a in args if a.startswith("--allowed-group=")] == ["--allowed-group=admins"]
    assert [a for a in args if a.startswith("--upstream=")] == [
        "--upstream=http://yunikorn-service.yunikorn.svc:9889/",
        "--upstream=http://yunikorn-service.yunikorn.svc:9080/ws/",
    ]
    assert {"--cookie-expire=8h", "--cookie-refresh=30m", "--cookie-secure=true", "--api-route=^/ws/"} <= set(args)
    # No secret on the command line: the client and cookie secrets come from the environment.
    assert not any("secret" in a for a in args)
    assert s.logout_url == "https://queues.example.org/oauth2/sign_out"


def test_secrets_come_from_the_secret_and_the_pod_is_locked_down() -> None:
    _, consoles, s = _settings()
    deployment = deployment_manifest(s, namespace=consoles.namespace, image=consoles.image, secret="sec", tls_secret="tls")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]} == {
        CLIENT_SECRET_ENV: {"name": "sec", "key": "client-secret"},
        COOKIE_SECRET_ENV: {"name": "sec", "key": "cookie-secret"},
    }
    assert container["image"] == OAUTH2_PROXY_IMAGE and re.fullmatch(r"[^:]+:v\d+\.\d+\.\d+", container["image"])
    assert container["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert pod["automountServiceAccountToken"] is False and pod["volumes"] == [{"name": "tls", "secret": {"secretName": "tls"}}]


def test_build_script_pins_the_same_release() -> None:
    script = (ROOT / "tools" / "build_oauth2_proxy.sh").read_text()
    assert re.search(rf'^version="{re.escape(OAUTH2_PROXY_VERSION)}"$', script, re.M)
    assert OAUTH2_PROXY_IMAGE.endswith(f":{OAUTH2_PROXY_VERSION}")
    assert "tools/build_oauth2_proxy.sh" in (ROOT / "tools" / "test.sh").read_text()


def test_load_balancer_routes_the_console_like_a_hub() -> None:
    cfg = _prod()
    (route,) = console_routes(cfg)
    assert (route.name, route.host, route.https_port, route.http_port) == ("console-yunikorn", "queues.example.org", 30450, None)
    assert route.allowed_networks == ("198.51.100.0/24",) and not route.proxy_protocol
    text = render_hub_sections([*routes_from_config(cfg), route], "192.0.2.10", timing=timing_from_config(cfg))
    assert "tcp-request content reject if { req_ssl_sni -i queues.example.org } !{ src 198.51.100.0/24 }" in text
    assert "use_backend hub-console-yunikorn-https if { req_ssl_sni -i queues.example.org }" in text
    assert re.search(r"server worker-1 \S+:30450 check\n", text)
    # Port 80: the allowlist first, then HAProxy's own redirect to HTTPS; no backend behind it.
    host = "req.hdr(host),field(1,:),lower"
    deny = f"http-request deny deny_status 403 if {{ {host} -i queues.example.org }} !{{ src 198.51.100.0/24 }}"
    redirect = f"http-request redirect scheme https code 308 if {{ {host} -i queues.example.org }}"
    assert text.index(deny) < text.index(redirect) and "backend hub-console-yunikorn-http\n" not in text


def test_yunikorn_service_stays_cluster_ip_with_real_chart_keys() -> None:
    upstream = yaml.safe_load(require_upstream("yunikorn-1.8.0-values.yaml").read_text())
    values = yunikorn_values(_prod().scheduler, ["jhub-teaching"])
    assert values["service"] == {"type": "ClusterIP"} and "type" in upstream["service"]
    assert values["ingress"] == {"enabled": False} and "enabled" in upstream["ingress"]
    assert upstream["service"]["port"] == 9080 and upstream["service"]["portWeb"] == 9889  # the proxy's upstreams


def test_prod_graph_keeps_console_secrets_secret() -> None:
    recorder = run_stack("prod")
    regs = list(dict(recorder.registrations).values())
    (component,) = [r for r in regs if r.type == TYPE_TOKEN]
    mine = {r.name: r for r in regs if r.parent == component.urn}
    secret, tls = mine["consoles-yunikorn-secret"], mine["consoles-yunikorn-tls"]
    for resource, keys in ((secret, {"client-secret", "cookie-secret"}), (tls, {"tls.crt", "tls.key"})):
        assert redact(resource.raw_inputs)["stringData"] == "[secret]" and set(resource.inputs["stringData"]) == keys
    assert secret.inputs["stringData"]["client-secret"] == "placeholder-consoles_oauth_client_secret"
    assert "placeholder-" not in str(mine["consoles-yunikorn-proxy"].raw_inputs)
    assert tls.inputs["type"] == "kubernetes.io/tls"
    proxy, service = mine["consoles-yunikorn-proxy"], mine["consoles-yunikorn-service"]
    assert {secret.urn, tls.urn} <= set(proxy.depends_on) and proxy.urn in service.depends_on
    assert service.inputs["spec"]["type"] == "NodePort"
    # The YuniKorn release (its web UI) is up before the proxy that fronts it.
    release = next(r for r in regs if r.type == "kubernetes:helm.sh/v3:Release" and r.name == "yunikorn-release")
    assert release.urn in mine["consoles-namespace"].depends_on
    assert recorder.outputs["consoles"] == {
        "yunikorn": {
            "url": "https://queues.example.org/",
            "logout_url": "https://queues.example.org/oauth2/sign_out",
            "allowed_groups": ["admins"],
        }
    }


def test_contract_lists_the_console_urls() -> None:
    from components.contract.document import build_contract
    from tests.test_config_rules import dev

    document = build_contract(_prod(), project="jupyterhub-platform", stack="prod")
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["consoles"] == [
        {
            "name": "yunikorn",
            "app": "yunikorn",
            "url": "https://queues.example.org/",
            "logout_url": "https://queues.example.org/oauth2/sign_out",
            "allowed_groups": ["admins"],
            "entry": {"via": "haproxy", "address": "192.0.2.10", "allowed_networks": ["198.51.100.0/24"]},
        }
    ]
    assert {"name": "consoles", "purpose": "consoles"} in document["namespaces"]
    dev_document = build_contract(PlatformConfig.model_validate(dev()), project="jupyterhub-platform", stack="dev")
    assert dev_document["consoles"] == []


def _run_build_script(tmp_path: Path, go_version: str, cached: bool) -> subprocess.CompletedProcess[str]:
    """tools/build_oauth2_proxy.sh with a `go` stand-in (only `go env GOVERSION` answers) and its own cache."""
    bin_dir, cache = tmp_path / "bin", tmp_path / "cache"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(
        f'#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo {go_version} && exit 0\n'
        f'echo "go $*" >> {tmp_path}/go.log\nexit 1\n'
    )
    go.chmod(0o755)
    if cached:
        binary = cache / "jupyterhub-platform" / "oauth2-proxy" / OAUTH2_PROXY_VERSION / "oauth2-proxy"
        binary.parent.mkdir(parents=True)
        binary.write_text(f"#!/bin/sh\necho 'oauth2-proxy {OAUTH2_PROXY_VERSION} (built with go1.26.8)'\n")
        binary.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "XDG_CACHE_HOME": str(cache), "HOME": str(tmp_path)}
    script = ROOT / "tools" / "build_oauth2_proxy.sh"
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)


def test_build_script_is_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck((ROOT / "tools" / "build_oauth2_proxy.sh").read_text(), tmp_path, "build_oauth2_proxy.sh")


def test_build_script_keeps_a_built_binary(tmp_path: Path) -> None:
    result = _run_build_script(tmp_path, "go1.19.8", cached=True)
    assert result.returncode == 0 and result.stdout.strip().endswith(f"oauth2-proxy/{OAUTH2_PROXY_VERSION}/oauth2-proxy")
    assert not (tmp_path / "go.log").exists()  # nothing rebuilt, not even the module proxy asked


def test_build_script_refuses_a_go_without_toolchain_switching(tmp_path: Path) -> None:
    result = _run_build_script(tmp_path, "go1.19.8", cached=False)
    assert result.returncode == 1
    assert "needs Go 1.21 or newer on PATH" in result.stderr and "(found go1.19.8)" in result.stderr
    assert not (tmp_path / "go.log").exists()
