#!/usr/bin/env bash
# shellcheck shell=bash
# The directory behind one hub's local PersistentVolume (its SQLite database). Safe to run again:
# it is created once and only its owner and "other" permission bits are corrected later (kubelet
# adds the fsGroup bits itself). Nothing here ever deletes: the hub's database lives inside.
# Parameters: BASE_DIR DB_DIR (a direct child of BASE_DIR) DB_UID DB_GID

[[ "$BASE_DIR" == /* && "$DB_DIR" == "$BASE_DIR"/* && "${DB_DIR#"$BASE_DIR"/}" != */* ]] ||
  die "DB_DIR ${DB_DIR} must be a direct child of ${BASE_DIR}"

mkdir -p "$BASE_DIR"
chmod 0755 "$BASE_DIR"

# SQLite locking is broken on network filesystems: refuse them (bounded: a hung mount must not hang us).
fs_type=$(timeout 30 stat -f -c %T "$BASE_DIR") || die "cannot read the filesystem type of ${BASE_DIR}"
case "$fs_type" in
  nfs* | cifs | smb* | fuse* | 9p | ceph | glusterfs)
    die "${BASE_DIR} is on ${fs_type}: the hub database needs a local filesystem"
    ;;
esac

if [[ -L "$DB_DIR" ]]; then
  die "${DB_DIR} is a symbolic link: refusing to use it for the hub database"
elif [[ -e "$DB_DIR" && ! -d "$DB_DIR" ]]; then
  die "${DB_DIR} exists and is not a directory"
elif [[ ! -d "$DB_DIR" ]]; then
  mkdir -m 0700 "$DB_DIR"
  log "created ${DB_DIR}"
fi

# Non-recursive: the database files inside belong to the hub already.
if [[ "$(stat -c '%u:%g' "$DB_DIR")" != "${DB_UID}:${DB_GID}" ]]; then
  chown "${DB_UID}:${DB_GID}" "$DB_DIR"
  log "owner of ${DB_DIR} set to ${DB_UID}:${DB_GID}"
fi
chmod u+rwx,o-rwx "$DB_DIR"

if [[ -e "${DB_DIR}/jupyterhub.sqlite" ]]; then
  log "${DB_DIR} ready (holds an existing hub database)"
else
  log "${DB_DIR} ready (empty: the hub creates its database on first start)"
fi
