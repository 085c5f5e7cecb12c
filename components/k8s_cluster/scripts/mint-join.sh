#!/usr/bin/env bash
# shellcheck shell=bash
# Fresh join material for one node, minted on the first control plane right before the join:
# a bootstrap token (1 h), the CA public key hash, and for control planes the certificate key
# of freshly uploaded control-plane certificates (they expire after 2 h).
# Output (secret): "TOKEN CA_HASH CERT_KEY" on one line; CERT_KEY is "-" for workers.
# Parameters: JOINING_NODE CONTROL_PLANE_JOIN

export KUBECONFIG=/etc/kubernetes/admin.conf
wait_for 300 "the API server" kubectl get --raw=/readyz
token=$(kubeadm token generate)
timeout 60 kubeadm token create "$token" --ttl 1h \
  --description "join ${JOINING_NODE} (jupyterhub-platform)" >/dev/null
ca_hash=$(openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt |
  openssl pkey -pubin -outform der | sha256sum | awk '{print $1}')
cert_key=-
if [[ "$CONTROL_PLANE_JOIN" == true ]]; then
  cert_key=$(kubeadm certs certificate-key)
  timeout 120 kubeadm init phase upload-certs --upload-certs --certificate-key "$cert_key" >/dev/null
fi
printf '%s sha256:%s %s\n' "$token" "$ca_hash" "$cert_key"
