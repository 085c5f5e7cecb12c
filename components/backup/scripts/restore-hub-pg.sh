#!/usr/bin/env bash
# shellcheck shell=bash
# Put a PostgreSQL hub database back from its latest (or chosen) `pg_dump` in the hub-db backup (run
# while the hub is scaled to zero). Before anything changes, the current database is dumped to
# `<STAGING_DIR>/<hub>-before-restore-<time>.pgdump` (kept); then `pg_restore --clean --if-exists`
# replaces its objects with the dump's. Password from the root-only PGPASSFILE.
# Parameters: HUB, SNAPSHOT (`latest` or an id), PG_HOST, PG_PORT, PG_USER, PG_DB, STAGING_DIR,
# PGPASSFILE, plus backup-lib.sh's.

pg() {
  local tool=$1
  shift
  PGPASSFILE="$PGPASSFILE" timeout 3600 "$tool" --no-password --host "$PG_HOST" --port "$PG_PORT" --username "$PG_USER" "$@"
}

check_secret_file "$PGPASSFILE"
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
dump=$(find "$staging" -type f -name jupyterhub.pgdump | head -n1)
[[ -n "$dump" ]] || die "snapshot ${chosen} holds no jupyterhub.pgdump"
aside="${STAGING_DIR}/${HUB}-before-restore-$(date +%Y%m%d-%H%M%S).pgdump"
pg pg_dump --format=custom --dbname "$PG_DB" --file "$aside"
log "kept the current database as ${aside}"
pg pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$PG_DB" "$dump"
rm -rf "$staging"
log "hub ${HUB}: database restored from ${chosen}"
