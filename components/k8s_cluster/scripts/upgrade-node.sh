#!/usr/bin/env bash
# shellcheck shell=bash
# Upgrade one node to TARGET_VERSION, or do nothing when it already runs it. Order on the node:
# the new minor's package repository, kubeadm, cordon (hub announcement and grace time when
# notebooks run here), drain (PodDisruptionBudgets respected, bounded), `kubeadm upgrade apply`
# (first control plane, after `kubeadm upgrade plan`) or `kubeadm upgrade node`, kubelet and
# kubectl, kubelet restart, uncordon, wait for Ready. Refuses a downgrade or a skipped minor.
# Resumable: every phase checks the state it leaves behind, so a rerun continues where it stopped.
# Parameters: NODE_NAME NODE_ROLE (first-control-plane|control-plane|worker) TARGET_VERSION
#   TARGET_MINOR PACKAGE_REPOSITORY MIN_CONTAINERD DRAIN_TIMEOUT GRACE_SECONDS READY_TIMEOUT
#   HUB_NAMESPACES ANNOUNCEMENT STATE_DIR APT_KEYRING APT_SOURCES
# stdin (workers): a kubeconfig of the upgrader ServiceAccount; control planes use admin.conf.

# version_key 1.36.2 -> 001036002: versions compare as plain numbers.
version_key() {
  local major minor patch
  IFS=. read -r major minor patch <<<"$1"
  printf '%03d%03d%03d' "$((10#${major:-0}))" "$((10#${minor:-0}))" "$((10#${patch:-0}))"
}

installed_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed -E 's/-.*$//' || true
}

# package_for NAME: the Debian version string of NAME at TARGET_VERSION in the configured repository.
package_for() {
  local found
  found=$(apt-cache madison "$1" | awk -v v="${TARGET_VERSION}-" 'index($3, v) == 1 {print $3; exit}')
  [[ -n "$found" ]] || die "no $1 ${TARGET_VERSION} package in ${PACKAGE_REPOSITORY}; check cluster.kubernetes_version"
  printf '%s' "$found"
}

install_held() {
  local args=() pkg
  for pkg in "$@"; do
    args+=("${pkg}=$(package_for "$pkg")")
  done
  apt-mark unhold "$@" >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get -o DPkg::Lock::Timeout=300 install -y -q \
    --allow-change-held-packages "${args[@]}"
  apt-mark hold "$@" >/dev/null
}

kube() {
  kubectl --request-timeout=30s "$@"
}

node_ready_at_target() {
  local status
  status=$(kube get node "$NODE_NAME" \
    -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}')
  [[ "$status" == "v${TARGET_VERSION} True" ]]
}

running_notebooks() {
  kube get pods --all-namespaces --field-selector "spec.nodeName=${NODE_NAME}" \
    -l component=singleuser-server -o name | wc -l
}

announce() {
  local ns
  for ns in $HUB_NAMESPACES; do
    kube create configmap platform-announcement -n "$ns" --from-literal=announcement="$ANNOUNCEMENT" \
      --dry-run=client -o yaml | kube apply -f - >/dev/null || log "could not announce in namespace ${ns}"
  done
}

withdraw_announcement() {
  local ns
  # Other nodes may still be on their way: the announcement stays while any node is cordoned.
  if kube get nodes -o jsonpath='{.items[*].spec.unschedulable}' | grep -q true; then
    return 0
  fi
  for ns in $HUB_NAMESPACES; do
    kube delete configmap platform-announcement -n "$ns" --ignore-not-found >/dev/null || true
  done
}

mkdir -p "$STATE_DIR"
chmod 0700 "$STATE_DIR"
phase_file="${STATE_DIR}/${TARGET_VERSION}.phase"
reached() { grep -qxF "$1" "$phase_file" 2>/dev/null; }
record() { printf '%s\n' "$1" >>"$phase_file"; }

current=$(installed_version kubelet)
[[ -n "$current" ]] || die "kubelet is not installed on ${NODE_NAME}: the node was never prepared"
if [[ "$current" == "$TARGET_VERSION" ]] && { [[ ! -f "$phase_file" ]] || reached finished; }; then
  log "${NODE_NAME} already runs Kubernetes ${TARGET_VERSION}"
  exit 0
fi

current_minor=${current%.*}
IFS=. read -r cur_major cur_minor_number _ <<<"$current"
IFS=. read -r tgt_major tgt_minor_number _ <<<"$TARGET_VERSION"
if [[ "$(version_key "$TARGET_VERSION")" < "$(version_key "$current")" ]]; then
  die "refusing to downgrade ${NODE_NAME} from ${current} to ${TARGET_VERSION}: kubeadm cannot downgrade. Set cluster.kubernetes_version back to ${current} (or a newer ${current_minor} patch); going back needs a restore of the etcd snapshot taken before the upgrade"
