#!/usr/bin/env bash
# shellcheck shell=bash
# Put a hub's SQLite database back from the hub-db backup (run while the hub is scaled to zero). The
# current file is kept as `<file>.before-restore-<time>`, never deleted; the restored copy must pass
# `PRAGMA integrity_check` before it replaces anything.
# Parameters: HUB, DB_FILE, SNAPSHOT (`latest` or a restic snapshot id), STAGING_DIR, DB_UID, DB_GID,
# plus backup-lib.sh's.

restore_hub_db_file "$HUB" "$SNAPSHOT" "$STAGING_DIR" jupyterhub.sqlite
copy=$RESTORED_FILE
check=$(timeout 600 sqlite3 "$copy" 'PRAGMA integrity_check;')
[[ "$check" == ok ]] || die "the restored copy fails its integrity check: ${check}"
if [[ -f "$DB_FILE" ]]; then
  aside="${DB_FILE}.before-restore-$(date +%Y%m%d-%H%M%S)"
  cp -p "$DB_FILE" "$aside"
  log "kept the current database as ${aside}"
fi
install -m 0644 -o "$DB_UID" -g "$DB_GID" "$copy" "${DB_FILE}.restoring"
mv -f "${DB_FILE}.restoring" "$DB_FILE"
rm -rf "$RESTORE_STAGING"
log "hub ${HUB}: database restored from ${RESTORE_SNAPSHOT}"
