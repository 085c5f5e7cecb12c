"""Cross-section rules of contract publication (registered in `config.checks`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from config.errors import ConfigIssue

if TYPE_CHECKING:
    from config.platform import PlatformConfig


def publish_issues(cfg: PlatformConfig) -> Iterator[ConfigIssue]:
    """Rules spanning publication fields (the per-field ones live on the models)."""
    pub = cfg.publish
    if pub is None:
        return
    if pub.s3 is not None and pub.s3.ca_bundle and not pub.s3.verify_tls:
        yield ConfigIssue("publish.s3.ca_bundle", "a CA bundle is pointless with verify_tls: false; drop one of them")


PUBLISH_CHECKS = [publish_issues]
