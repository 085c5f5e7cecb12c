#!/usr/bin/env bash
# shellcheck shell=bash
# Node preparation: kernel settings, swap off for good, containerd 2 (Docker's containerd.io,
# pinned) with the systemd cgroup driver and kubeadm's pause image, crictl's config, and
# kubeadm/kubelet/kubectl pinned to one version and held. Safe to run again.
# Parameters: NODE_NAME MANAGE_HOSTNAMES KUBERNETES_VERSION KUBERNETES_MINOR CONTAINERD_VERSION
# NVIDIA_DROP_IN; files MODULES SYSCTL CRICTL

# shellcheck source=/dev/null
. "${HOST_ROOT}/etc/os-release"
joined=false
if [[ -f "${HOST_ROOT}${KUBE_DIR}/kubelet.conf" ]]; then
  joined=true
fi

if [[ "$MANAGE_HOSTNAMES" == true ]] && [[ "$(hostname)" != "$NODE_NAME" ]]; then
  log "setting hostname to ${NODE_NAME}"
  hostnamectl set-hostname "$NODE_NAME"
  grep -qE "^127\.0\.1\.1[[:space:]]+${NODE_NAME}\$" "${HOST_ROOT}/etc/hosts" ||
    printf '127.0.1.1 %s\n' "$NODE_NAME" >>"${HOST_ROOT}/etc/hosts"
fi
if [[ "$MANAGE_HOSTNAMES" == true ]] && [[ -d "${HOST_ROOT}/etc/cloud/cloud.cfg.d" ]]; then
  # cloud-init would otherwise restore the image's host name at the next boot.
  install_file "${HOST_ROOT}/etc/cloud/cloud.cfg.d/99-jupyterhub-platform-hostname.cfg" 0644 "preserve_hostname: true"
fi

install_file "${HOST_ROOT}${MODULES_PATH}" "$MODULES_MODE" "$MODULES"
while read -r module; do
  [[ -n "$module" ]] && modprobe "$module"
done <"${HOST_ROOT}${MODULES_PATH}"
install_file "${HOST_ROOT}${SYSCTL_PATH}" "$SYSCTL_MODE" "$SYSCTL"
sysctl --quiet --load "${HOST_ROOT}${SYSCTL_PATH}"

