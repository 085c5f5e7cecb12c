#!/usr/bin/env bash
# shellcheck shell=bash
# The directory behind Prometheus' local PersistentVolume. Safe to run again: created once, then only its
# owner and mode are corrected. Nothing here deletes: months of metrics live inside.
# Parameters: DATA_DIR (absolute) DATA_UID DATA_GID

[[ "$DATA_DIR" == /* && "$DATA_DIR" != / ]] || die "DATA_DIR ${DATA_DIR} must be an absolute path below /"
dir="${HOST_ROOT}${DATA_DIR}"

if [[ -L "$dir" ]]; then
  die "${DATA_DIR} is a symbolic link: refusing to use it for Prometheus' data"
elif [[ -e "$dir" && ! -d "$dir" ]]; then
  die "${DATA_DIR} exists and is not a directory"
elif [[ ! -d "$dir" ]]; then
  mkdir -p "$dir"
  log "created ${DATA_DIR}"
fi

# Prometheus' TSDB needs a local POSIX filesystem (bounded: a hung mount must not hang the step).
fs_type=$(timeout 30 stat -f -c %T "$dir") || die "cannot read the filesystem type of ${DATA_DIR}"
case "$fs_type" in
  nfs* | cifs | smb* | fuse* | 9p) die "${DATA_DIR} is on ${fs_type}: Prometheus needs a local filesystem" ;;
esac

# Non-recursive: the blocks inside belong to Prometheus already.
if [[ "$(stat -c '%u:%g' "$dir")" != "${DATA_UID}:${DATA_GID}" ]]; then
  chown "${DATA_UID}:${DATA_GID}" "$dir"
  log "owner of ${DATA_DIR} set to ${DATA_UID}:${DATA_GID}"
fi
chmod 0770 "$dir"
log "${DATA_DIR} ready"
