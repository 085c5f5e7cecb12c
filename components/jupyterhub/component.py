"""JupyterHubRelease: one hub = namespace ▸ its NFS claims ▸ generated secrets ▸ the z2jh release.

Runbook: create the namespace (Pod Security `baseline`) ▸ ask the storage component for the homes
and shared-folder claims in it ▸ generate the hub's own secrets once (cookie secret, CryptKeeper key,
proxy token; stable in state) and put them, with the authenticator's secrets, into a k8s Secret the
chart reads as `hub.existingSecret` ▸ install Zero to JupyterHub after storage, scheduler and GPU pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.common.charts import pinned_release
from components.common.generated_secret import GeneratedSecret
from components.courses import ngshare
from components.courses.component import NgshareExchange
from components.jupyterhub import auth as hub_auth
from components.jupyterhub.traffic import PROXY_PUBLIC, proxy_service_patch
from components.jupyterhub.values import (
    CHART,
    CHART_REPOSITORY,
    CHART_VERSION,
    PLATFORM_SECRET,
    TLS_SECRET,
    HubStorage,
    SharedMount,
    render_values,
)
from components.monitoring import hub_metrics, scrape
from config.course_queries import hub_courses, roster_hubs
from config.hub_auth import OAUTH_TYPES
from config.hubs import HubConfig, hub_secret_key
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets
from config.roster_queries import roster_groups

TYPE = "jupyterhub-platform:hub:JupyterHubRelease"
RELEASE_TIMEOUT_SECONDS = 1200  # the image pre-puller hook pulls every profile's image on every node


def _secret(value: Any) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


class _Claims(Protocol):
    home_claim: str
    shared: Sequence[Any]
    resources: Sequence[pulumi.Resource]


class ClaimSource(Protocol):
    """What the hub needs from the storage component (`NfsStorage`)."""

    def claims_for_namespace(self, namespace: str, depends_on: Sequence[pulumi.Resource]) -> Any: ...

    def exchange_claim(self, namespace: str, claim_name: str, depends_on: Sequence[pulumi.Resource]) -> list[Any]: ...


def secret_string_data(hub: HubConfig, secrets: StackSecrets, generated: dict[str, pulumi.Output[str]]) -> dict[str, Any]:
    """Keys of the platform Secret: the chart's own secret keys (which it reads from here first) and ours."""
    data: dict[str, Any] = dict(generated)
    if hub.auth.type in OAUTH_TYPES:
        data[hub_auth.CLIENT_SECRET_KEY] = secrets.require(hub_secret_key(hub.name, "oauth_client_secret"))
    if hub.auth.type == "ldap" and getattr(hub.auth, "lookup_dn_search_user", None):
        data[hub_auth.BIND_PASSWORD_KEY] = secrets.require(hub_secret_key(hub.name, "ldap_bind_password"))
    if hub.database.type == "postgres":
        data["hub.db.password"] = secrets.require(hub_secret_key(hub.name, "db_password"))
    return {k: _secret(v) for k, v in sorted(data.items())}


def roster_load_groups(cfg: PlatformConfig, hub: HubConfig) -> dict[str, dict[str, list[str]]]:
    """`JupyterHub.load_groups` from the course roster, for the groups of this hub's courses (hubs that own
    their groups only; `config.courses_rules` refuses a roster next to a provider that sends groups)."""
    if hub.name not in {h.name for h in roster_hubs(cfg)}:
        return {}
    wanted = {g for c in hub_courses(cfg, hub) for g in (c.students, c.instructors)}
    return {g: {"users": users} for g, users in roster_groups(cfg).items() if g in wanted}


