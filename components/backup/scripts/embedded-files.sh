#!/usr/bin/env bash
# shellcheck shell=bash
# Files a step carries in its header (components/backup/steps.py: `_embedded`), and the systemd
# timers among them. Parameters: HOST_FILES (the keys), per key <KEY>_PATH, <KEY>_MODE, <KEY>_B64;
# TIMERS (the timer units to enable).

# install_embedded_files: write each file when it differs (under HOST_ROOT in tests); sets
# UNITS_CHANGED=1 when a systemd unit changed, so enable_timers reloads systemd first.
install_embedded_files() {
  local var path_var mode_var b64_var file_vars=()
  UNITS_CHANGED=0
  read -r -a file_vars <<<"$HOST_FILES"
  for var in "${file_vars[@]}"; do
    path_var="${var}_PATH"
    mode_var="${var}_MODE"
    b64_var="${var}_B64"
    install_file "${HOST_ROOT:-}${!path_var}" "${!mode_var}" "$(base64 -d <<<"${!b64_var}")"
    if ((FILE_CHANGED)) && [[ "${!path_var}" == /etc/systemd/system/* ]]; then
      UNITS_CHANGED=1
    fi
  done
}

# enable_timers: enable and start TIMERS where systemd runs (not under a test's HOST_ROOT).
enable_timers() {
  local timer timer_units=()
  read -r -a timer_units <<<"$TIMERS"
  if [[ -z "${HOST_ROOT:-}" && -d /run/systemd/system ]]; then
    ((UNITS_CHANGED)) && timeout 120 systemctl daemon-reload
    for timer in "${timer_units[@]}"; do
      timeout 120 systemctl enable --now "${timer}" >/dev/null
    done
  else
    log "no systemd here (or HOST_ROOT set): timers ${timer_units[*]} installed, not started"
  fi
}
