"""A real JupyterHub 5.5 application with the real KubeSpawner 7 and authenticators, configured from one
hub's rendered Helm values (not a test module).

What is not real, and why:
- the Zero to JupyterHub chart's `jupyterhub_config.py` (it lives in the hub image, not on PyPI):
  `traitlets_config` is our reading of it for the keys the platform sets (`hub.config`, `hub.loadRoles`,
  `hub.services` (each key a service named after it, `apiToken` its token),
  `singleuser.{image,cpu,memory,uid,fsGid,startTimeout,events,profileList,storage,extraFiles}`, `cull`),
  and `z2jh_module` stands in for its tiny `z2jh.get_config` helper (a dotted lookup in the values);
- the Kubernetes API: KubeSpawner builds its client from a kubeconfig naming an address nothing listens
  on; pods are only built (`get_pod_manifest`), never created;
- identity providers (GitHub, an OIDC issuer, LDAP): served as fixtures by the tests that need them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyterhub import orm, roles
from jupyterhub.app import JupyterHub
from jupyterhub.user import User
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.config import kube_config
from traitlets.config import Config

NO_CLUSTER_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: not-a-cluster}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def z2jh_module(values: dict[str, Any]) -> types.ModuleType:
    """The chart's `z2jh` helper module: `get_config("a.b.c", default)` looks the values up."""

    def get_config(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    module = types.ModuleType("z2jh")
    module.get_config = get_config  # type: ignore[attr-defined]
    return module


def _volumes(singleuser: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Home claim (static storage), extraFiles and extraVolumes, as the chart turns them into KubeSpawner's."""
    storage = singleuser["storage"]
    assert storage["type"] == "static"
    volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": storage["static"]["pvcName"]}}]
    mounts = [{"name": "home", "mountPath": storage["homeMountPath"], "subPath": storage["static"]["subPath"]}]
    files = singleuser.get("extraFiles") or {}
    if files:
        items = [{"key": key, "path": key} for key in files]
        volumes.append({"name": "files", "secret": {"secretName": "singleuser", "items": items}})
        mounts += [{"name": "files", "mountPath": f["mountPath"], "subPath": key} for key, f in files.items()]
    return volumes + list(storage["extraVolumes"]), mounts + list(storage["extraVolumeMounts"])


def traitlets_config(values: dict[str, Any], namespace: str) -> Config:
    """The hub's traitlets config before the extraConfig snippets run."""
    c = Config()
    singleuser = values["singleuser"]
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.namespace = namespace
    c.KubeSpawner.image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    c.KubeSpawner.cpu_guarantee = singleuser["cpu"]["guarantee"]
    c.KubeSpawner.cpu_limit = singleuser["cpu"]["limit"]
    c.KubeSpawner.mem_guarantee = singleuser["memory"]["guarantee"]
    c.KubeSpawner.mem_limit = singleuser["memory"]["limit"]
    c.KubeSpawner.uid = singleuser["uid"]
    c.KubeSpawner.fs_gid = singleuser["fsGid"]
    # The chart's default `singleuser.cmd`; without a command KubeSpawner drops a profile's `args`.
    c.Spawner.cmd = singleuser.get("cmd", "jupyterhub-singleuser")
    c.KubeSpawner.start_timeout = singleuser["startTimeout"]
    c.KubeSpawner.events_enabled = singleuser["events"]
    c.KubeSpawner.profile_list = singleuser["profileList"]
    c.KubeSpawner.volumes, c.KubeSpawner.volume_mounts = _volumes(singleuser)
    roles = [{"name": name, **role} for name, role in values["hub"].get("loadRoles", {}).items()]
    if values["cull"]["enabled"]:
        roles.append(
            {
                "name": "jupyterhub-idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["jupyterhub-idle-culler"],
            }
        )
        c.JupyterHub.services = [{"name": "jupyterhub-idle-culler", "command": culler_command(values["cull"])}]
    services = [
        {"name": name, **{("api_token" if k == "apiToken" else k): v for k, v in service.items()}}
        for name, service in values["hub"].get("services", {}).items()
    ]
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), *services]
    c.JupyterHub.load_roles = roles
    for section, settings in values["hub"]["config"].items():
        for key, value in settings.items():
            c[section][key] = value
    return c


