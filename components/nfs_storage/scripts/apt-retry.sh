#!/usr/bin/env bash
# shellcheck shell=bash
# apt_install with a few bounded retries: these steps may run while node preparation uses apt on
# the same host, and a concurrent `apt-get update` can fail on the lists lock.

# install_retrying PACKAGE...: install, retrying up to 5 times, then check every package is there.
install_retrying() {
  local attempt pkg
  for attempt in 1 2 3 4 5; do
    if apt_install "$@"; then
      break
    fi
    log "apt attempt ${attempt} failed; retrying in 15s"
    sleep 15
  done
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || die "could not install ${pkg}"
  done
}
