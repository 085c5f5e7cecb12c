"""Apache YuniKorn: the chart pin and the typed queue tree rendered into `queues.yaml`.

The queue tree mirrors YuniKorn's own shape: `queues` holds exactly one queue, `root`, whose
children are the queues notebooks run in. Rules that need other sections (GPU seats, node
capacity) live in `config.scheduler_rules`; the rules here only look at the tree itself.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from config.base import StrictModel
from config.fields import ChartVersion
from config.inventory import Node, Role

# What every YuniKorn release accepts in a queue name (newer ones accept more), narrowed to what
# also fits a Kubernetes label value: the hub puts the full path in `yunikorn.apache.org/queue`.
QUEUE_NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$")
LABEL_VALUE_MAX = 63
# YuniKorn's config checks for names in limits.
USER_PATTERN = re.compile(r"^[_a-zA-Z][a-zA-Z0-9:_.@-]*[$]?$")
GROUP_PATTERN = re.compile(r"^[_a-zA-Z][a-zA-Z0-9:_.-]*$")
# What YuniKorn's ACL parser (yunikorn-core pkg/common/security/acl.go) keeps: it silently drops other
# names, so `system:authenticated`, `uni:cs101` or a Keycloak path `/students` in an ACL grants nobody.
ACL_USER_PATTERN = re.compile(r"^[_a-zA-Z][a-zA-Z0-9_.@-]*[$]?$")
ACL_GROUP_PATTERN = re.compile(r"^[_a-zA-Z][a-zA-Z0-9_-]*$")
# Group the hub adds to every notebook's user info; placement never puts a pod with it into the fallback
# queue (see components/yunikorn/queues.py). Reserved: config may not name it.
NOTEBOOK_GROUP = "jupyterhub-platform-notebook"
VCORE_PATTERN = re.compile(r"^(?P<num>[0-9]+(\.[0-9]{1,3})?)(?P<milli>m?)$")
MEMORY_PATTERN = re.compile(r"^(?P<num>[0-9]+)(?P<unit>k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip


def check_queue_name(name: str) -> str:
    if not QUEUE_NAME_PATTERN.match(name):
        raise ValueError(
            f"{name!r} is not a valid queue name: use lower-case letters, digits, '-' and '_' "
            "(no dots: a dot separates levels), starting and ending with a letter or digit, at most 64"
        )
    return name


def millicores(vcore: str) -> int:
    match = VCORE_PATTERN.match(vcore)
    if not match:
        raise ValueError(f"{vcore!r} is not a CPU quantity like 4, 0.5 or 500m")
    number = Decimal(match["num"])
    return int(number) if match["milli"] else int(number * 1000)


def memory_bytes(memory: str) -> int:
    match = MEMORY_PATTERN.match(memory)
    if not match:
        raise ValueError(f"{memory!r} is not a memory quantity like 16Gi or 512Mi")
    return int(match["num"]) * _MEMORY_UNITS[match["unit"] or ""]


class Resources(StrictModel):
    """A set of YuniKorn resource quantities; a missing one is not limited (max) or not guaranteed."""

    vcore: str | None = None
    """CPU: whole cores (`4`), decimals (`0.5`) or millicores (`500m`); a YAML number or a string."""
    memory: str | None = None
    """Memory in bytes with an SI or IEC suffix (`16Gi`, `512Mi`, `8G`), or a plain number of bytes."""
    gpu: Annotated[int, Field(ge=0)] | None = None
    """GPU seats: rendered under the resource name the GPU pool advertises (`nvidia.com/gpu` by default);
    with time-slicing one seat is one slice."""
    pods: Annotated[int, Field(ge=0)] | None = None
    """Number of pods."""

    @field_validator("vcore", "memory", mode="before")
    @classmethod
    def _numbers_are_quantities(cls, value: object) -> object:
        # `vcore: 3` and `memory: 1073741824` are as natural as `vcore: "3"`: YAML numbers become quantities.
        if isinstance(value, bool):
            raise ValueError("must be a quantity like 4 or 500m (CPU) or 16Gi (memory), not true/false")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        return value

    @field_validator("vcore")
    @classmethod
    def _vcore(cls, value: str | None) -> str | None:
        if value is not None:
            millicores(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None:
            memory_bytes(value)
        return value

    def amounts(self) -> dict[str, int]:
        """Comparable integers (millicores, bytes, seats, pods) of the quantities that are set."""
        out: dict[str, int] = {}
        if self.vcore is not None:
            out["vcore"] = millicores(self.vcore)
        if self.memory is not None:
            out["memory"] = memory_bytes(self.memory)
        if self.gpu is not None:
            out["gpu"] = self.gpu
        if self.pods is not None:
            out["pods"] = self.pods
        return out


class AccessList(StrictModel):
    """A YuniKorn ACL: named users and groups, or everyone. An empty list grants nobody."""

    users: list[str] = []
    """User names (as JupyterHub names them) granted access."""
    groups: list[str] = []
    """Group names (JupyterHub groups, passed in the pod's user info) granted access."""
    everyone: bool = False
    """Grant every user (`*`). Only sensible on leaf queues: ACLs are inherited downwards."""

    @field_validator("users")
    @classmethod
    def _users(cls, users: list[str]) -> list[str]:
        bad = [u for u in users if not ACL_USER_PATTERN.match(u)]
        if bad:
            raise ValueError(
                f"YuniKorn's ACLs ignore these user names (letters, digits, `_ . @ -` only): {', '.join(bad)}"
            )
        return users

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: list[str]) -> list[str]:
        bad = [g for g in groups if not ACL_GROUP_PATTERN.match(g) or g == NOTEBOOK_GROUP]
        if bad:
            raise ValueError(
                f"YuniKorn's ACLs ignore these group names (letters, digits, `_ -` only; {NOTEBOOK_GROUP!r} is "
                f"reserved): {', '.join(bad)}"
            )
        return groups

    def admits_group(self, group: str) -> bool:
        return self.everyone or group in self.groups

    def admits_user(self, user: str) -> bool:
        return self.everyone or user in self.users

    @model_validator(mode="after")
    def _everyone_alone(self) -> AccessList:
        if self.everyone and (self.users or self.groups):
            raise ValueError("`everyone` already includes every user; drop the users/groups or `everyone`")
        return self

    def grants_anyone(self) -> bool:
        return self.everyone or bool(self.users or self.groups)

    def render(self) -> str:
        """YuniKorn syntax: `*`, `user1,user2 group1,group2`, ` group1` (groups only) or ` ` (nobody)."""
        if self.everyone:
            return "*"
        return f"{','.join(self.users)} {','.join(self.groups)}".rstrip() or " "


