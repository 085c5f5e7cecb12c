#!/usr/bin/env bash
# shellcheck shell=bash
# Install the certificate expiry check on this control plane: a systemd timer runs
# `kubeadm certs check-expiration` and writes the result for node-exporter's textfile collector.
# Parameters: NODE_NAME; files EXPORTER SERVICE TIMER

install_file "$EXPORTER_PATH" "$EXPORTER_MODE" "$EXPORTER"
install_file "$SERVICE_PATH" "$SERVICE_MODE" "$SERVICE"
changed=$FILE_CHANGED
install_file "$TIMER_PATH" "$TIMER_MODE" "$TIMER"
if ((changed == 1 || FILE_CHANGED == 1)); then
  systemctl daemon-reload
fi
systemctl enable --now "$(basename "$TIMER_PATH")" >/dev/null
# A first reading right away, so monitoring has a value before the first timer run.
timeout 120 systemctl start "$(basename "$SERVICE_PATH")"
log "certificate expiry check installed on ${NODE_NAME}"
