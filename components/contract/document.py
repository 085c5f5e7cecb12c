"""The stack contract: a versioned document other teams read (pure; no Pulumi import).

`build_contract` turns the validated configuration into the `platform` output; the document is
checked against the committed JSON Schema (`platform-v1.schema.json`) before it leaves the
program. It holds names, addresses and quotas only, never secrets: the kubeconfig is the separate
secret output named in `cluster.kubeconfig_output`. Changing its shape means changing the schema
and bumping `SCHEMA_VERSION` (minor for additions, major for removals or renames).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from components.backup.jobs import schedules
from components.monitoring import naming as monitoring_naming
from components.monitoring.access import urls as monitoring_urls
from config.consoles_rules import allowed_groups
from config.gpu_queries import gpu_nodes, gpu_resource_name, gpu_resource_names, gpu_seats_by_resource
from config.hubs import HubConfig
from config.nfs_queries import nfs_server_address
from config.platform import PlatformConfig
from config.scheduler import QueueConfig, Resources
from config.traffic_queries import hub_entry, hub_frontend_address

SCHEMA_VERSION = "1.1"
SCHEMA_PATH = Path(__file__).resolve().parent / "platform-v1.schema.json"
KUBECONFIG_OUTPUT = "kubeconfig"
NFS_CSI_PROVISIONER = "nfs.csi.k8s.io"


class ContractError(ValueError):
    """The document does not match its schema: a bug in the builder, reported before anything is exported."""


def _resources(res: Resources | None) -> dict[str, Any] | None:
    """Kubernetes-style names: cpu and memory as quantities, gpu as seats of `gpu.resource_name`."""
    if res is None:
        return None
    out: dict[str, Any] = {}
    if res.vcore is not None:
        out["cpu"] = res.vcore
    if res.memory is not None:
        out["memory"] = res.memory
    if res.gpu is not None:
        out["gpu"] = res.gpu
    if res.pods is not None:
        out["pods"] = res.pods
    return out


def _queues(cfg: PlatformConfig) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    def walk(queue: QueueConfig, prefix: str) -> None:
        path = f"{prefix}.{queue.name}" if prefix else queue.name
        if prefix:  # root is the whole cluster: it takes no limits and nobody submits to it
            entries.append(
                {
                    "path": path,
                    "leaf": queue.is_leaf,
                    "guaranteed": _resources(queue.guaranteed),
                    "max": _resources(queue.max),
                    "interactive": queue.interactive,
                    "fallback": False,
                }
            )
        for child in queue.queues:
            walk(child, path)

    for top in cfg.scheduler.queues:
        walk(top, "")
    fallback = cfg.scheduler.fallback_queue
    entries.append(
        {
            "path": cfg.scheduler.fallback_queue_path,
            "leaf": True,
            "guaranteed": _resources(fallback.guaranteed),
            "max": {**(_resources(fallback.max) or {}), "gpu": 0},
            "interactive": False,
            "fallback": True,
        }
    )
    return sorted(entries, key=lambda e: e["path"])


def _hub_url(hub: HubConfig) -> str | None:
    if not hub.host:
        return None  # served on the proxy's LoadBalancer address, known only once it exists
    scheme = "http" if hub.https.mode == "none" else "https"
    return f"{scheme}://{hub.host}/"


def _hub_entry(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    entry = hub_entry(cfg, hub)
    return {"via": entry.via, "address": entry.address, "allowed_networks": [str(n) for n in hub.allowed_networks]}


def _hubs(cfg: PlatformConfig) -> list[dict[str, Any]]:
    return [
        {
            "name": hub.name,
            "namespace": hub.k8s_namespace,
            "url": _hub_url(hub),
            "entry": _hub_entry(cfg, hub),
            "queues": sorted({p.queue for p in hub.profiles}),
            "profiles": [{"slug": p.slug, "queue": p.queue, "gpu": p.gpu} for p in hub.profiles],
        }
        for hub in cfg.hubs
    ]


def _consoles(cfg: PlatformConfig) -> list[dict[str, Any]]:
    """Admin consoles (1.2): always behind the load-balancer hosts and oauth2-proxy."""
    consoles = cfg.consoles
    if consoles is None:
        return []
    return [
        {
            "name": c.name,
            "app": c.app,
            "url": f"https://{c.host}/",
            "logout_url": f"https://{c.host}/oauth2/sign_out",
            "allowed_groups": allowed_groups(cfg, consoles, c),
            "entry": {
                "via": "haproxy",
                "address": hub_frontend_address(cfg),
                "allowed_networks": [str(n) for n in c.allowed_networks],
            },
        }
        for c in consoles.apps
    ]


def _namespaces(cfg: PlatformConfig) -> list[dict[str, str]]:
    spaces = [{"name": hub.k8s_namespace, "purpose": f"hub:{hub.name}"} for hub in cfg.hubs]
    spaces.append({"name": cfg.scheduler.namespace, "purpose": "scheduler"})
    spaces.append({"name": cfg.nfs.csi_namespace, "purpose": "storage"})
    if cfg.consoles is not None:
        spaces.append({"name": cfg.consoles.namespace, "purpose": "consoles"})
    if gpu_nodes(cfg):
        spaces.append({"name": cfg.gpu.namespace, "purpose": "gpu"})
    if cfg.monitoring is not None:
        spaces.append({"name": monitoring_naming.NAMESPACE, "purpose": "monitoring"})
    return sorted(spaces, key=lambda s: (s["name"], s["purpose"]))


def _nfs(cfg: PlatformConfig) -> dict[str, Any]:
    nfs = cfg.nfs
    return {
        "mode": nfs.mode,
        "server": nfs_server_address(cfg),
        "export_path": nfs.export_path,
        "mount_options": list(nfs.mount_options),
        "homes": [{"hub": h.name, "path": nfs.homes_path(h.k8s_namespace)} for h in cfg.hubs],
        "shared": [
            {"name": f.name, "path": nfs.shared_path(f.name), "mount_path": f.mount_path, "read_only": f.read_only_for_users}
            for f in nfs.shared_folders
        ],
        "dynamic_path": nfs.dynamic_path,
    }


def _gpu(cfg: PlatformConfig) -> dict[str, Any] | None:
    nodes = gpu_nodes(cfg)
    if not nodes:
        return None
    seats = gpu_seats_by_resource(cfg)
    return {
        "resource_name": gpu_resource_name(cfg),
        "resource_names": gpu_resource_names(cfg),
        "sharing": cfg.gpu.sharing.mode,
        "seats": seats,
        "total_seats": sum(seats.values()),
        "nodes": [{"name": n.name, "model": n.gpu.model, "gpus": n.gpu.count} for n in nodes if n.gpu is not None],
    }


def _cluster(cfg: PlatformConfig) -> dict[str, Any]:
    # In `existing` mode the endpoint lives in the (secret) kubeconfig unless a host is configured.
    endpoint = None
    if cfg.builds_cluster or cfg.cluster.endpoint.host:
        endpoint = f"https://{cfg.api_endpoint()}"
    return {
        "name": cfg.cluster.name,
        "mode": cfg.cluster.mode,
        "api_endpoint": endpoint,
        "kubernetes_version": cfg.cluster.kubernetes_version if cfg.builds_cluster else None,
        "pod_cidr": str(cfg.cluster.pod_cidr) if cfg.builds_cluster else None,
        "service_cidr": str(cfg.cluster.service_cidr) if cfg.builds_cluster else None,
        "scheduler_name": "yunikorn",
        "kubeconfig_output": KUBECONFIG_OUTPUT,
    }


def _backups(cfg: PlatformConfig) -> dict[str, Any] | None:
    """Where backups go and which host runs which job when (no secrets, no repository password)."""
    rows = schedules(cfg)
    if not rows:
        return None
    backup = cfg.backup
    target = None if backup is None else ("s3" if backup.s3 is not None else "sftp")
    metrics_dir = backup.metrics_dir if backup is not None else cfg.quotas.metrics_dir if cfg.quotas else None
    return {"target": target, "jobs": rows, "metrics_dir": metrics_dir}


def _monitoring(cfg: PlatformConfig) -> dict[str, Any] | None:
    if cfg.monitoring is None:
        return None
    return {"namespace": monitoring_naming.NAMESPACE, **monitoring_urls(cfg)}


def build_contract(cfg: PlatformConfig, *, project: str, stack: str) -> dict[str, Any]:
    """The `platform` document of one stack, validated against the committed schema."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "project": project,
        "stack": stack,
        "cluster": _cluster(cfg),
        "namespaces": _namespaces(cfg),
        "hubs": _hubs(cfg),
        "consoles": _consoles(cfg),
        "queues": _queues(cfg),
        "storage_classes": [
            {
                "name": cfg.nfs.storage_class_name,
                "provisioner": NFS_CSI_PROVISIONER,
                "default": cfg.nfs.default_storage_class,
                "reclaim_policy": "Retain",
                "access_modes": ["ReadWriteMany", "ReadWriteOnce"],
            }
        ],
        "nfs": _nfs(cfg),
        "gpu": _gpu(cfg),
        "monitoring": _monitoring(cfg),
        "backups": _backups(cfg),
    }
    validate_contract(document)
    return document


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


def contract_errors(document: Mapping[str, Any]) -> list[str]:
    """Every schema violation as `<json path>: <message>`, sorted."""
    validator = Draft202012Validator(schema())
    return sorted(f"{e.json_path}: {e.message}" for e in validator.iter_errors(document))


def validate_contract(document: Mapping[str, Any]) -> None:
    errors = contract_errors(document)
    if errors:
        raise ContractError(f"the platform contract does not match {SCHEMA_PATH.name}: " + "; ".join(errors))


def contract_json(document: Mapping[str, Any]) -> str:
    """The published form: stable key order, so an unchanged document is byte-identical."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
