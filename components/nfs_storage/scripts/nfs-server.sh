#!/usr/bin/env bash
# shellcheck shell=bash
# NFS server for the platform's homes, shared folders and dynamic volumes. Safe to run again:
# directories are created and chowned non-recursively (user data keeps its owner), the exports
# drop-in is rewritten only when it differs, and exportfs runs only when something changed.
# Parameters: EXPORT_PATH OWNER_UID OWNER_GID SUBDIRS (space-separated, relative to EXPORT_PATH)
# Files: EXPORTS (/etc/exports.d drop-in, read by exportfs next to /etc/exports)

install_retrying nfs-kernel-server

ensure_dir() {
  local dir=$1
  mkdir -p "$dir"
  chown "${OWNER_UID}:${OWNER_GID}" "$dir"
  chmod 0755 "$dir"
}

# grep reads all of exportfs's output (no -q): an early exit would fail the pipe under pipefail.
exported() {
  exportfs -v | grep -F -- "$1" >/dev/null
}

ensure_dir "$EXPORT_PATH"
read -r -a relative_dirs <<<"$SUBDIRS"
for sub in "${relative_dirs[@]}"; do
  ensure_dir "${EXPORT_PATH}/${sub}"
done

install_file "$EXPORTS_PATH" "$EXPORTS_MODE" "$EXPORTS"
changed=$FILE_CHANGED
if [[ -d /run/systemd/system ]]; then
  timeout 120 systemctl enable --now nfs-server >/dev/null
fi
if ((changed)) || ! exported "$EXPORT_PATH"; then
  log "re-exporting (exports changed or ${EXPORT_PATH} not exported yet)"
  timeout 60 exportfs -ra
fi
wait_for 60 "the export of ${EXPORT_PATH}" exported "$EXPORT_PATH"
log "serving ${EXPORT_PATH}"
