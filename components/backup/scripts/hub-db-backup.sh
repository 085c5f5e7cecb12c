#!/usr/bin/env bash
# shellcheck shell=bash
# Consistent copies of the hub databases on this host, uploaded with restic (tags `hub-db` and
# `hub=<name>`), then old copies pruned (FORGET_ARGS). SQLite is copied with the online backup API
# (`sqlite3 .backup`, which waits for a busy writer up to 30 s a try) and checked with
# `PRAGMA integrity_check`; PostgreSQL is dumped with `pg_dump --format=custom` (password from the
# root-only PGPASSFILE). A copy replaces the previous one only once it is complete and checked.
# Parameters: DATABASES (one per line: `<hub> sqlite <file>` or `<hub> postgres <host> <port> <user> <db>`),
# STAGING_DIR, PGPASSFILE, plus backup-lib.sh's.

# copy_sqlite SOURCE TARGET: an online backup, retried while a writer keeps the file locked.
copy_sqlite() {
  local source=$1 target=$2 attempt check
  [[ -f "$source" ]] || die "no SQLite database at ${source}"
  [[ "$target" != *[[:space:]\'\"]* ]] || die "unsafe staging path ${target}"
  for attempt in 1 2 3 4 5; do
    rm -f "${target}.part"
    if timeout 600 sqlite3 -cmd '.timeout 30000' "$source" ".backup '${target}.part'"; then
      check=$(timeout 600 sqlite3 "${target}.part" 'PRAGMA integrity_check;')
      [[ "$check" == ok ]] || die "the copy of ${source} fails its integrity check: ${check}"
      mv -f "${target}.part" "$target"
      return 0
    fi
    log "copy of ${source} failed (attempt ${attempt}); retrying in 5s"
    sleep 5
  done
  die "could not copy ${source} after 5 attempts"
}

# dump_postgres HOST PORT USER DB TARGET: a custom-format dump (restorable table by table with pg_restore).
dump_postgres() {
  local host=$1 port=$2 user=$3 db=$4 target=$5
  check_secret_file "$PGPASSFILE"
  PGPASSFILE="$PGPASSFILE" timeout 3600 pg_dump --no-password --format=custom --host "$host" --port "$port" \
    --username "$user" --dbname "$db" --file "${target}.part"
  mv -f "${target}.part" "$target"
}

start_job
mkdir -p "$STAGING_DIR"
chmod 0700 "$STAGING_DIR"
ensure_repository
total=0
while read -r hub kind rest; do
  [[ -n "$hub" ]] || continue
  mkdir -p "${STAGING_DIR}/${hub}"
  case "$kind" in
    sqlite) copy_sqlite "$rest" "${STAGING_DIR}/${hub}/jupyterhub.sqlite" ;;
    postgres)
      read -r host port user db <<<"$rest"
      dump_postgres "$host" "$port" "$user" "$db" "${STAGING_DIR}/${hub}/jupyterhub.pgdump"
      ;;
    *) die "unknown database kind ${kind} for hub ${hub}" ;;
  esac
  restic_run backup --host "$HOST_TAG" --tag hub-db --tag "hub=${hub}" "${STAGING_DIR}/${hub}" >&2
  total=$((total + $(du -sb "${STAGING_DIR}/${hub}" | cut -f1)))
done <<<"$DATABASES"
export JOB_SIZE=$total
prune_snapshots hub-db
export JOB_DONE=1
