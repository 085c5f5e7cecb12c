"""The SFTP target with Debian's restic through a real sshd on 127.0.0.1 (internal-sftp): the job's
`sftp.command` uses the pinned host key and a key file, backs up, restores; a wrong host key fails."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.backup import jobs, restore_steps
from components.backup.targets import ResticSettings, known_hosts, sftp_command
from tests.backup_helpers import backup_config, metrics, run_script
from tests.helpers import require_tool
from tests.sshd_server import host_public_key, loopback_sshd


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """sshd serving SFTP (internal-sftp) to root with a test key; yields (port, workdir)."""
    require_tool("restic")
    work = tmp_path_factory.mktemp("sftp")
    with loopback_sshd(work, "Subsystem sftp internal-sftp\n") as port:
        yield port, work


def _settings(tmp: Path, port: int, work: Path, host_key: str) -> tuple[ResticSettings, str]:
    cfg = backup_config(
        s3=None,
        sftp={"host": "127.0.0.1", "port": port, "user": "root", "path": str(tmp / "sftp-repos"), "host_key": host_key},
    )
    known = tmp / "known_hosts"
    known.write_text(f"{known_hosts(cfg)}\n")
    conf = tmp / "conf"
    conf.mkdir(mode=0o700, exist_ok=True)
    (conf / "restic-password").write_text("sftp test password\n")
    (conf / "restic.env").write_text(f"RESTIC_PASSWORD_FILE={conf / 'restic-password'}\n")
    for name in ("restic-password", "restic.env"):
        (conf / name).chmod(0o600)
    settings = ResticSettings.for_node(cfg, "nfs-1")
    command = sftp_command(cfg, key_file=str(work / "client"), known_hosts_file=str(known))
    settings = ResticSettings(
        repository=settings.repository, host_tag="nfs-1", sftp_command=command, env_file=str(conf / "restic.env"),
        state_dir=str(tmp / "state"), metrics_dir=str(tmp / "metrics"), timeout_seconds=120,
    )  # fmt: skip
    return settings, settings.repository


def test_sftp_backup_and_restore_with_the_pinned_host_key(sftp_server: tuple[int, Path], tmp_path: Path) -> None:
    port, work = sftp_server
    host_key = host_public_key(work)
    restic, repository = _settings(tmp_path, port, work, host_key)
    assert repository == f"sftp:root@127.0.0.1:{tmp_path / 'sftp-repos'}/nfs-1"
    home = tmp_path / "export" / "homes" / "jhub-teaching" / "carol"
    home.mkdir(parents=True)
    (home / "thesis.tex").write_text("\\documentclass{article}\n")
    job = jobs.homes_script(restic, backup_config(homes={"retention": {"last": 5}}), [str(tmp_path / "export" / "homes")])
    run_script(job, tmp_path, timeout=180)
    assert (tmp_path / "sftp-repos" / "nfs-1" / "config").is_file()
    assert metrics(restic, "homes")["jupyterhub_platform_backup_success"] == 1
    (home / "thesis.tex").unlink()
    restore = restore_steps.home_script(
        restic, home_path=str(home), at="latest", staging_dir=str(tmp_path / "staging"), owner_uid=1000, owner_gid=100
    )
    restored = Path(run_script(restore, tmp_path, timeout=180).stdout.strip().splitlines()[-1])
    assert (restored / "thesis.tex").read_text() == "\\documentclass{article}\n"


def test_sftp_with_a_different_host_key_is_refused(sftp_server: tuple[int, Path], tmp_path: Path) -> None:
    port, work = sftp_server
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True, timeout=30)
    wrong = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    restic, _ = _settings(tmp_path, port, work, wrong)
    home = tmp_path / "export" / "homes"
    home.mkdir(parents=True)
    job = jobs.homes_script(restic, backup_config(homes={"retention": {"last": 5}}), [str(home)])
    result = run_script(job, tmp_path, check=False, timeout=180)
    assert result.returncode != 0  # the only difference from the test above is the pinned host key
    # restic does not always pass ssh's message on (it races the closed pipe): ask ssh itself, with the
    # job's exact command, why it refuses.
    ssh = shlex.split(restic.sftp_command)
    assert ssh[-2:] == ["-s", "sftp"]
    direct = subprocess.run([*ssh[:-2], "true"], capture_output=True, text=True, timeout=60, check=False)
    assert direct.returncode != 0 and "Host key verification failed" in direct.stderr, direct.stderr
    assert metrics(restic, "homes")["jupyterhub_platform_backup_success"] == 0
    assert not (tmp_path / "sftp-repos").exists()
