"""Shared pieces of the backup tests: a restic repository in a temp dir, running rendered scripts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from components.backup.targets import ResticSettings
from components.common.shell import RenderedScript
from config.backup import BackupConfig

PASSWORD = "correct horse battery staple"


def restic_settings(tmp: Path, repository: str, host: str = "test-host", extra_env: str = "") -> ResticSettings:
    """Settings of backup-lib.sh pointing at temp dirs, with a root-only env file naming the password file."""
    conf = tmp / "conf"
    conf.mkdir(exist_ok=True, mode=0o700)
    password = conf / "restic-password"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    env_file = conf / "restic.env"
    env_file.write_text(f"RESTIC_PASSWORD_FILE={password}\n{extra_env}")
    env_file.chmod(0o600)
    return ResticSettings(
        repository=repository,
        host_tag=host,
        env_file=str(env_file),
        state_dir=str(tmp / "state"),
        metrics_dir=str(tmp / "metrics"),
        timeout_seconds=300,
    )


def run_script(
    script: RenderedScript,
    tmp: Path,
    *,
    check: bool = True,
    stdin: str | None = None,
    timeout: int = 300,
    path_prefix: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a rendered script with bash; `path_prefix` puts shims first on PATH."""
    target = tmp / f"{script.name}.sh"
    target.write_text(script.text)
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    result = subprocess.run(
        ["bash", str(target)], input=stdin, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if check:
        assert result.returncode == 0, f"{script.name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def restic_json(settings: ResticSettings, *args: str, extra_env: dict[str, str] | None = None) -> Any:
    """`restic ARGS --json` against the settings' repository, from the test (password from its file)."""
    env = dict(os.environ, RESTIC_REPOSITORY=settings.repository, **(extra_env or {}))
    env["RESTIC_PASSWORD_FILE"] = str(Path(settings.env_file).parent / "restic-password")
    out = subprocess.run(["restic", *args, "--json"], env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def metrics(settings: ResticSettings, job: str) -> dict[str, float]:
    """The job's textfile-collector metrics, by metric name."""
    text = (Path(settings.metrics_dir) / f"jupyterhub_platform_backup_{job.replace('-', '_')}.prom").read_text()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_labels, value = line.rsplit(" ", 1)
            values[name_labels.split("{", 1)[0]] = float(value)
    return values


def backup_config(**extra: Any) -> BackupConfig:
    return BackupConfig.model_validate({"s3": {"bucket": "backups"}, **extra})
