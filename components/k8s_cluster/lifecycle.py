"""Day-2 steps of K8sHACluster: encryption keys, certificates, upgrades by config change.

The component calls three functions at three points of its runbook:
- `encryption_before_start` after node preparation: each control plane gets its
  EncryptionConfiguration before its API server starts (control planes one at a time);
- `renew_first_certificates` right after `kubeadm init`: the admin kubeconfig output is read
  after the first control plane's renewal, so it is refreshed in the same `pulumi up`;
- `day2_steps` once the cluster is Ready: the other control planes' renewals, the rewrite of
  Secrets with the newest key, the expiry checks, then the upgrade (first control plane,
  the other control planes one at a time, workers in batches, each after the previous is Ready).
Workers get exactly one step here (their upgrade); control planes a few, and the first control
plane also mints the workers' upgrade credentials and gates each batch on the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pulumi

from components.common.remote import NodeAccess, run_step
from components.k8s_cluster import security_scripts, upgrade_scripts
from config.platform import PlatformConfig


def encryption_key_material(cfg: PlatformConfig, keys: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str] | None:
    """`<name> <base64>` lines, newest key first, as one secret Output (the steps' stdin)."""
    settings = cfg.cluster.encryption_at_rest
    if settings is None:
        return None
    lines = [keys[name].apply(_key_line(name)) for name in settings.keys]
    joined: pulumi.Output[str] = pulumi.Output.all(*lines).apply(lambda parts: "\n".join(parts) + "\n")
    return pulumi.Output.secret(joined)


def _key_line(name: str) -> Callable[[str], str]:
    return lambda value: f"{name} {value.strip()}"


def encryption_before_start(
    parent: pulumi.Resource,
    cfg: PlatformConfig,
    access: Mapping[str, NodeAccess],
    prepared: dict[str, pulumi.Resource],
    key_material: pulumi.Output[str] | None,
) -> None:
    """Install the EncryptionConfiguration on each control plane; `prepared` now ends with it."""
    if cfg.cluster.encryption_at_rest is None or key_material is None:
        return
    previous: list[pulumi.Resource] = []
    for node in cfg.inventory.control_planes:
        step = run_step(
            access[node.name],
            "encryption-keys",
            security_scripts.encryption_keys(cfg, node),
            parent=parent,
            depends_on=[prepared[node.name], *previous],
            stdin=key_material,
        )
        prepared[node.name] = step
        previous = [step]


def renew_first_certificates(
    parent: pulumi.Resource, cfg: PlatformConfig, access: Mapping[str, NodeAccess], init: pulumi.Resource
) -> list[pulumi.Resource]:
    """The first control plane's renewal (when a generation is set); the kubeconfig step waits for it."""
    if cfg.cluster.certificates.renew_generation == 0:
        return []
    first = cfg.inventory.control_planes[0]
    script = security_scripts.certs_renew(cfg, first)
    return [run_step(access[first.name], "certs-renew", script, parent=parent, depends_on=[init])]


def day2_steps(
    parent: pulumi.Resource,
    cfg: PlatformConfig,
    access: Mapping[str, NodeAccess],
    after: Sequence[pulumi.Resource],
    renewed_first: Sequence[pulumi.Resource],
    api: pulumi.Resource,
) -> list[pulumi.Resource]:
    """Everything after the cluster is Ready; returns the last steps (nothing else waits for them).
    `api` is the step after which the API server answers with the admin credentials."""
    first, *other_cps = cfg.inventory.control_planes
    done: list[pulumi.Resource] = []
    # Renewal on the other control planes, one at a time after the first.
    previous = list(renewed_first)
    for node in other_cps if renewed_first else []:
        step = run_step(
            access[node.name],
            "certs-renew",
            security_scripts.certs_renew(cfg, node),
            parent=parent,
            depends_on=[*after, *previous],
        )
        previous = [step]
    done += previous
    for node in cfg.inventory.control_planes:
        done.append(
            run_step(access[node.name], "certs-check", security_scripts.certs_check(cfg, node), parent=parent, depends_on=after)
        )
    if cfg.cluster.encryption_at_rest is not None:
        done.append(
            run_step(
                access[first.name],
                "encryption-rewrite",
                security_scripts.encryption_rewrite(cfg, first),
                parent=parent,
                depends_on=after,
                triggers=[cfg.cluster.encryption_at_rest.keys[0]],
            )
        )
    return done + upgrade_steps(parent, cfg, access, [*after, *previous], api)


def upgrade_steps(
    parent: pulumi.Resource,
    cfg: PlatformConfig,
    access: Mapping[str, NodeAccess],
    after: Sequence[pulumi.Resource],
    api: pulumi.Resource,
) -> list[pulumi.Resource]:
    """One upgrade step per node, in kubeadm's order; a no-op on nodes already at the version."""
    previous: list[pulumi.Resource] = list(after)
    for node in cfg.inventory.control_planes:
        script = upgrade_scripts.upgrade_node(cfg, node)
        previous = [run_step(access[node.name], "upgrade", script, parent=parent, depends_on=previous)]
    # Minted even before the first worker exists, so adding workers adds only their own steps.
    first = cfg.inventory.control_planes[0]
    credentials = run_step(
        access[first.name],
        "upgrade-credentials",
        upgrade_scripts.upgrade_credentials(first),
        parent=parent,
        # Only the API is needed. Every worker's upgrade reads this step's output, and each such
        # edge costs the SDK a walk over everything before the step (its cycle check): after the
        # API server it is the cluster's bootstrap, after Calico and Ready it would be every node's.
        depends_on=[api],
        prints_secrets=True,
        # A fresh token for every target version (it expires after TOKEN_DURATION).
        triggers=[cfg.cluster.kubernetes_version],
    )
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(credentials.stdout)
    batches = upgrade_scripts.worker_batches(cfg)
    for index, batch in enumerate(batches, start=1):
        upgraded: list[pulumi.Resource] = [
            run_step(
                access[node.name],
                "upgrade",
                upgrade_scripts.upgrade_node(cfg, node),
                parent=parent,
                # After the credentials through stdin alone (see _join in component.py).
                depends_on=previous,
                stdin=kubeconfig,
            )
            for node in batch
        ]
        if index == len(batches):
            return upgraded
        # A gate between batches: the next batch waits for one step, not for every node of this
        # one (200 workers in batches of 20 would otherwise mean 4,000 dependencies to register).
        gate = run_step(
            access[first.name],
            f"upgrade-batch-{index}-ready",
            upgrade_scripts.batch_ready(cfg, first, index, batch),
            parent=parent,
            depends_on=upgraded,
            triggers=[cfg.cluster.kubernetes_version],
        )
        previous = [gate]
    return previous
