#!/usr/bin/env bash
# shellcheck shell=bash
# Per-user quotas on the managed NFS server: refuse an export that is not XFS with project quotas
# (with the fix), install xfsprogs, the reconcile script and its timer, and run it once so existing
# folders get their limits now. Safe to run again: files change only when they differ, and the
# reconciler itself is idempotent.
# Parameters: EXPORT_PATH, HOST_FILES, TIMERS, RECONCILE_PATH (the installed reconcile script).

check_project_quotas "$EXPORT_PATH" >/dev/null
apt_install xfsprogs
units_changed=0
read -r -a file_vars <<<"$HOST_FILES"
for var in "${file_vars[@]}"; do
  path_var="${var}_PATH"
  mode_var="${var}_MODE"
  b64_var="${var}_B64"
  install_file "${HOST_ROOT:-}${!path_var}" "${!mode_var}" "$(base64 -d <<<"${!b64_var}")"
  if ((FILE_CHANGED)) && [[ "${!path_var}" == /etc/systemd/system/* ]]; then
    units_changed=1
  fi
done
timeout 1800 "$RECONCILE_PATH"
read -r -a timer_units <<<"$TIMERS"
if [[ -d /run/systemd/system ]]; then
  ((units_changed)) && timeout 120 systemctl daemon-reload
  for timer in "${timer_units[@]}"; do
    timeout 120 systemctl enable --now "${timer}" >/dev/null
  done
fi
log "quotas reconciled; timers: ${timer_units[*]}"
