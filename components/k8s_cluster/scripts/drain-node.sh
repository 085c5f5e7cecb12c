#!/usr/bin/env bash
# shellcheck shell=bash
# On the first control plane, once per `pulumi up` in which the node list changed, before any join
# of that update and before Pulumi deletes the removed nodes' steps (deletions come last): drain
# and delete every Node this platform joined (label MANAGED_LABEL) that is no longer in the
# inventory, or whose address differs from it (the host was replaced: its join is redone, and the
# reset of the old host must not strand pods). Nodes without the label are never touched.
# Parameters: EXPECTED_NODES ("name=address ..."), MANAGED_LABEL, DRAIN_TIMEOUT

export KUBECONFIG="${KUBE_DIR}/admin.conf"
declare -A expected=()
for entry in $EXPECTED_NODES; do
  expected["${entry%%=*}"]=${entry#*=}
done

# Any error (API down, no credentials) must stop here: the resets that follow depend on it.
listing=$(kubectl get nodes -l "${MANAGED_LABEL}=true" --request-timeout=30s \
  -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
removed=()
while read -r name address; do
  [[ -n "$name" ]] || continue
  if [[ -z "${expected[$name]:-}" ]]; then
    removed+=("$name")
  elif [[ -n "$address" && "$address" != "${expected[$name]}" ]]; then
    log "Node ${name} reports ${address}, the inventory says ${expected[$name]}: the host was replaced"
    removed+=("$name")
  fi
done <<<"$listing"

for name in "${removed[@]}"; do
  kubectl cordon "$name" --request-timeout=30s >/dev/null
  # A pod that cannot be evicted in time must not block removing a dead node forever.
  if ! timeout "$((DRAIN_TIMEOUT + 30))" kubectl drain "$name" --ignore-daemonsets --delete-emptydir-data \
    --timeout="${DRAIN_TIMEOUT}s" >&2; then
    log "drain of ${name} did not finish within ${DRAIN_TIMEOUT}s; deleting the Node anyway"
  fi
  kubectl delete node "$name" --ignore-not-found --timeout=120s >/dev/null
  log "Node ${name} drained and deleted"
done
log "${#removed[@]} removed node(s) drained"
