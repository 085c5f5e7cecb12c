#!/usr/bin/env bash
# shellcheck shell=bash
# First control plane: `kubeadm init` from the rendered config, exactly once. kubeadm init is not
# idempotent and its only undo (reset) would destroy the cluster and its CA. A marker written
# after init succeeded is the guard. kubeadm writes kubelet.conf in its `kubeconfig` phase, before
# etcd, the control-plane manifests and the kubelet start: a kubelet.conf without the marker means an
# interrupted init, which is finished by running every phase again with the same config (each one
# keeps what is already there: certificates, kubeconfigs) and then the phases after the API is up.
# Parameters: API_ENDPOINT JOIN_TIMEOUT INIT_MARKER JOIN_MARKER NODE_NAME; files KUBEADM_CONFIG

k8s_dir="${HOST_ROOT}${KUBE_DIR}"
config="${HOST_ROOT}${KUBEADM_CONFIG_PATH}"
export KUBECONFIG="${k8s_dir}/admin.conf"
install_file "$config" "$KUBEADM_CONFIG_MODE" "$KUBEADM_CONFIG"

# Before the marker no other node has joined and nothing is deployed: starting over loses nothing.
RESET_HINT="before the marker ${INIT_MARKER} exists no other node has joined and nothing was deployed, so 'kubeadm reset -f' on ${NODE_NAME} is safe; see 'journalctl -u kubelet' and 'crictl ps -a' for why, fix it, reset, then run pulumi up again"

# api_ready_or_die: wait (bounded) for the local API server; on timeout say how to start over.
api_ready_or_die() {
  local deadline=$((SECONDS + JOIN_TIMEOUT))
  until timeout 20 kubectl get --raw=/readyz >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "the API server did not become ready within ${JOIN_TIMEOUT}s after kubeadm init's phases ran; ${RESET_HINT}"
    fi
    sleep 2
  done
}

# phase PHASE [ARGS...]: one kubeadm init phase with the rendered config, bounded.
phase() {
  timeout 300 kubeadm init phase "$@" --config "$config" >&2 ||
    die "kubeadm init phase $1 failed; if it keeps failing, ${RESET_HINT}"
}

if [[ -f "${HOST_ROOT}${JOIN_MARKER}" ]]; then
  die "this node joined the cluster as another control plane: the first control plane in the inventory must stay first"
elif [[ -f "${HOST_ROOT}${INIT_MARKER}" ]]; then
  log "already initialised: not running kubeadm init"
elif [[ -f "${k8s_dir}/kubelet.conf" ]]; then
  log "kubeadm init was interrupted earlier: running its phases again with the same config"
  # Up to the API: certificates and kubeconfigs are reused, manifests rewritten, kubelet (re)started.
  phase certs all
  phase kubeconfig all
  phase etcd local
  phase control-plane all
  phase kubelet-start
  api_ready_or_die
  # After the API: each of these applies objects idempotently.
  phase upload-config all
  phase mark-control-plane
  phase bootstrap-token --skip-token-print
  phase kubelet-finalize all
  phase addon all
  date -u +%FT%TZ >"${HOST_ROOT}${INIT_MARKER}"
else
  log "kubeadm init (API endpoint ${API_ENDPOINT})"
  timeout "$JOIN_TIMEOUT" kubeadm init --config "$config" --skip-token-print >&2 ||
    die "kubeadm init failed or timed out; run pulumi up again to finish its remaining phases. If the API server never comes up, ${RESET_HINT}"
  date -u +%FT%TZ >"${HOST_ROOT}${INIT_MARKER}"
fi
wait_for "$JOIN_TIMEOUT" "the API server at ${API_ENDPOINT}" kubectl get --raw=/readyz
log "control plane ready at ${API_ENDPOINT}"
