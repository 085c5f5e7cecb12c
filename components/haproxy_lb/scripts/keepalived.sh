#!/usr/bin/env bash
# shellcheck shell=bash
# keepalived moving the API VIP between the LB hosts. Idempotent; a changed keepalived.conf must
# pass `keepalived -t` before it replaces the live file and is applied by a reload. With VRRP
# auth the password arrives on stdin and is written only into the live file (mode 0600).
# Parameters: VRRP_AUTH (true/false), AUTH_PLACEHOLDER, CHECK_SCRIPT (+ _PATH, _MODE),
# KEEPALIVED_CONF (+ _PATH, _MODE).

apt_install keepalived curl
# The tracked check must exist before `keepalived -t` looks at it (script security checks it).
install_file "$CHECK_SCRIPT_PATH" "$CHECK_SCRIPT_MODE" "$CHECK_SCRIPT"
chown root:root "$CHECK_SCRIPT_PATH"

conf=$KEEPALIVED_CONF
if [[ "$VRRP_AUTH" == true ]]; then
  pass=$(read_secret_stdin)
  # keepalived's PASS auth uses at most 8 characters; quotes, blanks, '!' and '#' break its parser.
  allowed='^[A-Za-z0-9._:+=@%/-]{1,8}$'
  [[ "$pass" =~ $allowed ]] || die "keepalived_auth_pass must be 1 to 8 characters of A-Z a-z 0-9 . _ : + = @ % / -"
  # shellcheck disable=SC2034 # read by install_file, which masks it in the checker's output
  REDACT=$pass
  conf=${conf//"$AUTH_PLACEHOLDER"/"$pass"}
fi
install_file "$KEEPALIVED_CONF_PATH" "$KEEPALIVED_CONF_MODE" "$conf" keepalived -t -f
apply_service keepalived "$FILE_CHANGED"
wait_for 60 "keepalived running" systemctl is-active --quiet keepalived
log "keepalived is running"
