"""XFS project quotas of the home folders (pure): the limits table, the reconcile script, and the
capacity report that compares quota x expected users with the export's size."""

from __future__ import annotations

from pathlib import Path

from components.common.shell import RenderedScript, render_script
from config.backup_rules import quotas_enforced
from config.platform import PlatformConfig
from config.quotas import FIRST_PROJECT_ID, QuotaConfig

SCRIPTS = Path(__file__).parent / "scripts"
QUOTA_STATE_DIR = "/var/lib/jupyterhub-platform/quotas"


def limits_text(cfg: PlatformConfig, quotas: QuotaConfig) -> str:
    """`<namespace> <user or *> <soft GiB> <hard GiB>` lines: the global default, each hub's default,
    then per-user overrides (the reconciler picks the most specific line)."""
    lines = [f"* * {quotas.default.soft_gib} {quotas.default.hard_gib}"]
    for hub in cfg.hubs:
        limit = quotas.limit_for(hub.name)
        lines.append(f"{hub.k8s_namespace} * {limit.soft_gib} {limit.hard_gib}")
        entry = next((h for h in quotas.hubs if h.hub == hub.name), None)
        for user in entry.users if entry else []:
            lines.append(f"{hub.k8s_namespace} {user.user} {user.soft_gib} {user.hard_gib}")
    return "\n".join(lines)


def reconcile_script(
    homes_root: str,
    limits: str,
    *,
    metrics_dir: str,
    state_dir: str = QUOTA_STATE_DIR,
    xfs_quota: str = "xfs_quota",
    findmnt: str = "findmnt",
) -> RenderedScript:
    """The reconcile job; tests point xfs_quota and findmnt at recording shims (no XFS can be mounted there)."""
    params: dict[str, str | int | bool] = {
        "HOMES_ROOT": homes_root,
        "LIMITS": limits,
        "FIRST_PROJECT_ID": FIRST_PROJECT_ID,
        "STATE_DIR": state_dir,
        "METRICS_DIR": metrics_dir,
        "XFS_QUOTA": xfs_quota,
        "FINDMNT": findmnt,
    }
    return render_script("home-quotas", [SCRIPTS / "quota-preflight.sh", SCRIPTS / "quota-reconcile.sh"], params)


def _gib(quantity: str) -> int:
    units = {"Mi": 1 / 1024, "Gi": 1, "Ti": 1024, "Pi": 1024**2}
    return int(int(quantity[:-2]) * units[quantity[-2:]])


def quota_report(cfg: PlatformConfig) -> str:
    """`reports/quotas.md`: per hub, hard limit x expected users, against the homes export's size."""
    quotas = cfg.quotas
    size = _gib(cfg.nfs.homes_capacity)
    lines = ["# Home quotas against the export", ""]
    if quotas is None or not quotas_enforced(cfg):
        lines.append(
            "No quotas enforced (`quotas` section absent or off, or the homes are on a NAS): one user can fill the "
            "export for everyone."
        )
        return "\n".join(lines) + "\n"
    lines += [
        f"Export size (`nfs.homes_capacity`): {size} GiB. Committed = hard limit x expected users (overrides add",
        "the difference to the hub default). Above 100 % the export can fill up before every user reaches their limit.",
        "",
        "| hub | namespace | default soft / hard GiB | expected users | overrides | committed GiB |",
        "|---|---|---|---|---|---|",
    ]
    total = 0
    for hub in cfg.hubs:
        entry = next((h for h in quotas.hubs if h.hub == hub.name), None)
        limit = quotas.limit_for(hub.name)
        expected = entry.expected_users if entry else 0
        overrides = entry.users if entry else []
        committed = limit.hard_gib * expected + sum(max(0, u.hard_gib - limit.hard_gib) for u in overrides)
        total += committed
        lines.append(
            f"| {hub.name} | {hub.k8s_namespace} | {limit.soft_gib} / {limit.hard_gib} | {expected} | "
            f"{len(overrides)} | {committed} |"
        )
    share = 100 * total / size if size else 0
    verdict = "fits" if total <= size else "OVERCOMMITTED"
    lines += ["", f"Total committed: {total} GiB of {size} GiB ({share:.0f} %): {verdict}."]
    return "\n".join(lines) + "\n"
