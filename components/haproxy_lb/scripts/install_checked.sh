#!/usr/bin/env bash
# shellcheck shell=bash
# install_checked PATH MODE CONTENT CHECKER...: write CONTENT to a candidate file beside PATH, run
# `CHECKER... CANDIDATE`, and only when that passes rename the candidate over PATH (atomic), so a
# broken config never replaces a working one. Sets FILE_CHANGED=0/1. Checker output is shown
# with every occurrence of $REDACT (when set) masked: candidates may hold a secret.
CHECKED_CANDIDATE=""
trap '[[ -z "$CHECKED_CANDIDATE" ]] || rm -f "$CHECKED_CANDIDATE"' EXIT

# shellcheck disable=SC2034 # FILE_CHANGED is read by the step body
install_checked() {
  local path=$1 mode=$2 content=$3 output
  shift 3
  FILE_CHANGED=0
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
    chmod "$mode" "$path"
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  # mktemp creates the file with mode 0600: a secret in it is never readable by others.
  CHECKED_CANDIDATE=$(mktemp "${path}.candidate.XXXXXX")
  printf '%s\n' "$content" >"$CHECKED_CANDIDATE"
  if ! output=$("$@" "$CHECKED_CANDIDATE" 2>&1); then
    if [[ -n "${REDACT:-}" ]]; then
      output=${output//"$REDACT"/[redacted]}
    fi
    printf '%s\n' "$output" >&2
    rm -f "$CHECKED_CANDIDATE"
    die "the new ${path} was rejected by '$*'; the live file is unchanged"
  fi
  chmod "$mode" "$CHECKED_CANDIDATE"
  mv -f "$CHECKED_CANDIDATE" "$path"
  CHECKED_CANDIDATE=""
  FILE_CHANGED=1
}

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
