#!/usr/bin/env bash
# shellcheck shell=bash
# Helpers for steps that restart a control plane's static pods (certificate renewal, a new
# encryption configuration). Inlined after lib.sh. Needs KUBE_DIR and API_PORT.

# Manifests parked by a run that was interrupted go back first, so a rerun never leaves a
# control plane without its static pods.
restore_parked_manifests() {
  local dir file
  for dir in "${KUBE_DIR}"/manifests-parked.*; do
    [[ -d "$dir" ]] || continue
    for file in "$dir"/*.yaml; do
      [[ -f "$file" ]] && mv -f "$file" "${KUBE_DIR}/manifests/"
    done
    rmdir "$dir"
    log "restored static pod manifests parked in ${dir}"
  done
}

static_pods_stopped() {
  local name
  for name in "$@"; do
    [[ -z "$(crictl --timeout 10s ps --name "^${name}\$" -q 2>/dev/null)" ]] || return 1
  done
}

api_server_ready() {
  curl -ksf --max-time 5 "https://127.0.0.1:${API_PORT}/readyz" >/dev/null
}

# restart_static_pods NAME...: move the manifests out until the kubelet has stopped the pods,
# then back, and wait for the local API server. kubeadm documents this for renewed certificates.
restart_static_pods() {
  local parked name
  restore_parked_manifests
  parked=$(mktemp -d "${KUBE_DIR}/manifests-parked.XXXXXX")
  for name in "$@"; do
    mv "${KUBE_DIR}/manifests/${name}.yaml" "$parked/"
  done
  wait_for 120 "the kubelet to stop $*" static_pods_stopped "$@"
  restore_parked_manifests
  wait_for 300 "the local API server to be ready" api_server_ready
  log "restarted $*"
}
