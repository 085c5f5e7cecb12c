#!/usr/bin/env bash
# shellcheck shell=bash
# One directory on the NFS server for one hub namespace (its homes). Never removed: deleting a
# hub leaves its users' data in place. Non-recursive chown: existing homes keep their owner.
# Parameters: DIRECTORY OWNER_UID OWNER_GID

[[ -d "$(dirname "$DIRECTORY")" ]] || die "$(dirname "$DIRECTORY") is missing: the nfs-server step has not run"
mkdir -p "$DIRECTORY"
chown "${OWNER_UID}:${OWNER_GID}" "$DIRECTORY"
chmod 0755 "$DIRECTORY"
log "${DIRECTORY} ready"
