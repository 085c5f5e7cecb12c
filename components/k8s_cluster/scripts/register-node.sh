#!/usr/bin/env bash
# shellcheck shell=bash
# Runs on the node itself right after its join: wait (bounded) until its Node object exists, asking
# the API server with the node's own kubelet credentials (the node authorizer lets a kubelet read
# its own Node). The program then applies the node's labels through the Kubernetes API, which
# needs the object to exist; nothing of this runs on the first control plane.
# Parameters: NODE_NAME REGISTER_TIMEOUT

kubelet_conf="${HOST_ROOT}${KUBE_DIR}/kubelet.conf"
[[ -f "$kubelet_conf" ]] || die "${kubelet_conf} is missing: ${NODE_NAME} has not joined"
wait_for "$REGISTER_TIMEOUT" "Node ${NODE_NAME} to register" \
  kubectl --kubeconfig "$kubelet_conf" get node "$NODE_NAME" --request-timeout=15s
log "Node ${NODE_NAME} is registered"
