#!/usr/bin/env bash
# shellcheck shell=bash
# NFS client tools, so kubelet can mount the homes and shared volumes on this node.

apt_install nfs-common
command -v mount.nfs >/dev/null 2>&1 || [[ -x "${HOST_ROOT}/sbin/mount.nfs" ]] || die "mount.nfs is missing after installing nfs-common"
log "NFS client ready"
