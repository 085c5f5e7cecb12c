"""K8sHACluster: the runbook of a kubeadm HA cluster, one remote step at a time.

prepare every node (preflight, preparation, sshd limits and the NFS client in one session per
node) ▸ load balancer ▸ kubeadm init on the first control plane ▸ drain nodes that left the
inventory ▸ mint join material once for every node joining in this update ▸ control-plane joins
one after another, worker joins in parallel ▸ labels through the Kubernetes API ▸ Calico ▸ wait for
every node Ready. Per worker: three resources (prepare, join, labels), none of them on the first
control plane; per-node steps run in at most `ssh.max_parallel_sessions` lanes (see waves.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from components.common.charts import pinned_release
from components.common.remote import NodeAccess, run_step
from components.common.shell import RenderedScript
from components.k8s_cluster import lifecycle, steps, waves
from components.k8s_cluster.kubeadm_config import calico_values
from config.inventory import Node, Role, Taint
from config.platform import PlatformConfig

if TYPE_CHECKING:
    import pulumi_command as command

TIGERA_REPO = "https://docs.tigera.io/calico/charts"
FIELD_MANAGER = "jupyterhub-platform"


@dataclass(frozen=True)
class NodeExtras:
    """What other components add to a node's join: labels, taints, and host work before the join."""

    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()
    before_join: Sequence[tuple[str, RenderedScript]] = ()
    """Separate steps between preparation and the join (own resources, in this order)."""
    prepare_sections: Sequence[Sequence[Path]] = ()
    """Script bodies (no parameters of their own) appended to the node's prepare step, each list
    in its own subshell: host work that costs no extra resource or SSH session."""


