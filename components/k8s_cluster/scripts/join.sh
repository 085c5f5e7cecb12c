#!/usr/bin/env bash
# shellcheck shell=bash
# Join this node (worker or control plane) with join material read from stdin, once.
# The JoinConfiguration template (kept on the host, no secrets in it) has @TOKEN@, @CA_HASH@ and
# @CERT_KEY@ slots filled here, so the secrets only exist in a root-only file removed afterwards.
# Parameters: NODE_NAME JOIN_TIMEOUT; files JOIN_CONFIG (template); stdin: TOKEN CA_HASH CERT_KEY

material=$(read_secret_stdin)
install_file "$JOIN_CONFIG_PATH" "$JOIN_CONFIG_MODE" "$JOIN_CONFIG"
if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  log "${NODE_NAME} is already part of the cluster: not joining again"
  exit 0
fi
read -r token ca_hash cert_key <<<"$material"
[[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "join material on stdin has no valid bootstrap token"
[[ "$ca_hash" =~ ^sha256:[a-f0-9]{64}$ ]] || die "join material on stdin has no valid CA hash"

umask 077
config_file=$(mktemp /etc/kubernetes/join-XXXXXX.yaml 2>/dev/null || mktemp /root/join-XXXXXX.yaml)
trap 'rm -f "$config_file"' EXIT
rendered=${JOIN_CONFIG//@TOKEN@/$token}
rendered=${rendered//@CA_HASH@/$ca_hash}
rendered=${rendered//@CERT_KEY@/$cert_key}
printf '%s\n' "$rendered" >"$config_file"
log "joining ${NODE_NAME}"
timeout "$JOIN_TIMEOUT" kubeadm join --config "$config_file"
wait_for 300 "the kubelet to run" systemctl is-active --quiet kubelet
log "${NODE_NAME} joined"
