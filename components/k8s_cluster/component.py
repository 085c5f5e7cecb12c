"""K8sHACluster: the runbook of a kubeadm HA cluster, one remote step at a time.

preflight ▸ prepare (all nodes in parallel) ▸ load balancer ▸ kubeadm init on the first control
plane ▸ control-plane joins one after another, worker joins in parallel (each with join
material minted right before it) ▸ labels ▸ Calico ▸ wait for every node Ready.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.common.shell import RenderedScript
from components.k8s_cluster import steps
from components.k8s_cluster.kubeadm_config import calico_values
from config.inventory import Node, Role, Taint
from config.platform import PlatformConfig

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

    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        access: Mapping[str, NodeAccess],
        load_balancer: pulumi.ComponentResource | None = None,
        extras: Mapping[str, NodeExtras] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("jupyterhub-platform:infra:K8sHACluster", name, None, opts)
        extras = dict(extras or {})
        inv = cfg.inventory
        first, *other_cps = inv.control_planes
        self.api_endpoint = cfg.api_endpoint()
        self.prepared, self.joined = {}, {}

        # 1. Preflight and preparation of every node, all in parallel.
        for node in inv.kubernetes_nodes:
            pre = run_step(access[node.name], "preflight", steps.preflight(cfg, node), parent=self)
            last: pulumi.Resource = run_step(
                access[node.name], "prepare", steps.prepare(cfg, node), parent=self, depends_on=[pre]
            )
            for step_name, script in extras.get(node.name, NodeExtras()).before_join:
                last = run_step(access[node.name], step_name, script, parent=self, depends_on=[last])
            self.prepared[node.name] = last

        # 2. kubeadm init, once, after the load balancer can route to it. Never reset by Pulumi.
        lb_ready: list[pulumi.Resource] = list(getattr(load_balancer, "ready", []))
        first_extra = extras.get(first.name, NodeExtras())
        init = run_step(
            access[first.name],
            "kubeadm-init",
            steps.init(cfg, first, list(first_extra.taints)),
            parent=self,
            depends_on=[self.prepared[first.name], *lb_ready],
            protect=True,
            ignore_create_changes=True,
        )
        self.joined[first.name] = self._register(cfg, access, first, first, init, first_extra)
        kubeconfig_step = run_step(
            access[first.name],
            "admin-kubeconfig",
            steps.admin_kubeconfig(first),
            parent=self,
            depends_on=[init],
            prints_secrets=True,
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
            sources=cfg.charts,
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
            depends_on=[*after, self.prepared[node.name]],
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