fi
if ((10#$tgt_major != 10#$cur_major)) || ((10#$tgt_minor_number > 10#$cur_minor_number + 1)); then
  die "refusing to skip from ${current} to ${TARGET_VERSION}: kubeadm upgrades one minor at a time. Set cluster.kubernetes_version to ${cur_major}.$((10#$cur_minor_number + 1)).x (its newest patch), run pulumi up, then raise it to ${TARGET_VERSION}"
fi

containerd_version=$(containerd --version | awk '{print $3}' | sed -E 's/^v//; s/[-+].*$//')
if [[ "$(version_key "$containerd_version")" < "$(version_key "$MIN_CONTAINERD")" ]]; then
  die "containerd ${containerd_version} on ${NODE_NAME} is too old for Kubernetes ${TARGET_MINOR} (needs ${MIN_CONTAINERD} or newer): upgrade containerd on every node first, then run pulumi up again"
fi

if [[ "$NODE_ROLE" == worker ]]; then
  KUBECONFIG=$(mktemp)
  trap 'rm -f "$KUBECONFIG"' EXIT
  read_secret_stdin >"$KUBECONFIG"
else
  KUBECONFIG="${KUBE_DIR}/admin.conf"
fi
export KUBECONFIG
log "upgrading ${NODE_NAME} (${NODE_ROLE}) from ${current} to ${TARGET_VERSION}"
record started

# 1. The package repository of the target minor (one repository per minor on pkgs.k8s.io).
repo_line="deb [signed-by=${APT_KEYRING}] ${PACKAGE_REPOSITORY} /"
if ! grep -qxF "$repo_line" "$APT_SOURCES" 2>/dev/null; then
  mkdir -p "$(dirname "$APT_KEYRING")"
  curl -fsSL --max-time 60 --retry 5 "${PACKAGE_REPOSITORY}Release.key" | gpg --batch --yes --dearmor -o "$APT_KEYRING"
  printf '%s\n' "$repo_line" >"$APT_SOURCES"
fi
timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -q

# 2. kubeadm first: it drives the control-plane upgrade and checks what it can upgrade to.
if [[ "$(installed_version kubeadm)" != "$TARGET_VERSION" ]]; then
  install_held kubeadm
fi

# 3. Cordon, give users with notebooks here the announcement and the grace time, then drain.
if ! reached drained; then
  kube cordon "$NODE_NAME" >/dev/null
  if (($(running_notebooks) > 0)) && ((GRACE_SECONDS > 0)); then
    announce
    deadline=$((SECONDS + GRACE_SECONDS))
    while (($(running_notebooks) > 0)) && ((SECONDS < deadline)); do
      sleep 10
    done
  fi
  if ! kube drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${DRAIN_TIMEOUT}s" >&2; then
    die "drain of ${NODE_NAME} did not finish within ${DRAIN_TIMEOUT}s (a PodDisruptionBudget may block it: kubectl get pdb -A); the node stays cordoned and the next pulumi up resumes here"
  fi
  record drained
fi

# 4. The control plane (or the node's kubelet configuration) to the new version.
if ! reached kubeadm-upgraded; then
  case "$NODE_ROLE" in
    first-control-plane)
      if ! grep -q "kube-apiserver:v${TARGET_VERSION}\$" "${KUBE_DIR}/manifests/kube-apiserver.yaml" 2>/dev/null; then
        timeout 600 kubeadm upgrade plan "v${TARGET_VERSION}" >&2
        timeout 1800 kubeadm upgrade apply -y "v${TARGET_VERSION}" >&2
      fi
      ;;
    *)
      cluster_version=$(kube get configmap kubeadm-config -n kube-system -o jsonpath='{.data.ClusterConfiguration}' |
        awk '$1 == "kubernetesVersion:" {print $2}')
      [[ "$cluster_version" == "v${TARGET_VERSION}" ]] ||
        die "the cluster runs ${cluster_version:-an unknown version}, not v${TARGET_VERSION}: the first control plane upgrades first (run pulumi up again once it has)"
      timeout 1800 kubeadm upgrade node >&2
      ;;
  esac
  record kubeadm-upgraded
fi

# 5. kubelet and kubectl, then the kubelet restart.
if [[ "$(installed_version kubelet)" != "$TARGET_VERSION" ]] || [[ "$(installed_version kubectl)" != "$TARGET_VERSION" ]]; then
  install_held kubelet kubectl
fi
systemctl daemon-reload
systemctl restart kubelet

# 6. Back into service once Ready at the new version.
wait_for "$READY_TIMEOUT" "${NODE_NAME} Ready at v${TARGET_VERSION}" node_ready_at_target
kube uncordon "$NODE_NAME" >/dev/null
withdraw_announcement
record finished
log "${NODE_NAME} runs Kubernetes ${TARGET_VERSION}"
