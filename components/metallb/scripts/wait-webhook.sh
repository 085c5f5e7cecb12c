#!/usr/bin/env bash
# shellcheck shell=bash
# After the MetalLB release: wait (bounded) until its validating webhook accepts the platform's
# address pool and L2 advertisement. A server-side dry run goes through the admission webhooks, so
# success means the webhook is serving and the manifests are valid; nothing is created here.
# Idempotent: it only reads. Parameters: KUBE_DIR, WEBHOOK_TIMEOUT, METALLB_MANIFESTS (+ _PATH, _MODE).

export KUBECONFIG="${KUBE_DIR}/admin.conf"
[[ -s "$KUBECONFIG" ]] || die "${KUBECONFIG} is missing: run this on an initialised control plane"
install_file "$METALLB_MANIFESTS_PATH" "$METALLB_MANIFESTS_MODE" "$METALLB_MANIFESTS"

webhook_accepts() {
  timeout 20 kubectl apply --dry-run=server -f "$METALLB_MANIFESTS_PATH" >/dev/null 2>&1
}
wait_for "$WEBHOOK_TIMEOUT" "the MetalLB webhook to accept the address pool" webhook_accepts
log "the MetalLB webhook accepts the address pool and L2 advertisement"