def culler_command(cull: dict[str, Any]) -> list[str]:
    """The idle culler's command line the chart builds from `cull`."""
    cmd = ["python3", "-m", "jupyterhub_idle_culler", "--url=http://localhost:8081/hub/api"]
    for key, flag in (("timeout", "--timeout"), ("every", "--cull-every"), ("concurrency", "--concurrency")):
        if cull.get(key):
            cmd.append(f"{flag}={cull[key]}")
    if cull.get("users"):
        cmd.append("--cull-users")
    if not cull.get("adminUsers"):
        cmd.append("--cull-admin-users=false")
    if cull.get("removeNamedServers"):
        cmd.append("--remove-named-servers")
    if cull.get("maxAge"):
        cmd.append(f"--max-age={cull['maxAge']}")
    return cmd


@contextmanager
def hub_environment(tmp: Path, values: dict[str, Any], env: dict[str, str]) -> Iterator[None]:
    """The hub pod's environment: its secrets as variables, a kubeconfig without a cluster, `z2jh`."""
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(NO_CLUSTER_KUBECONFIG)
    saved_env = {k: os.environ.get(k) for k in [*env, "KUBECONFIG"]}
    saved_module = sys.modules.get("z2jh")
    # The client library reads $KUBECONFIG once, when it is first imported: point its default there too.
    saved_location = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    os.environ.update({**env, "KUBECONFIG": str(kubeconfig)})
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(kubeconfig)
    sys.modules["z2jh"] = z2jh_module(values)
    try:
        yield
    finally:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_location
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if saved_module is None:
            sys.modules.pop("z2jh", None)
        else:
            sys.modules["z2jh"] = saved_module


def hub_config(values: dict[str, Any], namespace: str) -> Config:
    """The whole config: chart part, then every extraConfig snippet in key order (exec'd as the chart does)."""
    c = traitlets_config(values, namespace)
    for key, code in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(code, key, "exec"), {"c": c, "__name__": f"extraConfig-{key}"})
    return c


async def start_hub(values: dict[str, Any], namespace: str, tmp: Path) -> JupyterHub:
    """A JupyterHub initialised from the values (database in memory; nothing listens)."""
    c = hub_config(values, namespace)
    c.JupyterHub.db_url = "sqlite://"
    c.JupyterHub.cookie_secret = secrets.token_bytes(32)
    c.JupyterHub.cookie_secret_file = str(tmp / "cookie_secret")
    c.JupyterHub.pid_file = str(tmp / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.auth_token = secrets.token_hex(16)
    c.ConfigurableHTTPProxy.should_start = False
    app = JupyterHub(config=c)
    await app.initialize([])
    return app


def add_user(app: JupyterHub, name: str, groups: list[str] = (), admin: bool = False) -> User:  # type: ignore[assignment]
    """A user as the login handler leaves it: name normalised, created, admin flag set, groups synced."""
    name = app.authenticator.normalize_username(name)
    orm_user = orm.User.find(app.db, name) or orm.User(name=name)
    app.db.add(orm_user)
    app.db.commit()
    user = app.users[orm_user]
    user.admin = admin
    roles.assign_default_roles(app.db, entity=user)  # as the login handler does: the admin role follows the flag
    user.sync_groups(list(groups))
    app.db.commit()
    return user


async def offered_profiles(app: JupyterHub, user: User) -> list[dict[str, Any]]:
    """What the spawn page offers: the profile_list callable, initialised by KubeSpawner itself."""
    spawner = user.spawners[""]
    profiles = await maybe_future(spawner.profile_list(spawner))
    return spawner._get_initialized_profile_list(profiles)


async def pod_for(app: JupyterHub, user: User, profile: str | None, server: str = "") -> Any:
    """The pod KubeSpawner would create for this choice, after the hub's modify_pod_hook (as in `_start`)."""
    spawner = user.spawners[server]
    spawner.user_options = {"profile": profile} if profile else {}
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return await maybe_future(spawner.modify_pod_hook(spawner, pod))


def run(coro: Any) -> Any:
    """Run a coroutine on a loop of its own, leaving the thread's current loop alone.

    `asyncio.run` ends by setting the current loop to None, after which the Pulumi mocks used by later
    tests in the same process cannot find one (the suite would depend on its order)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
