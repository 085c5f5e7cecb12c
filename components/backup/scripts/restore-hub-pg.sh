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
restore_hub_db_file "$HUB" "$SNAPSHOT" "$STAGING_DIR" jupyterhub.pgdump
dump=$RESTORED_FILE
aside="${STAGING_DIR}/${HUB}-before-restore-$(date +%Y%m%d-%H%M%S).pgdump"
pg pg_dump --format=custom --dbname "$PG_DB" --file "$aside"
log "kept the current database as ${aside}"
pg pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$PG_DB" "$dump"
rm -rf "$RESTORE_STAGING"
log "hub ${HUB}: database restored from ${RESTORE_SNAPSHOT}"
