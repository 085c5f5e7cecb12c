#!/usr/bin/env bash
# shellcheck shell=bash
# Runs on the first control plane after a node joined: apply the node's labels from config
# (kubelets may not set node-role labels themselves) and wait until the Node object exists.
# Parameters: NODE_NAME NODE_LABELS (space-separated key=value)

export KUBECONFIG="${KUBE_DIR}/admin.conf"
wait_for 300 "Node ${NODE_NAME} to register" kubectl get node "$NODE_NAME"
if [[ -n "$NODE_LABELS" ]]; then
  read -r -a labels <<<"$NODE_LABELS"
  kubectl label node "$NODE_NAME" --overwrite "${labels[@]}" >/dev/null
fi
log "Node ${NODE_NAME} registered with labels: ${NODE_LABELS:-none}"
