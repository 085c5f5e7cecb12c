#!/usr/bin/env bash
# Helpers shared by every remote step. The renderer inlines this file after the step's
# `export` header; it is not meant to run on its own.
# shellcheck shell=bash

log() {
  printf '[%s] %s\n' "${STEP_NAME:-step}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every 2 s until it succeeds or time runs out.
# Each attempt of an external command is itself bounded (20 s), so one hung attempt cannot outlast
# the deadline; shell functions are called directly and must bound themselves.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  local attempt=("$@")
  declare -F "$1" >/dev/null || attempt=(timeout 20 "$@")
  until "${attempt[@]}" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${limit}s waiting for ${what}"
    fi
    sleep 2
  done
}

# install_file PATH MODE CONTENT [CHECKER...]: write atomically, only when the content differs.
# With a CHECKER, `CHECKER... CANDIDATE` must accept the new file before it replaces PATH, so a
# broken config never replaces a working one; its output is shown with $REDACT (when set) masked.
# Sets FILE_CHANGED=1 when the file was written, 0 when it was already up to date.
install_file() {
  local path=$1 mode=$2 content=$3 tmp output
  shift 3
  export FILE_CHANGED=0
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
    chmod "$mode" "$path"
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  # mktemp makes the candidate 0600: a secret in it is never readable by others before chmod.
  tmp=$(mktemp "${path}.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  if (($# > 0)) && ! output=$("$@" "$tmp" 2>&1); then
    if [[ -n "${REDACT:-}" ]]; then
      output=${output//"$REDACT"/[redacted]}
    fi
    printf '%s\n' "$output" >&2
    rm -f "$tmp"
    die "the new ${path} was rejected by '$*'; the live file is unchanged"
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  export FILE_CHANGED=1
}

# apt_install PACKAGE...: install missing packages without prompts, waiting a bounded time for the dpkg lock.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -q
  DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get -o DPkg::Lock::Timeout=300 \
    install -y -q --no-install-recommends "${missing[@]}"
}

# read_secret_stdin: read all of standard input (secrets arrive there, never in argv).
read_secret_stdin() {
  local data
  data=$(cat)
  [[ -n "$data" ]] || die "expected secret material on standard input, got nothing"
  printf '%s' "$data"
}
