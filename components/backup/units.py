"""systemd units of the backup and quota jobs (pure): a oneshot service and its timer per job."""

from __future__ import annotations

UNIT_DIR = "/etc/systemd/system"
UNIT_PREFIX = "jupyterhub-platform-"


def unit_name(job: str) -> str:
    """`jupyterhub-platform-<job>` (the service and the timer share it)."""
    return f"{UNIT_PREFIX}{job}"


def service_unit(job: str, description: str, exec_path: str, timeout_hours: int) -> str:
    # Idle I/O class and a low CPU priority: a backup must not slow the control plane or users' saves.
    return "\n".join(
        [
            "# Rendered by jupyterhub-platform; edit the stack configuration, not this file.",
            "[Unit]",
            f"Description=jupyterhub-platform: {description}",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"ExecStart={exec_path}",
            f"TimeoutStartSec={timeout_hours}h",
            "Nice=10",
            "IOSchedulingClass=idle",
            "PrivateTmp=true",
            "",
        ]
    )


def timer_unit(job: str, description: str, schedule: str) -> str:
    # Persistent: a run missed while the host was down happens at boot; the random delay spreads
    # control planes that share a schedule.
    return "\n".join(
        [
            "# Rendered by jupyterhub-platform; edit the stack configuration, not this file.",
            "[Unit]",
            f"Description=jupyterhub-platform timer: {description}",
            "",
            "[Timer]",
            f"OnCalendar={schedule}",
            "RandomizedDelaySec=300",
            "Persistent=true",
            f"Unit={unit_name(job)}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
