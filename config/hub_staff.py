"""Course staff of one hub: a JupyterHub role (`hub.loadRoles`) below the built-in admin role.

JupyterHub 5 ignores `JupyterHub.admin_access`: its built-in `admin` role always holds `access:servers`
(admins can open every user's server) and cannot be redefined. Privacy therefore comes from who is an
admin: keep `admin_users` (and the authenticator's admin groups) to the platform team, and give course
staff this role, which manages users and servers with or without `access:servers`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.base import StrictModel

USER_NAME = Annotated[str, Field(min_length=1, max_length=255)]
GROUP_NAME = Annotated[str, Field(min_length=1, max_length=255)]


class HubStaff(StrictModel):
    """Who holds the hub's `staff` role, and whether it may open users' servers."""

    users: list[USER_NAME] = []
    """JupyterHub user names with the staff role."""
    groups: list[GROUP_NAME] = []
    """JupyterHub groups whose members hold the staff role (names as in `config.hub_groups`)."""
    access_servers: bool = True
    """Staff may open users' servers and see their files (helping students). Turn off where privacy rules
    forbid it (exams, grading): staff still list users, start and stop their servers and see activity."""

    @property
    def defined(self) -> bool:
        return bool(self.users or self.groups)
