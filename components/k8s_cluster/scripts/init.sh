#!/usr/bin/env bash
# shellcheck shell=bash
# First control plane: `kubeadm init` from the rendered config, exactly once. kubeadm init is not
# idempotent and its only undo (reset) would destroy the cluster and its CA. A marker written
# after init succeeded is the guard; kubeadm writes kubelet.conf early, so a kubelet.conf without
# the marker means an interrupted init, which is finished by re-running the idempotent phases.
# Parameters: API_ENDPOINT JOIN_TIMEOUT INIT_MARKER JOIN_MARKER; files KUBEADM_CONFIG

export KUBECONFIG="${KUBE_DIR}/admin.conf"
install_file "$KUBEADM_CONFIG_PATH" "$KUBEADM_CONFIG_MODE" "$KUBEADM_CONFIG"

if [[ -f "$JOIN_MARKER" ]]; then
  die "this node joined the cluster as another control plane: the first control plane in the inventory must stay first"
elif [[ -f "$INIT_MARKER" ]]; then
  log "already initialised: not running kubeadm init"
elif [[ -f "${KUBE_DIR}/kubelet.conf" ]]; then
  log "kubeadm init was interrupted earlier: finishing its remaining phases"
  wait_for "$JOIN_TIMEOUT" "the local API server" kubectl get --raw=/readyz
  for phase in "upload-config all" "mark-control-plane" "bootstrap-token --skip-token-print" \
    "kubelet-finalize all" "addon all"; do
    read -r -a words <<<"$phase"
    timeout 300 kubeadm init phase "${words[@]}" --config "$KUBEADM_CONFIG_PATH" >&2
  done
  date -u +%FT%TZ >"$INIT_MARKER"
else
  log "kubeadm init (API endpoint ${API_ENDPOINT})"
  timeout "$JOIN_TIMEOUT" kubeadm init --config "$KUBEADM_CONFIG_PATH" --skip-token-print >&2
  date -u +%FT%TZ >"$INIT_MARKER"
fi
wait_for "$JOIN_TIMEOUT" "the API server at ${API_ENDPOINT}" kubectl get --raw=/readyz
log "control plane ready at ${API_ENDPOINT}"
