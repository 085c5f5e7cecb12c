#!/usr/bin/env bash
# shellcheck shell=bash
# NFS server for the platform's homes, shared folders and dynamic volumes. Safe to run again:
# directories are created and chowned non-recursively (user data keeps its owner), the exports
# drop-in is rewritten only when it differs, and exportfs runs only when something changed.
# nfsd runs THREADS threads (distribution default: 8); with V4_ONLY (clients mount NFSv4) NFSv3 is
# off and rpcbind and statd, which only NFSv3 needs, are masked, so they are not exposed either.
# Parameters: EXPORT_PATH OWNER_UID OWNER_GID SUBDIRS (space-separated, relative to EXPORT_PATH)
# THREADS V4_ONLY FIREWALL_PORTS. Files: EXPORTS (/etc/exports.d drop-in), NFS_CONF (/etc/nfs.conf.d drop-in)

apt_install nfs-kernel-server
systemd=false
if [[ -d "${HOST_ROOT}/run/systemd/system" ]]; then
  systemd=true
fi

# shellcheck disable=SC2086 # FIREWALL_PORTS is a space-separated list
mapfile -t blocked < <(firewall_problems "NFS clients need it" $FIREWALL_PORTS)
if ((${#blocked[@]} > 0)); then
  for problem in "${blocked[@]}"; do log "$problem"; done
  die "the host firewall blocks NFS: open the port(s) above to the Kubernetes nodes"
fi

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

ensure_dir "${HOST_ROOT}${EXPORT_PATH}"
read -r -a relative_dirs <<<"$SUBDIRS"
for sub in "${relative_dirs[@]}"; do
  ensure_dir "${HOST_ROOT}${EXPORT_PATH}/${sub}"
done

# Server settings: nfs.conf drop-in; Debian's /etc/default file passes a thread count on rpc.nfsd's
# command line, which would win over nfs.conf, so it gets the same number.
install_file "${HOST_ROOT}${NFS_CONF_PATH}" "$NFS_CONF_MODE" "$NFS_CONF"
settings_changed=$FILE_CHANGED
defaults="${HOST_ROOT}/etc/default/nfs-kernel-server"
if [[ -f "$defaults" ]] && grep -qE '^RPCNFSDCOUNT=' "$defaults" && ! grep -qxE "RPCNFSDCOUNT=\"?${THREADS}\"?" "$defaults"; then
  sed -i -E "s/^RPCNFSDCOUNT=.*/RPCNFSDCOUNT=${THREADS}/" "$defaults"
  settings_changed=1
fi
if [[ "$systemd" == true && "$V4_ONLY" == true ]]; then
  for unit in rpc-statd.service rpcbind.service rpcbind.socket; do
    if [[ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" != masked ]]; then
      log "masking ${unit}: clients mount NFSv4 only"
      timeout 120 systemctl mask --now "$unit" >/dev/null
    fi
  done
fi

install_file "${HOST_ROOT}${EXPORTS_PATH}" "$EXPORTS_MODE" "$EXPORTS"
changed=$FILE_CHANGED
if [[ "$systemd" == true ]]; then
  timeout 120 systemctl enable --now nfs-server >/dev/null
  if ((settings_changed)); then
    log "restarting nfs-server: ${THREADS} threads, NFSv3 $([[ "$V4_ONLY" == true ]] && echo off || echo on)"
    timeout 300 systemctl restart nfs-server
  fi
fi
if ((changed)) || ! exported "$EXPORT_PATH"; then
  log "re-exporting (exports changed or ${EXPORT_PATH} not exported yet)"
  timeout 60 exportfs -ra
fi
wait_for 60 "the export of ${EXPORT_PATH}" exported "$EXPORT_PATH"
log "serving ${EXPORT_PATH}"
