#!/usr/bin/env bash
# shellcheck shell=bash
# Print the admin kubeconfig (bound to kubeadm:cluster-admins; never super-admin.conf).
# Its output is a secret: the step runs with logging off and secret stdout.

[[ -s "${KUBE_DIR}/admin.conf" ]] || die "${KUBE_DIR}/admin.conf is missing: the cluster is not initialised"
cat "${KUBE_DIR}/admin.conf"
