"""Zero to JupyterHub 4.4.0 values for one hub, from its typed config (pure: no Pulumi, no secrets).

Secrets never appear here: the cookie secret, CryptKeeper keys, database password and authenticator
secrets live in the platform's own k8s Secret (`hub.existingSecret`, which the chart reads before its
own), and the proxy token (which the chart reads only from its own Secret) is passed by the component
as a separate secret values file (`proxy.secretToken`) that Helm merges over these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.courses import ngshare
from components.jupyterhub.auth import auth_values
from components.jupyterhub.hub_db import db_values
from components.jupyterhub.network import singleuser_network_policy
from components.jupyterhub.profiles import image_parts, memory, profile_groups, profile_list, queue_access
from components.jupyterhub.roles import admin_managed_groups, load_roles
from components.jupyterhub.traffic import proxy_traffic_values
from components.monitoring.hub_metrics import merge
from config.course_queries import hub_courses
from config.gpu_queries import gpu_seats
from config.gpu_rules import GPU_TAINT_KEY
from config.hubs import HubConfig
from config.scheduler import NOTEBOOK_GROUP

if TYPE_CHECKING:
    from config.platform import PlatformConfig

CHART = "jupyterhub"
CHART_VERSION = "4.4.0"
CHART_REPOSITORY = "https://hub.jupyter.org/helm-chart/"
PLATFORM_SECRET = "hub-platform-secrets"
TLS_SECRET = "hub-tls"
HOME_MOUNT = "/home/jovyan"
# KubeSpawner 7 (z2jh 4.x) expands {username} to a safe, unique slug of the user name.
HOME_SUBPATH = "{username}"
SNIPPETS = Path(__file__).parent / "snippets"
EXTRA_CONFIG = {
    "10-platform-auth": "platform_auth.py",
    "20-platform-profiles": "platform_profiles.py",
    "30-platform-yunikorn": "platform_yunikorn.py",
    "40-platform-courses": "platform_courses.py",
}
# SQLite on NFS corrupts (broken fcntl locking): users' own SQLite files go to the pod's /tmp.
NO_SQLITE_ON_NFS = {
    "jupyter-server-no-sqlite-on-nfs": {
        "mountPath": "/usr/local/etc/jupyter/jupyter_server_config.d/platform-no-sqlite-on-nfs.json",
        "data": {
            "BaseFileIdManager": {"db_path": "/tmp/jupyter_file_id.db"},
            "SQLiteYStore": {"db_path": "/tmp/jupyter_ystore.db"},
        },
    },
    "ipython-history-in-memory": {
        "mountPath": "/etc/ipython/ipython_config.json",
        "data": {"HistoryManager": {"hist_file": ":memory:"}},
    },
    "ipython-kernel-history-in-memory": {
        "mountPath": "/etc/ipython/ipython_kernel_config.json",
        "data": {"HistoryManager": {"hist_file": ":memory:"}},
    },
}


@dataclass(frozen=True)
class SharedMount:
    """An NFS shared folder mounted into every server of a hub."""

    name: str
    claim_name: str
    mount_path: str
    read_only_for_users: bool = True


@dataclass(frozen=True)
class HubStorage:
    """The claims the storage component made in the hub's namespace."""

    home_claim: str
    shared: tuple[SharedMount, ...] = ()


def snippet(file_name: str) -> str:
    """An extraConfig snippet without its lint pragma (the chart execs the rest as is)."""
    lines = (SNIPPETS / file_name).read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("# ruff:")).strip() + "\n"


def _storage(hub: HubConfig, storage: HubStorage, course_folders: set[str]) -> tuple[dict[str, Any], list[str]]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    writable_for_admins: list[str] = []
    if hub.shared_folders:
        # Course folders are not for everyone: the courses hook mounts them per user (snippets/platform_courses.py).
        for shared in (s for s in storage.shared if s.name not in course_folders):
            volume = f"shared-{shared.name}"
            volumes.append({"name": volume, "persistentVolumeClaim": {"claimName": shared.claim_name}})
            mounts.append({"name": volume, "mountPath": shared.mount_path, "readOnly": shared.read_only_for_users})
            if shared.read_only_for_users:
                writable_for_admins.append(volume)
    values = {
        "type": "static",
        "static": {"pvcName": storage.home_claim, "subPath": HOME_SUBPATH},
        "homeMountPath": HOME_MOUNT,
        "extraVolumes": volumes,
        "extraVolumeMounts": mounts,
    }
    return values, writable_for_admins


def course_values(cfg: PlatformConfig, hub: HubConfig, storage: HubStorage) -> list[dict[str, Any]]:
    """The hub's courses for the courses hook: groups and the material folder's claim (names only, no members)."""
    claims = {s.name: s.claim_name for s in storage.shared}
    return [
        {
            "name": c.name,
            "students": c.students,
            "instructors": c.instructors,
            "volume": c.folder_name,
            "claim": claims.get(c.folder_name, f"shared-{c.folder_name}"),
            "mountPath": c.mount_path,
        }
        for c in hub_courses(cfg, hub)
    ]


def _https(hub: HubConfig) -> dict[str, Any]:
    mode = hub.https.mode
    if mode == "none":
        return {"enabled": False}
    https: dict[str, Any] = {"enabled": True, "type": mode, "hosts": [hub.host] if hub.host else []}
    if mode == "letsencrypt":
        https["letsencrypt"] = {"contactEmail": hub.https.contact_email, "acmeServer": hub.https.acme_server}
    elif mode == "secret":
        https["secret"] = {"name": TLS_SECRET, "key": "tls.key", "crt": "tls.crt"}
    return https


