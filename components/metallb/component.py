"""MetalLb: `LoadBalancer` addresses for the hubs where the site has no load balancer (L2 mode).

Runbook: namespace (Pod Security `privileged` for the speakers) ▸ the pinned `metallb` release (CRDs,
controller with its validating webhook, speakers) ▸ on the first control plane, wait until the webhook
accepts a server-side dry run of the pool ▸ the `IPAddressPool` and `L2Advertisement`. The hubs wait for
the pool, so their Services get their address at once instead of pending.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.common.shell import HostFile, RenderedScript, render_script
from components.metallb.manifests import (
    CHART,
    CHART_REPOSITORY,
    RELEASE,
    advertisement_manifest,
    manifests_yaml,
    metallb_values,
    namespace_manifest,
    pool_manifest,
)
from config.charts import ChartsConfig
from config.traffic import MetalLbConfig

TYPE_TOKEN = "jupyterhub-platform:network:MetalLb"
SCRIPTS = Path(__file__).parent / "scripts"
KUBE_DIR = "/etc/kubernetes"
MANIFESTS_PATH = "/etc/kubernetes/jupyterhub-platform/metallb-pool.yaml"
RELEASE_TIMEOUT_SECONDS = 600
WEBHOOK_TIMEOUT_SECONDS = 300


def wait_webhook_script(settings: MetalLbConfig, kube_dir: str = KUBE_DIR, path: str = MANIFESTS_PATH) -> RenderedScript:
    """Step `metallb-webhook`: bounded wait until the webhook accepts the pool (dry run, creates nothing)."""
    return render_script(
        "metallb-webhook",
        SCRIPTS / "wait-webhook.sh",
        {"KUBE_DIR": kube_dir, "WEBHOOK_TIMEOUT": WEBHOOK_TIMEOUT_SECONDS},
        {"METALLB_MANIFESTS": HostFile(path, manifests_yaml(settings), "0644")},
    )


class MetalLb(pulumi.ComponentResource):
    """MetalLB (pinned chart, L2 mode) and the hubs' address pool."""

    ready: list[pulumi.Resource]
    """The pool and advertisement: LoadBalancer hubs wait for them."""

    def __init__(
        self,
        name: str,
        *,
        settings: MetalLbConfig,
        first_control_plane: NodeAccess,
        provider: k8s.Provider,
        charts: ChartsConfig,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=namespace_manifest(settings)["metadata"],
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )
        release = pinned_release(
            f"{name}-release",
            release=RELEASE,
            chart=CHART,
            version=settings.chart_version,
            repo=CHART_REPOSITORY,
            sources=charts,
            namespace=settings.namespace,
            values=metallb_values(),
            timeout=RELEASE_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace])),
        )
        script = wait_webhook_script(settings)
        digest = hashlib.sha256(f"{settings.chart_version}\n{script.text}".encode()).hexdigest()
        webhook = run_step(first_control_plane, "metallb-webhook", script, parent=self, depends_on=[release], triggers=[digest])
        after_webhook = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[release, webhook]))
        pool = pool_manifest(settings)
        advertisement = advertisement_manifest(settings)
        self.pool = k8s.apiextensions.CustomResource(
            f"{name}-pool",
            api_version=pool["apiVersion"],
            kind=pool["kind"],
            metadata=pool["metadata"],
            spec=pool["spec"],
            opts=after_webhook,
        )
        self.advertisement = k8s.apiextensions.CustomResource(
            f"{name}-l2-advertisement",
            api_version=advertisement["apiVersion"],
            kind=advertisement["kind"],
            metadata=advertisement["metadata"],
            spec=advertisement["spec"],
            opts=after_webhook,
        )
        self.ready = [self.pool, self.advertisement]
        self.register_outputs({"addresses": pool["spec"]["addresses"]})
