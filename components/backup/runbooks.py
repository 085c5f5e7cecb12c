"""Restore runbooks for one stack (pure): the ordered steps, each a script for one host.

`tools.restore` prints them and runs them one by one with the operator's confirmation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.backup import jobs, restore_steps
from components.backup.targets import RESTORE_DIR, ResticSettings
from components.common.shell import RenderedScript
from components.jupyterhub.hub_db import HUB_GID, HUB_UID
from config.hub_queries import hub_db_node
from config.hubs import HubConfig
from config.inventory import Node
from config.nfs import HOMES_DIR
from config.nfs_queries import nfs_server_node
from config.platform import PlatformConfig

ETCD_PEER_PORT = 2380
_SNAPSHOT_ID = re.compile(r"^[0-9a-f]{8,64}$")
_USER_FOLDER = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
_AT = re.compile(r"^(\d{4}-\d{2}-\d{2})( \d{2}:\d{2}(:\d{2})?)?$")


def point_in_time(at: str) -> str:
    """`latest`, or AT as `YYYY-MM-DD HH:MM:SS` (a bare day means its end, a minute its last second)."""
    if at == "latest":
        return at
    match = _AT.match(at.strip())
    if match is None:
        raise RunbookError(f"--at {at!r}: use 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS]' (the NFS host's local time) or latest")
    day, clock, seconds = match.group(1), match.group(2), match.group(3)
    if clock is None:
        return f"{day} 23:59:59"
    return f"{day}{clock}" if seconds else f"{day}{clock}:59"


def _snapshot_id(snapshot: str, *, latest_ok: bool) -> str:
    if (latest_ok and snapshot == "latest") or _SNAPSHOT_ID.match(snapshot):
        return snapshot
    raise RunbookError(f"--snapshot {snapshot!r}: give a restic snapshot id (8 to 64 hex digits, from `restic snapshots`)")


class RunbookError(Exception):
    """The stack cannot run this restore (message says why and what to do)."""


@dataclass(frozen=True)
class Step:
    """One step on one host."""

    title: str
    node: Node
    script: RenderedScript
    detail: str = ""
    """The command at the heart of the step, as the operator would type it (printed with the runbook)."""


def _restic(cfg: PlatformConfig, node: str) -> ResticSettings:
    if cfg.backup is None:
        raise RunbookError("this stack has no backup section: there is nothing to restore from")
    return ResticSettings.for_node(cfg.backup, node)


def etcd_runbook(cfg: PlatformConfig, snapshot_id: str, source: str | None = None) -> list[Step]:
    """Stop every API server and etcd, restore every member from one control plane's snapshot, start them."""
    cps = cfg.inventory.control_planes
    if not cfg.builds_cluster or not cps:
        raise RunbookError("etcd restores need a kubeadm stack with control planes")
    snapshot_id = _snapshot_id(snapshot_id, latest_ok=False)
    source_node = source or cps[0].name
    if source_node not in {cp.name for cp in cps}:
        raise RunbookError(f"--from {source_node}: not a control plane ({', '.join(cp.name for cp in cps)})")
    restic = _restic(cfg, source_node)
    cluster = ",".join(f"{cp.name}=https://{cp.address}:{ETCD_PEER_PORT}" for cp in cps)
    stop = "mv /etc/kubernetes/manifests/{kube-apiserver,etcd}.yaml aside; wait until their containers are gone"
    steps = [Step(f"stop the API server and etcd on {cp.name}", cp, restore_steps.static_pods_script("stop"), stop) for cp in cps]
    for cp in cps:
        script = restore_steps.etcd_member_script(
            restic,
            snapshot_id=snapshot_id,
            member=cp.name,
            initial_cluster=cluster,
            peer_url=f"https://{cp.address}:{ETCD_PEER_PORT}",
        )
        title = f"restore etcd member {cp.name} from snapshot {snapshot_id} of {source_node} (old data kept aside)"
        detail = (
            f"restic restore {snapshot_id} (repository {restic.repository}); mv /var/lib/etcd aside; "
            f"etcdutl snapshot restore etcd-snapshot.db --name {cp.name} --initial-cluster {cluster} "
            f"--initial-advertise-peer-urls https://{cp.address}:{ETCD_PEER_PORT} --data-dir /var/lib/etcd "
            f"--bump-revision {restore_steps.BUMP_REVISION} --mark-compacted"
        )
        steps.append(Step(title, cp, script, detail))
    # No health wait per member: one member alone has no quorum; the check step waits for all of them.
    for cp in cps:
        start = restore_steps.static_pods_script("start")
        steps.append(
            Step(f"start etcd and the API server on {cp.name}", cp, start, "mv the manifests back into /etc/kubernetes/manifests")
        )
    steps.append(
        Step(
            "check: etcd quorum, API server answers, nodes listed",
            cps[0],
            restore_steps.check_cluster_script(),
            "etcdctl endpoint health --cluster (waits); etcdctl member list; kubectl get nodes",
        )
    )
    return steps