# swap_units: every unit that turns swap on at boot: swap units (fstab entries, zram devices) and the
# services that set swap up (zram-tools' zramswap, zram-config, dphys-swapfile, systemd's zram
# generator, a local unit that runs swapon). Listed BEFORE swapoff: an inactive swap unit drops out
# of `list-units`, and a service is no swap unit at all, so a later listing misses both.
swap_units() {
  {
    systemctl list-units --type=swap --all --no-legend --plain 2>/dev/null | awk '{print $1}'
    systemctl list-unit-files --type=swap --no-legend 2>/dev/null | awk '{print $1}'
    systemctl list-unit-files --no-legend zramswap.service zram-config.service dphys-swapfile.service \
      2>/dev/null | awk '{print $1}'
    systemctl list-units --all --no-legend --plain 'systemd-zram-setup@*' 2>/dev/null | awk '{print $1}'
    grep -lE '^Exec[A-Za-z]*=.*swapon' "${HOST_ROOT}"/etc/systemd/system/*.service 2>/dev/null | xargs -r -n 1 basename
  } | grep -E '\.(swap|service)$' | sort -u || true
}

# kubelet refuses to start with swap on (failSwapOn): mask what turns it on, then turn it off.
while read -r unit; do
  [[ -n "$unit" ]] || continue
  [[ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" != masked ]] || continue
  log "masking ${unit}: it turns swap on at boot"
  timeout 120 systemctl mask --now "$unit" >/dev/null 2>&1 || die "could not mask ${unit}; mask it by hand (systemctl mask --now ${unit})"
done < <(swap_units)
swapoff -a
fstab="${HOST_ROOT}/etc/fstab"
if grep -qE '^[^#].*[[:space:]]swap[[:space:]]' "$fstab" 2>/dev/null; then
  sed -i.jhub-backup -E 's/^([^#].*[[:space:]]swap[[:space:]].*)$/# disabled for kubelet: \1/' "$fstab"
fi
still_on=$(swapon --noheadings --show=NAME || true)
[[ -z "$still_on" ]] || die "swap is still on (${still_on//$'\n'/ }) after swapoff -a: find what turns it on (systemctl list-units --all | grep -i -e swap -e zram) and mask it"

apt_install ca-certificates curl gpg apt-transport-https conntrack socat ethtool ebtables

# add_repository NAME KEY_URL LINE: a signed apt repository; sets REPOS_CHANGED=1 when it was added.
REPOS_CHANGED=0
add_repository() {
  local name=$1 key_url=$2 line=$3 keyring="${HOST_ROOT}/etc/apt/keyrings/$1-apt-keyring.gpg"
  local list="${HOST_ROOT}/etc/apt/sources.list.d/$1.list"
  if [[ -s "$keyring" ]] && grep -qxF "$line" "$list" 2>/dev/null; then
    return 0
  fi
  log "adding the ${name} apt repository"
  mkdir -p "${HOST_ROOT}/etc/apt/keyrings" "$(dirname "$list")"
  curl -fsSL --max-time 60 --retry 5 "$key_url" | gpg --batch --yes --dearmor -o "$keyring"
  printf '%s\n' "$line" >"$list"
  REPOS_CHANGED=1
}
# pin_packages VERSION_PREFIX PACKAGE...: install exactly the repository versions starting with the
# prefix in one apt-get run (unheld, installed, held again), so dependencies resolve to the same version.
pin_packages() {
  local prefix=$1 pkg installed package_version wanted=()
  shift
  for pkg in "$@"; do
    installed=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
    [[ "$installed" != "$prefix"* ]] || continue
    package_version=$(apt-cache madison "$pkg" | awk -v v="$prefix" 'index($3, v) == 1 {print $3; exit}')
    [[ -n "$package_version" ]] || die "no ${pkg} ${prefix}* package in the configured repositories (apt-cache madison ${pkg})"
    wanted+=("${pkg}=${package_version}")
  done
  if ((${#wanted[@]} > 0)); then
    apt-mark unhold "$@" >/dev/null 2>&1 || true
    apt_get_install --allow-downgrades "${wanted[@]}"
  fi
  apt-mark hold "$@" >/dev/null
}

arch=$(dpkg --print-architecture)
k8s_repo="https://pkgs.k8s.io/core:/stable:/v${KUBERNETES_MINOR}/deb/"
docker_repo="https://download.docker.com/linux/${ID}"
add_repository kubernetes "${k8s_repo}Release.key" \
  "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${k8s_repo} /"
add_repository docker "${docker_repo}/gpg" \
  "deb [arch=${arch} signed-by=/etc/apt/keyrings/docker-apt-keyring.gpg] ${docker_repo} ${VERSION_CODENAME} stable"
if ((REPOS_CHANGED)); then
  apt_update
fi

# containerd 2 from Docker's repository (distribution packages are 1.x on Debian 12, end of life).
containerd_now=$(dpkg-query -W -f='${Version}' containerd.io 2>/dev/null || true)
if [[ "$joined" == true ]] && [[ "$containerd_now" != "${CONTAINERD_VERSION}~"* ]]; then
  die "this node is in the cluster with containerd ${containerd_now:-from another package ($(containerd --version 2>/dev/null | awk '{print $3}'))}, expected containerd.io ${CONTAINERD_VERSION}: changing it restarts every pod's runtime; drain the node, install containerd.io ${CONTAINERD_VERSION} by hand (apt-get install containerd.io=${CONTAINERD_VERSION}~...), uncordon, then run again"
fi
pin_packages "${CONTAINERD_VERSION}~" containerd.io

installed=$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)
if [[ "$installed" != "${KUBERNETES_VERSION}-"* ]] && [[ "$joined" == true ]] && [[ -n "$installed" ]]; then
  # A joined node changes version only through its upgrade step (drain, kubeadm upgrade, uncordon).
  log "kubeadm ${installed} is installed; this node's upgrade step moves it to ${KUBERNETES_VERSION}"
else
  pin_packages "${KUBERNETES_VERSION}-" kubeadm kubelet kubectl
fi
systemctl enable kubelet >/dev/null

# containerd's config: the systemd cgroup driver, the CRI plugin enabled (some packages list it in
# disabled_plugins), and kubeadm's own pause image as the sandbox image (the packaged default is
# another version, which breaks registry mirrors and air-gapped sites). A config with the first two
# only gets those lines edited: other steps add to it (the NVIDIA runtime's `imports` on GPU nodes).
pause_image=$(timeout 60 kubeadm config images list --kubernetes-version "v${KUBERNETES_VERSION}" | grep -E '/pause:' | head -n 1 || true)
[[ -n "$pause_image" ]] || die "kubeadm config images list --kubernetes-version v${KUBERNETES_VERSION} named no pause image"
# cri_settings: the config on stdin with the systemd cgroup driver and the pause image set. containerd
# 2.2's default config no longer lists SystemdCgroup (containerd#12101): then it is added to the runc
# options table.
cri_settings() {
  local text
  text=$(sed -E -e 's/^([[:space:]]*)SystemdCgroup = false/\1SystemdCgroup = true/' \
    -e "s#^([[:space:]]*)(sandbox_image|sandbox) = .*\$#\\1\\2 = '${pause_image}'#")
  if ! grep -qE '^[[:space:]]*SystemdCgroup = ' <<<"$text"; then
    text=$(sed -E "/^[[:space:]]*\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.runc\.options\]\$/a SystemdCgroup = true" <<<"$text")
  fi
  printf '%s\n' "$text"
}
config="${HOST_ROOT}/etc/containerd/config.toml"
mkdir -p "$(dirname "$config")"
if [[ ! -s "$config" ]] || ! grep -qE '^[[:space:]]*SystemdCgroup = true' "$config" ||
  grep -qE '^[[:space:]]*disabled_plugins = \[.*"cri".*\]' "$config"; then
  desired=$(containerd config default | cri_settings)
  if [[ -s "$config" ]]; then
    cp -p "$config" "${config}.jhub-backup"
  fi
else
  desired=$(cri_settings <"$config")
fi
grep -qE '^[[:space:]]*SystemdCgroup = true' <<<"$desired" || die "containerd's config has no SystemdCgroup setting"
grep -qF "= '${pause_image}'" <<<"$desired" || die "containerd's config has no sandbox image setting for ${pause_image}"
install_file "$config" 0644 "$desired"
containerd_changed=$FILE_CHANGED
if ((containerd_changed)); then
  log "wrote ${config}: systemd cgroup driver, sandbox image ${pause_image}"
fi
# On GPU nodes nvidia-ctk keeps its runtime in a drop-in; before containerd 2.1 that drop-in carries a
# copy of the whole CRI section, which would keep the old settings: regenerate it from this config.
if ((containerd_changed)) && [[ -f "${HOST_ROOT}${NVIDIA_DROP_IN}" ]] && command -v nvidia-ctk >/dev/null 2>&1; then
  log "regenerating the NVIDIA runtime drop-in from the new containerd config"
  nvidia-ctk runtime configure --runtime=containerd --config="$config" \
    --drop-in-config="${HOST_ROOT}${NVIDIA_DROP_IN}" --set-as-default >/dev/null
fi
install_file "${HOST_ROOT}${CRICTL_PATH}" "$CRICTL_MODE" "$CRICTL"

if ((containerd_changed == 1)) || ! systemctl is-active --quiet containerd; then
  log "restarting containerd"
  systemctl enable containerd >/dev/null
  systemctl restart containerd
fi
wait_for 60 "containerd to answer" ctr version
log "node prepared: $(kubeadm version -o short), containerd $(containerd --version | awk '{print $3}'), sandbox ${pause_image}"
