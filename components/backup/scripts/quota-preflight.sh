#!/usr/bin/env bash
# shellcheck shell=bash
# check_project_quotas DIR: DIR's filesystem is XFS mounted with project quotas; prints its mount
# point. Refuses anything else with the fix, since XFS project quotas are the only per-folder limit
# that works when every NFS client is squashed to one uid.
# Parameters: FINDMNT (command; tests point it at a shim, since no XFS can be mounted there).
check_project_quotas() {
  local dir=$1 fields fstype options target source
  fields=$(timeout 30 "${FINDMNT:-findmnt}" -n -o FSTYPE,OPTIONS,TARGET,SOURCE --target "$dir") ||
    die "cannot find the filesystem of ${dir}"
  read -r fstype options target source <<<"$fields"
  if [[ "$fstype" != xfs ]]; then
    die "quotas: ${dir} is on ${fstype} (${source} at ${target}), not XFS. Fix: put the export on its own XFS" \
      "filesystem (mkfs.xfs /dev/<disk>; /etc/fstab: '/dev/<disk> ${target} xfs defaults,prjquota 0 2'; mount it)" \
      "and move the data there, or set quotas.enabled: false"
  fi
  if [[ ",${options}," != *,prjquota,* && ",${options}," != *,pquota,* ]]; then
    die "quotas: ${target} (${source}) is XFS without project quotas (options ${options}). Fix: add 'prjquota' to" \
      "its options in /etc/fstab, then umount ${target} and mount it again (a remount cannot turn quotas on;" \
      "for the root filesystem add rootflags=prjquota to the kernel command line and reboot), or set quotas.enabled: false"
  fi
  printf '%s\n' "$target"
}
