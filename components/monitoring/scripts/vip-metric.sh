#!/usr/bin/env bash
# shellcheck shell=bash
# A timer on each load-balancer host writes whether this host holds the VIP as a textfile metric
# (jhub_keepalived_vip_master 1 or 0), so Prometheus sees how many hosts hold it. Safe to run again:
# files are rewritten only when they change, the timer is enabled once.
# Parameters: HOLDER_SCRIPT_PATH, METRIC_SERVICE (+ _PATH, _MODE), METRIC_TIMER (+ _PATH, _MODE)

# The timer's program: arguments VIP and textfile directory. Written atomically (temporary file, then
# rename), so the collector never reads half a file.
holder=$(
  cat <<'SCRIPT'
#!/usr/bin/env bash
set -euo pipefail
vip=$1
dir=$2
held=0
# Read whole before matching: `ip ... | grep -q` under pipefail fails when grep stops early and ip
# gets SIGPIPE (many addresses), which would report a held VIP as 0.
addresses=$(ip -o -4 addr show)
if grep -qF " ${vip}/" <<<"$addresses"; then
  held=1
fi
tmp=$(mktemp "${dir}/.keepalived.prom.XXXXXX")
{
  echo '# HELP jhub_keepalived_vip_master 1 when this host holds the VIP.'
  echo '# TYPE jhub_keepalived_vip_master gauge'
  echo "jhub_keepalived_vip_master{vip=\"${vip}\"} ${held}"
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "${dir}/keepalived.prom"
SCRIPT
)
install_file "${HOST_ROOT}${HOLDER_SCRIPT_PATH}" 0755 "$holder"
install_file "${HOST_ROOT}${METRIC_SERVICE_PATH}" "$METRIC_SERVICE_MODE" "$METRIC_SERVICE"
service_changed=$FILE_CHANGED
install_file "${HOST_ROOT}${METRIC_TIMER_PATH}" "$METRIC_TIMER_MODE" "$METRIC_TIMER"
timer=$(basename "$METRIC_TIMER_PATH")
if ((service_changed == 1 || FILE_CHANGED == 1)); then
  systemctl daemon-reload
fi
systemctl enable --now "$timer" >/dev/null 2>&1 || die "cannot start ${timer}"
systemctl start "$(basename "$METRIC_SERVICE_PATH")" || die "the VIP metric service failed"
log "${timer} writes the VIP holder metric"
