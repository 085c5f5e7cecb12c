#!/usr/bin/env bash
# shellcheck shell=bash
# Restore this control plane's etcd member from a restic snapshot (run with the API server and etcd
# stopped). The current data directory is moved aside (`<DATA_DIR>.before-restore-<time>`), never
# deleted; `etcdutl snapshot restore` then writes a fresh one with this member's name, the cluster's
# members and this member's peer URL. Safe to run again: a finished restore of the same snapshot is
# recorded and not repeated.
# Parameters: SNAPSHOT_ID, MEMBER_NAME, INITIAL_CLUSTER, PEER_URL, DATA_DIR, RESTORE_DIR, ETCDCTL,
# ETCDUTL, BUMP_REVISION, plus backup-lib.sh's (REPOSITORY is the repository of the control plane that took it).

done_marker="${RESTORE_DIR}/etcd-${SNAPSHOT_ID}-${MEMBER_NAME}.done"
if [[ -f "$done_marker" && -d "${DATA_DIR}/member" ]]; then
  log "etcd member ${MEMBER_NAME} was already restored from ${SNAPSHOT_ID}"
  exit 0
fi
mkdir -p "$RESTORE_DIR"
chmod 0700 "$RESTORE_DIR"
target="${RESTORE_DIR}/etcd-${SNAPSHOT_ID}"
rm -rf "$target"
restic_run restore "$SNAPSHOT_ID" --target "$target" >&2
snapshot=$(find "$target" -type f -name etcd-snapshot.db | head -n1)
[[ -n "$snapshot" ]] || die "restic snapshot ${SNAPSHOT_ID} holds no etcd-snapshot.db"
tool=("$ETCDCTL")
bump=()
if command -v "$ETCDUTL" >/dev/null 2>&1; then
  tool=("$ETCDUTL")
  # Kubernetes watchers cache revisions: moving the revision forward and marking the old ones
  # compacted makes them re-list instead of missing changes (etcdutl 3.5.13+; etcdctl 3.4 has no such flags).
  bump=(--bump-revision "$BUMP_REVISION" --mark-compacted)
fi
ETCDCTL_API=3 timeout 300 "${tool[@]}" snapshot status "$snapshot" -w json >&2
if [[ -e "$DATA_DIR" ]]; then
  aside="${DATA_DIR}.before-restore-$(date +%Y%m%d-%H%M%S)"
  mv "$DATA_DIR" "$aside"
  log "kept the previous data directory as ${aside}"
fi
ETCDCTL_API=3 timeout 900 "${tool[@]}" snapshot restore "$snapshot" --name "$MEMBER_NAME" \
  --initial-cluster "$INITIAL_CLUSTER" --initial-advertise-peer-urls "$PEER_URL" --data-dir "$DATA_DIR" "${bump[@]}" >&2
chmod 0700 "$DATA_DIR"
touch "$done_marker"
log "etcd member ${MEMBER_NAME} restored from ${SNAPSHOT_ID} into ${DATA_DIR}"