def _proxy_service(hub: HubConfig) -> dict[str, Any]:
    service: dict[str, Any] = {"type": hub.service_type}
    ports = {k: v for k, v in (("http", hub.http_node_port), ("https", hub.https_node_port)) if v is not None}
    if ports and hub.service_type == "NodePort":
        service["nodePorts"] = ports
    return service


def _proxy(cfg: PlatformConfig, hub: HubConfig) -> dict[str, Any]:
    traffic = proxy_traffic_values(cfg, hub)
    proxy: dict[str, Any] = {"https": _https(hub), "service": {**_proxy_service(hub), **traffic.pop("service", {})}}
    return {**proxy, **traffic}


def render_values(cfg: PlatformConfig, hub: HubConfig, storage: HubStorage) -> dict[str, Any]:
    """Values for the hub's release (merged by Helm over the chart's defaults), with the nbgrader exchange's
    services, role, policy holes and nbgrader config on hubs offering a course."""
    return merge(_hub_values(cfg, hub, storage), ngshare.hub_values(cfg, hub))


def _hub_values(cfg: PlatformConfig, hub: HubConfig, storage: HubStorage) -> dict[str, Any]:
    auth = auth_values(hub)
    courses = course_values(cfg, hub, storage)
    storage_values, writable_for_admins = _storage(hub, storage, {c.folder_name for c in cfg.courses.courses})
    default = hub.default_profile
    image_name, image_tag = image_parts(hub.image)
    groups = {"load_groups": managed} if (managed := admin_managed_groups(hub)) else {}
    hub_config: dict[str, dict[str, Any]] = {
        **auth.config,
        "JupyterHub": {**auth.config["JupyterHub"], **groups},
        "KubeSpawner": {
            "scheduler_name": "yunikorn",
            # Deleting a user never deletes data (homes are subPaths of a shared claim anyway).
            "delete_pvc": False,
        },
    }
    hub_values: dict[str, Any] = {
        "existingSecret": PLATFORM_SECRET,
        "concurrentSpawnLimit": hub.concurrent_spawn_limit,
        # Spawns that wait in a YuniKorn queue until the start timeout fail one after another; with the chart's
        # default (5) the hub would then shut itself down. 0: never.
        "consecutiveFailureLimit": 0,
        "allowNamedServers": hub.allow_named_servers,
        "namedServerLimitPerUser": hub.named_server_limit_per_user if hub.allow_named_servers else 0,
        "db": db_values(cfg, hub),
        "loadRoles": load_roles(hub),
        "config": hub_config,
        "extraEnv": {
            env: {"name": env, "valueFrom": {"secretKeyRef": {"name": PLATFORM_SECRET, "key": key}}}
            for env, key in sorted(auth.env_from_secret.items())
        },
        "extraConfig": {key: snippet(file) for key, file in EXTRA_CONFIG.items()},
    }
    if hub.active_server_limit:
        hub_values["activeServerLimit"] = hub.active_server_limit
    # The image pullers (hook and continuous) must run on GPU nodes too, which carry the GPU taint.
    tolerations = [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}] if gpu_seats(cfg) > 0 else []
    return {
        "hub": hub_values,
        "proxy": _proxy(cfg, hub),
        "prePuller": {"extraTolerations": tolerations},
        "scheduling": {
            # YuniKorn schedules user pods; placeholders only make sense with a cluster autoscaler.
            "userScheduler": {"enabled": False},
            "userPlaceholder": {"enabled": False},
            "podPriority": {"enabled": False},
        },
        "singleuser": {
            "image": {"name": image_name, "tag": image_tag},
            "startTimeout": hub.start_timeout_seconds,
            "events": True,
            "uid": 1000,
            "fsGid": 100,
            "cpu": {"guarantee": default.cpu_guarantee, "limit": default.cpu_limit},
            "memory": {"guarantee": memory(default.mem_guarantee_gib), "limit": memory(default.mem_limit_gib)},
            # No privileged init container (Pod Security `baseline`); the network policy blocks metadata.
            "cloudMetadata": {"blockWithIptables": False, "ip": "169.254.169.254"},
            "storage": storage_values,
            "extraFiles": NO_SQLITE_ON_NFS,
            "networkPolicy": singleuser_network_policy(cfg, hub),
            "profileList": profile_list(cfg, hub),
        },
        "cull": {
            "enabled": hub.culling.enabled,
            "timeout": hub.culling.timeout_minutes * 60,
            "every": hub.culling.every_minutes * 60,
            "maxAge": hub.culling.max_age_hours * 3600,
            "users": False,
            "adminUsers": True,
            "removeNamedServers": False,
        },
        "custom": {
            "platform": {
                "hub": hub.name,
                "auth": auth.custom,
                "profileGroups": profile_groups(cfg, hub),
                "courses": courses,
                "queueAccess": queue_access(cfg, hub),
                "yunikorn": {
                    "defaultQueue": default.queue,
                    "fallbackQueue": cfg.scheduler.fallback_queue_path,
                    "notebookGroup": NOTEBOOK_GROUP,
                    "adminWritableVolumes": writable_for_admins,
                },
            }
        },
    }
