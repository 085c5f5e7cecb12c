#!/usr/bin/env bash
# shellcheck shell=bash
# Stop or start this control plane's API server and etcd (kubelet runs them from static pod manifests:
# moving a manifest out of MANIFEST_DIR stops the pod, moving it back starts it). Safe to run again:
# a manifest already where it should be is left alone.
# Parameters: ACTION (stop|start), MANIFEST_DIR, STOPPED_DIR, PODS (manifest names without .yaml),
# WAIT_SECONDS, HEALTH_CHECK (start: a command that succeeds once etcd answers; empty: none).

# containers_gone: no container of PODS runs (without crictl, e.g. in tests, there is nothing to wait for).
containers_gone() {
  command -v crictl >/dev/null 2>&1 || return 0
  local pod
  for pod in "${pod_names[@]}"; do
    [[ -z "$(timeout 20 crictl ps -q --name "^${pod}$" 2>/dev/null)" ]] || return 1
  done
}

read -r -a pod_names <<<"$PODS"
mkdir -p "$STOPPED_DIR"
for pod in "${pod_names[@]}"; do
  if [[ "$ACTION" == stop && -f "${MANIFEST_DIR}/${pod}.yaml" ]]; then
    mv "${MANIFEST_DIR}/${pod}.yaml" "${STOPPED_DIR}/${pod}.yaml"
  elif [[ "$ACTION" == start && -f "${STOPPED_DIR}/${pod}.yaml" ]]; then
    mv "${STOPPED_DIR}/${pod}.yaml" "${MANIFEST_DIR}/${pod}.yaml"
  fi
done
if [[ "$ACTION" == stop ]]; then
  wait_for "$WAIT_SECONDS" "${PODS} to stop" containers_gone
  log "stopped: ${PODS}"
elif [[ -n "$HEALTH_CHECK" ]]; then
  wait_for "$WAIT_SECONDS" "etcd to answer" bash -c "$HEALTH_CHECK"
  log "started and healthy: ${PODS}"
fi
