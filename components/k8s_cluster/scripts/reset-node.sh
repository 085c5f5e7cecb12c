#!/usr/bin/env bash
# shellcheck shell=bash
# Delete path of a join: return the host to its pre-join state. Never used for the first
# control plane (its init has no delete path). For a stacked-etcd control plane, kubeadm reset
# also removes its etcd member.
# Parameters: NODE_NAME JOIN_MARKER

if [[ ! -e "${KUBE_DIR}/kubelet.conf" && ! -e "${KUBE_DIR}/bootstrap-kubelet.conf" && ! -e "$JOIN_MARKER" ]]; then
  log "${NODE_NAME} is not part of a cluster: nothing to reset"
  exit 0
fi
timeout 300 kubeadm reset --force >&2
rm -rf /etc/cni/net.d /var/lib/calico
rm -f "$JOIN_MARKER"
log "${NODE_NAME} reset"
