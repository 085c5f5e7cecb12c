#!/usr/bin/env bash
# shellcheck shell=bash
# List this host's restic snapshots (read-only): what `tools.restore` asks for as --snapshot or --at.
# Parameters: TAG (empty: all), plus backup-lib.sh's.

filter=()
[[ -z "$TAG" ]] || filter=(--tag "$TAG")
restic_run snapshots "${filter[@]}"