class UserLimit(StrictModel):
    """A per-user (or per-group) limit in a queue; it applies to each user or group separately."""

    description: str = ""
    """What the limit is for (shown in YuniKorn's UI)."""
    users: list[str] = []
    """Users limited; `*` means every user (each one separately). `*` must be alone."""
    groups: list[str] = []
    """Groups limited, each as a whole; `*` needs at least one named group in another limit of the queue."""
    max_servers: Annotated[int, Field(ge=1)]
    """Most notebook servers (YuniKorn applications) each user/group may run here at once."""
    max_resources: Resources | None = None
    """Most resources each user/group may hold here at once."""

    @field_validator("users")
    @classmethod
    def _users(cls, users: list[str]) -> list[str]:
        bad = [u for u in users if u != "*" and not USER_PATTERN.match(u)]
        if bad:
            raise ValueError(f"YuniKorn refuses these user names: {', '.join(bad)}")
        if "*" in users and len(users) > 1:
            raise ValueError("`*` must be the only entry of the list")
        return users

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: list[str]) -> list[str]:
        bad = [g for g in groups if g != "*" and not GROUP_PATTERN.match(g)]
        if bad:
            raise ValueError(f"YuniKorn refuses these group names: {', '.join(bad)}")
        if "*" in groups and len(groups) > 1:
            raise ValueError("`*` must be the only entry of the list")
        return groups

    @model_validator(mode="after")
    def _someone(self) -> UserLimit:
        if not self.users and not self.groups:
            raise ValueError("a limit needs users or groups (use users: ['*'] for every user)")
        if self.max_resources is not None and not any(self.max_resources.amounts().values()):
            raise ValueError("max_resources is all zero: YuniKorn rejects that (omit it instead)")
        return self


class QueueConfig(StrictModel):
    """One YuniKorn queue; a queue with children is a parent, one without is a leaf notebooks run in."""

    name: str
    """Queue name: lower-case letters, digits, `-`, `_` (at most 64; the full dotted path at most 63 so it
    fits the `yunikorn.apache.org/queue` pod label). The single top-level queue must be `root`."""
    guaranteed: Resources | None = None
    """Resources the queue is guaranteed; preemption never takes a queue below it. Not allowed on root."""
    max: Resources | None = None
    """Hard cap on everything running in the queue (and below). Not allowed on root (root is the cluster)."""
    queues: list[QueueConfig] = []
    """Child queues."""
    submit_acl: AccessList | None = None
    """Who may start servers here. Inherited downwards and checked leaf to root, first grant wins:
    grant at leaves; no grant anywhere on the path means nobody."""
    admin_acl: AccessList | None = None
    """Who may administer the queue (and its children)."""
    user_limits: list[UserLimit] = []
    """Per-user/per-group limits (max servers, max resources) in this queue."""
    max_applications: Annotated[int, Field(ge=1)] | None = None
    """Most servers running in the queue overall. If a parent sets it, every child must set it (<= parent)."""
    application_sort: Literal["fair", "fifo"] = "fair"
    """Order in which waiting servers get resources (leaves only): `fair` favours users holding less."""
    interactive: bool = True
    """Leaves: holds interactive notebooks, whose servers are never preemption victims
    (`preemption.policy: disabled`); false lets preemption reclaim from it (batch work)."""
    preemption_delay_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None
    """Leaves only: how long a request waits before it may preempt others (YuniKorn default 30 s)."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return check_queue_name(name)

    @property
    def is_leaf(self) -> bool:
        return not self.queues


class FallbackQueue(StrictModel):
    """The leaf `root.<name>` for the hubs' own pods (hub, proxy, image pullers), which name no queue.
    Never given GPUs and bounded so nothing there can crowd out the notebook queues. Notebooks never land
    here: placement filters out pods carrying the hub's notebook group (a refused notebook is rejected
    and its spawn fails at once, instead of waiting here without GPUs or per-user limits)."""

    name: str = "system"
    """Queue name under root; must not clash with a configured child of root."""
    guaranteed: Resources | None = None
    """Kept free for the hub's own pods (a restarted hub must find room). Since notebooks are never preempted,
    every notebook queue then needs a max that leaves this free (rule `burst_room`): set it together with them."""
    max: Resources = Resources(vcore="4", memory="8Gi")
    """Cap on everything that lands here (GPUs are always capped at 0)."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return check_queue_name(name)


