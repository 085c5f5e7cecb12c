"""Pure functions: read the platform contract and turn it into a team's Kubernetes objects.

No Pulumi import here, so the logic is testable with a plain dict. The contract's shape is
documented in components/contract/README.md of the platform repository (schema_version 1.x).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUPPORTED_MAJOR = 1
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$")
PARENT_QUEUE_ANNOTATION = "yunikorn.apache.org/parentqueue"
MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "team-namespace"}


class ContractError(ValueError):
    """The contract cannot serve this team (wrong version, unknown queue...)."""


@dataclass(frozen=True)
class Team:
    name: str
    """Team name; the namespace is `team-<name>`."""
    queue: str
    """Full path of the platform queue the team's pods go to, e.g. `root.research`."""
    storage_class: str | None = None
    """StorageClass for the team's volumes; the contract's default class when empty."""

    @property
    def namespace(self) -> str:
        return f"team-{self.name}"


def parse_team(raw: Mapping[str, Any]) -> Team:
    unknown = set(raw) - {"name", "queue", "storage_class"}
    if unknown:
        raise ContractError(f"team: unknown keys {sorted(unknown)}")
    name = str(raw.get("name", ""))
    if not NAME.match(name):
        raise ContractError(f"team.name: {name!r} must be a DNS label of at most 53 characters")
    queue = str(raw.get("queue", ""))
    if not queue.startswith("root."):
        raise ContractError(f"team.queue: {queue!r} must be a full queue path such as root.research")
    storage = raw.get("storage_class")
    return Team(name, queue, str(storage) if storage else None)


def check_version(contract: Mapping[str, Any]) -> None:
    version = str(contract.get("schema_version", ""))
    major = version.split(".")[0]
    if major != str(SUPPORTED_MAJOR):
        raise ContractError(
            f"platform contract schema_version {version!r} is not supported (this program reads {SUPPORTED_MAJOR}.x)"
        )


def find_queue(contract: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    queues = {q["path"]: q for q in contract.get("queues") or []}
    if path not in queues:
        raise ContractError(f"team.queue: {path!r} is not a queue of the platform; it has {sorted(queues)}")
    return queues[path]


def storage_class(contract: Mapping[str, Any], team: Team) -> str | None:
    classes = contract.get("storage_classes") or []
    names = [c["name"] for c in classes]
    if team.storage_class is not None:
        if team.storage_class not in names:
            raise ContractError(f"team.storage_class: {team.storage_class!r} is not offered; the platform has {names}")
        return team.storage_class
    return next((c["name"] for c in classes if c.get("default")), None)


def quantity(value: Any) -> str:
    """A quota quantity; numbers read through a StackReference arrive as floats (2.0 -> "2")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quota_hard(contract: Mapping[str, Any], queue: Mapping[str, Any]) -> dict[str, str]:
    """ResourceQuota limits equal to the queue's maximum: the namespace can never ask for more."""
    limits = queue.get("max") or {}
    hard: dict[str, str] = {}
    if "cpu" in limits:
        hard["requests.cpu"] = quantity(limits["cpu"])
    if "memory" in limits:
        hard["requests.memory"] = quantity(limits["memory"])
    if "pods" in limits:
        hard["pods"] = quantity(limits["pods"])
    gpu = contract.get("gpu") or {}
    if "gpu" in limits and gpu.get("resource_names"):
        # Extended resources only take the `requests.` prefix in a quota.
        hard[f"requests.{gpu['resource_names'][0]}"] = quantity(limits["gpu"])
    return hard


def team_objects(contract: Mapping[str, Any], team: Team) -> dict[str, Any]:
    """Everything the team stack sets from the contract: namespace metadata, quota, and a summary ConfigMap."""
    check_version(contract)
    queue = find_queue(contract, team.queue)
    hubs = contract.get("hubs") or []
    gpu = contract.get("gpu") or {}
    summary = {
        "queue": team.queue,
        "api_endpoint": str((contract.get("cluster") or {}).get("api_endpoint") or ""),
        "hub_urls": ",".join(h["url"] for h in hubs),
        "storage_class": storage_class(contract, team) or "",
        "gpu_resource": (gpu.get("resource_names") or [""])[0],
        "contract_version": str(contract["schema_version"]),
    }
    return {
        "namespace_metadata": {
            "name": team.namespace,
            "labels": {**MANAGED_BY, "platform.jupyterhub/team": team.name},
            # YuniKorn's tag placement rule can use this as the parent of the namespace's queue.
            "annotations": {PARENT_QUEUE_ANNOTATION: team.queue},
        },
        "quota_hard": quota_hard(contract, queue),
        "summary": summary,
    }
