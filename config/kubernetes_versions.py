"""The Kubernetes minors this platform supports, as data: end of life and what each one needs.

Pure data plus small helpers; no Pulumi import, no import of `config.platform`. The rules that
use it live in `config.lifecycle_rules`.

Sources (checked late 2026):
- End-of-life dates: the release pages kubernetes.io/releases/1.35, /1.36, /1.37
  (1.35: maintenance 2026-12-28, EOL 2027-02-28; 1.36: EOL 2027-06-28; 1.37: EOL 2027-10-28).
  1.34 reached its end of life on 2026-10-27 (kubernetes.io/releases/1.34), so it is not listed.
- Package repositories: pkgs.k8s.io serves one Debian repository per minor,
  `https://pkgs.k8s.io/core:/stable:/v<minor>/deb/` (the path prepare.sh already uses).
- kubeadm configuration API: `kubeadm.k8s.io/v1beta4` (introduced in 1.31, current for 1.35-1.37).
- containerd: SIG Node named 1.35 the last minor that supports containerd 1.x; 1.36 and later
  need containerd 2.0 or newer.
- Calico (tigera-operator chart): Tigera's tested ranges are 3.31 for 1.32-1.35, 3.32 for
  1.34-1.36 and 3.33 for 1.35-1.37 (docs.tigera.io requirements pages per version; the Calico
  project discussion #11717 confirms 3.31 on 1.35).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

VERSION_PATTERN = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
CALICO_PATTERN = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
# How long before a minor's end of life the loader starts warning.
END_OF_LIFE_WARNING_DAYS = 60


@dataclass(frozen=True)
class KubernetesMinor:
    """One supported Kubernetes minor and what running it requires."""

    minor: str
    """`1.37`: the minor series."""
    end_of_life: date
    """Upstream end of life: no patches after this day."""
    kubeadm_api: str
    """kubeadm configuration API version the rendered documents use."""
    min_calico: str
    """Oldest tigera-operator chart (Calico) release tested on this minor."""
    min_containerd: str
    """Oldest containerd the kubelet of this minor supports."""

    @property
    def package_repository(self) -> str:
        """The pkgs.k8s.io Debian repository holding kubeadm, kubelet and kubectl of this minor."""
        return f"https://pkgs.k8s.io/core:/stable:/v{self.minor}/deb/"


SUPPORTED_MINORS: tuple[KubernetesMinor, ...] = (
    KubernetesMinor("1.35", date(2027, 2, 28), "kubeadm.k8s.io/v1beta4", "v3.31.0", "1.7.0"),
    KubernetesMinor("1.36", date(2027, 6, 28), "kubeadm.k8s.io/v1beta4", "v3.32.0", "2.0.0"),
    KubernetesMinor("1.37", date(2027, 10, 28), "kubeadm.k8s.io/v1beta4", "v3.33.0", "2.0.0"),
)
BY_MINOR = {m.minor: m for m in SUPPORTED_MINORS}
NEWEST = SUPPORTED_MINORS[-1]


def parse_version(version: str) -> tuple[int, int, int] | None:
    """`1.37.1` (or `v1.37.1`) as numbers; None when it is not an exact version."""
    match = VERSION_PATTERN.match(version.removeprefix("v"))
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def parse_calico(version: str) -> tuple[int, int, int] | None:
    match = CALICO_PATTERN.match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def minor_of(version: str) -> str:
    parts = parse_version(version)
    return f"{parts[0]}.{parts[1]}" if parts else version


def supported_list() -> str:
    return ", ".join(m.minor for m in SUPPORTED_MINORS)


def next_minor(minor: str) -> str:
    major, number = (int(p) for p in minor.split("."))
    return f"{major}.{number + 1}"


def unsupported_minor(version: str) -> str | None:
    """Why `version` cannot be deployed (its minor is not in the table), or None."""
    parts = parse_version(version)
    if parts is None or f"{parts[0]}.{parts[1]}" in BY_MINOR:
        return None
    minor = f"{parts[0]}.{parts[1]}"
    oldest = parse_version(SUPPORTED_MINORS[0].minor + ".0") or (0, 0, 0)
    hint = ""
    if parts[:2] < oldest[:2]:
        hint = (
            f"; a running {minor} cluster moves one minor per `pulumi up`: set {next_minor(minor)}.x first "
            "(README: Upgrading Kubernetes)"
        )
    return f"Kubernetes {minor} is not supported; use one of {supported_list()} (newest: {NEWEST.minor}){hint}"
