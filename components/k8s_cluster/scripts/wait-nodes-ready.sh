#!/usr/bin/env bash
# shellcheck shell=bash
# After the CNI is installed: wait (bounded) until every expected node reports Ready, so the
# charts that follow are not installed into a cluster with nowhere to run.
# Parameters: EXPECTED_NODES (space-separated) READY_TIMEOUT

export KUBECONFIG="${KUBE_DIR}/admin.conf"
read -r -a nodes <<<"$EXPECTED_NODES"
for node in "${nodes[@]}"; do
  wait_for "$READY_TIMEOUT" "Node ${node} to exist" kubectl get node "$node"
done
timeout "$((READY_TIMEOUT + 30))" kubectl wait --for=condition=Ready "${nodes[@]/#/node/}" --timeout="${READY_TIMEOUT}s" >&2
log "all ${#nodes[@]} nodes are Ready"
