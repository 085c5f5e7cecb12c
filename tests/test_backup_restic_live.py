"""Homes and hub database backups with Debian's restic, against a local repository and against S3
served by moto on 127.0.0.1: the project's job and restore scripts, run as they run on the hosts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from components.backup import jobs, restore_steps
from components.backup.targets import ResticSettings
from components.common.shell import RenderedScript
from tests.backup_helpers import backup_config, metrics, restic_json, restic_settings, run_script
from tests.helpers import moto_server, require_tool

UID, GID = 1000, 100
# Keep the 10 newest whatever their age: several runs within a test are all kept for the restore.
KEEP_RECENT = {"homes": {"retention": {"last": 10}}, "hub_databases": {"retention": {"last": 10}}}


def _home_tree(root: Path) -> Path:
    """`<root>/homes/<namespace>/<user>` with notebooks and caches the backup must skip."""
    homes = root / "homes"
    for ns, user in (("jhub-teaching", "alice"), ("jhub-teaching", "bob"), ("jhub-exam", "alice")):
        home = homes / ns / user
        (home / ".cache" / "pip").mkdir(parents=True)
        (home / ".cache" / "pip" / "wheel.bin").write_bytes(b"x" * 4096)
        (home / "project").mkdir()
        (home / "project" / "analysis.ipynb").write_text(f'{{"owner": "{user}", "version": 1}}\n')
        (home / "notes.txt").write_text(f"{ns}/{user} v1\n")
    return homes


def _local_time(snapshot: dict[str, Any]) -> str:
    # restic lists snapshot times in the host's local time; AT is given the same way.
    return datetime.fromisoformat(snapshot["time"][:26]).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _homes_job(
    tmp: Path, repository: str, homes: Path, retention: dict[str, Any], extra_env: str = ""
) -> tuple[ResticSettings, RenderedScript]:
    restic = restic_settings(tmp, repository, host="nfs-1", extra_env=extra_env)
    return restic, jobs.homes_script(restic, backup_config(homes={"retention": retention}), [str(homes)])


def _restore_home(restic: ResticSettings, tmp: Path, home: Path, at: str) -> Path:
    script = restore_steps.home_script(
        restic, home_path=str(home), at=at, staging_dir=str(tmp / "export" / ".restore-staging"), owner_uid=UID, owner_gid=GID
    )
    result = run_script(script, tmp)
    return Path(result.stdout.strip().splitlines()[-1])


def test_homes_backup_and_point_in_time_restore_of_one_user(tmp_path: Path) -> None:
    require_tool("restic")
    homes = _home_tree(tmp_path / "export")
    restic, job = _homes_job(tmp_path, str(tmp_path / "repo"), homes, {"last": 10})
    run_script(job, tmp_path)
    first = restic_json(restic, "snapshots")[-1]
    time.sleep(1.2)  # the listing AT is compared with has one-second resolution
    alice = homes / "jhub-teaching" / "alice"
    (alice / "notes.txt").write_text("jhub-teaching/alice v2\n")
    (alice / "project" / "analysis.ipynb").write_text('{"owner": "alice", "version": 2}\n')
    run_script(job, tmp_path)
    assert len(restic_json(restic, "snapshots")) == 2
    listing = run_script(restore_steps.list_snapshots_script(restic, "homes"), tmp_path).stdout
    assert first["short_id"] in listing and "2 snapshots" in listing
    job_metrics = metrics(restic, "homes")
    assert job_metrics["jupyterhub_platform_backup_success"] == 1
    assert job_metrics["jupyterhub_platform_backup_size_bytes"] > 0

    restored = _restore_home(restic, tmp_path, alice, _local_time(first))
    day = _local_time(first)[:10]
    assert restored == alice / f"restored-{day}"
    assert (restored / "notes.txt").read_text() == "jhub-teaching/alice v1\n"  # the state at that time
    assert (restored / "project" / "analysis.ipynb").read_text() == '{"owner": "alice", "version": 1}\n'
    assert not (restored / ".cache").exists()  # excluded from the backup
    assert (alice / "notes.txt").read_text() == "jhub-teaching/alice v2\n"  # the user's own files untouched
    assert not list((homes / "jhub-exam" / "alice").glob("restored-*"))  # only that hub's user
    assert (restored.stat().st_uid, restored.stat().st_gid) == (UID, GID)

    # Again: never over the first restore, a new folder beside it; and `latest` is the second backup.
    again = _restore_home(restic, tmp_path, alice, "latest")
    assert again == alice / f"restored-{day}-2"
    assert (again / "notes.txt").read_text() == "jhub-teaching/alice v2\n"
    assert (restored / "notes.txt").read_text() == "jhub-teaching/alice v1\n"


def test_retention_forgets_and_prunes_old_snapshots(tmp_path: Path) -> None:
    require_tool("restic")
    homes = _home_tree(tmp_path / "export")
    restic, job = _homes_job(tmp_path, str(tmp_path / "repo"), homes, {"last": 2})
    ids = []
    for round_ in range(3):
        (homes / "jhub-teaching" / "bob" / f"round-{round_}.txt").write_text(str(round_) * 100000)
        run_script(job, tmp_path)
        ids.append(restic_json(restic, "snapshots")[-1]["id"])
    kept = [s["id"] for s in restic_json(restic, "snapshots")]
    assert kept == ids[1:]  # the oldest is forgotten
    env = {"RESTIC_REPOSITORY": restic.repository, "RESTIC_PASSWORD_FILE": str(Path(restic.env_file).parent / "restic-password")}
    check = subprocess.run(["restic", "check"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stderr  # pruned repository is consistent


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def test_homes_backup_to_s3_and_restore(tmp_path: Path, s3_endpoint: str) -> None:
    require_tool("restic")
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket="platform-backups")
    cfg = backup_config(s3={"bucket": "platform-backups", "endpoint_url": s3_endpoint, "prefix": "site/prod"})
    repository = ResticSettings.for_node(cfg, "nfs-1").repository
    assert repository == f"s3:{s3_endpoint}/platform-backups/site/prod/nfs-1"
    homes = _home_tree(tmp_path / "export")
    creds = "AWS_ACCESS_KEY_ID=test-key\nAWS_SECRET_ACCESS_KEY=test-secret\nAWS_DEFAULT_REGION=us-east-1\n"
    restic, job = _homes_job(tmp_path, repository, homes, {"last": 10}, extra_env=creds)
    run_script(job, tmp_path)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="platform-backups")["Contents"]]
    assert "site/prod/nfs-1/config" in keys
    assert any(k.startswith("site/prod/nfs-1/snapshots/") for k in keys)
    bob = homes / "jhub-teaching" / "bob"
    (bob / "notes.txt").unlink()  # lost by the user
    restored = _restore_home(restic, tmp_path, bob, "latest")
    assert (restored / "notes.txt").read_text() == "jhub-teaching/bob v1\n"


WRITER = """
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end and not os.path.exists(sys.argv[3]):
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO users (name) VALUES (?)", [(f"user-{n}-{i}",) for i in range(200)])
    time.sleep(0.05)  # hold the write lock while the backup tries to read
    db.execute("COMMIT")
    n += 1
