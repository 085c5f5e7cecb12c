"""Facts about the GPU models the platform knows: product names and MIG geometry.

Pure data. MIG limits follow NVIDIA's MIG user guide (supported profiles per card); a layout is
checked against a slice budget (compute and memory slices per GPU), which rejects every layout
that cannot fit. The MIG manager on the node remains the final judge of placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

GpuModel = Literal["H100-80GB", "A100-80GB", "A100-40GB", "A30", "L40S", "L40", "L4", "A10", "T4"]


@dataclass(frozen=True)
class MigProfile:
    """One MIG instance size: compute slices, memory slices and how many fit on one GPU."""

    compute: int
    memory: int
    max_count: int


@dataclass(frozen=True)
class GpuModelInfo:
    """What the platform needs to know about one GPU model."""

    name_pattern: str
    """Substring of `nvidia-smi --query-gpu=name` output that identifies the model."""
    memory_gb: int
    mig_profiles: dict[str, MigProfile] = field(default_factory=dict)
    """Supported MIG profiles (empty: the card has no MIG)."""
    balanced: dict[str, int] = field(default_factory=dict)
    """The `all-balanced` layout of NVIDIA's default MIG manager configuration."""
    compute_slices: int = 7
    memory_slices: int = 8

    @property
    def supports_mig(self) -> bool:
        return bool(self.mig_profiles)


def _p(compute: int, memory: int, max_count: int) -> MigProfile:
    return MigProfile(compute, memory, max_count)


_MIG_80GB = {
    "1g.10gb": _p(1, 1, 7),
    "1g.20gb": _p(1, 2, 4),
    "2g.20gb": _p(2, 2, 3),
    "3g.40gb": _p(3, 4, 2),
    "4g.40gb": _p(4, 4, 1),
    "7g.80gb": _p(7, 8, 1),
}
_BALANCED_80GB = {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}

GPU_MODELS: dict[str, GpuModelInfo] = {
    "H100-80GB": GpuModelInfo("H100", 80, _MIG_80GB, _BALANCED_80GB),
    "A100-80GB": GpuModelInfo("A100", 80, _MIG_80GB, _BALANCED_80GB),
    "A100-40GB": GpuModelInfo(
        "A100",
        40,
        {
            "1g.5gb": _p(1, 1, 7),
            "1g.10gb": _p(1, 2, 4),
            "2g.10gb": _p(2, 2, 3),
            "3g.20gb": _p(3, 4, 2),
            "4g.20gb": _p(4, 4, 1),
            "7g.40gb": _p(7, 8, 1),
        },
        {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1},
    ),
    "A30": GpuModelInfo(
        "A30",
        24,
        {"1g.6gb": _p(1, 1, 4), "2g.12gb": _p(2, 2, 2), "4g.24gb": _p(4, 4, 1)},
        {"1g.6gb": 2, "2g.12gb": 1},
        compute_slices=4,
        memory_slices=4,
    ),
    "L40S": GpuModelInfo("L40S", 48),
    "L40": GpuModelInfo("L40", 48),
    "L4": GpuModelInfo("L4", 24),
    "A10": GpuModelInfo("A10", 24),
    "T4": GpuModelInfo("T4", 16),
}


def named_layouts(model: str) -> dict[str, dict[str, int]]:
    """Layout names the MIG manager's default configuration uses for `model`: `all-<profile>`
    (as many of that profile as fit) and `all-balanced`."""
    info = GPU_MODELS[model]
    layouts = {f"all-{name}": {name: p.max_count} for name, p in info.mig_profiles.items()}
    if info.balanced:
        layouts["all-balanced"] = dict(info.balanced)
    return layouts


def smallest_profile(model: str) -> str:
    """The profile with the most instances per GPU (the default layout uses it everywhere)."""
    profiles = GPU_MODELS[model].mig_profiles
    return min(profiles, key=lambda n: (profiles[n].compute, profiles[n].memory))


def layout_problems(model: str, layout: dict[str, int]) -> list[str]:
    """Why `layout` (profile -> instances per GPU) cannot be applied to `model`; empty when it fits."""
    info = GPU_MODELS[model]
    problems: list[str] = []
    for name, count in layout.items():
        profile = info.mig_profiles.get(name)
        if profile is None:
            problems.append(f"{model} has no MIG profile {name!r} (supported: {', '.join(info.mig_profiles)})")
        elif count < 1:
            problems.append(f"{name}: instance count must be at least 1, got {count}")
        elif count > profile.max_count:
            problems.append(f"{name}: at most {profile.max_count} per {model}, got {count}")
    if problems:
        return problems
    compute = sum(info.mig_profiles[n].compute * c for n, c in layout.items())
    memory = sum(info.mig_profiles[n].memory * c for n, c in layout.items())
    if compute > info.compute_slices or memory > info.memory_slices:
        problems.append(
            f"the layout needs {compute} compute and {memory} memory slices; a {model} has "
            f"{info.compute_slices} and {info.memory_slices}"
        )
    if not layout:
        problems.append("a MIG layout needs at least one profile")
    return problems
