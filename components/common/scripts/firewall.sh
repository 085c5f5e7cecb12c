#!/usr/bin/env bash
# shellcheck shell=bash
# Host firewall checks shared by the steps that need ports open between hosts. A port blocked by the
# host's own firewall only shows up later as a timeout (a join after 5 minutes, a hanging mount).

# firewall_detect: sets FIREWALL_KIND to the active host firewall: ufw, firewalld, nftables (an input
# chain that drops by default) or none, and FIREWALL_RULES to its rules where they are read as text.
firewall_detect() {
  FIREWALL_KIND=none
  FIREWALL_RULES=
  if command -v ufw >/dev/null 2>&1 && FIREWALL_RULES=$(timeout 30 ufw status 2>/dev/null) &&
    grep -q '^Status: active' <<<"$FIREWALL_RULES"; then
    FIREWALL_KIND=ufw
  elif systemctl is-active --quiet firewalld 2>/dev/null; then
    FIREWALL_KIND=firewalld
  elif command -v nft >/dev/null 2>&1 && FIREWALL_RULES=$(timeout 30 nft list ruleset 2>/dev/null) &&
    grep -qE 'hook input .*policy drop' <<<"$FIREWALL_RULES"; then
    FIREWALL_KIND=nftables
  fi
}

# firewall_problems WHY PORT/PROTO...: one line per port (or range, 2379-2380/tcp) the active host
# firewall has no rule for, with the command that opens it. Rules are matched by port, not by source.
firewall_problems() {
  local why=$1 spec port proto blocked fix
  shift
  firewall_detect
  [[ "$FIREWALL_KIND" != none ]] || return 0
  for spec in "$@"; do
    port=${spec%/*} proto=${spec#*/} blocked=false
    case "$FIREWALL_KIND" in
      ufw)
        grep -qE "^${port//-/:}/${proto}[[:space:]].*ALLOW" <<<"$FIREWALL_RULES" || blocked=true
        fix="ufw allow from <node network> to any port ${port//-/:} proto ${proto}" ;;
      firewalld)
        timeout 30 firewall-cmd --query-port="$spec" >/dev/null 2>&1 || blocked=true
        fix="firewall-cmd --permanent --add-port=${spec} && firewall-cmd --reload" ;;
      nftables)
        grep -qE "${proto} dport (\{[^}]*[ ,{]${port}[ ,}]|${port}( |$))" <<<"$FIREWALL_RULES" || blocked=true
        fix="add '${proto} dport ${port} accept' to the input chain" ;;
    esac
    if [[ "$blocked" == true ]]; then
      printf 'the %s firewall has no rule for %s (%s): %s\n' "$FIREWALL_KIND" "$spec" "$why" "$fix"
    fi
  done
}
