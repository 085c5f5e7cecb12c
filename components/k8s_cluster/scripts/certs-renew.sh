#!/usr/bin/env bash
# shellcheck shell=bash
# Renew every certificate kubeadm manages on this control plane (including admin.conf) for
# cluster.certificates.renew_generation, then restart the static pods so they load them.
# Once per generation: a marker in the PKI directory guards it.
# Parameters: NODE_NAME GENERATION API_PORT

restore_parked_manifests
marker="${KUBE_DIR}/pki/.jupyterhub-platform-renewed-${GENERATION}"
if [[ -f "$marker" ]]; then
  log "certificates of ${NODE_NAME} already renewed for generation ${GENERATION}"
  exit 0
fi
timeout 300 kubeadm certs renew all >&2
restart_static_pods kube-apiserver kube-controller-manager kube-scheduler etcd
: >"$marker"
log "certificates of ${NODE_NAME} renewed (generation ${GENERATION})"
