#!/usr/bin/env bash
# shellcheck shell=bash
# apply_service UNIT CHANGED: enable and start UNIT, or reload it when its config CHANGED (1).
apply_service() {
  local unit=$1 changed=$2
  systemctl is-enabled --quiet "$unit" || systemctl enable --quiet "$unit"
  if ! systemctl is-active --quiet "$unit"; then
    log "starting ${unit}"
    systemctl start "$unit"
  elif ((changed)); then
    log "${unit} config changed: reloading"
    systemctl reload "$unit"
  else
    log "${unit} config unchanged"
  fi
}
