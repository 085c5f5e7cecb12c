#!/usr/bin/env bash
# shellcheck shell=bash
# Debian's prometheus-node-exporter on a host that is not a Kubernetes node (load balancer, NFS server),
# listening on the host's node-network address only. Safe to run again: the package is installed once,
# the settings file is rewritten only when it changes, and the service restarts only then.
# Parameters: LISTEN_ADDRESS (address:port) COLLECTOR_ARGS (extra flags) TEXTFILE_DIR

apt_install prometheus-node-exporter

mkdir -p "${HOST_ROOT}${TEXTFILE_DIR}"
# The collector reads *.prom files written by the platform (backups, keepalived); nobody else writes here.
chmod 0755 "${HOST_ROOT}${TEXTFILE_DIR}"

install_file "${HOST_ROOT}/etc/default/prometheus-node-exporter" 0644 \
  "# Written by jupyterhub-platform (MonitoringStack); change the stack configuration, not this file.
ARGS=\"--web.listen-address=${LISTEN_ADDRESS} --collector.textfile.directory=${TEXTFILE_DIR} ${COLLECTOR_ARGS}\""
changed=$FILE_CHANGED

systemctl enable prometheus-node-exporter >/dev/null 2>&1 || die "cannot enable prometheus-node-exporter"
if ((changed == 1)) || ! systemctl is-active --quiet prometheus-node-exporter; then
  systemctl restart prometheus-node-exporter
  log "prometheus-node-exporter (re)started on ${LISTEN_ADDRESS}"
fi
wait_for 60 "node-exporter to answer on ${LISTEN_ADDRESS}" curl -fsS -o /dev/null "http://${LISTEN_ADDRESS}/metrics"
log "node-exporter serves http://${LISTEN_ADDRESS}/metrics"
