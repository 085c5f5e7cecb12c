#!/usr/bin/env bash
# shellcheck shell=bash
# Install the certificate expiry check on this control plane: a systemd timer runs
# `kubeadm certs check-expiration` and writes the result for node-exporter's textfile collector.
# The installed program is the function below, written out with `declare -f`.
# Parameters: NODE_NAME EXPORTER_PATH TEXTFILE_DIR; files SERVICE TIMER

# certs_expiry_export DIRECTORY: metrics of every kubeadm certificate to DIRECTORY/kubeadm_certificates.prom.
certs_expiry_export() {
  local dir=$1 tmp report ok=1 authority=false line name month day year clock zone expires
  mkdir -p "$dir"
  tmp=$(mktemp "${dir}/.kubeadm_certificates.XXXXXX")
  if ! report=$(timeout 60 kubeadm certs check-expiration 2>/dev/null); then
    ok=0
    report=""
  fi
  {
    echo "# HELP kubeadm_certificate_expiry_timestamp_seconds When a kubeadm-managed certificate expires."
    echo "# TYPE kubeadm_certificate_expiry_timestamp_seconds gauge"
    while read -r line; do
      if [[ "$line" == "CERTIFICATE AUTHORITY"* ]]; then
        authority=true
      fi
      # Rows look like: apiserver  Nov 30, 2027 13:26 UTC  364d  ca  no
      read -r name month day year clock zone _ <<<"$line"
      [[ "$year" =~ ^[0-9]{4}$ ]] || continue
      if ! expires=$(date -u -d "${month} ${day} ${year} ${clock} ${zone}" +%s 2>/dev/null); then
        ok=0
        continue
      fi
      printf 'kubeadm_certificate_expiry_timestamp_seconds{certificate="%s",authority="%s"} %s\n' \
        "$name" "$authority" "$expires"
    done <<<"$report"
    echo "# HELP kubeadm_certificate_check_success Whether the last check could read every certificate."
    echo "# TYPE kubeadm_certificate_check_success gauge"
    echo "kubeadm_certificate_check_success ${ok}"
    echo "# HELP kubeadm_certificate_check_timestamp_seconds When the expiry check last ran."
    echo "# TYPE kubeadm_certificate_check_timestamp_seconds gauge"
    echo "kubeadm_certificate_check_timestamp_seconds $(date +%s)"
  } >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "${dir}/kubeadm_certificates.prom"
}

program="#!/usr/bin/env bash"$'\n'"set -euo pipefail"$'\n'"$(declare -f certs_expiry_export)"$'\n'"certs_expiry_export \"\$1\""
install_file "$EXPORTER_PATH" 0755 "$program"
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
