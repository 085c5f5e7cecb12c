"""Run rendered scripts on machines with pulumi-command, the same way for every component."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.common import artifacts
from components.common.shell import RenderedScript, remote_command
from config.inventory import Node
from config.ssh import SshConfig

with warnings.catch_warnings():
    # pulumi_command warns at import about its deprecated CopyFile, which is not used here.
    warnings.filterwarnings("ignore", message=".*CopyToRemote.*")
    import pulumi_command as command


@dataclass(frozen=True)
class NodeAccess:
    """How to reach one node: its inventory entry, SSH settings and the secret private key."""

    node: Node
    ssh: SshConfig
    private_key: pulumi.Output[str]

    @property
    def user(self) -> str:
        return self.node.ssh.user or self.ssh.user

    def connection(self) -> command.remote.ConnectionArgs:
        proxy = None
        if self.ssh.bastion is not None:
            b = self.ssh.bastion
            proxy = command.remote.ProxyConnectionArgs(
                host=b.host, port=b.port, user=b.user, private_key=self.private_key, host_key=b.host_key
            )
        return command.remote.ConnectionArgs(
            host=str(self.node.address),
            port=self.node.ssh.port or self.ssh.port,
            user=self.user,
            private_key=self.private_key,
            host_key=self.node.ssh.host_key,
            per_dial_timeout=self.ssh.per_dial_timeout,
            dial_error_limit=self.ssh.dial_error_limit,
            proxy=proxy,
        )


def run_step(
    access: NodeAccess,
    step: str,
    script: RenderedScript,
    *,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    delete: RenderedScript | None = None,
    stdin: pulumi.Input[str] | None = None,
    prints_secrets: bool = False,
    triggers: Sequence[pulumi.Input[str]] = (),
    protect: bool = False,
    ignore_create_changes: bool = False,
    ignore_changes: Sequence[str] = (),
    resource_name: str | None = None,
) -> command.remote.Command:
    """One remote step on one node, named `<node>-<step>`.

    Its script (and delete script) are recorded as `nodes/<node>/<step>.sh` for the render. Node
    identity is always a trigger: a node re-created at another address runs the step again.
    """
    node = access.node.name
    artifacts.record(f"nodes/{node}/{step}.sh", script.text)
    for path, spec in script.files.items():
        artifacts.record(f"nodes/{node}{path}", spec.content)
    if delete is not None:
        artifacts.record(f"nodes/{node}/{step}.delete.sh", delete.text)
    opts = pulumi.ResourceOptions(
        parent=parent,
        depends_on=list(depends_on),
        delete_before_replace=delete is not None,
        protect=protect,
        ignore_changes=[*(["create"] if ignore_create_changes else []), *ignore_changes] or None,
        additional_secret_outputs=["stdout", "stderr"] if prints_secrets else None,
    )
    return command.remote.Command(
        resource_name or f"{node}-{step}",
        connection=access.connection(),
        create=remote_command(script, access.user),
        delete=remote_command(delete, access.user) if delete is not None else None,
        stdin=stdin,
        logging=command.remote.Logging.NONE if prints_secrets else None,
        triggers=[node, str(access.node.address), *triggers],
        opts=opts,
    )
