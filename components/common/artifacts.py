"""Every file the program would put on a machine, collected for the offline render.

Components record what they send; `tools.render` writes it under `files/`. Recording has no
effect on a real deployment.
"""

from __future__ import annotations

_ARTIFACTS: dict[str, str] = {}


def record(relative_path: str, content: str) -> None:
    """Remember `content` under `files/<relative_path>`; the same path twice must agree."""
    previous = _ARTIFACTS.get(relative_path)
    if previous is not None and previous != content:
        raise ValueError(f"two different artifacts for {relative_path}")
    _ARTIFACTS[relative_path] = content


def collected() -> dict[str, str]:
    return dict(sorted(_ARTIFACTS.items()))


def reset() -> None:
    _ARTIFACTS.clear()
