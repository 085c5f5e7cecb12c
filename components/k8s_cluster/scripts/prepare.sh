#!/usr/bin/env bash
# shellcheck shell=bash
# Node preparation: kernel settings, swap off for good, containerd with the systemd cgroup
# driver, and kubeadm/kubelet/kubectl pinned to one version and held. Safe to run again.
# Parameters: NODE_NAME MANAGE_HOSTNAMES KUBERNETES_VERSION KUBERNETES_MINOR; files MODULES SYSCTL

if [[ "$MANAGE_HOSTNAMES" == true ]] && [[ "$(hostname)" != "$NODE_NAME" ]]; then
  log "setting hostname to ${NODE_NAME}"
  hostnamectl set-hostname "$NODE_NAME"
  grep -qE "^127\.0\.1\.1[[:space:]]+${NODE_NAME}\$" /etc/hosts || printf '127.0.1.1 %s\n' "$NODE_NAME" >>/etc/hosts
fi
if [[ "$MANAGE_HOSTNAMES" == true ]] && [[ -d /etc/cloud/cloud.cfg.d ]]; then
  # cloud-init would otherwise restore the image's host name at the next boot.
  install_file /etc/cloud/cloud.cfg.d/99-jupyterhub-platform-hostname.cfg 0644 "preserve_hostname: true"
fi

install_file "$MODULES_PATH" "$MODULES_MODE" "$MODULES"
while read -r module; do
  [[ -n "$module" ]] && modprobe "$module"
done <"$MODULES_PATH"
install_file "$SYSCTL_PATH" "$SYSCTL_MODE" "$SYSCTL"
sysctl --quiet --load "$SYSCTL_PATH"

# kubelet refuses to start with swap on: turn it off now, at boot, and for systemd swap units.
swapoff -a
if grep -qE '^[^#].*[[:space:]]swap[[:space:]]' /etc/fstab; then
  sed -i.jhub-backup -E 's/^([^#].*[[:space:]]swap[[:space:]].*)$/# disabled for kubelet: \1/' /etc/fstab
fi
systemctl list-units --type=swap --all --no-legend --plain 2>/dev/null | awk '{print $1}' | while read -r unit; do
  if [[ -n "$unit" ]]; then
    systemctl mask --now "$unit" >/dev/null 2>&1 || log "could not mask swap unit ${unit}"
  fi
done

apt_install ca-certificates curl gpg apt-transport-https containerd conntrack socat ethtool ebtables

# containerd: the systemd cgroup driver, and the CRI plugin enabled (some distro packages list it
# in disabled_plugins). A config that already has both is left alone: other steps add to it (the
# NVIDIA runtime on GPU nodes), and restarting containerd under running pods is to be avoided.
# The key's section differs between containerd 1.x and 2.x; the generated default has it in both.
mkdir -p /etc/containerd
config=/etc/containerd/config.toml
containerd_changed=0
if [[ ! -s "$config" ]] || ! grep -qE '^[[:space:]]*SystemdCgroup = true' "$config" ||
  grep -qE '^[[:space:]]*disabled_plugins = \[.*"cri".*\]' "$config"; then
  desired=$(containerd config default | sed -E 's/^([[:space:]]*)SystemdCgroup = false/\1SystemdCgroup = true/')
  grep -q 'SystemdCgroup = true' <<<"$desired" || die "containerd's default config has no SystemdCgroup setting"
  if [[ -s "$config" ]]; then
    cp -p "$config" "${config}.jhub-backup"
  fi
  install_file "$config" 0644 "$desired"
  containerd_changed=$FILE_CHANGED
  log "wrote ${config} with the systemd cgroup driver"
fi
if ((containerd_changed == 1)) || ! systemctl is-active --quiet containerd; then
  log "restarting containerd"
  systemctl enable containerd >/dev/null
  systemctl restart containerd
fi
wait_for 60 "containerd to answer" ctr version

# Kubernetes packages from the per-minor repository, pinned and held.
keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
repo_line="deb [signed-by=${keyring}] https://pkgs.k8s.io/core:/stable:/v${KUBERNETES_MINOR}/deb/ /"
if [[ ! -s "$keyring" ]] || ! grep -qxF "$repo_line" /etc/apt/sources.list.d/kubernetes.list 2>/dev/null; then
  mkdir -p /etc/apt/keyrings
  curl -fsSL --max-time 60 --retry 5 "https://pkgs.k8s.io/core:/stable:/v${KUBERNETES_MINOR}/deb/Release.key" |
    gpg --batch --yes --dearmor -o "$keyring"
  printf '%s\n' "$repo_line" >/etc/apt/sources.list.d/kubernetes.list
  timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -q
fi

installed=$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)
if [[ "$installed" != "${KUBERNETES_VERSION}-"* ]] && [[ -f /etc/kubernetes/kubelet.conf ]] && [[ -n "$installed" ]]; then
  # A joined node changes version only through its upgrade step (drain, kubeadm upgrade, uncordon).
  log "kubeadm ${installed} is installed; this node's upgrade step moves it to ${KUBERNETES_VERSION}"
elif [[ "$installed" != "${KUBERNETES_VERSION}-"* ]]; then
  package_version=$(apt-cache madison kubeadm | awk -v v="${KUBERNETES_VERSION}-" 'index($3, v) == 1 {print $3; exit}')
  [[ -n "$package_version" ]] || die "no kubeadm ${KUBERNETES_VERSION} package in the v${KUBERNETES_MINOR} repository"
  apt-mark unhold kubeadm kubelet kubectl >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get -o DPkg::Lock::Timeout=300 install -y -q \
    --allow-downgrades "kubeadm=${package_version}" "kubelet=${package_version}" "kubectl=${package_version}"
fi
apt-mark hold kubeadm kubelet kubectl >/dev/null
systemctl enable kubelet >/dev/null
log "node prepared: $(kubeadm version -o short), containerd $(containerd --version | awk '{print $3}')"
