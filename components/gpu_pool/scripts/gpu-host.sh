#!/usr/bin/env bash
# shellcheck shell=bash
# gpu-host: check the NVIDIA driver of a GPU node and, with the host toolkit, make the NVIDIA
# runtime containerd's default through a drop-in. Runs before the node joins the cluster.
# Parameters: EXPECTED_GPUS, MODEL_PATTERN, MODEL_MEMORY_MIB, MIN_DRIVER_MAJOR, CONFIGURE_TOOLKIT,
# TOOLKIT_VERSION, CONTAINERD_CONFIG, DROP_IN_CONFIG.
#
# Never `systemctl daemon-reload` here: with the systemd cgroup driver it can detach running
# containers from their GPUs (nvidia-docker#1730). Packages whose scripts may reload systemd are
# installed, and containerd is restarted, only while the node has not joined (no workloads yet).

runtime_config="${HOST_ROOT}${CONTAINERD_CONFIG}"
drop_in="${HOST_ROOT}${DROP_IN_CONFIG}"
joined=false
if [[ -f "${HOST_ROOT}/etc/kubernetes/kubelet.conf" ]]; then
  joined=true
fi

check_driver() {
  local inventory name memory driver count
  command -v nvidia-smi >/dev/null 2>&1 ||
    die "no NVIDIA driver on $(hostname): nvidia-smi is missing. Install the driver on the host (e.g. apt-get install nvidia-driver-570-server), reboot, then run again"
  inventory=$(timeout 120 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits) ||
    die "nvidia-smi failed on $(hostname): the driver is installed but not loaded (reboot after installing it?)"
  count=$(grep -c . <<<"$inventory" || true)
  ((count >= EXPECTED_GPUS)) || die "the inventory lists ${EXPECTED_GPUS} GPU(s), nvidia-smi sees ${count}"
  while IFS=',' read -r name memory driver; do
    memory=${memory// /}
    driver=${driver// /}
    grep -qw -- "$MODEL_PATTERN" <<<"$name" || die "GPU '${name}' is not a ${MODEL_PATTERN} (check gpu.model in the inventory)"
    # Memory within -15%/+10% of the nominal size tells an A100 40GB from an 80GB.
    if ((memory * 100 < MODEL_MEMORY_MIB * 85 || memory * 100 > MODEL_MEMORY_MIB * 110)); then
      die "GPU '${name}' has ${memory} MiB, expected about ${MODEL_MEMORY_MIB} MiB (check gpu.model)"
    fi
    ((${driver%%.*} >= MIN_DRIVER_MAJOR)) || die "driver ${driver} is older than branch ${MIN_DRIVER_MAJOR} (gpu.min_driver_major)"
  done <<<"$inventory"
  log "driver ok: ${count} GPU(s), $(head -n 1 <<<"$inventory")"
}

toolkit_current() {
  local pkg
  for pkg in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do
    [[ "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)" == "${TOOLKIT_VERSION}-1" ]] || return 1
  done
}

install_toolkit() {
  local keyring=/etc/apt/keyrings/nvidia-container-toolkit.gpg arch
  if toolkit_current; then
    return 0
  fi
  if [[ $joined == true ]]; then
    die "nvidia-container-toolkit ${TOOLKIT_VERSION} is not installed on this joined GPU node; its package scripts may reload systemd under running notebooks. Drain the node, install it by hand, uncordon, then run again"
  fi
  arch=$(dpkg --print-architecture)
  if [[ ! -s ${HOST_ROOT}$keyring ]]; then
    mkdir -p "${HOST_ROOT}/etc/apt/keyrings"
    timeout 120 curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor --batch --yes -o "${HOST_ROOT}$keyring"
  fi
  install_file "${HOST_ROOT}/etc/apt/sources.list.d/nvidia-container-toolkit.list" 0644 \
    "deb [signed-by=${keyring}] https://nvidia.github.io/libnvidia-container/stable/deb/${arch} /"
  apt_update
  apt-mark unhold nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 >/dev/null 2>&1 || true
  apt_get_install --no-install-recommends \
    --allow-downgrades "nvidia-container-toolkit=${TOOLKIT_VERSION}-1" "nvidia-container-toolkit-base=${TOOLKIT_VERSION}-1" \
    "libnvidia-container-tools=${TOOLKIT_VERSION}-1" "libnvidia-container1=${TOOLKIT_VERSION}-1"
  # Held: an unattended upgrade would run the package scripts under running notebooks.
  apt-mark hold nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 >/dev/null
}

# The drop-in flag appeared in nvidia-container-toolkit 1.18.0; an older nvidia-ctk would reject it (or
# a future one might rename it): fail with the reason rather than with a CLI usage error.
check_drop_in_support() {
  local help
  help=$(nvidia-ctk runtime configure --help 2>&1 || true)
  grep -q -- '--drop-in-config' <<<"$help" ||
    die "nvidia-ctk ($(nvidia-ctk --version 2>/dev/null | head -n 1 || echo unknown version)) has no 'runtime configure --drop-in-config': the host toolkit needs nvidia-container-toolkit 1.18.0 or later (gpu.container_toolkit_version is ${TOOLKIT_VERSION})"
}

# The driver itself is not held (a held driver blocks its security fixes, and a kernel upgrade would
# then come without a matching module). But an unattended upgrade of it replaces the user-space
# libraries under running notebooks, which then fail with "driver/library version mismatch" until a
# reboot: warn when unattended-upgrades is on and would touch installed, unheld driver packages.
warn_unattended_driver_upgrades() {
  local settings installed held pkg exposed=()
  command -v unattended-upgrade >/dev/null 2>&1 || return 0
  settings=$(apt-config dump 2>/dev/null || true)
  grep -Eq '^APT::Periodic::Unattended-Upgrade "[1-9]' <<<"$settings" || return 0
  if grep -Eq '^Unattended-Upgrade::Package-Blacklist:: "[^"]*nvidia' <<<"$settings"; then
    return 0
  fi
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'nvidia-driver-*' 'libnvidia-compute-*' 'nvidia-kernel-*' 2>/dev/null || true)
  held=$(apt-mark showhold 2>/dev/null || true)
  while read -r status pkg; do
    [[ $status == ii && -n $pkg ]] || continue
    grep -qxF -- "$pkg" <<<"$held" || exposed+=("$pkg")
  done <<<"$installed"
  ((${#exposed[@]} == 0)) && return 0
  log "WARNING: unattended-upgrades may upgrade the NVIDIA driver (${exposed[*]}) under running notebooks; exclude it (Unattended-Upgrade::Package-Blacklist { \"nvidia-\"; \"libnvidia-\"; }; in /etc/apt/apt.conf.d/) and upgrade drivers in a drained maintenance window with a reboot"
}

# The drop-in is missing before the first configure: cat's failure must not fail the pipe (pipefail).
config_digest() {
  {
    cat "$runtime_config"
    if [[ -f $drop_in ]]; then cat "$drop_in"; fi
  } | sha256sum
}

# Before containerd 2.1, nvidia-ctk's drop-in carries a copy of the whole CRI plugin section, so later
# changes to the main config (pause image, registry mirrors) would silently stop applying on GPU nodes.
check_containerd_version() {
  local version major minor
  version=$(containerd --version 2>/dev/null | awk '{print $3}')
  version=${version#v}
  IFS=. read -r major minor _ <<<"$version"
  if [[ ! "$major" =~ ^[0-9]+$ || ! "$minor" =~ ^[0-9]+$ ]] || ((major < 2 || (major == 2 && minor < 1))); then
    die "containerd ${version:-unknown} is older than 2.1: nvidia-ctk's drop-in would copy and freeze the whole CRI section; node preparation installs containerd.io 2.x (run the prepare step first)"
  fi
}

configure_containerd() {
  local before after
  [[ -f $runtime_config ]] || die "${CONTAINERD_CONFIG} is missing: prepare the node (containerd) before the GPU step"
  check_containerd_version
  check_drop_in_support
  before=$(config_digest)
  # Writes only the drop-in (and an `imports` line in the main config when it lacks one).
  nvidia-ctk runtime configure --runtime=containerd --config="$runtime_config" \
    --drop-in-config="$drop_in" --set-as-default >/dev/null
  after=$(config_digest)
  if [[ $before == "$after" ]]; then
    log "containerd already uses the NVIDIA runtime by default"
    return 0
  fi
  if [[ $joined == true ]]; then
    die "the NVIDIA runtime configuration of containerd changed on a joined GPU node: drain it, run 'systemctl restart containerd' (no daemon-reload), uncordon, then run again"
  fi
  log "restarting containerd (node not joined yet, nothing runs on it)"
  systemctl restart containerd
  wait_for 120 "containerd to come back" systemctl is-active --quiet containerd
}

check_driver
warn_unattended_driver_upgrades
if [[ $CONFIGURE_TOOLKIT == true ]]; then
  install_toolkit
  configure_containerd
else
  log "the GPU Operator's toolkit configures containerd; host toolkit step skipped"
fi
