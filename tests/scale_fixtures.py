"""The committed 200-worker fixture as a `PlatformConfig`, optionally with other SSH settings."""

from __future__ import annotations

from typing import Any

from config.loader import load_platform
from config.platform import PlatformConfig
from tests.helpers import ROOT
from tools.render import read_stack_file

FIXTURE = ROOT / "tests" / "fixtures" / "scale-200.yaml"
BASTION = {"host": "192.0.2.250", "user": "jump"}


def scale_platform(**ssh: Any) -> PlatformConfig:
    """The fixture's config with `ssh` settings overridden (e.g. `bastion=BASTION`)."""
    raw, secret_keys = read_stack_file(FIXTURE)
    raw = {**raw, "ssh": {**(raw.get("ssh") or {}), **ssh}}
    return load_platform(raw, secret_keys, missing_secrets_ok=True)
