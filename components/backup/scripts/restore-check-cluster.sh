#!/usr/bin/env bash
# shellcheck shell=bash
# After an etcd restore: every member is listed and healthy, and the API server answers with the nodes.
# Parameters: ETCDCTL, ETCD_ARGS (endpoint and kubeadm's healthcheck client certificate), KUBECONFIG_PATH,
# WAIT_SECONDS.

etcd_healthy() {
  timeout 20 "$ETCDCTL" "${client_args[@]}" endpoint health --cluster >/dev/null 2>&1
}

api_answers() {
  timeout 20 kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null
}

read -r -a client_args <<<"$ETCD_ARGS"
wait_for "$WAIT_SECONDS" "every etcd member to be healthy" etcd_healthy
timeout 60 "$ETCDCTL" "${client_args[@]}" member list -w table
wait_for "$WAIT_SECONDS" "the API server" api_answers
timeout 60 kubectl --kubeconfig "$KUBECONFIG_PATH" get nodes -o wide
log "etcd members healthy and the API server answers"
