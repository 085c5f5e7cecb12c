#!/usr/bin/env bash
# shellcheck shell=bash
# kubeadm needs a unique product_uuid and unique MAC addresses per node; cloned VMs often share
# them, and each preflight only sees its own host. Compare the identities all preflights printed.
# stdin: the preflight outputs, one `identity NODE product_uuid=UUID macs=MAC,MAC` line per node.

identities=$(grep -E '^identity ' || true)
[[ -n "$identities" ]] || die "no node identities on standard input (the preflight steps print them)"
# Lines "KIND VALUE NODE" for every UUID and MAC, then every value held by more than one node.
duplicates=$(awk '{
  node = $2; uuid = $3; macs = $4
  sub(/^product_uuid=/, "", uuid); sub(/^macs=/, "", macs)
  if (uuid != "unknown") print "product_uuid", tolower(uuid), node
  n = split(macs, list, ",")
  for (i = 1; i <= n; i++) if (list[i] != "") print "MAC", tolower(list[i]), node
}' <<<"$identities" | sort -u | awk '{
  key = $1 " " $2
  nodes[key] = (key in nodes) ? nodes[key] " and " $3 : $3
  count[key]++
} END { for (k in count) if (count[k] > 1) print k ": " nodes[k] }' | sort)
if [[ -n "$duplicates" ]]; then
  while read -r kind value rest; do
    case "$kind" in
      product_uuid) log "preflight: ${rest} share product_uuid ${value%:}: give each (cloned) VM its own SMBIOS UUID in the hypervisor" ;;
      MAC) log "preflight: ${rest} share MAC address ${value%:}: give each VM its own MAC address" ;;
    esac
  done <<<"$duplicates"
  die "nodes are not unique; kubeadm needs a unique product_uuid and MAC addresses on every node"
fi
log "$(grep -c . <<<"$identities") nodes have unique product_uuids and MAC addresses"
