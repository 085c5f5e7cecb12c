#!/usr/bin/env bash
# shellcheck shell=bash
# Node preparation, last part: this host's sshd accepts as many simultaneous connection setups
# (MaxStartups) and sessions per connection (MaxSessions) as the platform may open (see
# ssh.max_parallel_sessions), instead of starting to refuse at 10. A drop-in early in
# sshd_config.d, checked with `sshd -t` before it replaces anything; sshd is reloaded, which keeps
# open sessions (this one included). A site's own setting may still win (sshd keeps the first
# value of most keywords, but OpenSSH 9.2 keeps the last MaxStartups): the step reports that.
# Parameters: SSHD_CONFIG (main config, which must Include the drop-in directory); files SSHD_LIMITS

sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)
[[ -x "$sshd_bin" ]] || die "sshd is not installed"
# The candidate is read first, then the live configuration: what sshd would run with afterwards.
# shellcheck disable=SC2317 # called by install_file
check_candidate() {
  local probe rc=0
  probe=$(mktemp)
  printf 'Include %s\nInclude %s\n' "$1" "$SSHD_CONFIG" >"$probe"
  "$sshd_bin" -t -f "$probe" || rc=$?
  rm -f "$probe"
  return "$rc"
}
install_file "$SSHD_LIMITS_PATH" "$SSHD_LIMITS_MODE" "$SSHD_LIMITS" check_candidate
if ((FILE_CHANGED == 1)); then
  "$sshd_bin" -t -f "$SSHD_CONFIG" || die "sshd rejects its configuration with ${SSHD_LIMITS_PATH}"
  for unit in ssh sshd; do
    if systemctl is-active --quiet "$unit"; then
      systemctl reload "$unit"
      log "reloaded ${unit} with ${SSHD_LIMITS_PATH}"
      break
    fi
  done
fi
# Say so when a site setting wins, rather than assume the limits apply.
wanted_max_startups=$(grep -i '^MaxStartups ' <<<"$SSHD_LIMITS" | awk '{print $2}')
effective=$("$sshd_bin" -T -f "$SSHD_CONFIG" 2>/dev/null | awk 'tolower($1) == "maxstartups" {print $2}')
if [[ "$effective" != "$wanted_max_startups" ]]; then
  log "sshd's effective MaxStartups is ${effective:-unknown}, not ${wanted_max_startups}: a site setting in ${SSHD_CONFIG} wins"
fi
