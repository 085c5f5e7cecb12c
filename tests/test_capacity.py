"""Capacity report: servers per profile at its guarantee, beside the queue limits."""

from __future__ import annotations

from components.jupyterhub.capacity import capacity, capacity_markdown
from config.platform import PlatformConfig
from tests.hub_fixtures import INVENTORY, platform, raw


def test_servers_fit_after_node_reserves() -> None:
    rows = {r.profile: r for r in capacity(platform())}
    # cp-1: 16 CPU/64 GiB minus 1+1 CPU and 2+3 GiB (worker and control-plane reserves); worker-1: 32/128 minus 1/2.
    # small (0.5 CPU, 1 GiB): 28 + 62; large (4 CPU, 16 GiB): min(3, 3) + min(7, 7).
    assert rows["small"].servers_fit == 28 + 62
    assert rows["large"].servers_fit == 3 + 7
    assert rows["small"].queue == "root.users"


def test_unknown_node_sizes_are_reported_as_unknown() -> None:
    config = raw()
    config["inventory"]["nodes"] = [{k: v for k, v in n.items() if k not in ("cpus", "memory_gib")} for n in INVENTORY["nodes"]]
    cfg = PlatformConfig.model_validate(config)
    assert all(r.servers_fit is None for r in capacity(cfg))
    assert "unknown" in capacity_markdown(cfg)


def test_report_lists_every_profile() -> None:
    text = capacity_markdown(platform())
    assert "| teaching | small | 0.5 CPU, 1 GiB | 90 | root.users |" in text
    assert "| teaching | large |" in text
