"""The GPU host step's script (pure): driver check and, with the host toolkit, the NVIDIA runtime."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from components.common.shell import RenderedScript, render_script
from config.gpu_catalog import GPU_MODELS

if TYPE_CHECKING:
    from config.inventory import Node
    from config.platform import PlatformConfig

SCRIPTS = Path(__file__).parent / "scripts"
STEP = "gpu-host"
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
DROP_IN_CONFIG = "/etc/containerd/conf.d/99-nvidia.toml"


def gpu_host_script(node: Node, cfg: PlatformConfig) -> RenderedScript:
    """Script of the `gpu-host` step of one GPU node; it must run after containerd is installed and
    before the node joins (it restarts containerd only then)."""
    if node.gpu is None:
        raise ValueError(f"node {node.name!r} has no GPUs")
    info = GPU_MODELS[node.gpu.model]
    params: dict[str, str | int | bool] = {
        "EXPECTED_GPUS": node.gpu.count,
        "MODEL_PATTERN": info.name_pattern,
        "MODEL_MEMORY_MIB": info.memory_gb * 1024,
        "MIN_DRIVER_MAJOR": cfg.gpu.min_driver_major,
        "CONFIGURE_TOOLKIT": cfg.gpu.container_toolkit == "host",
        "TOOLKIT_VERSION": cfg.gpu.container_toolkit_version,
        "CONTAINERD_CONFIG": CONTAINERD_CONFIG,
        "DROP_IN_CONFIG": DROP_IN_CONFIG,
    }
    return render_script(STEP, SCRIPTS / "gpu-host.sh", params)
