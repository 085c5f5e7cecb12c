#!/usr/bin/env bash
# shellcheck shell=bash
# First control plane: `kubeadm init` from the rendered config, exactly once. kubeadm init is not
# idempotent and its only undo (reset) would destroy the cluster and its CA, so the guard is the
# kubelet's kubeconfig that init leaves behind.
# Parameters: API_ENDPOINT JOIN_TIMEOUT; files KUBEADM_CONFIG

if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  log "already initialised or joined: not running kubeadm init"
else
  install_file "$KUBEADM_CONFIG_PATH" "$KUBEADM_CONFIG_MODE" "$KUBEADM_CONFIG"
  log "kubeadm init (API endpoint ${API_ENDPOINT})"
  timeout "$JOIN_TIMEOUT" kubeadm init --config "$KUBEADM_CONFIG_PATH" --skip-token-print
fi
export KUBECONFIG=/etc/kubernetes/admin.conf
wait_for "$JOIN_TIMEOUT" "the API server at ${API_ENDPOINT}" kubectl get --raw=/readyz
log "control plane ready at ${API_ENDPOINT}"
