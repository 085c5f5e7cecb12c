"""Spawn-page profiles of one hub as KubeSpawner `profileList` entries (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.gpu_pool.profiles import CPU_ONLY_ENVIRONMENT, gpu_idle_server_args, gpu_profile_override
from config.course_queries import hub_profiles
from config.hubs import HubConfig, HubProfile

if TYPE_CHECKING:
    from config.platform import PlatformConfig

QUEUE_LABEL = "yunikorn.apache.org/queue"
PROFILE_LABEL = "hub.jupyter.org/platform-profile"


def memory(gib: float) -> str:
    """KubeSpawner byte specification (its `G` and `M` are binary: GiB, MiB)."""
    return f"{int(gib)}G" if float(gib).is_integer() else f"{round(gib * 1024)}M"


def image_parts(image: str) -> tuple[str, str]:
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "latest")
    return name, tag


def idle_args(cfg: PlatformConfig, profile: HubProfile) -> list[str]:
    """Server-side idle culling for one profile (the hub-wide culler has a single timeout).

    Jupyter Server culls idle kernels (even with a tab open) and then stops itself when nothing runs."""
    if profile.idle_timeout_minutes is None:
        return gpu_idle_server_args(cfg) if profile.gpu > 0 else []
    seconds = profile.idle_timeout_minutes * 60
    return [
        f"--MappingKernelManager.cull_idle_timeout={seconds}",
        "--MappingKernelManager.cull_interval=300",
        "--MappingKernelManager.cull_connected=True",
        f"--ServerApp.shutdown_no_activity_timeout={seconds}",
    ]


def profile_override(cfg: PlatformConfig, hub: HubConfig, profile: HubProfile) -> dict[str, Any]:
    """The `kubespawner_override` of one profile: resources, image, queue label, GPUs, culling."""
    override: dict[str, Any] = {
        "cpu_guarantee": profile.cpu_guarantee,
        "cpu_limit": profile.cpu_limit,
        "mem_guarantee": memory(profile.mem_guarantee_gib),
        "mem_limit": memory(profile.mem_limit_gib),
        "image": profile.image or hub.image,
        "extra_labels": {QUEUE_LABEL: profile.queue, PROFILE_LABEL: profile.slug},
    }
    if profile.gpu > 0:
        gpu = gpu_profile_override(cfg, profile.gpu, profile.gpu_product)
        override.update(gpu)
    else:
        override["environment"] = dict(CPU_ONLY_ENVIRONMENT)
    args = idle_args(cfg, profile)
    if args:
        override["args"] = args
    return override


def profile_list(cfg: PlatformConfig, hub: HubConfig) -> list[dict[str, Any]]:
    """`singleuser.profileList`: exactly one default (the configured one, else the first)."""
    default_slug = hub.default_profile.slug
    entries = []
    for profile in hub_profiles(cfg, hub):
        entry: dict[str, Any] = {
            "display_name": profile.display_name,
            "slug": profile.slug,
            "description": profile.description or describe(profile),
            "default": profile.slug == default_slug,
            "kubespawner_override": profile_override(cfg, hub, profile),
        }
        entries.append(entry)
    return entries


def describe(profile: HubProfile) -> str:
    gpu = f", {profile.gpu} GPU" if profile.gpu else ""
    return (
        f"{profile.cpu_guarantee:g}-{profile.cpu_limit:g} CPU, {profile.mem_guarantee_gib:g}-"
        f"{profile.mem_limit_gib:g} GiB{gpu}; queue {profile.queue}"
    )


def profile_groups(cfg: PlatformConfig, hub: HubConfig) -> dict[str, list[str]]:
    """Slug -> groups that may see it (only restricted profiles are listed; course profiles always are)."""
    return {p.slug: list(p.allowed_groups) for p in hub_profiles(cfg, hub) if p.allowed_groups}


def queue_access(cfg: PlatformConfig, hub: HubConfig) -> dict[str, dict[str, Any]]:
    """Slug -> who the profile's queue admits (its submit ACLs up to root): the hub hides a profile from
    anyone YuniKorn would refuse, admins included (their server would be rejected)."""
    out: dict[str, dict[str, Any]] = {}
    for p in hub_profiles(cfg, hub):
        access = cfg.scheduler.submit_access(p.queue)
        if access is None:  # not a configured queue (a config rule reports it): admit nobody
            out[p.slug] = {"everyone": False, "users": [], "groups": []}
        else:
            out[p.slug] = {"everyone": access.everyone, "users": list(access.users), "groups": list(access.groups)}
    return out