def home_runbook(cfg: PlatformConfig, hub: str, user: str, at: str) -> list[Step]:
    """One user's folder from the homes backup into `restored-<date>` inside their home."""
    server = nfs_server_node(cfg)
    if server is None:
        raise RunbookError("homes are restored on the managed NFS server; a NAS restores from its own snapshots")
    namespace = _hub(cfg, hub).k8s_namespace
    if not _USER_FOLDER.match(user) or user in (".", ".."):
        raise RunbookError(f"--user {user!r}: give the user's folder name (letters, digits and ._@-)")
    at = point_in_time(at)
    home = f"{cfg.nfs.export_path}/{HOMES_DIR}/{namespace}/{user}"
    script = restore_steps.home_script(
        _restic(cfg, server.name),
        home_path=home,
        at=at,
        staging_dir=f"{cfg.nfs.export_path}/.restore-staging",
        owner_uid=cfg.nfs.owner_uid,
        owner_gid=cfg.nfs.owner_gid,
    )
    when = "the latest backup" if at == "latest" else f"the last backup at or before {at}"
    detail = (
        f"restic snapshots --tag homes (pick {when}); restic restore ID --include {home} into a staging folder; "
        f"mv it to {home}/restored-<date> (never over existing files); chown {cfg.nfs.owner_uid}:{cfg.nfs.owner_gid}"
    )
    return [Step(f"restore {home} from {when} into {home}/restored-<date of that backup>", server, script, detail)]


def hub_db_runbook(cfg: PlatformConfig, hub: str, snapshot: str) -> list[Step]:
    """Scale the hub to zero, put its database back (current one kept aside), scale it up again."""
    entry = _hub(cfg, hub)
    snapshot = _snapshot_id(snapshot, latest_ok=True)
    cps = cfg.inventory.control_planes
    if not cfg.builds_cluster or not cps:
        raise RunbookError("hub database restores need a kubeadm stack (SSH to the nodes)")
    namespace = entry.k8s_namespace
    down = f"kubectl -n {namespace} scale deployment/hub --replicas 0"
    steps = [
        Step(f"scale hub {hub} to 0 and wait for its pod to stop", cps[0], restore_steps.scale_hub_script(namespace, 0), down)
    ]
    node = hub_db_node(cfg, entry)
    if node is not None:
        script = restore_steps.hub_db_script(
            _restic(cfg, node.name),
            hub=hub,
            db_file=f"{jobs.hub_db_directory(hub)}/{jobs.HUB_DB_FILE}",
            snapshot=snapshot,
            staging_dir=RESTORE_DIR,
            uid=HUB_UID,
            gid=HUB_GID,
        )
        detail = f"restic restore {snapshot} (tag hub={hub}); integrity check; keep the current file aside; install the copy"
        steps.append(Step(f"restore hub {hub}'s SQLite database on {node.name} (current file kept aside)", node, script, detail))
    elif entry.database.type == "postgres" and entry.database.url:
        target = jobs.postgres_target(hub, entry.database.url)
        script = restore_steps.hub_pg_script(_restic(cfg, cps[0].name), target=target, snapshot=snapshot, staging_dir=RESTORE_DIR)
        title = f"restore hub {hub}'s PostgreSQL database {target.database} on {target.host} (current one dumped first)"
        detail = f"restic restore {snapshot} (tag hub={hub}); pg_dump the current database aside; pg_restore --clean --if-exists"
        steps.append(Step(title, cps[0], script, detail))
    else:
        raise RunbookError(f"hub {hub!r} keeps its database where the platform does not back it up")
    steps.append(
        Step(f"scale hub {hub} back to 1 and wait until it is ready", cps[0], restore_steps.scale_hub_script(namespace, 1))
    )
    return steps


def _hub(cfg: PlatformConfig, name: str) -> HubConfig:
    found = next((h for h in cfg.hubs if h.name == name), None)
    if found is None:
        raise RunbookError(f"unknown hub {name!r} (hubs: {', '.join(h.name for h in cfg.hubs)})")
    return found


def snapshots_runbook(cfg: PlatformConfig, node: str, tag: str) -> list[Step]:
    """List one host's snapshots (read-only)."""
    found = next((n for n in cfg.inventory.nodes if n.name == node), None)
    if found is None:
        raise RunbookError(f"--node {node!r}: not a node of this stack")
    if tag and tag not in ("etcd", "homes", "hub-db") and not re.match(r"^hub=[a-z0-9-]+$", tag):
        raise RunbookError(f"--tag {tag!r}: use etcd, homes, hub-db or hub=<name>")
    script = restore_steps.list_snapshots_script(_restic(cfg, node), tag)
    return [Step(f"list the snapshots of {node}{' tagged ' + tag if tag else ''}", found, script, f"restic snapshots {tag}")]
