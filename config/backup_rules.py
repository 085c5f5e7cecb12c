"""Rules that tie the `backup` and `quotas` sections to the rest of the platform, and their secrets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def etcd_backed_up(cfg: PlatformConfig) -> bool:
    """etcd snapshots run: a backup section, kubeadm mode, not switched off."""
    return cfg.backup is not None and cfg.builds_cluster and cfg.backup.etcd.enabled is not False


def homes_backed_up(cfg: PlatformConfig) -> bool:
    """Homes are backed up: a backup section, a managed NFS server, not switched off."""
    return cfg.backup is not None and cfg.nfs.mode == "managed" and cfg.backup.homes.enabled is not False


def hub_databases_backed_up(cfg: PlatformConfig) -> bool:
    """Hub databases are backed up: a backup section, kubeadm mode (SSH to the nodes), not switched off."""
    return cfg.backup is not None and cfg.builds_cluster and cfg.backup.hub_databases.enabled is not False


def quotas_enforced(cfg: PlatformConfig) -> bool:
    """Quotas are enforced: a quotas section, a managed NFS server in kubeadm mode, not switched off."""
    return cfg.quotas is not None and cfg.builds_cluster and cfg.nfs.mode == "managed" and cfg.quotas.enabled is not False


def _backup_reach(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Each job needs a host the platform logs in to; asking for one that has none is an error."""
    backup = cfg.backup
    if backup is None:
        return
    if backup.etcd.enabled and not cfg.builds_cluster:
        yield ConfigIssue(
            "backup.etcd.enabled",
            "cluster.mode existing: the platform has no SSH access to that cluster's control planes; "
            "set false and back up its etcd where that cluster is run",
        )
    if backup.homes.enabled and cfg.nfs.mode != "managed":
        yield ConfigIssue(
            "backup.homes.enabled",
            "nfs.mode external: the platform does not back up a NAS; use the NAS's own snapshots and set false",
        )
    if backup.hub_databases.enabled and not cfg.builds_cluster:
        yield ConfigIssue(
            "backup.hub_databases.enabled",
            "cluster.mode existing: no host to run the database backups on; set false (back up the hub databases "
            "with that cluster's own tooling)",
        )
    if not (etcd_backed_up(cfg) or homes_backed_up(cfg) or hub_databases_backed_up(cfg)):
        yield ConfigIssue(
            "backup",
            "no backup job can run in this stack (existing cluster, NAS, or every job off): remove the section",
        )
    if not hub_databases_backed_up(cfg):
        return
    for i, hub in enumerate(cfg.hubs):
        db = hub.database
        if db.type == "sqlite-pvc" and db.storage_class is not None:
            yield ConfigIssue(
                f"hubs.{i}.database.storage_class",
                f"hub {hub.name!r} keeps SQLite on a StorageClass of its own, which backups cannot reach: "
                "unset storage_class (platform volume), use type postgres, or set backup.hub_databases.enabled: false",
            )


def _quota_rules(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    quotas = cfg.quotas
    if quotas is None:
        return
    if quotas.enabled and cfg.nfs.mode != "managed":
        yield ConfigIssue(
            "quotas.enabled",
            "nfs.mode external: quotas are enforced on the managed NFS server only; set them on the NAS and set false",
        )
    known = {hub.name for hub in cfg.hubs}
    seen: dict[str, int] = {}
    for i, entry in enumerate(quotas.hubs):
        if entry.hub not in known:
            names = ", ".join(sorted(known)) or "none"
            yield ConfigIssue(f"quotas.hubs.{i}.hub", f"unknown hub {entry.hub!r} (hubs: {names})")
        if entry.hub in seen:
            yield ConfigIssue(f"quotas.hubs.{i}.hub", f"hub {entry.hub!r} is already configured in quotas.hubs.{seen[entry.hub]}")
        seen.setdefault(entry.hub, i)
        users: dict[str, int] = {}
        for j, user in enumerate(entry.users):
            if user.user in users:
                yield ConfigIssue(
                    f"quotas.hubs.{i}.users.{j}.user", f"user {user.user!r} is already listed in users.{users[user.user]}"
                )
            users.setdefault(user.user, j)


BACKUP_CHECKS: list[Callable[[PlatformConfig], Iterator[ConfigIssue]]] = [_backup_reach, _quota_rules]
