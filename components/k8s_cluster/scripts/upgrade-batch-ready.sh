#!/usr/bin/env bash
# shellcheck shell=bash
# On the first control plane, between two batches of a rolling upgrade: wait until every node of
# the batch that just finished is Ready at the target version (each node's own step already
# waited; this is the gate the next batch starts from). Bounded; read-only.
# Parameters: BATCH_NODES TARGET_VERSION READY_TIMEOUT

export KUBECONFIG="${KUBE_DIR}/admin.conf"

batch_ready() {
  local node status
  for node in $BATCH_NODES; do
    status=$(kubectl --request-timeout=15s get node "$node" \
      -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status} {.spec.unschedulable}')
    [[ "$status" == "v${TARGET_VERSION} True " ]] || return 1
  done
}

wait_for "$READY_TIMEOUT" "the batch (${BATCH_NODES}) to be Ready and schedulable at v${TARGET_VERSION}" batch_ready
log "batch ready: ${BATCH_NODES}"
