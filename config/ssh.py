"""How the program reaches the machines."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.base import StrictModel
from config.fields import HostOrAddress, SshHostKey

# Below a stock sshd's MaxStartups start (10), leaving room for the few cluster-wide steps.
BASTION_DEFAULT_SESSIONS = 6


class Bastion(StrictModel):
    """A jump host in front of the node network."""

    host: HostOrAddress
    """Bastion address or DNS name (no `ssh://`, no `:port`: the port is `port`)."""
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    """Bastion SSH port."""
    user: str
    """Bastion login user (the stack's private key is used for it too)."""
    host_key: SshHostKey | None = None
    """The bastion's pinned SSH host public key, `<key-type> <base64>` (from `ssh-keyscan -t ed25519 <host>`)."""


class SshConfig(StrictModel):
    """Stack-wide SSH settings; the private key itself is the secret `ssh_private_key`."""

    user: Annotated[str, Field(min_length=1)] = "ubuntu"
    """Login user on every node; it needs passwordless sudo (there is no PTY for a password)."""
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    """SSH port on every node."""
    per_dial_timeout: Annotated[int, Field(ge=1, le=600)] = 15
    """Seconds one connection attempt may take."""
    dial_error_limit: Annotated[int, Field(ge=1, le=1000)] = 40
    """Connection attempts before a step fails: 40 x 15 s rides out a reboot."""
    bastion: Bastion | None = None
    """Optional jump host."""
    require_host_keys: bool = False
    """Refuse to run unless every node pins `ssh.host_key` (recommended for production)."""
    max_parallel_sessions: Annotated[int, Field(ge=1, le=1000)] | None = None
    """At most this many per-node steps (preparation, joins) run at once: the program chains them
    into this many lanes with `depends_on`, so the engine cannot start more. A handful of
    cluster-wide steps (load balancer, NFS server, first control plane) may run beside them.
    Default: unbounded without a bastion (every node is its own SSH server), and
    `BASTION_DEFAULT_SESSIONS` with one (a stock sshd on the bastion starts refusing new
    connections at 10 unauthenticated ones: `MaxStartups 10:30:100`)."""

    def session_lanes(self) -> int | None:
        """How many per-node steps may run at once; None means no bound from the program."""
        if self.max_parallel_sessions is not None:
            return self.max_parallel_sessions
        return BASTION_DEFAULT_SESSIONS if self.bastion is not None else None
