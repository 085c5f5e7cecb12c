"""Day-2 settings of a kubeadm cluster: upgrades, certificates, encryption of Secrets at rest."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import StrictModel

KeyName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")]
# A secret per key: `encryption_key_<name>` (dashes become underscores in the config key).
ENCRYPTION_KEY_PREFIX = "encryption_key_"


def encryption_secret_key(name: str) -> str:
    return ENCRYPTION_KEY_PREFIX + name.replace("-", "_")


class UpgradeConfig(StrictModel):
    """How a change of `cluster.kubernetes_version` is rolled out to the running cluster."""

    max_unavailable: Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=r"^([1-9][0-9]?|100)%$")] = "10%"
    """Workers upgraded (drained) at once: a count, or a percentage of the workers (at least 1)."""
    drain_timeout_seconds: Annotated[int, Field(ge=60, le=7200)] = 900
    """Bound on each drain; PodDisruptionBudgets are respected, so a blocking budget fails the
    step after this long (the next `pulumi up` resumes)."""
    notebook_grace_seconds: Annotated[int, Field(ge=0, le=86400)] = 900
    """How long a node with running notebooks waits, after the hub announcement, for users to
    save and stop their servers before the drain evicts them."""
    announcement: Annotated[str, Field(min_length=1, max_length=300)] = (
        "Maintenance: the machine running your server is being upgraded. Save your work; "
        "your server will be stopped within a few minutes."
    )
    """Text written to each hub's announcement ConfigMap while a node with notebooks is upgraded."""

    def batch_size(self, workers: int) -> int:
        """Workers per batch for a cluster with `workers` workers."""
        if isinstance(self.max_unavailable, int):
            return max(1, min(self.max_unavailable, max(workers, 1)))
        percent = int(self.max_unavailable.rstrip("%"))
        return max(1, math.floor(workers * percent / 100))


class CertificatesConfig(StrictModel):
    """Control-plane certificates: monitoring of their expiry and renewal on demand."""

    renew_generation: Annotated[int, Field(ge=0)] = 0
    """Raise by one to renew every control-plane certificate (one control plane at a time) and
    refresh the admin kubeconfig output in the same `pulumi up`. 0: never renewed by the platform
    (kubeadm also renews them during each upgrade)."""
    check_calendar: Annotated[str, Field(pattern=r"^[A-Za-z0-9:*/,. -]{1,64}$")] = "daily"
    """systemd OnCalendar expression of the expiry check on each control plane."""
    textfile_directory: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._/-]+$")] = "/var/lib/prometheus/node-exporter"
    """Where the check writes `kubeadm_certificates.prom` for node-exporter's textfile collector. With the
    platform's `monitoring` on it must stay the default, the directory its node-exporters read."""


class EncryptionAtRestConfig(StrictModel):
    """EncryptionConfiguration for Secrets on every control plane, keys from stack secrets."""

    provider: Literal["secretbox", "aescbc"] = "secretbox"
    """`secretbox` (XSalsa20-Poly1305) or `aescbc` (AES-CBC); both take 32-byte keys."""
    keys: Annotated[list[KeyName], Field(min_length=1, max_length=3)] = ["key1"]
    """Key names: the first encrypts, the others only decrypt. Each needs the secret
    `encryption_key_<name>` (32 random bytes, base64). Rotation, one `pulumi up` each: add the
    new key last (`[key1, key2]`), put it first (`[key2, key1]`; all Secrets are then rewritten
    with it), then drop the old one (`[key2]`)."""

    @field_validator("keys")
    @classmethod
    def _unique(cls, keys: list[str]) -> list[str]:
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"key names must be unique; repeated: {', '.join(repeated)}")
        return keys
