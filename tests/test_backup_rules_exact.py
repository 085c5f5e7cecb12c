"""Backup and quota rules, each case compared with the EXACT set of (path, message) it yields, and
the "is this job running" facts the renderers use, for every combination of cluster mode, NFS mode
and switch (unset, true, false).

Base: the two-node inventory and hub of `tests.hub_fixtures` (managed NFS on cp-1), an S3 target."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config import backup_rules
from config.backup_rules import BACKUP_CHECKS
from config.platform import PlatformConfig
from tests.hub_fixtures import HUB, INVENTORY

TARGET = {"s3": {"bucket": "backups"}}
NAS = {"mode": "external", "server": "nas.example.org"}
NOTHING = ("backup", "no backup job can run in this stack (existing cluster, NAS, or every job off): remove the section")
ETCD_EXISTING = (
    "backup.etcd.enabled",
    "cluster.mode existing: the platform has no SSH access to that cluster's control planes; "
    "set false and back up its etcd where that cluster is run",
)
HOMES_NAS = (
    "backup.homes.enabled",
    "nfs.mode external: the platform does not back up a NAS; use the NAS's own snapshots and set false",
)
DB_EXISTING = (
    "backup.hub_databases.enabled",
    "cluster.mode existing: no host to run the database backups on; set false (back up the hub databases "
    "with that cluster's own tooling)",
)


def config(backup: dict[str, Any] | None = None, existing: bool = False, nas: bool = False, **sections: Any) -> PlatformConfig:
    raw: dict[str, Any] = {"inventory": copy.deepcopy(INVENTORY), "hubs": [copy.deepcopy(HUB)], **sections}
    if backup is not None:
        raw["backup"] = {**TARGET, **backup}
    if existing:
        raw["cluster"] = {"mode": "existing"}
        raw["hubs"][0]["database"] = {"type": "postgres", "url": "postgresql://hub@db.example.org/hub"}
    if nas:
        raw["nfs"] = NAS
    return PlatformConfig.model_validate(raw)


def issues(*args: Any, **kwargs: Any) -> set[tuple[str, str]]:
    cfg = config(*args, **kwargs)
    found = [(i.path, i.message) for check in BACKUP_CHECKS for i in check(cfg)]
    assert len(found) == len(set(found)), f"an issue reported twice: {found}"
    return set(found)


def jobs(cfg: PlatformConfig) -> tuple[bool, bool, bool, bool]:
    return (
        backup_rules.etcd_backed_up(cfg),
        backup_rules.homes_backed_up(cfg),
        backup_rules.hub_databases_backed_up(cfg),
        backup_rules.quotas_enforced(cfg),
    )


def test_no_sections_no_jobs() -> None:
    assert issues() == set()
    assert jobs(config()) == (False, False, False, False)


def test_every_job_runs_by_default_on_a_built_cluster() -> None:
    assert issues({}, quotas={}) == set()
    assert jobs(config({}, quotas={})) == (True, True, True, True)


@pytest.mark.parametrize(("job", "index"), [("etcd", 0), ("homes", 1), ("hub_databases", 2)])
def test_each_job_can_be_switched_off(job: str, index: int) -> None:
    expected = [True, True, True, False]
    expected[index] = False
    assert jobs(config({job: {"enabled": False}})) == tuple(expected)
    assert issues({job: {"enabled": False}}) == set()


def test_quotas_switched_off_or_on_a_nas() -> None:
    assert jobs(config(quotas={"enabled": False})) == (False, False, False, False)
    assert jobs(config(quotas={}, nas=True)) == (False, False, False, False)
    assert jobs(config(quotas={}, existing=True, nas=True)) == (False, False, False, False)


def test_an_existing_cluster_with_a_nas() -> None:
    assert jobs(config({}, existing=True, nas=True)) == (False, False, False, False)
    assert issues({}, existing=True, nas=True) == {NOTHING}
    asked = {"etcd": {"enabled": True}, "homes": {"enabled": True}, "hub_databases": {"enabled": True}}
    assert issues(asked, existing=True, nas=True) == {ETCD_EXISTING, HOMES_NAS, DB_EXISTING, NOTHING}


def test_an_existing_cluster_with_managed_nfs_backs_up_homes() -> None:
    # (Managed NFS on an existing cluster is refused by the NFS rules; the backup facts follow the modes.)
    assert jobs(config({}, existing=True)) == (False, True, False, False)
    assert issues({}, existing=True) == set()


def test_jobs_switched_on_where_they_can_run() -> None:
    on = {"etcd": {"enabled": True}, "homes": {"enabled": True}, "hub_databases": {"enabled": True}}
    assert issues(on) == set()
    assert jobs(config(on)) == (True, True, True, False)


def test_a_nas_on_a_built_cluster() -> None:
    assert jobs(config({}, nas=True)) == (True, False, True, False)
    assert issues({"homes": {"enabled": True}}, nas=True) == {HOMES_NAS}
    assert issues({}, nas=True) == set()


def test_every_job_off() -> None:
    off = {"etcd": {"enabled": False}, "homes": {"enabled": False}, "hub_databases": {"enabled": False}}
    assert issues(off) == {NOTHING}


def test_sqlite_on_a_storage_class_is_out_of_reach() -> None:
    unreachable = (
        "hubs.0.database.storage_class",
        "hub 'teaching' keeps SQLite on a StorageClass of its own, which backups cannot reach: unset storage_class "
        "(platform volume), use type postgres, or set backup.hub_databases.enabled: false",
    )
    hubs = [{**copy.deepcopy(HUB), "database": {"storage_class": "local-path"}}]
    assert issues({}, hubs=hubs) == {unreachable}
    assert issues({"hub_databases": {"enabled": False}}, hubs=hubs) == set()
    assert issues({}, hubs=[{**copy.deepcopy(HUB), "database": {"type": "postgres", "url": "postgresql://h@db/h"}}]) == set()


def test_quotas_on_a_nas() -> None:
    nas_quota = (
        "quotas.enabled",
        "nfs.mode external: quotas are enforced on the managed NFS server only; set them on the NAS and set false",
    )
    assert issues(quotas={"enabled": True}, nas=True) == {nas_quota}
    assert issues(quotas={}, nas=True) == set()
    assert issues(quotas={"enabled": False}, nas=True) == set()


def test_quota_hubs_and_users() -> None:
    users = [{"user": "alice", "soft_gib": 1, "hard_gib": 2}, {"user": "bob", "soft_gib": 1, "hard_gib": 2}]
    entries = [
        {"hub": "teaching", "users": [*users, users[0], users[0]]},
        {"hub": "other"},
        {"hub": "teaching"},
    ]
    assert issues(quotas={"hubs": entries}) == {
        ("quotas.hubs.0.users.2.user", "user 'alice' is already listed in users.0"),
        ("quotas.hubs.0.users.3.user", "user 'alice' is already listed in users.0"),
        ("quotas.hubs.1.hub", "unknown hub 'other' (hubs: teaching)"),
        ("quotas.hubs.2.hub", "hub 'teaching' is already configured in quotas.hubs.0"),
    }
    assert issues(quotas={"hubs": [{"hub": "teaching", "users": users}]}) == set()
    assert issues(quotas={"hubs": [{"hub": "x"}, {"hub": "x"}, {"hub": "x"}]}, hubs=[]) == {
        ("quotas.hubs.0.hub", "unknown hub 'x' (hubs: none)"),
        ("quotas.hubs.1.hub", "unknown hub 'x' (hubs: none)"),
        ("quotas.hubs.1.hub", "hub 'x' is already configured in quotas.hubs.0"),
        ("quotas.hubs.2.hub", "unknown hub 'x' (hubs: none)"),
        ("quotas.hubs.2.hub", "hub 'x' is already configured in quotas.hubs.0"),
    }


def test_unknown_quota_hub_lists_every_hub() -> None:
    hubs = [copy.deepcopy(HUB), {**copy.deepcopy(HUB), "name": "exam", "host": "exam.example.org"}]
    assert issues(quotas={"hubs": [{"hub": "x"}]}, hubs=hubs) == {("quotas.hubs.0.hub", "unknown hub 'x' (hubs: exam, teaching)")}
