#!/usr/bin/env bash
# shellcheck shell=bash
# Preflight: refuse hosts that kubeadm would fail on later, with an error that says why.
# Parameters: NODE_NAME MIN_CPUS MIN_MEMORY_MIB MANAGE_HOSTNAMES CHECK_PORTS

problems=()
# shellcheck source=/dev/null
. /etc/os-release
case "${ID:-}-${VERSION_ID:-}" in
  debian-12 | ubuntu-22.04 | ubuntu-24.04) ;;
  *) problems+=("unsupported OS ${PRETTY_NAME:-unknown}: use Debian 12, Ubuntu 22.04 or Ubuntu 24.04") ;;
esac

cpus=$(nproc)
((cpus >= MIN_CPUS)) || problems+=("${cpus} CPUs, at least ${MIN_CPUS} required")

memory_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
((memory_mib >= MIN_MEMORY_MIB)) || problems+=("${memory_mib} MiB memory, at least ${MIN_MEMORY_MIB} MiB required")

if [[ "$MANAGE_HOSTNAMES" != true ]] && [[ "$(hostname)" != "$NODE_NAME" ]]; then
  problems+=("hostname is $(hostname), expected ${NODE_NAME} (or set cluster.manage_hostnames)")
fi

[[ -d /sys/fs/cgroup ]] || problems+=("no cgroup filesystem")
command -v systemctl >/dev/null || problems+=("systemd is required")

# Ports only matter before the node is part of the cluster; afterwards our own services hold them.
if [[ ! -f /etc/kubernetes/kubelet.conf ]]; then
  for port in $CHECK_PORTS; do
    if ss -Hltn "sport = :${port}" | grep -q .; then
      problems+=("port ${port} is already in use: $(ss -Hltnp "sport = :${port}" | head -n 1)")
    fi
  done
fi

if swapon --noheadings --show=NAME | grep -q .; then
  log "swap is on; node preparation turns it off and keeps it off"
fi

if ((${#problems[@]} > 0)); then
  for p in "${problems[@]}"; do log "preflight: $p"; done
  die "${NODE_NAME} failed ${#problems[@]} preflight check(s)"
fi
log "preflight passed: ${PRETTY_NAME}, ${cpus} CPUs, ${memory_mib} MiB, product_uuid $(cat /sys/class/dmi/id/product_uuid 2>/dev/null || echo unknown)"
