#!/usr/bin/env bash
# shellcheck shell=bash
# The EncryptionConfiguration of this control plane (root-only file), from the keys on stdin
# ("<name> <base64 key>" lines, newest first). Runs before kubeadm init/join, so the API server
# starts with it; on a running control plane it restarts the API server when the file changed,
# and turns encryption on when the API server was started without it.
# Dropping a key is refused until every Secret has been rewritten with the newest key.
# Parameters: NODE_NAME IS_FIRST PROVIDER KEY_NAMES API_PORT ENCRYPTION_CONFIG MANIFEST
#   MARKER_CONFIGMAP; files KUBEADM_CONFIG

restore_parked_manifests
material=$(read_secret_stdin)
primary=${KEY_NAMES%% *}

keys_yaml=""
for name in $KEY_NAMES; do
  secret=$(awk -v n="$name" '$1 == n {print $2}' <<<"$material")
  [[ -n "$secret" ]] || die "no key named ${name} on standard input"
  bytes=$(base64 -d 2>/dev/null <<<"$secret" | wc -c) || bytes=0
  ((bytes == 32)) || die "encryption key ${name} must be 32 random bytes in base64 (head -c 32 /dev/urandom | base64)"
  keys_yaml+="            - name: ${name}"$'\n'"              secret: ${secret}"$'\n'
done
desired="apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - ${PROVIDER}:
          keys:
${keys_yaml%$'\n'}
      - identity: {}"

# A key the live file has and the new list lacks may only go once Secrets use the newest key.
if [[ -f "$ENCRYPTION_CONFIG" ]] && [[ -f "${KUBE_DIR}/admin.conf" ]]; then
  while read -r live; do
    if [[ " ${KEY_NAMES} " != *" ${live} "* ]]; then
      rewritten=$(KUBECONFIG="${KUBE_DIR}/admin.conf" kubectl --request-timeout=30s get configmap "$MARKER_CONFIGMAP" \
        -n kube-system --ignore-not-found -o jsonpath='{.data.rewritten-with}')
      [[ "$rewritten" == "$primary" ]] ||
        die "refusing to drop encryption key ${live}: Secrets were not yet rewritten with ${primary}. Keep ${live} in cluster.encryption_at_rest.keys (after ${primary}) for one pulumi up, then drop it"
    fi
  done < <(awk '$1 == "-" && $2 == "name:" {print $3}' "$ENCRYPTION_CONFIG")
fi

mkdir -p "$(dirname "$ENCRYPTION_CONFIG")"
chmod 0700 "$(dirname "$ENCRYPTION_CONFIG")"
install_file "$ENCRYPTION_CONFIG" 0600 "$desired"
changed=$FILE_CHANGED

if [[ ! -f "$MANIFEST" ]]; then
  log "encryption configuration ready for the API server of ${NODE_NAME}"
  exit 0
fi
if ! grep -q -- "--encryption-provider-config=" "$MANIFEST"; then
  # Started before encryption was configured: regenerate the API server's manifest (and, on the
  # first control plane, the cluster's stored kubeadm configuration) at the version it runs.
  running=$(awk -F: '$0 ~ /image: .*kube-apiserver:/ {print $NF}' "$MANIFEST")
  [[ -n "$running" ]] || die "cannot tell the API server version from ${MANIFEST}"
  install_file "$KUBEADM_CONFIG_PATH" "$KUBEADM_CONFIG_MODE" \
    "$(sed -E "s/^kubernetesVersion: .*/kubernetesVersion: ${running}/" <<<"$KUBEADM_CONFIG")"
  if [[ "$IS_FIRST" == true ]]; then
    timeout 300 kubeadm init phase upload-config kubeadm --config "$KUBEADM_CONFIG_PATH" >&2
  fi
  timeout 300 kubeadm init phase control-plane apiserver --config "$KUBEADM_CONFIG_PATH" >&2
  wait_for 300 "the API server of ${NODE_NAME} to be ready" api_server_ready
  log "encryption at rest turned on for the API server of ${NODE_NAME}"
elif ((changed == 1)); then
  restart_static_pods kube-apiserver
  log "API server of ${NODE_NAME} restarted with the new encryption keys"
else
  log "encryption configuration of ${NODE_NAME} unchanged"
fi
