#!/usr/bin/env bash
# shellcheck shell=bash
# XFS project quotas for the home folders: each new folder `<HOMES_ROOT>/<namespace>/<user>` gets the
# next free project id (`xfs_quota project -s`), each folder's limits are set when they differ from the
# ones last applied, and every folder's usage and limits are written for node-exporter's textfile collector.
# Safe to run again: the id map and applied limits are kept in STATE_DIR; nothing is ever deleted.
# Parameters: HOMES_ROOT, LIMITS (one per line: `<namespace> <user or *> <soft GiB> <hard GiB>`; `*` is the
# namespace default, `* *` the global default), FIRST_PROJECT_ID, STATE_DIR, METRICS_DIR, XFS_QUOTA and
# FINDMNT (commands).

mkdir -p "$STATE_DIR"
exec 9>"${STATE_DIR}/quotas.lock"
flock -n 9 || die "another quota run holds ${STATE_DIR}/quotas.lock"
mount_point=$(check_project_quotas "$HOMES_ROOT")
map="${STATE_DIR}/projects"
applied="${STATE_DIR}/limits-applied"
touch "$map" "$applied"

xq() {
  timeout 300 "${XFS_QUOTA:-xfs_quota}" -x "$@" "$mount_point"
}

# limit_of NAMESPACE USER: "soft hard" from LIMITS, the most specific line winning.
limit_of() {
  local ns=$1 user=$2 best="" rank=0 l_ns l_user soft hard r
  while read -r l_ns l_user soft hard; do
    [[ -n "$l_ns" ]] || continue
    r=0
    if [[ "$l_ns" == "$ns" && "$l_user" == "$user" ]]; then r=3
    elif [[ "$l_ns" == "$ns" && "$l_user" == "*" ]]; then r=2
    elif [[ "$l_ns" == "*" && "$l_user" == "*" ]]; then r=1
    fi
    if ((r > rank)); then rank=$r best="$soft $hard"; fi
  done <<<"$LIMITS"
  [[ -n "$best" ]] || die "no quota limit for ${ns}/${user} (LIMITS has no '* *' default)"
  printf '%s\n' "$best"
}

next_id=$FIRST_PROJECT_ID
while IFS=: read -r id _; do
  ((id >= next_id)) && next_id=$((id + 1))
done <"$map"

# New folders: a project id each. Names outside [A-Za-z0-9._@-] are skipped (they cannot come from
# KubeSpawner's escaped user names and would break the map and the metric labels).
shopt -s nullglob
for dir in "$HOMES_ROOT"/*/*/; do
  dir=${dir%/}
  name=${dir#"$HOMES_ROOT"/}
  if [[ ! "$name" =~ ^[A-Za-z0-9._@-]+/[A-Za-z0-9._@-]+$ ]]; then
    log "skipping ${dir}: unexpected characters in its name"
    continue
  fi
  awk -F: -v n="$name" '$2 == n { found = 1 } END { exit !found }' "$map" && continue
  xq -c "project -s -p ${dir} ${next_id}" >/dev/null
  printf '%s:%s\n' "$next_id" "$name" >>"$map"
  log "project ${next_id} for ${name}"
  next_id=$((next_id + 1))
done

# Limits: only those that changed since the last run, in one xfs_quota call.
commands=()
declare -A applied_limits=()
while IFS=: read -r id name; do
  [[ -d "${HOMES_ROOT}/${name}" ]] || continue
  read -r soft hard <<<"$(limit_of "${name%%/*}" "${name#*/}")"
  applied_limits[$id]="$soft $hard"
  grep -qx "${id} ${soft} ${hard}" "$applied" || commands+=(-c "limit -p bsoft=${soft}g bhard=${hard}g ${id}")
done <"$map"
if ((${#commands[@]} > 0)); then
  xq "${commands[@]}" >/dev/null
  for id in "${!applied_limits[@]}"; do
    printf '%s %s\n' "$id" "${applied_limits[$id]}"
  done | sort -n >"$applied"
  log "applied $((${#commands[@]} / 2)) limit(s)"
fi

# Usage for monitoring: `report -p -n -N -b` prints `#<id> <used KiB> <soft KiB> <hard KiB> ...` per project.
declare -A used=()
while read -r pid kib _; do
  [[ "$pid" =~ ^#([0-9]+)$ ]] && used[${BASH_REMATCH[1]}]=$kib
done < <(xq -c "report -p -n -N -b")
mkdir -p "$METRICS_DIR"
file="${METRICS_DIR}/jupyterhub_platform_home_quota.prom"
tmp=$(mktemp "${file}.XXXXXX")
{
  echo "# HELP jupyterhub_platform_home_used_bytes Bytes used by a user's home folder (XFS project quota)."
  echo "# TYPE jupyterhub_platform_home_used_bytes gauge"
  echo "# HELP jupyterhub_platform_home_quota_soft_bytes Soft limit of a user's home folder."
  echo "# TYPE jupyterhub_platform_home_quota_soft_bytes gauge"
  echo "# HELP jupyterhub_platform_home_quota_hard_bytes Hard limit of a user's home folder."
  echo "# TYPE jupyterhub_platform_home_quota_hard_bytes gauge"
  while IFS=: read -r id name; do
    [[ -n "${applied_limits[$id]:-}" ]] || continue
    read -r soft hard <<<"${applied_limits[$id]}"
    label="namespace=\"${name%%/*}\",user=\"${name#*/}\""
    echo "jupyterhub_platform_home_used_bytes{${label}} $((${used[$id]:-0} * 1024))"
    echo "jupyterhub_platform_home_quota_soft_bytes{${label}} $((soft * 1073741824))"
    echo "jupyterhub_platform_home_quota_hard_bytes{${label}} $((hard * 1073741824))"
  done <"$map"
  echo "# HELP jupyterhub_platform_home_quota_last_run_timestamp_seconds When the quota reconciler last finished."
  echo "# TYPE jupyterhub_platform_home_quota_last_run_timestamp_seconds gauge"
  echo "jupyterhub_platform_home_quota_last_run_timestamp_seconds $(date +%s)"
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$file"
