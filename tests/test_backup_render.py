"""The backups in the rendered stacks: which host runs what, in which order, with which secrets; the
rendered scripts pass shellcheck, the schedules pass `systemd-analyze calendar`, and the install step
runs for real (restic, moto S3) under a temporary root."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from components.backup import jobs, steps
from config.backup import BackupConfig
from config.platform import PlatformConfig
from config.quotas import QuotaConfig
from tests.backup_helpers import run_script
from tests.graph import Graph
from tests.helpers import free_port, moto_server, require_tool, shellcheck, stack_platform

Rendered = Callable[[str], tuple[dict[str, Any], Path]]
BACKUP_HOSTS = ["cp-1", "cp-2", "cp-3", "worker-1", "nfs-1"]


@pytest.fixture(scope="module")
def prod(rendered: Rendered) -> tuple[dict[str, Any], Path]:
    return rendered("prod")


def _commands(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in plan["resources"] if r["type"] == "command:remote:Command"}


def test_each_host_gets_its_jobs_after_the_platform_is_up(prod: tuple[dict[str, Any], Path]) -> None:
    plan, _ = prod
    commands = _commands(plan)
    for host in BACKUP_HOSTS:
        step = commands[f"{host}-backup"]
        assert step["inputs"]["stdin"] == "[secret]"  # secrets only on stdin, and secret there
        assert "placeholder-" not in step["inputs"]["create"]
        assert "systemctl disable --now" in step["inputs"]["delete"] and step["delete_before_replace"]
    graph = Graph(plan["resources"])
    assert graph.waits_for("cp-2-backup", "cluster-wait-nodes-ready") or graph.waits_for("cp-2-backup", "cp-1-kubeadm-init")
    assert graph.waits_for("nfs-1-backup", "nfs-1-nfs-server")
    assert graph.waits_for("worker-1-backup", "worker-1-hub-db-dir-teaching")
    assert graph.waits_for("nfs-1-home-quotas", "nfs-1-nfs-server")
    assert plan["outputs"]["backups"] == {
        "cp-1": ["backup-etcd"],
        "cp-2": ["backup-etcd"],
        "cp-3": ["backup-etcd"],
        "worker-1": ["backup-hub-db"],
        "nfs-1": ["backup-homes", "home-quotas"],
    }
    types = {r["type"] for r in plan["resources"]}
    assert "jupyterhub-platform:storage:PlatformBackups" in types


def test_units_and_scripts_are_rendered_as_host_files(prod: tuple[dict[str, Any], Path]) -> None:
    _, out = prod
    nodes = out / "files" / "nodes"
    timer = (nodes / "cp-2/etc/systemd/system/jupyterhub-platform-backup-etcd.timer").read_text()
    assert "OnCalendar=hourly" in timer and "Persistent=true" in timer
    service = (nodes / "cp-2/etc/systemd/system/jupyterhub-platform-backup-etcd.service").read_text()
    assert "ExecStart=/usr/local/lib/jupyterhub-platform/backup/backup-etcd.sh" in service
    etcd_job = (nodes / "cp-2/usr/local/lib/jupyterhub-platform/backup/backup-etcd.sh").read_text()
    assert "export REPOSITORY=s3:https://s3.example.org/platform-backups/jupyterhub-platform/prod/cp-2" in etcd_job
    assert "export HOST_TAG=cp-2" in etcd_job
    assert "/etc/kubernetes/pki/etcd/healthcheck-client.crt" in etcd_job
    homes_job = (nodes / "nfs-1/usr/local/lib/jupyterhub-platform/backup/backup-homes.sh").read_text()
    paths = "/srv/nfs/jupyterhub/homes /srv/nfs/jupyterhub/shared /srv/nfs/jupyterhub/ngshare"  # ngshare: courses' exchange
    assert f"export BACKUP_PATHS='{paths}'" in homes_job
    hub_db_job = (nodes / "worker-1/usr/local/lib/jupyterhub-platform/backup/backup-hub-db.sh").read_text()
    assert "teaching sqlite /var/lib/jupyterhub-platform/hub-db/teaching/jupyterhub.sqlite" in hub_db_job
    assert (out / "files" / "reports" / "quotas.md").is_file()


def test_rendered_backup_scripts_pass_shellcheck(prod: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    nodes = prod[1] / "files" / "nodes"
    scripts = [
        *nodes.glob("*/backup.sh"),
        *nodes.glob("*/home-quotas.sh"),
        *nodes.glob("*/usr/local/lib/jupyterhub-platform/*/*.sh"),
    ]
    assert len(scripts) >= 11
    for script in scripts:
        shellcheck(script.read_text(), tmp_path, f"{script.parent.name}-{script.name}")


def test_schedules_are_valid_systemd_calendars() -> None:
    tool = require_tool("systemd-analyze")
    backup = BackupConfig.model_validate({"s3": {"bucket": "backups"}})
    schedules = [backup.etcd.schedule, backup.homes.schedule, backup.hub_databases.schedule, QuotaConfig().schedule]
    result = subprocess.run([tool, "calendar", *schedules], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        s3.create_bucket(Bucket="platform-backups")
        yield endpoint


def _prod_against(endpoint: str, **etcd: Any) -> PlatformConfig:
    cfg = stack_platform("prod")
    s3 = cfg.backup.s3.model_copy(update={"endpoint_url": endpoint})
    backup = cfg.backup.model_copy(update={"s3": s3, "etcd": cfg.backup.etcd.model_copy(update=etcd)})
    return cfg.model_copy(update={"backup": backup})


def _stdin(secrets: dict[str, str]) -> str:
    return "".join(f"{k} {base64.b64encode(v.encode()).decode()}\n" for k, v in secrets.items())


def test_install_step_writes_secrets_root_only_and_creates_the_repository(s3_endpoint: str, tmp_path: Path) -> None:
    require_tool("restic")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    cfg = _prod_against(s3_endpoint)
    node_jobs = jobs.plan(cfg)["nfs-1"]
    root = tmp_path / "root"
    script = steps.install_script(cfg, node_jobs, host_root=str(root))
    secrets = {
        "RESTIC_PASSWORD": "pw with spaces\nand a line",
        "AWS_ACCESS_KEY_ID": "AKIA-TEST",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t'\"$x",
    }
    stdin = _stdin(secrets)
    for value in secrets.values():
        assert value not in script.text
    first = run_script(script, tmp_path, stdin=stdin, timeout=180)
    conf = root / "etc/jupyterhub-platform/backup"
    for name in ("restic-password", "restic.env"):
        assert (conf / name).stat().st_mode & 0o777 == 0o600
    assert (conf / "restic-password").read_text() == secrets["RESTIC_PASSWORD"] + "\n"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="platform-backups")["Contents"]]
    assert "jupyterhub-platform/prod/nfs-1/config" in keys
    assert (root / "etc/systemd/system/jupyterhub-platform-backup-homes.timer").is_file()
    assert (root / "usr/local/lib/jupyterhub-platform/backup/backup-homes.sh").stat().st_mode & 0o777 == 0o755
    for value in secrets.values():
        assert value not in first.stdout + first.stderr
    stamp = (conf / "restic.env").stat().st_mtime_ns
    run_script(script, tmp_path, stdin=stdin, timeout=180)  # again: nothing rewritten, repository kept
    assert (conf / "restic.env").stat().st_mtime_ns == stamp
    # (other tests of this module share the bucket: look at this node's repository only)
    listed = s3.list_objects_v2(Bucket="platform-backups", Prefix="jupyterhub-platform/prod/nfs-1/")
    configs = [o["Key"] for o in listed["Contents"]]
    assert [key for key in configs if key.endswith("/config")] == ["jupyterhub-platform/prod/nfs-1/config"]
    # The env file holds the credentials for restic (quoted), sourced by the jobs.
    env = subprocess.run(
        ["bash", "-c", f"set -a; source {conf / 'restic.env'}; printf '%s' \"$AWS_SECRET_ACCESS_KEY\""],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    assert env.stdout == secrets["AWS_SECRET_ACCESS_KEY"]
    missing = run_script(script, tmp_path, stdin="", check=False)
    assert missing.returncode != 0 and "expected secret material on standard input" in missing.stderr
    # Removed from the stack: units, scripts and credentials go; the repository stays.
    remove = steps.uninstall_script(script, host_root=str(root), secrets=steps.SECRET_FILES)
    assert "jupyterhub-platform-backup-homes.timer" in remove.text
    run_script(remove, tmp_path)
    run_script(remove, tmp_path)  # again: nothing left to remove, still fine
    assert not (root / "etc/systemd/system/jupyterhub-platform-backup-homes.timer").exists()
    assert not (conf / "restic.env").exists() and not (conf / "restic-password").exists()
    assert "jupyterhub-platform/prod/nfs-1/config" in [
        o["Key"] for o in s3.list_objects_v2(Bucket="platform-backups")["Contents"]
    ]


# Stand-ins for etcdctl/etcdutl inside a release-shaped archive: the real 3.6 archive cannot be
# fetched in CI, and what is tested here is the download, the sha256 pin and the version guard.
FAKE_TOOL = '#!/usr/bin/env bash\necho "$(basename "$0") version: 3.6.5"\n'


def _release_archive(directory: Path) -> str:
    release = directory / "v3.6.5"
    staging = directory / "staging" / "etcd-v3.6.5-linux-amd64"
    staging.mkdir(parents=True)
    release.mkdir()
    for tool in ("etcdctl", "etcdutl", "etcd"):
        (staging / tool).write_text(FAKE_TOOL)
        (staging / tool).chmod(0o755)
    archive = release / "etcd-v3.6.5-linux-amd64.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(staging.parent), staging.name], check=True, timeout=30)
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def test_install_step_fetches_the_pinned_etcd_client_once(s3_endpoint: str, tmp_path: Path) -> None:
    require_tool("restic")
    if subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=False).stdout.strip() != "amd64":
        pytest.skip("the stand-in archive is built for amd64")
    mirror = tmp_path / "mirror"
    digest = _release_archive(mirror)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(mirror)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while subprocess.run(["curl", "-fs", "-o", "/dev/null", f"{base}/"], timeout=10, check=False).returncode != 0:
            assert time.monotonic() < deadline, "the mirror did not start in 10 s"
            time.sleep(0.2)
        root = tmp_path / "root"
        secrets = _stdin({"RESTIC_PASSWORD": "pw", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
        wrong = _prod_against(s3_endpoint, client_download_base=base, client_sha256={"amd64": "0" * 64})
        refused = run_script(steps.install_script(wrong, jobs.plan(wrong)["cp-1"], host_root=str(root)), tmp_path, stdin=secrets,
                             check=False, timeout=180)  # fmt: skip
        assert refused.returncode != 0 and "does not match backup.etcd.client_sha256.amd64: refusing it" in refused.stderr
        assert not (root / "usr/local/bin/etcdutl").exists()
        cfg = _prod_against(s3_endpoint, client_download_base=base, client_sha256={"amd64": digest})
        script = steps.install_script(cfg, jobs.plan(cfg)["cp-1"], host_root=str(root))
        first = run_script(script, tmp_path, stdin=secrets, timeout=180)
        assert "installing etcdctl/etcdutl 3.6.5" in first.stderr
        assert (root / "usr/local/bin/etcdutl").read_text() == FAKE_TOOL and not (root / "usr/local/bin/etcd").exists()
        again = run_script(script, tmp_path, stdin=secrets, timeout=180)
        assert "installing etcdctl" not in again.stderr  # the right version is there: no download
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_postgres_hubs_are_dumped_from_the_first_control_plane() -> None:
    from components.backup.component import _pgpass_line
    from config.hub_database import HubDatabase

    cfg = stack_platform("prod")
    postgres = HubDatabase(type="postgres", url="postgresql+psycopg2://jhub@db.example.org:5433/grading")
    cfg = cfg.model_copy(
        update={"hubs": [h.model_copy(update={"database": postgres}) if h.name == "grading" else h for h in cfg.hubs]}
    )
    plan = jobs.plan(cfg)
    assert plan["cp-1"].postgres == [jobs.PostgresTarget("grading", "db.example.org", 5433, "jhub", "grading")]
    assert plan["cp-1"].etcd and not plan["cp-2"].postgres
    assert jobs.databases_text(plan["cp-1"]) == "grading postgres db.example.org 5433 jhub grading"
    assert steps.secret_names(cfg.backup, plan["cp-1"]) == [
        "RESTIC_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PGPASS",
    ]
    assert "export PACKAGES='restic curl postgresql-client'" in steps.install_script(cfg, plan["cp-1"]).text
    assert _pgpass_line(plan["cp-1"].postgres[0], r"p:a\ss") == r"db.example.org:5433:grading:jhub:p\:a\\ss"


def test_contract_lists_the_backup_jobs_without_secrets() -> None:
    from components.contract.document import build_contract

    document = build_contract(stack_platform("prod"), project="p", stack="prod")
    backups = document["backups"]
    assert backups["target"] == "s3" and backups["metrics_dir"] == "/var/lib/prometheus/node-exporter"
    assert {"job": "backup-etcd", "node": "cp-3", "schedule": "hourly"} in backups["jobs"]
    assert {"job": "home-quotas", "node": "nfs-1", "schedule": "*:0/5"} in backups["jobs"]
    assert build_contract(stack_platform("dev"), project="p", stack="dev")["backups"] is None
