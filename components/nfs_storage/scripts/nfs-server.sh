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

# exported PATH: PATH itself is exported (`exportfs -v` starts each export with its path, followed by
# blanks or a line break; a prefix such as PATH2 or PATH/sub does not count). awk reads all of
# exportfs's output: an early exit would fail the pipe under pipefail.
exported() {
  exportfs -v | awk -v want="$1" '$1 == want { found = 1 } END { exit !found }'
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
