#!/usr/bin/env bash
# shellcheck shell=bash
# HAProxy in front of the API servers. Idempotent: installs only what is missing; a changed
# haproxy.cfg must pass `haproxy -c` before it replaces the live file and is applied by a reload.
# Parameters: FRONTEND_PORT, HAPROXY_CFG (+ _PATH, _MODE).

apt_install haproxy
install_file "$HAPROXY_CFG_PATH" "$HAPROXY_CFG_MODE" "$HAPROXY_CFG" haproxy -c -q -f
apply_service haproxy "$FILE_CHANGED"

frontend_listening() {
  ss -Hltn "sport = :${FRONTEND_PORT}" | grep -q .
}
wait_for 60 "HAProxy listening on port ${FRONTEND_PORT}" frontend_listening
log "HAProxy serves port ${FRONTEND_PORT}"
