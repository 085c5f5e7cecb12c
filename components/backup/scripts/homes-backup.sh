#!/usr/bin/env bash
# shellcheck shell=bash
# Nightly backup of the NFS export's homes (and shared folders) with restic, tag `homes`, excluding
# caches (EXCLUDES, one restic pattern per line), then pruning old snapshots (FORGET_ARGS).
# Safe to run again: restic deduplicates, so a second run only records a new snapshot.
# Parameters: BACKUP_PATHS (space-separated absolute directories), EXCLUDES, plus backup-lib.sh's.

start_job
read -r -a paths <<<"$BACKUP_PATHS"
for path in "${paths[@]}"; do
  [[ -d "$path" ]] || die "${path} does not exist (is the export mounted?)"
done
exclude_file="${STATE_DIR}/${JOB}.exclude"
printf '%s\n' "$EXCLUDES" >"$exclude_file"
ensure_repository
# The JSON lines go to a file first, so a failing restic fails the job (a pipe into grep would hide it).
report="${STATE_DIR}/${JOB}.json"
restic_run backup --host "$HOST_TAG" --tag homes --one-file-system --exclude-file "$exclude_file" \
  --json "${paths[@]}" >"$report"
summary=$(grep '"message_type":"summary"' "$report" || true)
[[ "$summary" =~ \"total_bytes_processed\":([0-9]+) ]] || die "restic reported no summary"
export JOB_SIZE=${BASH_REMATCH[1]}
prune_snapshots homes
export JOB_DONE=1
