#!/usr/bin/env bash
# shellcheck shell=bash
# Delete path of a node's registration, on the first control plane: drain it (bounded) and
# delete the Node object. Runs before the node itself is reset.
# Parameters: NODE_NAME DRAIN_TIMEOUT

export KUBECONFIG="${KUBE_DIR}/admin.conf"
# Any error other than "not found" (API down, no credentials) must stop the removal here.
found=$(kubectl get node "$NODE_NAME" --ignore-not-found -o name --request-timeout=30s)
if [[ -z "$found" ]]; then
  log "Node ${NODE_NAME} is already gone"
  exit 0
fi
kubectl cordon "$NODE_NAME" --request-timeout=30s >/dev/null
# A pod that cannot be evicted in time must not block removing a dead node forever.
if ! kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
  --timeout="${DRAIN_TIMEOUT}s" >&2; then
  log "drain of ${NODE_NAME} did not finish within ${DRAIN_TIMEOUT}s; deleting the Node anyway"
fi
kubectl delete node "$NODE_NAME" --timeout=120s >/dev/null
log "Node ${NODE_NAME} drained and deleted"
