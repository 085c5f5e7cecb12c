"""Rules for the YuniKorn queue tree: what YuniKorn itself would refuse, and what the machines cannot give.

Each rule yields `ConfigIssue`s located at the queue field at fault, e.g.
`scheduler.queues.0.queues.1.guaranteed.vcore`. YuniKorn refuses a whole `queues.yaml` for one
bad queue (and keeps the old one), so catching these before deployment matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.errors import ConfigIssue
from config.gpu_queries import gpu_seats
from config.queue_tree import Visit, walk
from config.queue_tree import show_amount as _show
from config.scheduler import LABEL_VALUE_MAX, QueueConfig, Resources, SchedulerConfig, amounts, node_reserve_amounts

if TYPE_CHECKING:
    from config.platform import PlatformConfig

ROOT = "scheduler.queues.0"


def tree_shape(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    s = cfg.scheduler
    if len(s.queues) != 1:
        yield ConfigIssue("scheduler.queues", "give exactly one top-level queue, `root`, with the notebook queues below it")
    if s.queues[0].name != "root":
        yield ConfigIssue(f"{ROOT}.name", "the top-level queue must be named `root`")
    if s.queues[0].is_leaf:
        yield ConfigIssue(f"{ROOT}.queues", "root needs child queues: notebooks can only run in leaf queues below root")
    if any(q.name == s.fallback_queue.name for q in s.queues[0].queues):
        yield ConfigIssue("scheduler.fallback_queue.name", f"root already has a child named {s.fallback_queue.name!r}")
    for v in walk(s):
        seen: dict[str, int] = {}
        for i, child in enumerate(v.queue.queues):
            if child.name in seen:
                yield ConfigIssue(
                    f"{v.path}.queues.{i}.name", f"duplicate queue name {child.name!r} (also queues.{seen[child.name]})"
                )
            seen.setdefault(child.name, i)
        if len(v.queue_path) > LABEL_VALUE_MAX:
            yield ConfigIssue(
                f"{v.path}.name",
                f"the queue path {v.queue_path!r} is longer than {LABEL_VALUE_MAX} characters and cannot be a pod label",
            )
        if v.queue.preemption_delay_seconds is not None and not v.queue.is_leaf:
            yield ConfigIssue(f"{v.path}.preemption_delay_seconds", "YuniKorn accepts a preemption delay on leaf queues only")
        yield from _limit_lists(v)


def _limit_lists(v: Visit) -> Iterator[ConfigIssue]:
    """YuniKorn's checks across one queue's limits: each name once, `*` last, no lone `*` group."""
    users: set[str] = set()
    groups: set[str] = set()
    for i, limit in enumerate(v.queue.user_limits):
        at = f"{v.path}.user_limits.{i}"
        for kind, names, seen in (("users", limit.users, users), ("groups", limit.groups, groups)):
            for name in names:
                if name in seen:
                    yield ConfigIssue(f"{at}.{kind}", f"{name!r} already has a limit in this queue")
                elif "*" in seen:
                    yield ConfigIssue(f"{at}.{kind}", "the `*` limit must come after every named one")
                seen.add(name)
        if v.queue.max_applications is not None and limit.max_servers > v.queue.max_applications:
            yield ConfigIssue(
                f"{at}.max_servers", f"{limit.max_servers} is above the queue's max_applications {v.queue.max_applications}"
            )
        for key, value in amounts(limit.max_resources).items():
            cap = v.effective_max.get(key)
            if cap is not None and value > cap:
                yield ConfigIssue(f"{at}.max_resources.{key}", f"{_show(key, value)} is above the queue's max {_show(key, cap)}")
    if "*" in groups and len(groups) == 1:
        index = next(i for i, lim in enumerate(v.queue.user_limits) if "*" in lim.groups)
        yield ConfigIssue(
            f"{v.path}.user_limits.{index}.groups",
            "a `*` group limit needs a limit for at least one named group in the same queue (else it is the queue max)",
        )


def root_and_acls(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    root = cfg.scheduler.queues[0]
    for part in ("guaranteed", "max"):
        if getattr(root, part) is not None:
            yield ConfigIssue(f"{ROOT}.{part}", "root takes no resources: its max is the whole cluster; set them on its children")
    for v in walk(cfg.scheduler):
        acl = v.queue.submit_acl
        if acl is not None and acl.everyone and not v.queue.is_leaf:
            where = "root opens every queue" if v.parent is None else f"{v.queue_path} opens every queue below it"
            yield ConfigIssue(
                f"{v.path}.submit_acl",
                f"`everyone` on {where} (ACLs are checked leaf to root and the first grant wins): grant at leaves",
            )
        if v.queue.is_leaf and v.parent is not None and not v.granted:
            yield ConfigIssue(f"{v.path}.submit_acl", f"nobody may start servers in {v.queue_path}: grant users or groups")


def resources(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    s = cfg.scheduler
    fallback = s.fallback_queue
    for key, value in amounts(fallback.guaranteed).items():
        cap = amounts(fallback.max).get(key)
        if cap is not None and value > cap:
            yield ConfigIssue(
                f"scheduler.fallback_queue.guaranteed.{key}", f"{_show(key, value)} is above its max {_show(key, cap)}"
            )
    for v in walk(s):
        own_max = amounts(v.queue.max)
        for key, value in amounts(v.queue.guaranteed).items():
            if key in own_max and value > own_max[key]:
                yield ConfigIssue(
                    f"{v.path}.guaranteed.{key}", f"{_show(key, value)} is above the queue's own max {_show(key, own_max[key])}"
                )
        parent_max = v.parent.effective_max if v.parent else {}
        for key, value in own_max.items():
            if key in parent_max and value > parent_max[key]:
                yield ConfigIssue(
                    f"{v.path}.max.{key}", f"{_show(key, value)} is above the parent's max {_show(key, parent_max[key])}"
                )
        yield from _children_guarantees(v)
        yield from _max_applications(v)
    yield from _inherited_limits(s)


def _children_guarantees(v: Visit) -> Iterator[ConfigIssue]:
    totals: dict[str, int] = {}
    for child in v.queue.queues:
        for key, value in amounts(child.guaranteed).items():
            totals[key] = totals.get(key, 0) + value
    own_guaranteed = amounts(v.queue.guaranteed)
    for key, total in sorted(totals.items()):
        if key in v.effective_max and total > v.effective_max[key]:
            yield ConfigIssue(
                f"{v.path}.max.{key}",
                f"the children's guarantees add up to {_show(key, total)}, "
                f"above this queue's max {_show(key, v.effective_max[key])}",
            )
        if key in own_guaranteed and total > own_guaranteed[key]:
            yield ConfigIssue(
                f"{v.path}.guaranteed.{key}",
                f"the children's guarantees add up to {_show(key, total)}, above this queue's guarantee "
                f"{_show(key, own_guaranteed[key])}",
            )


def _max_applications(v: Visit) -> Iterator[ConfigIssue]:
    cap = v.queue.max_applications
    if cap is None:
        return
    for i, child in enumerate(v.queue.queues):
        if child.max_applications is None or child.max_applications > cap:
            yield ConfigIssue(
                f"{v.path}.queues.{i}.max_applications",
                f"the parent allows {cap} servers: YuniKorn requires every child to set max_applications <= {cap}",
            )


def _inherited_limits(s: SchedulerConfig) -> Iterator[ConfigIssue]:
    """A user's (or group's) limit in a child may not exceed the one set higher up the tree."""
    inherited: dict[str, dict[tuple[str, str], tuple[int, dict[str, int]]]] = {}
    for v in walk(s):
        mine = dict(inherited.get(v.parent.queue_path, {})) if v.parent else {}
        for i, limit in enumerate(v.queue.user_limits):
            names = [("user", n) for n in limit.users] + [("group", n) for n in limit.groups]
            here = amounts(limit.max_resources)
            for name in names:
                if name in mine and v.parent is not None:
                    servers, res = mine[name]
                    if limit.max_servers > servers:
                        yield ConfigIssue(
                            f"{v.path}.user_limits.{i}.max_servers",
                            f"{name[0]} {name[1]!r} may run only {servers} servers higher up the tree",
                        )
                    for key, value in here.items():
                        if key in res and value > res[key]:
                            yield ConfigIssue(
                                f"{v.path}.user_limits.{i}.max_resources.{key}",
                                f"{name[0]} {name[1]!r} is limited to {_show(key, res[key])} higher up the tree",
                            )
                mine[name] = (limit.max_servers, here)
        inherited[v.queue_path] = mine


def _running_totals(cfg: PlatformConfig) -> Iterator[tuple[str, str, int]]:
    """(config path, resource, running total) over the fallback queue then root's children."""
    totals: dict[str, int] = {}
    tops: list[tuple[str, Resources | None]] = [("scheduler.fallback_queue", cfg.scheduler.fallback_queue.guaranteed)]
    tops += [(f"{ROOT}.queues.{i}", q.guaranteed) for i, q in enumerate(cfg.scheduler.queues[0].queues)]
    for path, guaranteed in tops:
        for key, value in amounts(guaranteed).items():
            totals[key] = totals.get(key, 0) + value
            yield path, key, totals[key]


