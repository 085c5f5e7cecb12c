#!/usr/bin/env bash
# shellcheck shell=bash
# Restore one user's home folder from the homes backup into `restored-<date of the snapshot>` inside
# that home: never over the user's files (an existing restored-<date> gets a -2, -3... suffix).
# Parameters: HOME_PATH (the user's folder on the export), AT (`latest` or `YYYY-MM-DD[ HH:MM[:SS]]` in
# the host's local time: the last snapshot taken at or before it), STAGING_DIR (on the export's
# filesystem, outside the backed-up folders), OWNER_UID, OWNER_GID, plus backup-lib.sh's.

# pick_snapshot: "<id> <date>" of the snapshot to restore, from restic's compact listing (oldest first).
pick_snapshot() {
  local at=$AT
  [[ "$at" == latest ]] && at="9999-12-31 23:59:59"
  restic_run snapshots --host "$HOST_TAG" --tag homes --compact |
    awk -v at="$at" 'length($1) == 8 && $1 ~ /^[0-9a-f]+$/ && ($2 " " $3) <= at { id = $1; day = $2 } END { if (id) print id, day }'
}

read -r snapshot day <<<"$(pick_snapshot)"
[[ -n "${snapshot:-}" ]] || die "no homes snapshot at or before ${AT}"
log "restoring ${HOME_PATH} from snapshot ${snapshot} (${day})"
mkdir -p "$STAGING_DIR"
chmod 0700 "$STAGING_DIR"
staging=$(mktemp -d "${STAGING_DIR}/home.XXXXXX")
restic_run restore "$snapshot" --target "$staging" --include "$HOME_PATH" >&2
[[ -d "${staging}${HOME_PATH}" ]] || die "snapshot ${snapshot} has no ${HOME_PATH}"
mkdir -p "$HOME_PATH"
destination="${HOME_PATH}/restored-${day}"
suffix=2
while [[ -e "$destination" ]]; do
  destination="${HOME_PATH}/restored-${day}-${suffix}"
  suffix=$((suffix + 1))
done
mv "${staging}${HOME_PATH}" "$destination"
rm -rf "$staging"
chown -R "${OWNER_UID}:${OWNER_GID}" "$destination"
log "restored into ${destination}"
printf '%s\n' "$destination"
