#!/usr/bin/env bash
# shellcheck shell=bash
# Per-user quotas on the managed NFS server: refuse an export that is not XFS with project quotas
# (with the fix), install xfsprogs, the reconcile script and its timer, and run it once so existing
# folders get their limits now. Safe to run again: files change only when they differ, and the
# reconciler itself is idempotent.
# Parameters: EXPORT_PATH, HOST_FILES, TIMERS, RECONCILE_PATH (the installed reconcile script).

check_project_quotas "$EXPORT_PATH" >/dev/null
apt_install xfsprogs
install_embedded_files
timeout 1800 "$RECONCILE_PATH"
enable_timers
log "quotas reconciled; timers: ${TIMERS}"
