# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: YuniKorn identity of each user server (rendered into hub.extraConfig by jupyterhub-platform).
# Without this, YuniKorn's admission controller names the hub's ServiceAccount as every pod's user and
# folds all servers of the namespace into one application: per-user limits and fairness would do nothing.
import hashlib
import json
import re
import secrets

from z2jh import get_config

_platform_yunikorn = get_config("custom.platform.yunikorn", {}) or {}


def platform_app_id(user_name, server_name, nonce):
    """A label-safe application id, unique per server start (a reused id can hit a completing app)."""
    raw = f"{user_name}-{server_name}" if server_name else user_name
    base = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:36].strip("-") or "user"
    digest = hashlib.sha256(f"{user_name}/{server_name}".encode()).hexdigest()[:8]
    return f"jupyter-{base}-{digest}-{nonce}"


def platform_modify_pod_hook(spawner, pod):
    user = spawner.user
    labels = pod.metadata.labels = dict(pod.metadata.labels or {})
    annotations = pod.metadata.annotations = dict(pod.metadata.annotations or {})
    labels["yunikorn.apache.org/app-id"] = platform_app_id(user.name, spawner.name or "", secrets.token_hex(3))
    # The chosen profile sets the queue label; a spawn without a profile goes to the default profile's queue.
    labels.setdefault("yunikorn.apache.org/queue", _platform_yunikorn["defaultQueue"])
    if labels["yunikorn.apache.org/queue"] == _platform_yunikorn.get("fallbackQueue"):
        raise ValueError("notebooks never run in the fallback queue (the hubs' own pods only)")
    # The notebook group comes last (after the user's own groups) and keeps placement from ever putting the
    # server into the fallback queue: a server its queue refuses is rejected instead of waiting there.
    groups = sorted(g.name for g in user.groups if g.name != _platform_yunikorn["notebookGroup"])
    groups.append(_platform_yunikorn["notebookGroup"])
    annotations["yunikorn.apache.org/user.info"] = json.dumps({"user": user.name, "groups": groups})
    annotations["yunikorn.apache.org/allow-preemption"] = "false"
    if user.admin:
        writable = set(_platform_yunikorn.get("adminWritableVolumes", []))
        for container in pod.spec.containers:
            for mount in container.volume_mounts or []:
                if mount.name in writable:
                    mount.read_only = False
    return pod


c.KubeSpawner.modify_pod_hook = platform_modify_pod_hook
