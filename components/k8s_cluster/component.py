"""K8sHACluster: the runbook of a kubeadm HA cluster, one remote step at a time.

preflight ▸ prepare (all nodes in parallel) ▸ load balancer ▸ kubeadm init on the first control
plane ▸ control-plane joins one after another, worker joins in parallel (each with join
material minted right before it) ▸ labels ▸ Calico ▸ wait for every node Ready.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.common.shell import RenderedScript
from components.k8s_cluster import lifecycle, steps
from components.k8s_cluster.kubeadm_config import calico_values
from config.inventory import Node, Role, Taint
from config.platform import PlatformConfig

if TYPE_CHECKING:
    import pulumi_command as command

TIGERA_REPO = "https://docs.tigera.io/calico/charts"


@dataclass(frozen=True)
class NodeExtras:
    """What other components add to a node's join: labels, taints, and steps that must run first."""

    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()
    before_join: Sequence[tuple[str, RenderedScript]] = ()


class K8sHACluster(pulumi.ComponentResource):
    """A kubeadm cluster (stacked etcd) on the inventory's control planes and workers."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    api_endpoint: str
    ready: list[pulumi.Resource]
    prepared: dict[str, pulumi.Resource]
    joined: dict[str, pulumi.Resource]
    day2: list[pulumi.Resource]

    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        access: Mapping[str, NodeAccess],
        load_balancer: pulumi.ComponentResource | None = None,
        extras: Mapping[str, NodeExtras] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        encryption_keys: Mapping[str, pulumi.Output[str]] | None = None,
    ) -> None:
        super().__init__("jupyterhub-platform:infra:K8sHACluster", name, None, opts)
        extras = dict(extras or {})
        inv = cfg.inventory
        first, *other_cps = inv.control_planes
        self.api_endpoint = cfg.api_endpoint()
        self.prepared, self.joined = {}, {}

        # 1. Preflight and preparation of every node, all in parallel.
        preflights: list[command.remote.Command] = []
        for node in inv.kubernetes_nodes:
            pre = run_step(access[node.name], "preflight", steps.preflight(cfg, node), parent=self)
            preflights.append(pre)
            last: pulumi.Resource = run_step(
                access[node.name], "prepare", steps.prepare(cfg, node), parent=self, depends_on=[pre]
            )
            for step_name, script in extras.get(node.name, NodeExtras()).before_join:
                last = run_step(access[node.name], step_name, script, parent=self, depends_on=[last])
            self.prepared[node.name] = last
        # 1b. Day-2: each control plane's EncryptionConfiguration before its API server starts.
        key_material = lifecycle.encryption_key_material(cfg, encryption_keys or {})
        lifecycle.encryption_before_start(self, cfg, access, self.prepared, key_material)

        # Each preflight prints its host's identity; no two nodes may share a product_uuid or MAC.
        self._unique_hosts = run_step(
            access[first.name],
            "unique-hosts",
            steps.unique_hosts(first),
            parent=self,
            depends_on=preflights,
            stdin=pulumi.Output.all(*[p.stdout for p in preflights]).apply(lambda out: "\n".join(out) + "\n"),
        )

        # 2. kubeadm init, once, after the load balancer can route to it. Never reset by Pulumi.
        lb_ready: list[pulumi.Resource] = list(getattr(load_balancer, "ready", []))
        first_extra = extras.get(first.name, NodeExtras())
        init = run_step(
            access[first.name],
            "kubeadm-init",
            steps.init(cfg, first, list(first_extra.taints)),
            parent=self,
            depends_on=[self.prepared[first.name], self._unique_hosts, *lb_ready],
            protect=True,
            ignore_create_changes=True,
        )
        self.joined[first.name] = self._register(cfg, access, first, first, init, first_extra)
        # Day-2: renewed certificates on the first control plane refresh the kubeconfig output.
        renewed = lifecycle.renew_first_certificates(self, cfg, access, init)
        generation = cfg.cluster.certificates.renew_generation
        kubeconfig_step = run_step(
            access[first.name],
            "admin-kubeconfig",
            steps.admin_kubeconfig(first),
            parent=self,
            depends_on=[init, *renewed],
            prints_secrets=True,
            triggers=[f"certificates-{generation}"] if generation else [],
        )
        self.kubeconfig = pulumi.Output.secret(kubeconfig_step.stdout)

        # 3. Control planes join one after another (etcd membership changes must not overlap).
        previous: pulumi.Resource = init
        for node in other_cps:
            previous = self._join(cfg, access, first, node, [previous], extras.get(node.name, NodeExtras()))
        # 4. Workers join in parallel once the first control plane is up.
        for node in inv.workers:
            self._join(cfg, access, first, node, [init], extras.get(node.name, NodeExtras()))

        # 5. Calico (enforces NetworkPolicy), then wait until every node is Ready.
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[kubeconfig_step]),
        )
        calico = pinned_release(
            f"{name}-calico",
            release="calico",
            chart="tigera-operator",
            version=cfg.cluster.calico_version,
            repo=TIGERA_REPO,
            namespace="tigera-operator",
            create_namespace=True,
            values=calico_values(cfg),
            timeout=900,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=list(self.joined.values())),
        )
        nodes_ready = run_step(
            access[first.name],
            "wait-nodes-ready",
            steps.wait_nodes_ready(cfg, first),
            parent=self,
            depends_on=[calico],
            triggers=[n.name for n in inv.kubernetes_nodes],
        )
        self.ready = [calico, nodes_ready]
        # 6. Day-2 (components/k8s_cluster/lifecycle.py): renewals, expiry checks, Secrets rewritten
        # with the newest key, and upgrades by config change (Calico above moves first). Charts do
        # not wait for them: a rolling upgrade keeps the cluster serving.
        self.day2 = lifecycle.day2_steps(self, cfg, access, after=[calico, nodes_ready], renewed_first=renewed)
        self.control_plane_nodes = [n.name for n in inv.control_planes]
        self.worker_nodes = [n.name for n in inv.workers]
        self.register_outputs(
            {
                "api_endpoint": self.api_endpoint,
                "kubeconfig": self.kubeconfig,
                "control_plane_nodes": self.control_plane_nodes,
                "worker_nodes": self.worker_nodes,
            }
        )

    def _join(
        self,
        cfg: PlatformConfig,
        access: Mapping[str, NodeAccess],
        first: Node,
        node: Node,
        after: list[pulumi.Resource],
        extra: NodeExtras,
    ) -> pulumi.Resource:
        """Mint fresh join material on the first control plane, join the node, apply its labels."""
        mint = run_step(
            access[first.name],
            f"mint-join-{node.name}",
            steps.mint_join(first, node),
            parent=self,
            depends_on=[*after, self.prepared[node.name], self._unique_hosts],
            prints_secrets=True,
            triggers=[node.name, str(node.address)],
        )
        joined = run_step(
            access[node.name],
            "kubeadm-join",
            steps.join(cfg, first, node, list(extra.taints)),
            parent=self,
            depends_on=[mint, self.prepared[node.name]],
            stdin=pulumi.Output.secret(mint.stdout),
            delete=steps.reset(node),
            # Resetting a control plane removes an etcd member: only on purpose (unprotect first),
            # never because the inventory was reordered or edited by mistake.
            protect=node.has(Role.CONTROL_PLANE),
        )
        return self._register(cfg, access, first, node, joined, extra)

    def _register(
        self,
        cfg: PlatformConfig,
        access: Mapping[str, NodeAccess],
        first: Node,
        node: Node,
        joined: pulumi.Resource,
        extra: NodeExtras,
    ) -> pulumi.Resource:
        # The first control plane is never drained or deleted by a config change.
        registered = run_step(
            access[first.name],
            f"register-{node.name}",
            steps.register(first, node, dict(extra.labels)),
            parent=self,
            depends_on=[joined],
            delete=None if node is first else steps.drain(first, node),
            triggers=[node.name, str(node.address)],
        )
        self.joined[node.name] = registered
        return registered
