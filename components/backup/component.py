"""PlatformBackups: backups of etcd, the NFS homes and the hub databases; per-user home quotas.

Runbook order, after the cluster, the NFS server and the hub database volumes exist:
per host with a job (every control plane for etcd, the NFS server for homes, each SQLite hub's node
and the first control plane for PostgreSQL dumps), one `backup` step installs restic, the secrets
(from stdin into root-only files), the job scripts, their systemd timers, and creates the host's
own repository ▸ on the managed NFS server, the `home-quotas` step refuses an export that is not XFS
with `prjquota`, then installs the quota reconciler and its timer and runs it once.

Restores are never run by Pulumi: `python -m tools.restore` prints and runs them with the operator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.backup import jobs as backup_jobs
from components.backup import steps
from components.backup.targets import secret_payload
from components.common.remote import NodeAccess, run_step
from config.backup import (
    RESTIC_PASSWORD_SECRET,
    S3_ACCESS_KEY_SECRET,
    S3_SECRET_KEY_SECRET,
    SFTP_KEY_SECRET,
    BackupConfig,
)
from config.backup_rules import quotas_enforced
from config.hubs import hub_secret_key
from config.nfs_queries import nfs_server_node
from config.platform import PlatformConfig
from config.pulumi_source import StackSecrets

TYPE = "jupyterhub-platform:storage:PlatformBackups"
_SECRET_KEYS = {
    "RESTIC_PASSWORD": RESTIC_PASSWORD_SECRET,
    "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY_SECRET,
    "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY_SECRET,
    "SFTP_PRIVATE_KEY": SFTP_KEY_SECRET,
}


def _pgpass_line(target: backup_jobs.PostgresTarget, password: str) -> str:
    # .pgpass fields: host:port:database:user:password, with ':' and '\' escaped.
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"{target.host}:{target.port}:{target.database}:{target.user}:{escaped}"


def _stdin(backup: BackupConfig, jobs: backup_jobs.NodeJobs, secrets: StackSecrets) -> pulumi.Output[str]:
    """The step's secrets as one secret Output (never a plain string in the program)."""
    names = steps.secret_names(backup, jobs)
    plain = [n for n in names if n != "PGPASS"]
    db_passwords = [secrets.require(hub_secret_key(t.hub, "db_password")) for t in jobs.postgres]

    def payload(values: list[str]) -> str:
        found = dict(zip(plain, values[: len(plain)], strict=True))
        if jobs.postgres:
            lines = [_pgpass_line(t, pw) for t, pw in zip(jobs.postgres, values[len(plain) :], strict=True)]
            found["PGPASS"] = "\n".join(lines)
        return secret_payload(found)

    inputs = [secrets.require(_SECRET_KEYS[n]) for n in plain] + db_passwords
    return pulumi.Output.secret(pulumi.Output.all(*inputs).apply(payload))


class PlatformBackups(pulumi.ComponentResource):
    """Backup jobs on their hosts and the NFS server's quotas."""

    def __init__(
        self,
        name: str,
        *,
        cfg: PlatformConfig,
        secrets: StackSecrets,
        access: Mapping[str, NodeAccess],
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self.steps: list[pulumi.Resource] = []
        hosts: dict[str, list[str]] = {}
        backup = cfg.backup
        if backup is not None:
            for node, jobs in backup_jobs.plan(cfg).items():
                script = steps.install_script(cfg, jobs)
                self.steps.append(
                    run_step(
                        access[node],
                        "backup",
                        script,
                        parent=self,
                        depends_on=depends_on,
                        # Removed from this host: timers off, units and credentials gone; repositories kept.
                        delete=steps.uninstall_script(script, secrets=steps.SECRET_FILES),
                        # The secrets travel only on stdin; a change of them re-runs the step.
                        stdin=_stdin(backup, jobs, secrets),
                    )
                )
                hosts[node] = sorted(backup_jobs.job_scripts(cfg, jobs))
        quotas = cfg.quotas
        server = nfs_server_node(cfg)
        if quotas is not None and quotas_enforced(cfg) and server is not None:
            script = steps.quota_step_script(cfg, quotas)
            self.steps.append(run_step(access[server.name], steps.QUOTA_JOB, script, parent=self, depends_on=depends_on))
            hosts.setdefault(server.name, []).append(steps.QUOTA_JOB)
        self.jobs = hosts
        self.register_outputs({"jobs": hosts})
