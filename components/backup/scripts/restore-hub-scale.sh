#!/usr/bin/env bash
# shellcheck shell=bash
# Scale a hub's Deployment (run on a control plane with kubeadm's admin kubeconfig) and wait until it
# has that many ready pods: 0 before its database is put back, 1 afterwards. Safe to run again.
# Parameters: NAMESPACE, REPLICAS, KUBECONFIG_PATH, WAIT_SECONDS.

hub_pods() {
  kubectl --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get pods -l component=hub -o name
}

no_hub_pod() {
  [[ -z "$(hub_pods)" ]]
}

timeout 60 kubectl --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" scale deployment/hub --replicas "$REPLICAS"
if ((REPLICAS == 0)); then
  wait_for "$WAIT_SECONDS" "the hub pod in ${NAMESPACE} to stop" no_hub_pod
else
  timeout "$WAIT_SECONDS" kubectl --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" rollout status deployment/hub \
    --timeout "${WAIT_SECONDS}s"
fi
log "hub in ${NAMESPACE} at ${REPLICAS} replica(s)"
