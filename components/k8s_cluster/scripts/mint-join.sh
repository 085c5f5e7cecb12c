#!/usr/bin/env bash
# shellcheck shell=bash
# Fresh join material for one node, minted on the first control plane right before the join:
# a bootstrap token (1 h), the CA public key hash, and for control planes the certificate key
# of freshly uploaded control-plane certificates (they expire after 2 h). kubeadm generates the
# token and the key itself and prints them, so neither is ever on a command line.
# Output (secret): "TOKEN CA_HASH CERT_KEY" on one line; CERT_KEY is "-" for workers.
# Parameters: JOINING_NODE CONTROL_PLANE_JOIN

export KUBECONFIG="${KUBE_DIR}/admin.conf"
wait_for 300 "the API server" kubectl get --raw=/readyz
token=$(timeout 60 kubeadm token create --ttl 1h --description "join ${JOINING_NODE} (jupyterhub-platform)")
[[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm token create printed no token"
ca_hash=$(openssl x509 -pubkey -noout -in "${KUBE_DIR}/pki/ca.crt" |
  openssl pkey -pubin -outform der | sha256sum | awk '{print $1}')
cert_key=-
if [[ "$CONTROL_PLANE_JOIN" == true ]]; then
  cert_key=$(timeout 120 kubeadm init phase upload-certs --upload-certs | grep -xE '[a-f0-9]{64}' | tail -n 1 || true)
  [[ -n "$cert_key" ]] || die "kubeadm upload-certs printed no certificate key"
fi
printf '%s sha256:%s %s\n' "$token" "$ca_hash" "$cert_key"
