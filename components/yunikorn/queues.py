"""Render the typed queue tree into YuniKorn's `queues.yaml` (pure: no Pulumi import).

Shape: one `default` partition (the only one the Kubernetes shim uses) with
- placement rules `provided` (the pod's `yunikorn.apache.org/queue` label, queue must exist) then
  `fixed` to the fallback queue for the hubs' own pods (hub, proxy, image pullers name no queue);
- the configured tree under `root`, plus the fallback leaf (never GPUs);
- interactive queues marked `preemption.policy: disabled`: their servers are never preemption victims
  (the partition-level `preemption` key is deprecated since YuniKorn 1.3 and not rendered).

Why notebooks never fall into the fallback queue
------------------------------------------------
YuniKorn moves on to the next placement rule when a queue's ACL refuses the user, so with a plain
`fixed` rule a notebook refused by its own queue would silently run in the fallback queue (no per-user
limit, no GPUs: it waits until the spawn times out). The `fixed` rule therefore carries a `deny` filter:
- the group `NOTEBOOK_GROUP`, which the hub adds to every notebook's `user.info`;
- as a backstop, the hubs' ServiceAccount (the identity the admission controller would stamp on a
  notebook pod that somehow lacked `user.info`).
A refused notebook matches no rule and is rejected: its spawn fails at once with YuniKorn's event.
The hub's profile filter hides such profiles in the first place, and a config rule
(`config.hubs`) keeps every profile's audience inside its queue's ACL.

The fallback queue's own ACL stays `*`: the hubs' pods carry Kubernetes identities (the Helm caller
stamped on the workload's pod template by the admission controller, or `system:serviceaccount:kube-system:
<controller>` with the groups `system:serviceaccounts`, `system:serviceaccounts:kube-system`,
`system:authenticated` when the template had none), and YuniKorn's ACL parser drops names containing
`:`, so an ACL naming them would admit nobody and the hubs themselves would never be scheduled.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from config.scheduler import NOTEBOOK_GROUP, QueueConfig, Resources, SchedulerConfig

SORT_POLICY = "application.sort.policy"
PREEMPTION_POLICY = "preemption.policy"
PREEMPTION_DELAY = "preemption.delay"


def render_resources(resources: Resources, gpu_resource: str) -> dict[str, str]:
    """YuniKorn resource map; every quantity is a string (the config parser reads strings)."""
    out: dict[str, str] = {}
    if resources.vcore is not None:
        out["vcore"] = resources.vcore
    if resources.memory is not None:
        out["memory"] = resources.memory
    if resources.gpu is not None:
        out[gpu_resource] = str(resources.gpu)
    if resources.pods is not None:
        out["pods"] = str(resources.pods)
    return out


def _resources(guaranteed: Resources | None, maximum: Resources | None, gpu_resource: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if guaranteed is not None and render_resources(guaranteed, gpu_resource):
        out["guaranteed"] = render_resources(guaranteed, gpu_resource)
    if maximum is not None and render_resources(maximum, gpu_resource):
        out["max"] = render_resources(maximum, gpu_resource)
    return out


def render_queue(queue: QueueConfig, gpu_resource: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": queue.name}
    if queue.submit_acl is not None:
        out["submitacl"] = queue.submit_acl.render()
    if queue.admin_acl is not None:
        out["adminacl"] = queue.admin_acl.render()
    if queue.max_applications is not None:
        out["maxapplications"] = queue.max_applications
    resources = _resources(queue.guaranteed, queue.max, gpu_resource)
    if resources:
        out["resources"] = resources
    properties: dict[str, str] = {}
    if queue.is_leaf:
        properties[SORT_POLICY] = queue.application_sort
        if queue.preemption_delay_seconds is not None:
            properties[PREEMPTION_DELAY] = f"{queue.preemption_delay_seconds}s"
        if queue.interactive:
            properties[PREEMPTION_POLICY] = "disabled"
    if properties:
        out["properties"] = properties
    if queue.user_limits:
        out["limits"] = [_limit(limit, gpu_resource) for limit in queue.user_limits]
    if queue.queues:
        out["queues"] = [render_queue(child, gpu_resource) for child in queue.queues]
    return out


def _limit(limit: Any, gpu_resource: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if limit.description:
        out["limit"] = limit.description
    if limit.users:
        out["users"] = list(limit.users)
    if limit.groups:
        out["groups"] = list(limit.groups)
    out["maxapplications"] = limit.max_servers
    if limit.max_resources is not None:
        out["maxresources"] = render_resources(limit.max_resources, gpu_resource)
    return out


def render_fallback(scheduler: SchedulerConfig, gpu_resource: str) -> dict[str, Any]:
    fallback = scheduler.fallback_queue
    maximum = fallback.max.model_copy(update={"gpu": 0})
    return {
        "name": fallback.name,
        "submitacl": "*",
        "resources": _resources(fallback.guaranteed, maximum, gpu_resource),
        "properties": {SORT_POLICY: "fifo", PREEMPTION_POLICY: "disabled"},
    }


def fallback_filter(scheduler: SchedulerConfig) -> dict[str, Any]:
    """Keep notebooks out of the fallback queue (one user regex and one group name, as YuniKorn reads them)."""
    hub_sa = rf"^system:serviceaccount:[^:]+:{re.escape(scheduler.hub_service_account)}$"
    return {"type": "deny", "users": [hub_sa], "groups": [NOTEBOOK_GROUP]}


def render_partition(scheduler: SchedulerConfig, gpu_resource: str) -> dict[str, Any]:
    root = render_queue(scheduler.root(), gpu_resource)
    root["queues"] = [*root.get("queues", []), render_fallback(scheduler, gpu_resource)]
    return {
        "partitions": [
            {
                "name": "default",
                "placementrules": [
                    {"name": "provided", "create": False},
                    {
                        "name": "fixed",
                        "value": scheduler.fallback_queue_path,
                        "create": False,
                        "filter": fallback_filter(scheduler),
                    },
                ],
                "nodesortpolicy": {"type": scheduler.node_sort_policy},
                "queues": [root],
            }
        ]
    }


def render_queues_yaml(scheduler: SchedulerConfig, gpu_resource: str) -> str:
    header = "# Rendered by jupyterhub-platform from the `scheduler` config section; edit that, not this.\n"
    return header + yaml.safe_dump(render_partition(scheduler, gpu_resource), sort_keys=False, default_flow_style=False)
