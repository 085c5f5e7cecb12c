"""The machines the platform is built on, as listed by the platform team."""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel
from config.fields import SshHostKey
from config.gpu import NodeGpu

# Kubernetes node names and host names: an RFC 1123 label keeps both valid.
NODE_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
LABEL_KEY_PATTERN = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE_PATTERN = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class Role(StrEnum):
    """What a machine does in the platform; one machine may have several roles."""

    CONTROL_PLANE = "control-plane"
    WORKER = "worker"
    LOAD_BALANCER = "load-balancer"
    NFS = "nfs"

    @property
    def is_kubernetes(self) -> bool:
        return self in (Role.CONTROL_PLANE, Role.WORKER)


class Taint(StrictModel):
    """A Kubernetes taint applied when the node joins."""

    key: Annotated[str, Field(min_length=1, max_length=253)]
    """Taint key, e.g. `dedicated`."""
    value: str = ""
    """Taint value; empty for key-only taints."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """What the scheduler does with pods that do not tolerate the taint."""

    @field_validator("key")
    @classmethod
    def _key_is_label_key(cls, key: str) -> str:
        if not LABEL_KEY_PATTERN.match(key):
            raise ValueError(f"{key!r} is not a valid taint key")
        return key

    @field_validator("value")
    @classmethod
    def _value_is_label_value(cls, value: str) -> str:
        if not LABEL_VALUE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a valid taint value (up to 63 of A-Z a-z 0-9 - _ .)")
        return value


class NodeSsh(StrictModel):
    """Per-node SSH settings that override the stack-wide `ssh` section."""

    host_key: SshHostKey | None = None
    """The node's SSH host public key (`ssh-ed25519 AAAA...`), pinned so a swapped machine is refused."""
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """SSH port when it is not the stack default."""
    user: str | None = None
    """Login user when it is not the stack default (needs passwordless sudo)."""


class Node(StrictModel):
    """One existing machine reachable over SSH."""

    name: Annotated[str, Field(pattern=NODE_NAME_PATTERN)]
    """Host and Kubernetes node name (lower-case RFC 1123 label); the host is renamed to it."""
    address: IPv4Address
    """Address on the node network: SSH, the API server, kubelet and NFS use it."""
    roles: Annotated[list[Role], Field(min_length=1)]
    """Roles: `control-plane`, `worker`, `load-balancer`, `nfs`. At least one."""
    labels: dict[str, str] = {}
    """Extra Kubernetes node labels applied when the node joins."""
    taints: list[Taint] = []
    """Extra Kubernetes taints applied when the node joins."""
    ssh: NodeSsh = NodeSsh()
    """SSH overrides for this node (host key pinning, port, user)."""
    gpu: NodeGpu | None = None
    """NVIDIA GPUs of this worker (model, count, optional MIG layout): it joins the GPU pool,
    tainted `nvidia.com/gpu=present:NoSchedule` so only GPU notebooks land on it."""
    cpus: Annotated[int, Field(ge=1)] | None = None
    """Optional: CPU cores of this node. When every worker gives it, queue guarantees are checked
    against the workers' total (minus `scheduler.node_reserve`)."""
    memory_gib: Annotated[int, Field(ge=1)] | None = None
    """Optional: memory of this node in GiB, for the same check of memory guarantees."""

    @field_validator("roles")
    @classmethod
    def _roles_unique(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles

    @field_validator("labels")
    @classmethod
    def _labels_valid(cls, labels: dict[str, str]) -> dict[str, str]:
        bad = [k for k, v in labels.items() if not LABEL_KEY_PATTERN.match(k) or not LABEL_VALUE_PATTERN.match(v)]
        if bad:
            raise ValueError(f"invalid Kubernetes label(s): {', '.join(sorted(bad))}")
        return labels

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_kubernetes_node(self) -> bool:
        return any(r.is_kubernetes for r in self.roles)


class Inventory(StrictModel):
    """Every machine of the stack, in order; the first control plane runs `kubeadm init`."""

    node_network: IPv4Network
    """The network all node addresses are in: NFS exports and network policies are scoped to it."""
    nodes: Annotated[list[Node], Field(min_length=1)]
    """The machines. Order matters only for control planes: the first one initialises the cluster."""

    def with_role(self, role: Role) -> list[Node]:
        return [n for n in self.nodes if n.has(role)]

    @property
    def control_planes(self) -> list[Node]:
        return self.with_role(Role.CONTROL_PLANE)

    @property
    def workers(self) -> list[Node]:
        """Nodes that join as workers only (control planes that also run workloads are not here)."""
        return [n for n in self.nodes if n.has(Role.WORKER) and not n.has(Role.CONTROL_PLANE)]

    @property
    def load_balancers(self) -> list[Node]:
        return self.with_role(Role.LOAD_BALANCER)

    @property
    def kubernetes_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.is_kubernetes_node]

    @property
    def schedulable_nodes(self) -> list[Node]:
        """Nodes where workloads run: workers, and control planes that also have the worker role."""
        return self.with_role(Role.WORKER)

    def index_of(self, name: str) -> int:
        return next(i for i, n in enumerate(self.nodes) if n.name == name)
