"""Per-user home quotas on the managed NFS server: XFS project quotas, one project per home folder.

Every file on the export is written as the same uid (`all_squash`), so user and group quotas cannot
tell students apart; a project quota per home directory can. The export must be XFS mounted with
`prjquota` (the install step checks it and refuses with the fix). Users' folders appear on first
spawn, so a timer on the NFS host gives each new folder a project id and its limits, re-applies the
limits of every folder (a changed limit takes effect at the next run) and exports usage for monitoring.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from config.base import StrictModel

# Project ids the platform hands out start here (ids below stay free for the operator's own projects).
FIRST_PROJECT_ID = 100000
_USER = r"^[A-Za-z0-9._@-]{1,128}$"


class QuotaLimit(StrictModel):
    """Soft and hard limits in GiB (writes fail at the hard limit; the soft one is what users are warned at)."""

    soft_gib: Annotated[int, Field(ge=1, le=100000)]
    """Soft limit: usage above it is reported (and alerted) but allowed for the grace period."""
    hard_gib: Annotated[int, Field(ge=1, le=100000)]
    """Hard limit: writes fail beyond it."""

    @model_validator(mode="after")
    def _order(self) -> QuotaLimit:
        if self.soft_gib > self.hard_gib:
            raise ValueError(f"soft_gib {self.soft_gib} is above hard_gib {self.hard_gib}")
        return self


class UserQuota(QuotaLimit):
    """A per-user override."""

    user: Annotated[str, Field(pattern=_USER)]
    """The folder name under the hub's homes (the escaped username KubeSpawner uses as subPath)."""


class HubQuota(StrictModel):
    """One hub's default limit, expected users and per-user overrides."""

    hub: Annotated[str, Field(pattern=r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$")]
    """Name of the hub (`hubs[].name`)."""
    default: QuotaLimit | None = None
    """Limit of every home of this hub without an override (default: `quotas.default`)."""
    expected_users: Annotated[int, Field(ge=0)] = 0
    """How many users' homes this hub will hold; the capacity report multiplies it by the hard limit."""
    users: list[UserQuota] = []
    """Overrides for single users (e.g. a teaching assistant with large datasets)."""


class QuotaConfig(StrictModel):
    """XFS project quotas on the managed NFS server's homes."""

    enabled: bool | None = None
    """Enforce quotas (needs an XFS export mounted with `prjquota`; the install step checks it). Unset: on
    with a managed NFS server, off with a NAS (set quotas there); true with a NAS is an error."""
    default: QuotaLimit = QuotaLimit(soft_gib=9, hard_gib=10)
    """Limit of every home without a hub default or user override."""
    hubs: list[HubQuota] = []
    """Per-hub defaults, expected users and per-user overrides."""
    schedule: str = "*:0/5"
    """systemd OnCalendar of the reconcile timer: how soon a new folder gets its limit (default every 5 minutes)."""
    metrics_dir: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9._-]+)+$")] = "/var/lib/prometheus/node-exporter"
    """node-exporter's textfile collector directory (`jupyterhub_platform_home_quota.prom`). With the
    platform's `monitoring` on it must stay the default, the directory its node-exporters read."""

    def limit_for(self, hub: str, user: str | None = None) -> QuotaLimit:
        entry = next((h for h in self.hubs if h.hub == hub), None)
        if entry is None:
            return self.default
        if user is not None:
            override = next((u for u in entry.users if u.user == user), None)
            if override is not None:
                return QuotaLimit(soft_gib=override.soft_gib, hard_gib=override.hard_gib)
        return entry.default or self.default
