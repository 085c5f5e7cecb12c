#!/usr/bin/env bash
# shellcheck shell=bash
# Remove jobs from this host when the stack no longer runs them here (or before their step is
# replaced): stop and disable the timers, delete their units and scripts and, for backups, the
# root-only secret files. Never touches data: repositories, snapshots, homes and XFS project quotas
# (limits stay in force until changed by hand) are left as they are. Safe to run again.
# Parameters: TIMERS, REMOVE_PATHS (space-separated files), HOST_ROOT (empty on hosts).

read -r -a timer_units <<<"$TIMERS"
if [[ -z "${HOST_ROOT:-}" && -d /run/systemd/system ]]; then
  for timer in "${timer_units[@]}"; do
    timeout 120 systemctl disable --now "$timer" >/dev/null 2>&1 || true
  done
fi
read -r -a paths <<<"$REMOVE_PATHS"
for path in "${paths[@]}"; do
  rm -f "${HOST_ROOT:-}${path}"
done
if [[ -z "${HOST_ROOT:-}" && -d /run/systemd/system ]]; then
  timeout 120 systemctl daemon-reload
fi
log "removed: ${timer_units[*]}"
