#!/usr/bin/env bash
# shellcheck shell=bash
# etcd snapshot on this control plane: `etcdctl snapshot save` through kubeadm's etcd client
# certificate, checked with `etcdutl snapshot status` (etcdctl's own on a 3.4 client), uploaded with
# restic under this node's host name and the tag `etcd`, then old snapshots pruned (FORGET_ARGS).
# Safe to run again: the snapshot is written to a temporary name and replaces the previous one only
# once it has been checked.
# Parameters: ETCD_ENDPOINT, ETCD_CACERT ETCD_CERT ETCD_KEY (empty: plain http, used by tests only),
# SNAPSHOT_DIR, ETCDCTL, ETCDUTL (command names or paths), plus backup-lib.sh's.

# snapshot_status FILE: prints the snapshot's JSON status; fails on an unreadable or empty snapshot.
snapshot_status() {
  local status tool=("$ETCDCTL")
  command -v "$ETCDUTL" >/dev/null 2>&1 && tool=("$ETCDUTL")
  status=$(ETCDCTL_API=3 timeout 300 "${tool[@]}" snapshot status "$1" -w json)
  [[ "$status" =~ \"totalKey\":([0-9]+) ]] || die "cannot read the status of snapshot ${1}: ${status}"
  ((BASH_REMATCH[1] > 0)) || die "snapshot ${1} holds no keys"
  printf '%s\n' "$status"
}

start_job
mkdir -p "$SNAPSHOT_DIR"
chmod 0700 "$SNAPSHOT_DIR"
snapshot="${SNAPSHOT_DIR}/etcd-snapshot.db"
rm -f "${snapshot}.part"
tls=()
if [[ -n "$ETCD_CACERT" ]]; then
  tls=(--cacert "$ETCD_CACERT" --cert "$ETCD_CERT" --key "$ETCD_KEY")
fi
ETCDCTL_API=3 timeout 900 "$ETCDCTL" --endpoints "$ETCD_ENDPOINT" "${tls[@]}" --command-timeout=600s \
  snapshot save "${snapshot}.part" >&2
log "snapshot status: $(snapshot_status "${snapshot}.part")"
mv -f "${snapshot}.part" "$snapshot"
JOB_SIZE=$(stat -c '%s' "$snapshot")
export JOB_SIZE
ensure_repository
restic_run backup --host "$HOST_TAG" --tag etcd "$snapshot" >&2
prune_snapshots etcd
export JOB_DONE=1
