#!/usr/bin/env bash
# shellcheck shell=bash
# Put a hub's SQLite database back from the hub-db backup (run while the hub is scaled to zero). The
# current file is kept as `<file>.before-restore-<time>`, never deleted; the restored copy must pass
# `PRAGMA integrity_check` before it replaces anything.
# Parameters: HUB, DB_FILE, SNAPSHOT (`latest` or a restic snapshot id), STAGING_DIR, DB_UID, DB_GID,
# plus backup-lib.sh's.

if [[ "$SNAPSHOT" == latest ]]; then
  chosen=$(restic_run snapshots --host "$HOST_TAG" --tag "hub=${HUB}" --compact |
    awk 'length($1) == 8 && $1 ~ /^[0-9a-f]+$/ { id = $1 } END { print id }')
else
  chosen=$SNAPSHOT
fi
[[ -n "$chosen" ]] || die "no hub-db snapshot of hub ${HUB}"
mkdir -p "$STAGING_DIR"
chmod 0700 "$STAGING_DIR"
staging=$(mktemp -d "${STAGING_DIR}/hub-db.XXXXXX")
restic_run restore "$chosen" --target "$staging" >&2
copy=$(find "$staging" -type f -name jupyterhub.sqlite | head -n1)
[[ -n "$copy" ]] || die "snapshot ${chosen} holds no jupyterhub.sqlite"
check=$(timeout 600 sqlite3 "$copy" 'PRAGMA integrity_check;')
[[ "$check" == ok ]] || die "the restored copy fails its integrity check: ${check}"
if [[ -f "$DB_FILE" ]]; then
  aside="${DB_FILE}.before-restore-$(date +%Y%m%d-%H%M%S)"
  cp -p "$DB_FILE" "$aside"
  log "kept the current database as ${aside}"
fi
install -m 0644 -o "$DB_UID" -g "$DB_GID" "$copy" "${DB_FILE}.restoring"
mv -f "${DB_FILE}.restoring" "$DB_FILE"
rm -rf "$staging"
log "hub ${HUB}: database restored from ${chosen}"
