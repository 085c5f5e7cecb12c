#!/usr/bin/env bash
# shellcheck shell=bash
# On the first control plane: the upgrader ServiceAccount (drain, uncordon, announcements; no
# access to Secrets) and a kubeconfig with a token of it, printed on stdout for the workers'
# upgrade steps, which receive it on stdin. Workers never see the admin credentials.
# Parameters: TOKEN_DURATION; files RBAC

export KUBECONFIG="${KUBE_DIR}/admin.conf"
install_file "$RBAC_PATH" "$RBAC_MODE" "$RBAC"
kubectl --request-timeout=30s apply -f "$RBAC_PATH" >&2
token=$(kubectl --request-timeout=30s create token jupyterhub-platform-upgrader -n kube-system --duration="$TOKEN_DURATION")
[[ -n "$token" ]] || die "the API server issued no token for the upgrader ServiceAccount"
server=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
ca_data=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: cluster\n  cluster:\n    server: %s\n    certificate-authority-data: %s\nusers:\n- name: upgrader\n  user:\n    token: %s\ncontexts:\n- name: upgrader\n  context: {cluster: cluster, user: upgrader}\ncurrent-context: upgrader\n' \
  "$server" "$ca_data" "$token"
