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

# Tests run the rendered steps in a scratch root: HOST_ROOT prefixes the host paths a step reads or
# writes. It is never set on a node (sshd and sudo do not pass it), so there every path is the real one.
HOST_ROOT=${HOST_ROOT:-}

# The one way every step uses apt. A fresh host is busy with apt right after boot (cloud-init's
# package_update, apt-daily, unattended-upgrades) and steps of one node may overlap; `apt-get update`
# does not wait for the lists lock (DPkg::Lock::Timeout covers dpkg's lock only) and exits 100 at once.
APT_LOCK_WAIT_SECONDS=600
APT_SETTLED=0
DPKG_REPAIRED=0

# apt_quiet_now: success when neither cloud-init nor apt's daily jobs (apt-daily: update,
# apt-daily-upgrade: unattended-upgrades) are running. Oneshot units are `activating` while they run.
apt_quiet_now() {
  local unit state
  for unit in apt-daily.service apt-daily-upgrade.service; do
    state=$(systemctl show --property=ActiveState --value "$unit" 2>/dev/null || true)
    [[ "$state" != activating && "$state" != deactivating && "$state" != reloading ]] || return 1
  done
}

# apt_settle: once per step, before its first apt command, wait (bounded) for cloud-init to finish
# and for apt's daily jobs to end, so the first contact with a fresh host does not race them.
apt_settle() {
  local rc=0
  ((APT_SETTLED == 0)) || return 0
  if command -v cloud-init >/dev/null 2>&1; then
    timeout 1200 cloud-init status --wait >/dev/null 2>&1 || rc=$?
    if ((rc == 124)); then
      die "cloud-init is still running after 1200s (cloud-init status --long shows what it waits for)"
    elif ((rc != 0)); then
      log "cloud-init finished with errors (cloud-init status --long); continuing"
    fi
  fi
  apt_quiet_now || log "waiting for apt-daily / unattended-upgrades to finish"
  wait_for 1800 "apt-daily and unattended-upgrades to finish" apt_quiet_now
  APT_SETTLED=1
}

# apt_locked COMMAND...: run an apt or dpkg command; while it fails only because another process
# holds an apt or dpkg lock, wait and run it again (bounded). Its output goes to stderr.
apt_locked() {
  local deadline=$((SECONDS + APT_LOCK_WAIT_SECONDS)) output rc
  while true; do
    rc=0
    output=$("$@" 2>&1) || rc=$?
    if ((rc != 0)) && ((SECONDS < deadline)) &&
      grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg|lock was locked by another|database is locked' <<<"$output"; then
      log "another apt or dpkg process holds a lock: running '$*' again in 5s"
      sleep 5
      continue
    fi
    [[ -z "$output" ]] || printf '%s\n' "$output" >&2
    return "$rc"
  done
}

# apt_update: refresh the package lists, waiting for the lists lock.
apt_update() {
  apt_settle
  apt_locked timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -q
}

# apt_get_install ARGS...: `apt-get install -y` without prompts. A dpkg run cut short earlier (step
# timeout, dropped SSH session) makes every apt-get fail with "dpkg was interrupted": finish it first.
apt_get_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt_settle
  if ((DPKG_REPAIRED == 0)); then
    apt_locked timeout 1800 dpkg --force-confdef --force-confold --configure -a
    DPKG_REPAIRED=1
  fi
  apt_locked timeout 1800 apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold install -y -q "$@"
}

# package_installed PACKAGE: dpkg knows it as fully installed.
package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt_install PACKAGE...: install the missing ones (no recommends), then check every one is there.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  apt_update
  apt_get_install --no-install-recommends "${missing[@]}"
  for pkg in "${missing[@]}"; do
    package_installed "$pkg" || die "${pkg} is not installed after apt-get install"
  done
}

# read_secret_stdin: read all of standard input (secrets arrive there, never in argv).
read_secret_stdin() {
  local data
  data=$(cat)
  [[ -n "$data" ]] || die "expected secret material on standard input, got nothing"
  printf '%s' "$data"
}