def _default_queues() -> list[QueueConfig]:
    everyone = AccessList(everyone=True)
    users = QueueConfig(
        name="users",
        submit_acl=everyone,
        user_limits=[UserLimit(description="one server per user", users=["*"], max_servers=1)],
    )
    return [QueueConfig(name="root", queues=[users])]


class SchedulerConfig(StrictModel):
    """YuniKorn: the chart and the queue tree notebooks are placed in."""

    chart_version: ChartVersion = "1.9.0"
    """YuniKorn chart (and image) version; 1.9.0 fixes a 1.8.0 deadlock. Only chart keys present in 1.8.0
    and not deprecated are set, so 1.8.0 works too."""
    chart_repository: str = "https://apache.github.io/yunikorn-release"
    """Helm repository of the YuniKorn chart."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "yunikorn"
    """Namespace of the scheduler, its admission controller and the `yunikorn-configs` ConfigMap."""
    queues: Annotated[list[QueueConfig], Field(min_length=1)] = _default_queues()
    """The queue tree: exactly one queue, `root`, with the notebook queues below it."""
    fallback_queue: FallbackQueue = FallbackQueue()
    """Where placement puts pods that name no usable queue (see `FallbackQueue`)."""
    node_sort_policy: Literal["fair", "binpacking"] = "fair"
    """`fair` spreads notebooks over nodes (responsive); `binpacking` fills nodes first (frees whole nodes)."""
    admission_replicas: Annotated[int, Field(ge=1, le=5)] = 2
    """Admission controller replicas: its webhook fails open, so a down controller silently sends pods to
    the default scheduler; two replicas make that unlikely."""
    admission_host_network: bool = False
    """Run the admission controller on the host network (needed only where the API server cannot reach pod
    IPs; with Calico on kubeadm it can, and the pod network allows two replicas per node)."""
    hub_service_account: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")] = "hub"
    """ServiceAccount of each hub (z2jh names it `hub`): allowed to set the user info annotation."""
    node_reserve: Resources = Resources(vcore="1", memory="2Gi")
    """Capacity check: per schedulable node, what the kubelet, system daemons and DaemonSets keep."""
    control_plane_reserve: Resources = Resources(vcore="1", memory="3Gi")
    """Capacity check: extra reserve on a control plane that also takes workloads (API server, etcd)."""

    def root(self) -> QueueConfig:
        return self.queues[0]

    def leaf_queue_paths(self) -> list[str]:
        """Full paths of the leaf queues profiles may name, e.g. `root.students` (not the fallback)."""
        paths: list[str] = []

        def walk(queue: QueueConfig, prefix: str) -> None:
            path = f"{prefix}.{queue.name}" if prefix else queue.name
            if queue.is_leaf and prefix:
                paths.append(path)
            for child in queue.queues:
                walk(child, path)

        for top in self.queues:
            walk(top, "")
        return paths

    def submit_access(self, path: str) -> AccessList | None:
        """Who may submit to the queue at `path`: the union of the ACLs from it up to root (YuniKorn checks
        leaf to root and the first grant wins). None when there is no such queue."""
        level, chain = self.queues, []
        for name in path.split("."):
            found = next((q for q in level if q.name == name), None)
            if found is None:
                return None
            chain.append(found)
            level = found.queues
        acls = [q.submit_acl for q in chain if q.submit_acl is not None]
        if any(a.everyone for a in acls):
            return AccessList(everyone=True)
        users = sorted({u for a in acls for u in a.users})
        groups = sorted({g for a in acls for g in a.groups})
        return AccessList(users=users, groups=groups)

    @property
    def fallback_queue_path(self) -> str:
        return f"root.{self.fallback_queue.name}"

    @property
    def image_version(self) -> str:
        return self.chart_version.removeprefix("v")


def amounts(resources: Resources | None) -> dict[str, int]:
    return resources.amounts() if resources is not None else {}


def node_reserve_amounts(s: SchedulerConfig, node: Node) -> dict[str, int]:
    """What a node keeps for the system (kubelet, OS): the node reserve, plus more on control planes."""
    out = amounts(s.node_reserve)
    if node.has(Role.CONTROL_PLANE):
        for key, value in amounts(s.control_plane_reserve).items():
            out[key] = out.get(key, 0) + value
    return out
