#!/usr/bin/env bash
# shellcheck shell=bash
# HAProxy in front of the API servers. Idempotent: installs only what is missing; a changed
# haproxy.cfg must pass `haproxy -c` before it replaces the live file and is applied by a reload.
# Parameters: FRONTEND_PORT, HUB_PORTS (space-separated, may be empty), HAPROXY_CFG (+ _PATH, _MODE).

apt_install haproxy
install_file "$HAPROXY_CFG_PATH" "$HAPROXY_CFG_MODE" "$HAPROXY_CFG" haproxy -c -q -f
apply_service haproxy "$FILE_CHANGED"

port_listening() {
  ss -Hltn "sport = :$1" | grep -q .
}
read -r -a extra_ports <<<"$HUB_PORTS"
for port in "$FRONTEND_PORT" "${extra_ports[@]}"; do
  wait_for 60 "HAProxy listening on port ${port}" port_listening "$port"
done
log "HAProxy serves port(s) ${FRONTEND_PORT} ${HUB_PORTS}"
