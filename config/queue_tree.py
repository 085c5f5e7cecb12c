"""The YuniKorn queue tree walked with where each queue sits in the config and in YuniKorn (shared by the
scheduler rules and the hub rules that check profiles against their queues)."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.scheduler import QueueConfig, SchedulerConfig, amounts


@dataclass
class Visit:
    """One queue of the tree with where it sits in the config and in YuniKorn."""

    queue: QueueConfig
    path: str
    """Dotted config path, e.g. `scheduler.queues.0.queues.1`."""
    queue_path: str
    """YuniKorn path, e.g. `root.students`."""
    parent: Visit | None
    effective_max: dict[str, int] = field(default_factory=dict)
    """The queue's max capped by every ancestor's (how YuniKorn applies it)."""

    @property
    def granted(self) -> bool:
        """Someone may submit here: this queue or an ancestor grants anyone."""
        acl = self.queue.submit_acl
        return bool(acl and acl.grants_anyone()) or bool(self.parent and self.parent.granted)


def walk(scheduler: SchedulerConfig) -> list[Visit]:
    """Every queue, parents before children."""
    out: list[Visit] = []

    def visit(queue: QueueConfig, path: str, parent: Visit | None) -> None:
        effective = dict(parent.effective_max) if parent else {}
        for key, value in amounts(queue.max).items():
            effective[key] = min(value, effective.get(key, value))
        queue_path = f"{parent.queue_path}.{queue.name}" if parent else queue.name
        node = Visit(queue, path, queue_path, parent, effective)
        out.append(node)
        for i, child in enumerate(queue.queues):
            visit(child, f"{path}.queues.{i}", node)

    for i, top in enumerate(scheduler.queues):
        visit(top, f"scheduler.queues.{i}", None)
    return out


def show_amount(key: str, value: int) -> str:
    if key == "vcore":
        return f"{value / 1000:g} cores"
    if key == "gpu":
        return f"{value} GPU seat(s)"
    if key == "memory":
        return f"{value / 2**30:.1f}Gi"
    return str(value)
