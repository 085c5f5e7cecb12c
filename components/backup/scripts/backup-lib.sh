#!/usr/bin/env bash
# shellcheck shell=bash
# Helpers of the backup jobs (inlined after lib.sh, before the job body).
# Parameters: JOB (metric label), REPOSITORY (this host's restic repository), HOST_TAG (node name),
# RESTIC_ENV_FILE (root-only: RESTIC_PASSWORD_FILE, target credentials), METRICS_DIR (node-exporter
# textfile collector), STATE_DIR (last success, locks), FORGET_ARGS (restic --keep-* flags),
# RESTIC_SFTP_COMMAND (SFTP targets only: the ssh command with the pinned host key), RESTIC (command),
# RESTIC_TIMEOUT (seconds any one restic call may take).

# restic_run ARGS...: restic against this host's repository, credentials from the root-only env file
# (sourced in a subshell: they never reach a command line or this shell's environment).
restic_run() {
  local opts=()
  [[ -n "${RESTIC_SFTP_COMMAND:-}" ]] && opts+=(-o "sftp.command=${RESTIC_SFTP_COMMAND}")
  (
    check_secret_file "$RESTIC_ENV_FILE"
    set -a
    # shellcheck source=/dev/null
    source "$RESTIC_ENV_FILE"
    set +a
    export RESTIC_REPOSITORY="$REPOSITORY"
    # Every call is bounded: RESTIC_TIMEOUT seconds (the job's own limit), so a hung upload cannot block forever.
    exec timeout "${RESTIC_TIMEOUT:-21600}" "${RESTIC:-restic}" "${opts[@]}" "$@"
  )
}

# check_secret_file PATH: the file exists and nobody but its owner can read it.
check_secret_file() {
  [[ -f "$1" ]] || die "missing ${1} (written by the platform's backup install step)"
  local mode
  mode=$(stat -c '%a' "$1")
  [[ "$mode" == 600 || "$mode" == 400 ]] || die "${1} has mode ${mode}: secrets must be 0600"
}

# ensure_repository: create this host's repository once (`cat config` fails only when there is none).
ensure_repository() {
  if restic_run cat config >/dev/null 2>&1; then
    return 0
  fi
  log "initialising restic repository for ${HOST_TAG}"
  restic_run init >&2
}

# restore_hub_db_file HUB SNAPSHOT STAGING_DIR NAME: hub HUB's hub-db snapshot SNAPSHOT (`latest`: its
# newest on this host) restored under a fresh root-only folder in STAGING_DIR. Sets RESTORE_SNAPSHOT
# (the snapshot id), RESTORE_STAGING (that folder, for the caller to remove) and RESTORED_FILE (the
# path of the file called NAME in it).
restore_hub_db_file() {
  local hub=$1 snapshot=$2 staging_dir=$3 name=$4
  if [[ "$snapshot" == latest ]]; then
    RESTORE_SNAPSHOT=$(restic_run snapshots --host "$HOST_TAG" --tag "hub=${hub}" --compact |
      awk 'length($1) == 8 && $1 ~ /^[0-9a-f]+$/ { id = $1 } END { print id }')
  else
    RESTORE_SNAPSHOT=$snapshot
  fi
  [[ -n "$RESTORE_SNAPSHOT" ]] || die "no hub-db snapshot of hub ${hub}"
  mkdir -p "$staging_dir"
  chmod 0700 "$staging_dir"
  RESTORE_STAGING=$(mktemp -d "${staging_dir}/hub-db.XXXXXX")
  restic_run restore "$RESTORE_SNAPSHOT" --target "$RESTORE_STAGING" >&2
  RESTORED_FILE=$(find "$RESTORE_STAGING" -type f -name "$name" | head -n1)
  [[ -n "$RESTORED_FILE" ]] || die "snapshot ${RESTORE_SNAPSHOT} holds no ${name}"
}

# prune_snapshots TAG: drop snapshots beyond the retention (FORGET_ARGS) for this host and tag.
prune_snapshots() {
  local keep=()
  read -r -a keep <<<"$FORGET_ARGS"
  restic_run forget --host "$HOST_TAG" --tag "$1" --group-by host,tags "${keep[@]}" --prune >&2
}

# write_metrics SUCCESS SIZE_BYTES DURATION: the job's result for node-exporter's textfile collector,
# written to a temporary file in the same directory and renamed (node-exporter never reads half a file).
write_metrics() {
  local success=$1 size=$2 duration=$3 now last file tmp label
  now=$(date +%s)
  mkdir -p "$METRICS_DIR" "$STATE_DIR"
  if ((success == 1)); then
    printf '%s\n' "$now" >"${STATE_DIR}/${JOB}.last-success"
  fi
  last=$(cat "${STATE_DIR}/${JOB}.last-success" 2>/dev/null || echo 0)
  file="${METRICS_DIR}/jupyterhub_platform_backup_${JOB//-/_}.prom"
  tmp=$(mktemp "${file}.XXXXXX")
  label="backup=\"${JOB}\",node=\"${HOST_TAG}\""
  {
    echo "# HELP jupyterhub_platform_backup_success 1 if the last run of this backup succeeded, else 0."
    echo "# TYPE jupyterhub_platform_backup_success gauge"
    echo "jupyterhub_platform_backup_success{${label}} ${success}"
    echo "# HELP jupyterhub_platform_backup_last_run_timestamp_seconds When the last run ended."
    echo "# TYPE jupyterhub_platform_backup_last_run_timestamp_seconds gauge"
    echo "jupyterhub_platform_backup_last_run_timestamp_seconds{${label}} ${now}"
    echo "# HELP jupyterhub_platform_backup_last_success_timestamp_seconds When a run last succeeded (0: never)."
    echo "# TYPE jupyterhub_platform_backup_last_success_timestamp_seconds gauge"
    echo "jupyterhub_platform_backup_last_success_timestamp_seconds{${label}} ${last}"
    echo "# HELP jupyterhub_platform_backup_size_bytes Bytes the last run backed up."
    echo "# TYPE jupyterhub_platform_backup_size_bytes gauge"
    echo "jupyterhub_platform_backup_size_bytes{${label}} ${size}"
    echo "# HELP jupyterhub_platform_backup_duration_seconds How long the last run took."
    echo "# TYPE jupyterhub_platform_backup_duration_seconds gauge"
    echo "jupyterhub_platform_backup_duration_seconds{${label}} ${duration}"
  } >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$file"
}

# start_job: one run at a time per job; whatever happens, the result lands in the metrics on exit.
# The body sets JOB_SIZE and finally JOB_DONE=1; any failure (set -e) leaves JOB_DONE=0.
start_job() {
  mkdir -p "$STATE_DIR"
  exec 9>"${STATE_DIR}/${JOB}.lock"
  flock -n 9 || die "another ${JOB} run holds ${STATE_DIR}/${JOB}.lock"
  JOB_STARTED=$SECONDS
  JOB_SIZE=0
  JOB_DONE=0
  trap finish_job EXIT
}

finish_job() {
  local status=$? success=0
  ((status == 0 && JOB_DONE == 1)) && success=1
  write_metrics "$success" "$JOB_SIZE" "$((SECONDS - JOB_STARTED))"
  if ((success)); then
    log "${JOB}: done (${JOB_SIZE} bytes)"
  else
    log "${JOB}: FAILED (exit ${status})"
  fi
}
