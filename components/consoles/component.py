"""AdminConsoles: each admin UI behind its own oauth2-proxy, reached only through the load-balancer hosts.

Runbook: namespace (restricted Pod Security) ▸ per console: a random cookie secret kept in state, the
Secret with the OIDC client secret and the cookie secret, the TLS Secret from the provided certificate ▸
the proxy Deployment ▸ its NodePort Service, which HAProxy on the load-balancer hosts routes to by SNI
(443; on 80 HAProxy itself redirects to HTTPS). The console itself (YuniKorn's Service) stays ClusterIP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.common.generated_secret import GeneratedSecret
from components.consoles.proxy import deployment_manifest, namespace_manifest, service_manifest
from components.consoles.settings import proxy_settings
from config.consoles import CLIENT_SECRET_KEY, console_secret_key
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets

TYPE_TOKEN = "jupyterhub-platform:access:AdminConsoles"


def _secret(value: Any) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


class AdminConsoles(pulumi.ComponentResource):
    """oauth2-proxy per console, with its secrets and NodePort Service."""

    summary: dict[str, Any]
    """Per console: `url`, `logout_url`, `allowed_groups` (stack output `consoles`)."""

    def __init__(
        self,
        name: str,
        *,
        cfg: PlatformConfig,
        secrets: StackSecrets,
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        consoles = cfg.consoles
        assert consoles is not None, "AdminConsoles needs a consoles section"
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        ns = consoles.namespace
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=namespace_manifest(ns)["metadata"],
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )
        after_namespace = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        client_secret = _secret(secrets.require(CLIENT_SECRET_KEY))
        self.summary = {}
        for console in consoles.apps:
            s = proxy_settings(cfg, consoles, console)
            base = f"{name}-{console.name}"
            # Kept in state: a new cookie secret only logs the administrators out. 32 letters and digits
            # are a 32-byte AES key as oauth2-proxy reads it.
            cookie = GeneratedSecret(
                f"{base}-cookie-secret", alphabet="alphanumeric", length=32, opts=pulumi.ResourceOptions(parent=self)
            )
            secret = k8s.core.v1.Secret(
                f"{base}-secret",
                metadata={"name": f"{s.resource_name}-oauth2", "namespace": ns},
                type="Opaque",
                string_data={"client-secret": client_secret, "cookie-secret": cookie.value},
                opts=after_namespace,
            )
            tls = k8s.core.v1.Secret(
                f"{base}-tls",
                metadata={"name": f"{s.resource_name}-tls", "namespace": ns},
                type="kubernetes.io/tls",
                string_data={
                    "tls.crt": _secret(secrets.require(console_secret_key(console.name, "tls_cert"))),
                    "tls.key": _secret(secrets.require(console_secret_key(console.name, "tls_key"))),
                },
                opts=after_namespace,
            )
            deployment = deployment_manifest(
                s, namespace=ns, image=consoles.image, secret=f"{s.resource_name}-oauth2", tls_secret=f"{s.resource_name}-tls"
            )
            proxy = k8s.apps.v1.Deployment(
                f"{base}-proxy",
                metadata=deployment["metadata"],
                spec=deployment["spec"],
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[secret, tls])),
            )
            service = service_manifest(s, namespace=ns, https_node_port=console.https_node_port)
            k8s.core.v1.Service(
                f"{base}-service",
                metadata=service["metadata"],
                spec=service["spec"],
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[proxy])),
            )
            self.summary[console.name] = {
                "url": s.url,
                "logout_url": s.logout_url,
                "allowed_groups": list(s.allowed_groups),
            }
        self.register_outputs({"consoles": self.summary})
