"""NgshareExchange: a hub's nbgrader exchange, created inside the hub's JupyterHubRelease.

Runbook: the tokens Secret (both service tokens, made by the hub component) ▸ the NFS volume for ngshare's
database and files (protected, retained) ▸ ngshare's Deployment, Service and NetworkPolicy ▸ the
membership sync's ConfigMap and CronJob. The hub's own values (services, role, policy holes, nbgrader
config) come from `ngshare.hub_values`; the tokens reach the hub in its secret values file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.courses import ngshare
from config.hubs import HubConfig
from config.platform import PlatformConfig

TYPE = "jupyterhub-platform:courses:NgshareExchange"


class ExchangeStorage(Protocol):
    """What the exchange needs from the storage component (`NfsStorage.exchange_claim`)."""

    def exchange_claim(self, namespace: str, claim_name: str, depends_on: Sequence[pulumi.Resource]) -> list[Any]: ...


class NgshareExchange(pulumi.ComponentResource):
    """ngshare and its membership sync in one hub's namespace."""

    def __init__(
        self,
        name: str,
        *,
        cfg: PlatformConfig,
        hub: HubConfig,
        storage: ExchangeStorage,
        service_token: pulumi.Output[str],
        sync_token: pulumi.Output[str],
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        ns = hub.k8s_namespace
        after = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(depends_on))
        tokens = k8s.core.v1.Secret(
            f"{name}-tokens",
            metadata={"name": ngshare.TOKEN_SECRET, "namespace": ns},
            type="Opaque",
            string_data={
                ngshare.SERVICE_TOKEN_KEY: pulumi.Output.secret(service_token),  # type: ignore[arg-type]  # pulumi's stub types
                ngshare.SYNC_TOKEN_KEY: pulumi.Output.secret(sync_token),  # type: ignore[arg-type]  # pulumi's stub types
            },
            opts=after,
        )
        # Submissions and grades-to-be: user data, kept like the homes (see NfsStorage.exchange_claim).
        volume = storage.exchange_claim(ns, ngshare.CLAIM, list(depends_on))
        ready = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*depends_on, tokens, *volume])
        dep = ngshare.deployment(cfg, ns)
        self.deployment = k8s.apps.v1.Deployment(f"{name}-deployment", metadata=dep["metadata"], spec=dep["spec"], opts=ready)
        svc = ngshare.service(ns)
        k8s.core.v1.Service(f"{name}-service", metadata=svc["metadata"], spec=svc["spec"], opts=after)
        policy = ngshare.network_policy(ns)
        k8s.networking.v1.NetworkPolicy(f"{name}-network-policy", metadata=policy["metadata"], spec=policy["spec"], opts=after)
        config = ngshare.sync_config_map(cfg, hub)
        sync_config = k8s.core.v1.ConfigMap(f"{name}-sync-config", metadata=config["metadata"], data=config["data"], opts=after)
        job = ngshare.sync_cron_job(cfg, ns)
        k8s.batch.v1.CronJob(
            f"{name}-sync",
            metadata=job["metadata"],
            spec=job["spec"],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[tokens, sync_config, self.deployment]),
        )
        self.register_outputs({})
