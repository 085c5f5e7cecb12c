#!/usr/bin/env bash
# Export `kubeadm certs check-expiration` as Prometheus metrics for node-exporter's textfile
# collector. Installed on each control plane and run by a systemd timer.
# Usage: certs-expiry-export TEXTFILE_DIRECTORY
set -euo pipefail

dir=${1:?usage: certs-expiry-export TEXTFILE_DIRECTORY}
mkdir -p "$dir"
tmp=$(mktemp "${dir}/.kubeadm_certificates.XXXXXX")
trap 'rm -f "$tmp"' EXIT
ok=1
if ! report=$(timeout 60 kubeadm certs check-expiration 2>/dev/null); then
  ok=0
  report=""
fi
{
  echo "# HELP kubeadm_certificate_expiry_timestamp_seconds When a kubeadm-managed certificate expires."
  echo "# TYPE kubeadm_certificate_expiry_timestamp_seconds gauge"
  authority=false
  while read -r line; do
    case "$line" in
      "CERTIFICATE AUTHORITY"*) authority=true ;;
    esac
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
  echo "# HELP kubeadm_certificate_check_success Whether the last expiry check could read every certificate."
  echo "# TYPE kubeadm_certificate_check_success gauge"
  echo "kubeadm_certificate_check_success ${ok}"
  echo "# HELP kubeadm_certificate_check_timestamp_seconds When the expiry check last ran."
  echo "# TYPE kubeadm_certificate_check_timestamp_seconds gauge"
  echo "kubeadm_certificate_check_timestamp_seconds $(date +%s)"
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "${dir}/kubeadm_certificates.prom"
trap - EXIT
