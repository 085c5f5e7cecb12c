#!/usr/bin/env bash
# shellcheck shell=bash
# Join this node (worker or control plane) with join material read from stdin, once.
# The JoinConfiguration template (kept on the host, no secrets in it) has @TOKEN@, @CA_HASH@ and
# @CERT_KEY@ slots filled here, so the secrets only exist in a root-only file removed afterwards.
# A marker written after a successful join is the guard. Without it, files of an earlier join mean
# either a join that finished just before the session died (the API knows the node and its kubelet
# reports; on a control plane its etcd member is healthy): then only the marker is written; or a
# join interrupted halfway (kubelet bootstrap files, a half-added etcd member): reset, join again.
# Parameters: NODE_NAME JOIN_ROLE JOIN_TIMEOUT JOIN_MARKER INIT_MARKER MINT_STEP; files JOIN_CONFIG;
# stdin: TOKEN CA_HASH CERT_KEY EXPIRES (EXPIRES: Unix time after which the material is stale)

k8s_dir="${HOST_ROOT}${KUBE_DIR}"
marker="${HOST_ROOT}${JOIN_MARKER}"
material=$(read_secret_stdin)
install_file "${HOST_ROOT}${JOIN_CONFIG_PATH}" "$JOIN_CONFIG_MODE" "$JOIN_CONFIG"
if [[ -f "$marker" ]]; then
  joined_as=$(sed -n 's/^role=//p' "$marker")
  if [[ -n "$joined_as" && "$joined_as" != "$JOIN_ROLE" ]]; then
    die "${NODE_NAME} joined as ${joined_as} and is now configured as ${JOIN_ROLE}: remove it from the stack, apply, then add it back"
  fi
  log "${NODE_NAME} is already part of the cluster: not joining again"
  exit 0
fi
[[ ! -f "${HOST_ROOT}${INIT_MARKER}" ]] || die "${NODE_NAME} initialised the cluster; it cannot join it as another node"
read -r token ca_hash cert_key expires <<<"$material"
[[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "join material on stdin has no valid bootstrap token"
[[ "$ca_hash" =~ ^sha256:[a-f0-9]{64}$ ]] || die "join material on stdin has no valid CA hash"
# The material is minted once per `pulumi up` for every node joining in it (mint-join.sh) and says
# when it goes stale (token TTL; for control planes also the uploaded certificates' 2 h): refuse it
# then, with the way out, instead of failing halfway through kubeadm join.
[[ "${expires:-}" =~ ^[0-9]+$ ]] || die "join material on stdin has no expiry time"
if ((expires < $(date -u +%s) + 60)); then
  die "join material expired at $(date -u -d "@${expires}" +%FT%TZ); mint fresh material: pulumi up --replace '<urn of ${MINT_STEP}>'"
fi

write_marker() {
  printf 'role=%s\njoined=%s\n' "$JOIN_ROLE" "$(date -u +%FT%TZ)" >"$marker"
}

# kubelet_reporting: the API has this Node and its kubelet reports: Ready, or NotReady only because
# no CNI is installed yet (Calico comes after every join). Asked with the node's own credentials.
kubelet_reporting() {
  local ready
  ready=$(timeout 30 kubectl --kubeconfig "${k8s_dir}/kubelet.conf" get node "$NODE_NAME" --request-timeout=20s \
    -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.message}{end}' 2>/dev/null) || return 1
  [[ "$ready" == True* ]] || { [[ "$ready" == False* ]] && grep -qiE 'network|cni' <<<"$ready"; }
}

# etcd_member_healthy: on a control plane, its etcd static pod runs and passes its health probe.
etcd_member_healthy() {
  local ready
  ready=$(timeout 30 kubectl --kubeconfig "${k8s_dir}/admin.conf" -n kube-system get pod "etcd-${NODE_NAME}" \
    --request-timeout=20s -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) || return 1
  [[ "$ready" == True ]]
}

if [[ -e "${k8s_dir}/kubelet.conf" || -e "${k8s_dir}/bootstrap-kubelet.conf" || -e "${k8s_dir}/pki/ca.crt" ]]; then
  if [[ -e "${k8s_dir}/kubelet.conf" ]] && kubelet_reporting &&
    { [[ "$JOIN_ROLE" != control-plane ]] || etcd_member_healthy; }; then
    log "${NODE_NAME} finished joining earlier (the API knows it, its kubelet reports, and on a control plane its etcd member is healthy): writing the marker, not resetting"
    write_marker
    exit 0
  fi
  log "an earlier join of ${NODE_NAME} did not finish: resetting before joining again"
  timeout 300 kubeadm reset --force >&2
fi

umask 077
config_file=$(mktemp "${k8s_dir}/join-XXXXXX.yaml")
trap 'rm -f "$config_file"' EXIT
rendered=${JOIN_CONFIG//@TOKEN@/$token}
rendered=${rendered//@CA_HASH@/$ca_hash}
rendered=${rendered//@CERT_KEY@/$cert_key}
printf '%s\n' "$rendered" >"$config_file"
log "joining ${NODE_NAME}"
if ! timeout "$JOIN_TIMEOUT" kubeadm join --config "$config_file" >&2; then
  # Stale material is refused above; a failure with fresh material may still be a revoked token.
  die "kubeadm join failed; if the join material may be revoked or stale, mint fresh material: pulumi up --replace '<urn of ${MINT_STEP}>'"
fi
wait_for 300 "the kubelet to run" systemctl is-active --quiet kubelet
write_marker
log "${NODE_NAME} joined"
