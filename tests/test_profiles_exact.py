"""The hub's spawn-page profiles, compared whole: every override key KubeSpawner reads.

KubeSpawner silently ignores an override key it does not know (a renamed `cpu_limit` would
drop the limit), so these tests compare the complete entries, not single keys; label names are written
out (YuniKorn and the hub's profile filter read them), not taken from the module's constants."""

from __future__ import annotations

from typing import Any

import pytest

from components.jupyterhub.profiles import (
    describe,
    idle_args,
    image_parts,
    memory,
    profile_groups,
    profile_list,
    queue_access,
)
from config.loader import load_platform
from config.platform import PlatformConfig
from tests import hub_fixtures

HUB_IMAGE = "quay.io/jupyter/scipy-notebook:2025-10-20"
PROFILES: list[dict[str, Any]] = [
    {"slug": "small", "display_name": "Small", "queue": "root.users"},
    {
        "slug": "half",
        "display_name": "Half",
        "description": "Half a GiB",
        "queue": "root.users",
        "default": True,
        "cpu_guarantee": 0.25,
        "cpu_limit": 1.5,
        "mem_guarantee_gib": 0.5,
        "mem_limit_gib": 1.5,
        "image": "registry.example.org:5000/lab/img:v1",
        "idle_timeout_minutes": 15,
        "allowed_groups": ["staff", "tutors"],
    },
    {"slug": "gpu-one", "display_name": "One GPU", "queue": "root.users", "gpu": 1, "gpu_product": "H100-80GB"},
]


def platform() -> PlatformConfig:
    raw = hub_fixtures.raw(profiles=PROFILES, image=HUB_IMAGE)
    raw["inventory"]["nodes"].append(
        {"name": "gpu-1", "address": "192.0.2.41", "roles": ["worker"], "gpu": {"model": "H100-80GB", "count": 2}}
    )
    raw["gpu"] = {"idle_cull_minutes": 20}
    return load_platform(raw, set(), missing_secrets_ok=True)


def culling(seconds: int) -> list[str]:
    return [
        f"--MappingKernelManager.cull_idle_timeout={seconds}",
        "--MappingKernelManager.cull_interval=300",
        "--MappingKernelManager.cull_connected=True",
        f"--ServerApp.shutdown_no_activity_timeout={seconds}",
    ]


def test_profile_list_exactly() -> None:
    cfg = platform()
    assert profile_list(cfg, cfg.hubs[0]) == [
        {
            "display_name": "Small",
            "slug": "small",
            "description": "0.5-2 CPU, 1-2 GiB; queue root.users",
            "default": False,
            "kubespawner_override": {
                "cpu_guarantee": 0.5,
                "cpu_limit": 2,
                "mem_guarantee": "1G",
                "mem_limit": "2G",
                "image": HUB_IMAGE,
                "extra_labels": {"yunikorn.apache.org/queue": "root.users", "hub.jupyter.org/platform-profile": "small"},
                "environment": {"NVIDIA_VISIBLE_DEVICES": "void"},
            },
        },
        {
            "display_name": "Half",
            "slug": "half",
            "description": "Half a GiB",
            "default": True,
            "kubespawner_override": {
                "cpu_guarantee": 0.25,
                "cpu_limit": 1.5,
                "mem_guarantee": "512M",
                "mem_limit": "1536M",
                "image": "registry.example.org:5000/lab/img:v1",
                "extra_labels": {"yunikorn.apache.org/queue": "root.users", "hub.jupyter.org/platform-profile": "half"},
                "environment": {"NVIDIA_VISIBLE_DEVICES": "void"},
                "args": culling(15 * 60),
            },
        },
        {
            "display_name": "One GPU",
            "slug": "gpu-one",
            "description": "0.5-2 CPU, 1-2 GiB, 1 GPU; queue root.users",
            "default": False,
            "kubespawner_override": {
                "cpu_guarantee": 0.5,
                "cpu_limit": 2,
                "mem_guarantee": "1G",
                "mem_limit": "2G",
                "image": HUB_IMAGE,
                "extra_labels": {"yunikorn.apache.org/queue": "root.users", "hub.jupyter.org/platform-profile": "gpu-one"},
                "extra_resource_limits": {"nvidia.com/gpu": 1},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}],
                "node_selector": {
                    "node.jupyterhub-platform/pool": "gpu",
                    "node.jupyterhub-platform/gpu-model": "H100-80GB",
                },
                "environment": {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"},
                "args": culling(20 * 60),
            },
        },
    ]


def test_first_profile_is_the_default_when_none_is_marked() -> None:
    cfg = hub_fixtures.platform(profiles=[{**p, "default": False} for p in PROFILES[:2]])
    assert [e["default"] for e in profile_list(cfg, cfg.hubs[0])] == [True, False]


def test_idle_args_per_profile() -> None:
    cfg = platform()
    small, half, gpu_one = cfg.hubs[0].profiles
    assert idle_args(cfg, small) == []
    assert idle_args(cfg, half) == culling(900)
    assert idle_args(cfg, gpu_one) == culling(1200)
    # A profile's own timeout wins over the GPU pool's.
    assert idle_args(cfg, gpu_one.model_copy(update={"idle_timeout_minutes": 45})) == culling(2700)


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("quay.io/jupyter/scipy-notebook:2025-10-20", ("quay.io/jupyter/scipy-notebook", "2025-10-20")),
        ("registry.example.org:5000/lab/img:v1", ("registry.example.org:5000/lab/img", "v1")),
        ("registry.example.org:5000/lab/img", ("registry.example.org:5000/lab/img", "latest")),
        ("jupyter/base", ("jupyter/base", "latest")),
    ],
)
def test_image_split_into_name_and_tag(image: str, parts: tuple[str, str]) -> None:
    assert image_parts(image) == parts


@pytest.mark.parametrize(("gib", "spec"), [(1, "1G"), (2.0, "2G"), (0.5, "512M"), (1.25, "1280M"), (64, "64G")])
def test_memory_specification(gib: float, spec: str) -> None:
    assert memory(gib) == spec


def test_describe_without_and_with_gpus() -> None:
    cfg = platform()
    _, half, gpu_one = cfg.hubs[0].profiles
    assert describe(half) == "0.25-1.5 CPU, 0.5-1.5 GiB; queue root.users"
    assert describe(gpu_one.model_copy(update={"gpu": 2})) == "0.5-2 CPU, 1-2 GiB, 2 GPU; queue root.users"


def test_profile_groups_lists_only_restricted_profiles() -> None:
    cfg = platform()
    assert profile_groups(cfg, cfg.hubs[0]) == {"half": ["staff", "tutors"]}


def test_queue_access_follows_the_queue_and_refuses_an_unknown_queue() -> None:
    cfg = platform()
    hub = cfg.hubs[0]
    access = cfg.scheduler.submit_access("root.users")
    assert access is not None
    expected = {"everyone": access.everyone, "users": list(access.users), "groups": list(access.groups)}
    assert queue_access(cfg, hub) == {"small": expected, "half": expected, "gpu-one": expected}
    unknown = hub.profiles[0].model_copy(update={"queue": "root.nowhere"})
    changed = hub.model_copy(update={"profiles": [unknown]})
    assert queue_access(cfg, changed) == {"small": {"everyone": False, "users": [], "groups": []}}
