#!/usr/bin/env bash
# shellcheck shell=bash
# Rewrite every Secret so etcd stores it encrypted with the newest key, once per key: the name
# of the key the Secrets were rewritten with is recorded in a ConfigMap, which also lets the
# control planes drop an older key afterwards. Runs after every control plane has the key.
# Parameters: PRIMARY_KEY MARKER_CONFIGMAP REWRITE_TIMEOUT

export KUBECONFIG="${KUBE_DIR}/admin.conf"
done_with=$(kubectl --request-timeout=30s get configmap "$MARKER_CONFIGMAP" -n kube-system --ignore-not-found \
  -o jsonpath='{.data.rewritten-with}')
if [[ "$done_with" == "$PRIMARY_KEY" ]]; then
  log "Secrets already rewritten with key ${PRIMARY_KEY}"
  exit 0
fi
# An update with unchanged content still writes the object, now encrypted with the first key.
kubectl --request-timeout=60s get secrets --all-namespaces -o json |
  timeout "$REWRITE_TIMEOUT" kubectl --request-timeout=60s replace -f - >/dev/null
kubectl --request-timeout=30s create configmap "$MARKER_CONFIGMAP" -n kube-system \
  --from-literal=rewritten-with="$PRIMARY_KEY" --dry-run=client -o yaml |
  kubectl --request-timeout=30s apply -f - >/dev/null
log "every Secret rewritten with key ${PRIMARY_KEY}"