def gpu_capacity(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    seats = gpu_seats(cfg)
    if seats == 0:
        for v in walk(cfg.scheduler):
            for part in ("guaranteed", "max"):
                if amounts(getattr(v.queue, part)).get("gpu", 0) > 0:
                    yield ConfigIssue(
                        f"{v.path}.{part}.gpu", f"{v.queue_path} has GPUs but no inventory node has any (gpu seats: 0)"
                    )
        return
    reported = False
    for path, key, total in _running_totals(cfg):
        if key == "gpu" and total > seats and not reported:
            reported = True
            yield ConfigIssue(f"{path}.guaranteed.gpu", f"GPU guarantees reach {total} here, but the pool has {seats} seats")


def inventory_capacity(cfg: PlatformConfig) -> dict[str, int]:
    """Schedulable vcore (millicores) and memory (bytes) of the workers after reserves; a resource is
    absent when any worker does not state it (then its guarantees are not checked)."""
    workers = cfg.inventory.schedulable_nodes
    capacity: dict[str, int] = {}
    reserves = [node_reserve_amounts(cfg.scheduler, n) for n in workers]
    if workers and all(n.cpus is not None for n in workers):
        capacity["vcore"] = sum((n.cpus or 0) * 1000 - r.get("vcore", 0) for n, r in zip(workers, reserves, strict=True))
    if workers and all(n.memory_gib is not None for n in workers):
        capacity["memory"] = sum((n.memory_gib or 0) * 2**30 - r.get("memory", 0) for n, r in zip(workers, reserves, strict=True))
    return capacity


def node_capacity(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    capacity = inventory_capacity(cfg)
    reported: set[str] = set()
    for path, key, total in _running_totals(cfg):
        if key in capacity and total > capacity[key] and key not in reported:
            reported.add(key)
            yield ConfigIssue(
                f"{path}.guaranteed.{key}",
                f"{key} guarantees reach {_show(key, total)} here, but the workers provide {_show(key, capacity[key])} "
                "after scheduler.node_reserve",
            )


def _holds_interactive(queue: QueueConfig) -> bool:
    """Its servers (or some below it) are never preemption victims."""
    return queue.interactive if queue.is_leaf else any(_holds_interactive(q) for q in queue.queues)


@dataclass
class _Sibling:
    path: str
    queue_path: str
    guaranteed: dict[str, int]
    max: dict[str, int]
    protected: bool


def _siblings(cfg: PlatformConfig, v: Visit) -> list[_Sibling]:
    out = [
        _Sibling(f"{v.path}.queues.{i}", f"{v.queue_path}.{q.name}", amounts(q.guaranteed), amounts(q.max), _holds_interactive(q))
        for i, q in enumerate(v.queue.queues)
    ]
    if v.parent is None:  # the fallback queue is root's child too, and never preempted
        fb = cfg.scheduler.fallback_queue
        fb_max = {**amounts(fb.max), "gpu": 0}
        out.append(_Sibling("scheduler.fallback_queue", cfg.scheduler.fallback_queue_path, amounts(fb.guaranteed), fb_max, True))
    return out


def burst_room(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Every guarantee stays reachable without preemption.

    Notebooks are interactive work the platform never preempts: interactive leaves render
    `preemption.policy: disabled` and every notebook pod carries `yunikorn.apache.org/allow-preemption:
    "false"` (the field notes: protect interactive notebooks; a killed kernel loses unsaved state). YuniKorn
    only restores a queue's guarantee by preempting from siblings above theirs, so here it never can: once a
    sibling has grown to its max, a queue below its guarantee waits until servers end on their own. The
    guarantee is therefore real only if room for it is left unused: for each sibling group, a protected
    queue's max plus the other siblings' guarantees must fit the parent's max (for root's children, which
    include the fallback queue: the inventory's schedulable capacity after reserves, and the GPU seats).
    A queue without a max may grow to the whole parent, so it needs one as soon as a sibling has a guarantee.
    Totals only: taints (CPU queues cannot use the GPU nodes) are not modelled, so leave slack there.
    Non-interactive leaves (`interactive: false`) are preemptible and exempt as the growing queue.
    """
    for v in walk(cfg.scheduler):
        if v.queue.is_leaf:
            continue
        if v.parent is None:
            cap = inventory_capacity(cfg)
            if (seats := gpu_seats(cfg)) > 0:
                cap["gpu"] = seats
            where = "the cluster's schedulable capacity"
        else:
            cap = dict(v.effective_max)
            where = f"{v.queue_path}'s max"
        siblings = _siblings(cfg, v)
        for sib in siblings:
            if not sib.protected:
                continue
            for key, limit in sorted(cap.items()):
                if sum(o.guaranteed.get(key, 0) for o in siblings) > limit:
                    continue  # the guarantees alone are too high: reported on them, not on every sibling's max
                others = sum(o.guaranteed.get(key, 0) for o in siblings if o is not sib)
                grows_to = min(sib.max.get(key, limit), limit)
                if others and grows_to + others > limit:
                    yield ConfigIssue(
                        f"{sib.path}.max.{key}",
                        f"{sib.queue_path} may grow to {_show(key, grows_to)} while its siblings are guaranteed "
                        f"{_show(key, others)}: together above {where} ({_show(key, limit)}). Notebooks are never "
                        f"preempted, so those guarantees could not be restored: set this max to at most "
                        f"{_show(key, max(limit - others, 0))} (or lower the siblings' guarantees)",
                    )


SCHEDULER_CHECKS = [tree_shape, root_and_acls, resources, gpu_capacity, node_capacity, burst_room]