def merge_extras(*maps: Mapping[str, NodeExtras]) -> dict[str, NodeExtras]:
    """Several components' extras for the same nodes, combined in the order given."""
    merged: dict[str, NodeExtras] = {}
    for extras in maps:
        for name, extra in extras.items():
            old = merged.get(name, NodeExtras())
            merged[name] = NodeExtras(
                labels={**old.labels, **extra.labels},
                taints=[*old.taints, *extra.taints],
                before_join=[*old.before_join, *extra.before_join],
                prepare_sections=[*old.prepare_sections, *extra.prepare_sections],
            )
    return merged


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
        self._cfg, self._access, self._extras = cfg, access, dict(extras or {})
        inv = cfg.inventory
        first = inv.control_planes[0]
        self.api_endpoint = cfg.api_endpoint()
        self.prepared, self.joined = {}, {}

        # 1. Every node prepared in one session (preflight first), in bounded lanes.
        self._waits = waves.step_waits(cfg)
        self._steps: dict[waves.Step, pulumi.Resource] = {}
        self._prepare_steps: dict[str, command.remote.Command] = {}
        by_name = {n.name: n for n in inv.kubernetes_nodes}
        for node_name in waves.prepare_order(cfg):
            self._prepare(by_name[node_name])
        # 1b. Day-2: each control plane's EncryptionConfiguration before its API server starts.
        key_material = lifecycle.encryption_key_material(cfg, encryption_keys or {})
        lifecycle.encryption_before_start(self, cfg, access, self.prepared, key_material)

        # Each preparation prints its host's identity (preflight); no two nodes may share a
        # product_uuid or MAC. One step over all of them, on the first control plane.
        preparations = list(self._prepare_steps.values())
        self._unique_hosts = run_step(
            access[first.name],
            "unique-hosts",
            steps.unique_hosts(first),
            parent=self,
            depends_on=preparations,
            stdin=pulumi.Output.all(*[p.stdout for p in preparations]).apply(lambda out: "\n".join(out) + "\n"),
        )

        # 2. kubeadm init, once, after the load balancer can route to it. Never reset by Pulumi.
        lb_ready: list[pulumi.Resource] = list(getattr(load_balancer, "ready", []))
        init = run_step(
            access[first.name],
            "kubeadm-init",
            steps.init(cfg, first, list(self._extra(first).taints)),
            parent=self,
            depends_on=[self.prepared[first.name], self._unique_hosts, *lb_ready],
            protect=True,
            ignore_create_changes=True,
        )
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
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[kubeconfig_step]),
        )
        self.joined[first.name] = self._labels(first, init)

        # 3. Once per change of the node list: drain the nodes that left it (before their resets,
        # which Pulumi runs after everything else), then mint join material for all its joins.
        expected = [f"{n.name}={n.address}" for n in inv.kubernetes_nodes]
        drained = run_step(
            access[first.name],
            "drain-removed-nodes",
            steps.drain_removed(cfg, first),
            parent=self,
            depends_on=[init],
            triggers=expected,
        )
        mint = run_step(
            access[first.name],
            steps.MINT_STEP,
            steps.mint_join(cfg, first),
            parent=self,
            # Not after every node's preparation: a barrier over all nodes would make each later
            # registration walk every node (quadratic render); the token's lifetime covers the
            # preparation rounds instead (steps.token_ttl_seconds).
            depends_on=[drained],
            prints_secrets=True,
            triggers=expected,
        )

        # 4. Control planes join one after another, workers in parallel (bounded lanes).
        minted: pulumi.Output[str] = pulumi.Output.secret(mint.stdout)
        for node in waves.join_order(cfg):
            joined = self._join(first, node, minted, mint)
            self.joined[node.name] = self._labels(node, joined)

        # 5. Calico (enforces NetworkPolicy), then wait until every node is Ready.
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
        # 6. Day-2 (components/k8s_cluster/lifecycle.py): renewals, expiry checks, Secrets rewritten
        # with the newest key, and upgrades by config change (Calico above moves first). Charts do
        # not wait for them: a rolling upgrade keeps the cluster serving.
        self.day2 = lifecycle.day2_steps(
            self, cfg, access, after=[calico, nodes_ready], renewed_first=renewed, api=kubeconfig_step
        )
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

    def _extra(self, node: Node) -> NodeExtras:
        return self._extras.get(node.name, NodeExtras())

    def _lane(self, step: waves.Step) -> list[pulumi.Resource]:
        """The per-node steps `step` waits for in its lane (see waves.py)."""
        return [self._steps[s] for s in self._waits[step]]

    def _prepare(self, node: Node) -> None:
        extra = self._extra(node)
        script = steps.prepare(self._cfg, node, extra.prepare_sections)
        after = self._lane((waves.PREPARE, node.name))
        prepare = run_step(self._access[node.name], "prepare", script, parent=self, depends_on=after)
        self._prepare_steps[node.name] = prepare
        last: pulumi.Resource = prepare
        for step_name, before_join in extra.before_join:
            last = run_step(self._access[node.name], step_name, before_join, parent=self, depends_on=[last])
        self.prepared[node.name] = self._steps[(waves.PREPARE, node.name)] = last

    def _join(self, first: Node, node: Node, minted: pulumi.Output[str], mint: pulumi.Resource) -> pulumi.Resource:
        """Join with this update's join material; the node waits until its Node object exists."""
        control_plane = node.has(Role.CONTROL_PLANE)
        joined = run_step(
            self._access[node.name],
            "kubeadm-join",
            steps.join(self._cfg, first, node, list(self._extra(node).taints)),
            parent=self,
            # After the mint through its output alone: every dependency edge the SDK registers
            # walks everything before it (its cycle check), and the mint sits after all nodes.
            depends_on=[self.prepared[node.name], *self._lane((waves.JOIN, node.name))],
            stdin=minted.apply(lambda out: steps.join_material(out, control_plane)),
            delete=steps.reset(node),
            # A later mint (nodes added) must not re-run the joins of nodes already in the cluster.
            ignore_changes=["stdin"],
            # Resetting a control plane removes an etcd member: only on purpose (unprotect first),
            # never because the inventory was reordered or edited by mistake.
            protect=control_plane,
        )
        self._steps[(waves.JOIN, node.name)] = joined
        return joined

    def _labels(self, node: Node, joined: pulumi.Resource) -> pulumi.Resource:
        """The node's labels by server-side apply through the cluster's provider, no SSH. Taints stay
        in the join configuration: a Node's taint list is atomic for server-side apply (one owner
        for the whole list, shared with the node lifecycle controller), and registering with them
        keeps pods off the node from its first moment."""
        return k8s.core.v1.NodePatch(
            f"{node.name}-labels",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=node.name,
                labels=steps.labels(node, dict(self._extra(node).labels)),
                annotations={
                    "pulumi.com/patchFieldManager": FIELD_MANAGER,
                    # The configured labels win over other writers' values, as `kubectl label
                    # --overwrite` did (the GPU pool applies some of the same labels, also forced).
                    "pulumi.com/patchForce": "true",
                    # The address makes a host replaced under the same name get its labels again.
                    steps.ADDRESS_ANNOTATION: str(node.address),
                },
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.provider,
                depends_on=[joined],
                # A removed node's Node object is deleted by the drain step; nothing to undo on it.
                retain_on_delete=True,
            ),
        )
