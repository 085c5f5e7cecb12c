#!/usr/bin/env bash
# shellcheck shell=bash
# Join material for every node that joins in this `pulumi up`, minted once on the first control
# plane after all of them are prepared: one bootstrap token whose lifetime covers all the joins
# (TOKEN_TTL_SECONDS), the CA public key hash, and, only when control planes join, the certificate
# key of freshly uploaded control-plane certificates (kubeadm deletes those after 2 h). kubeadm
# generates the token and the key and prints them, so neither is ever on a command line.
# The program hands workers the token and hash only; the certificate key goes to control planes.
# Output (secret), one line: "TOKEN CA_HASH CERT_KEY TOKEN_EXPIRES CERTS_EXPIRES" where the
# expiries are Unix times (each join refuses material past them) and CERT_KEY/CERTS_EXPIRES are
# "-" without control-plane joins.
# Parameters: TOKEN_TTL_SECONDS CERTS_TTL_SECONDS CONTROL_PLANE_JOINS

export KUBECONFIG="${KUBE_DIR}/admin.conf"
wait_for 300 "the API server" kubectl get --raw=/readyz
minted=$(date -u +%s)
token=$(timeout 60 kubeadm token create --ttl "${TOKEN_TTL_SECONDS}s" --description "joins of one pulumi up (jupyterhub-platform)")
[[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm token create printed no token"
ca_hash=$(openssl x509 -pubkey -noout -in "${KUBE_DIR}/pki/ca.crt" |
  openssl pkey -pubin -outform der | sha256sum | awk '{print $1}')
[[ "$ca_hash" =~ ^[a-f0-9]{64}$ ]] || die "could not hash the cluster CA's public key"
cert_key=- certs_expire=-
if [[ "$CONTROL_PLANE_JOINS" == true ]]; then
  cert_key=$(timeout 120 kubeadm init phase upload-certs --upload-certs | grep -xE '[a-f0-9]{64}' | tail -n 1 || true)
  [[ -n "$cert_key" ]] || die "kubeadm upload-certs printed no certificate key"
  certs_expire=$((minted + CERTS_TTL_SECONDS))
fi
log "minted join material valid for ${TOKEN_TTL_SECONDS}s"
printf '%s sha256:%s %s %s %s\n' "$token" "$ca_hash" "$cert_key" "$((minted + TOKEN_TTL_SECONDS))" "$certs_expire"