def secret_chart_values(proxy_token: str, roster: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """The values file Helm merges over the plain values: the proxy token and the roster's group members."""
    values: dict[str, Any] = {"proxy": {"secretToken": proxy_token}}
    if roster:
        values["hub"] = {"config": {"JupyterHub": {"load_groups": roster}}}
    return values


def secret_values_file(tokens: Sequence[str], roster: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """The whole secret values file: proxy token and roster, then the metrics token and the exchange's two
    service tokens when the hub has them (`tokens`: proxy, metrics or "", then ngshare and sync if any)."""
    values = secret_chart_values(tokens[0], roster)
    if tokens[1]:
        values = hub_metrics.merge(values, hub_metrics.hub_token_values(tokens[1]))
    if len(tokens) == 4:
        values = hub_metrics.merge(values, ngshare.secret_values(tokens[2], tokens[3]))
    return values


class JupyterHubRelease(pulumi.ComponentResource):
    """One JupyterHub (Zero to JupyterHub 4.4.0) in its own namespace."""

    def __init__(
        self,
        name: str,
        *,
        cfg: PlatformConfig,
        hub: HubConfig,
        storage: ClaimSource,
        secrets: StackSecrets,
        provider: k8s.Provider,
        depends_on: Sequence[pulumi.Resource] = (),
        database: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`database`: what the Release waits for besides `depends_on` (the hub DB's local volume)."""
        super().__init__(TYPE, name, None, opts)
        ns = hub.k8s_namespace
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "app.kubernetes.io/part-of": "jupyterhub-platform",
                    "jupyterhub-platform/hub": hub.name,
                },
            },
            # Deleting the namespace deletes the hub database and every claim in it.
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=list(depends_on), protect=hub.protect)),
        )
        claims: _Claims = storage.claims_for_namespace(ns, [namespace])
        keep = pulumi.ResourceOptions(parent=self, protect=hub.protect)
        # Stable across runs (kept in state): a new cookie secret logs everyone out, a new CryptKeeper
        # key makes stored auth state unreadable.
        cookie = GeneratedSecret(f"{name}-cookie-secret", alphabet="hex", length=32, opts=keep)
        crypt_key = GeneratedSecret(f"{name}-crypt-key", alphabet="hex", length=32, opts=keep)
        proxy_token = GeneratedSecret(f"{name}-proxy-token", alphabet="hex", length=32, opts=keep)
        generated = {"hub.config.JupyterHub.cookie_secret": cookie.value, "hub.config.CryptKeeper.keys": crypt_key.value}
        after_namespace = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        platform_secret = k8s.core.v1.Secret(
            f"{name}-platform-secrets",
            metadata={"name": PLATFORM_SECRET, "namespace": ns},
            type="Opaque",
            string_data=secret_string_data(hub, secrets, generated),
            opts=after_namespace,
        )
        prerequisites: list[pulumi.Resource] = [namespace, platform_secret, *claims.resources, *depends_on, *database]
        if hub.https.mode == "secret":
            tls = k8s.core.v1.Secret(
                f"{name}-tls",
                metadata={"name": TLS_SECRET, "namespace": ns},
                type="kubernetes.io/tls",
                string_data={
                    "tls.crt": _secret(secrets.require(hub_secret_key(hub.name, "tls_cert"))),
                    "tls.key": _secret(secrets.require(hub_secret_key(hub.name, "tls_key"))),
                },
                opts=after_namespace,
            )
            prerequisites.append(tls)
        shared = tuple(SharedMount(s.name, s.claim_name, s.mount_path, s.read_only_for_users) for s in claims.shared)
        values: dict[str, Any] = render_values(cfg, hub, HubStorage(claims.home_claim, shared))
        # Monitoring: a `prometheus` service whose only scope is read:metrics, with its own random token.
        values = hub_metrics.merge(values, hub_metrics.hub_metrics_values(cfg))
        metrics_token = (
            GeneratedSecret(f"{name}-metrics-token", alphabet="hex", length=32, opts=keep) if cfg.monitoring else None
        )
        if metrics_token is not None:
            prerequisites.append(k8s.core.v1.Secret(
                f"{name}-metrics-token-secret",
                metadata={"name": scrape.HUB_TOKEN_SECRET, "namespace": ns},
                string_data={scrape.HUB_TOKEN_KEY: _secret(metrics_token.value)},
                opts=after_namespace,
            ))
        # The nbgrader exchange (hubs offering a course): ngshare and its sync, two hub services with their own
        # random tokens (in the secret values file, like the metrics token; their plain values are in `values`).
        exchange_tokens: list[pulumi.Output[str]] = []
        if ngshare.runs_exchange(cfg, hub):
            service_token = GeneratedSecret(f"{name}-ngshare-token", alphabet="hex", length=32, opts=keep)
            sync_token = GeneratedSecret(f"{name}-ngshare-sync-token", alphabet="hex", length=32, opts=keep)
            exchange_tokens = [service_token.value, sync_token.value]
            exchange = NgshareExchange(
                f"{name}-ngshare",
                cfg=cfg,
                hub=hub,
                storage=storage,
                service_token=service_token.value,
                sync_token=sync_token.value,
                provider=provider,
                depends_on=[namespace],
                opts=pulumi.ResourceOptions(parent=self),
            )
            prerequisites.append(exchange.deployment)
        # The chart reads the proxy token only from its own Secret, so it must be a chart value. A secret
        # Output inside `values` would make all of `values` secret (unreviewable); it travels instead as a
        # separate secret values file that Helm merges over `values` (the metrics service's token likewise).
        # The roster's groups (user names: personal data) travel the same way, never in the plain values.
        roster = roster_load_groups(cfg, hub)
        tokens = pulumi.Output.all(proxy_token.value, metrics_token.value if metrics_token is not None else "", *exchange_tokens)
        secret_values = _secret(tokens).apply(lambda t: [pulumi.StringAsset(yaml.safe_dump(secret_values_file(t, roster)))])
        self.release = pinned_release(
            name,
            release="jupyterhub",
            chart=CHART,
            version=CHART_VERSION,
            repo=CHART_REPOSITORY,
            sources=cfg.charts,
            namespace=ns,
            values=values,
            value_yaml_files=secret_values,
            timeout=RELEASE_TIMEOUT_SECONDS,
            # The Release echoes its merged values (the proxy token from the secret values file included) in
            # its `values` output: keep that output encrypted in state.
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=prerequisites, additional_secret_outputs=["values"])
            ),
        )
        patch = proxy_service_patch(cfg, hub)
        if patch is not None:
            # z2jh has no value for it: keep the client's source address on proxy-public (see traffic.py).
            k8s.core.v1.ServicePatch(
                f"{name}-proxy-public-local",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=PROXY_PUBLIC, namespace=ns, annotations={"pulumi.com/patchForce": "true"}
                ),
                spec=k8s.core.v1.ServiceSpecPatchArgs(external_traffic_policy=patch["externalTrafficPolicy"]),
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.release])),
            )
        self.namespace = ns
        self.url = f"https://{hub.host}/" if hub.host and hub.https.mode != "none" else None
        self.register_outputs({"namespace": ns, "url": self.url})

    def summary(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "url": self.url, "release": self.release.name}