print(n)
"""


def test_sqlite_copy_while_a_writer_is_busy_then_restore(tmp_path: Path) -> None:
    require_tool("restic")
    require_tool("sqlite3")
    db_dir = tmp_path / "hub-db" / "teaching"
    db_dir.mkdir(parents=True)
    db_file = db_dir / "jupyterhub.sqlite"
    with sqlite3.connect(db_file) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO users (name) VALUES (?)", [(f"seed-{i}",) for i in range(5000)])
    restic = restic_settings(tmp_path, str(tmp_path / "repo"), host="worker-1")
    cfg = backup_config(**KEEP_RECENT)
    script = jobs.hub_db_script(restic, cfg, f"teaching sqlite {db_file}", staging=str(tmp_path / "staging"))
    # The writer keeps committing until the backup is done (stop file), at most 200 s.
    stop = tmp_path / "stop-writer"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db_file), "200", str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        run_script(script, tmp_path, timeout=180)
        assert writer.poll() is None, "the writer finished before the backup: the test proves nothing"
    finally:
        stop.touch()
        transactions = int(writer.communicate(timeout=60)[0])
    assert transactions > 10
    snapshots = restic_json(restic, "snapshots")
    assert [s["tags"] for s in snapshots] == [["hub-db", "hub=teaching"]]
    assert metrics(restic, "hub-db")["jupyterhub_platform_backup_success"] == 1
    copy = tmp_path / "staging" / "teaching" / "jupyterhub.sqlite"
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied_rows = db.execute("SELECT count(*) FROM users").fetchone()[0]
    assert copied_rows >= 5000 and (copied_rows - 5000) % 200 == 0  # whole transactions only

    # Restore over a damaged database: the damaged file is kept aside, the copy goes in place.
    db_file.write_bytes(b"not a database any more")
    restore = restore_steps.hub_db_script(
        restic, hub="teaching", db_file=str(db_file), snapshot="latest", staging_dir=str(tmp_path / "restore"),
        uid=UID, gid=GID,
    )  # fmt: skip
    run_script(restore, tmp_path)
    with sqlite3.connect(db_file) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] == copied_rows
    kept = list(db_dir.glob("jupyterhub.sqlite.before-restore-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"not a database any more"
