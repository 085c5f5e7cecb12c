#!/usr/bin/env bash
# shellcheck shell=bash
# Install this host's backup jobs: packages (restic, sqlite3, a pinned etcd client on control planes),
# the secrets from stdin into root-only files, the job scripts and their systemd units, the restic
# repository (created once), and the timers. Safe to run again: files are rewritten only when they
# differ, the etcd client only when its version differs, the repository is created only when missing.
# Parameters: PACKAGES, ETCD_CLIENT_VERSION (empty: none), ETCD_SHA256_AMD64, ETCD_SHA256_ARM64, ETCD_DOWNLOAD_BASE,
# CONF_DIR, HOST_FILES (names of the file variables below), TIMERS, HOST_ROOT (empty on hosts; tests
# install under a temporary directory), plus backup-lib.sh's.
# stdin: one secret per line, `<NAME> <base64 value>`: RESTIC_PASSWORD, and AWS_ACCESS_KEY_ID +
# AWS_SECRET_ACCESS_KEY (S3), SFTP_PRIVATE_KEY (SFTP), PGPASS (PostgreSQL hubs).

umask 077
# Under HOST_ROOT (tests) the env file and everything it names live below that directory too.
RESTIC_ENV_FILE="${HOST_ROOT}${RESTIC_ENV_FILE}"

# install_etcd_client: etcdctl and etcdutl of ETCD_CLIENT_VERSION from the etcd release, checked
# against the pinned sha256 (kubeadm hosts have no etcd client; Debian's is too old for etcd 3.6).
install_etcd_client() {
  local arch sum url work
  if [[ "$("${HOST_ROOT}/usr/local/bin/etcdutl" version 2>/dev/null | head -n1)" == "etcdutl version: ${ETCD_CLIENT_VERSION}" ]]; then
    return 0
  fi
  arch=$(dpkg --print-architecture)
  case "$arch" in
    amd64) sum=$ETCD_SHA256_AMD64 ;;
    arm64) sum=$ETCD_SHA256_ARM64 ;;
    *) sum="" ;;
  esac
  [[ -n "$sum" ]] || die "no sha256 pinned for etcd ${ETCD_CLIENT_VERSION} on ${arch}: set backup.etcd.client_sha256.${arch}"
  url="${ETCD_DOWNLOAD_BASE}/v${ETCD_CLIENT_VERSION}/etcd-v${ETCD_CLIENT_VERSION}-linux-${arch}.tar.gz"
  work=$(mktemp -d)
  log "installing etcdctl/etcdutl ${ETCD_CLIENT_VERSION}"
  timeout 600 curl -fsSL --retry 3 --retry-connrefused --max-time 300 -o "${work}/etcd.tar.gz" "$url"
  if ! echo "${sum}  ${work}/etcd.tar.gz" | sha256sum -c --quiet - >/dev/null 2>&1; then
    rm -rf "$work"
    die "the etcd ${ETCD_CLIENT_VERSION} archive from ${url} does not match backup.etcd.client_sha256.${arch}: refusing it"
  fi
  tar -xzf "${work}/etcd.tar.gz" -C "$work" --strip-components=1 \
    "etcd-v${ETCD_CLIENT_VERSION}-linux-${arch}/etcdctl" "etcd-v${ETCD_CLIENT_VERSION}-linux-${arch}/etcdutl"
  mkdir -p "${HOST_ROOT}/usr/local/bin"
  install -m 0755 "${work}/etcdctl" "${work}/etcdutl" "${HOST_ROOT}/usr/local/bin/"
  rm -rf "$work"
}

# write_secrets: stdin's secrets into root-only files; the restic env file names the password file.
write_secrets() {
  local name value env_text
  declare -A secret=()
  while read -r name value; do
    [[ -n "$name" ]] || continue
    secret[$name]=$(printf '%s' "$value" | base64 -d) || die "secret ${name} on stdin is not base64"
  done <<<"$(read_secret_stdin)"
  [[ -n "${secret[RESTIC_PASSWORD]:-}" ]] || die "no RESTIC_PASSWORD on stdin"
  mkdir -p "${HOST_ROOT}${CONF_DIR}"
  chmod 0700 "${HOST_ROOT}${CONF_DIR}"
  install_file "${HOST_ROOT}${CONF_DIR}/restic-password" 0600 "${secret[RESTIC_PASSWORD]}"
  env_text="RESTIC_PASSWORD_FILE=$(printf '%q' "${HOST_ROOT}${CONF_DIR}/restic-password")"
  for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
    [[ -n "${secret[$name]:-}" ]] && env_text+=$'\n'"${name}=$(printf '%q' "${secret[$name]}")"
  done
  [[ -n "${AWS_REGION_NAME:-}" ]] && env_text+=$'\n'"AWS_DEFAULT_REGION=$(printf '%q' "$AWS_REGION_NAME")"
  install_file "$RESTIC_ENV_FILE" 0600 "$env_text"
  if [[ -n "${secret[SFTP_PRIVATE_KEY]:-}" ]]; then
    install_file "${HOST_ROOT}${CONF_DIR}/sftp-key" 0600 "${secret[SFTP_PRIVATE_KEY]}"
  fi
  if [[ -n "${secret[PGPASS]:-}" ]]; then
    install_file "${HOST_ROOT}${CONF_DIR}/pgpass" 0600 "${secret[PGPASS]}"
  fi
}

if [[ -n "$PACKAGES" ]]; then
  read -r -a packages <<<"$PACKAGES"
  apt_install "${packages[@]}"
fi
[[ -z "$ETCD_CLIENT_VERSION" ]] || install_etcd_client
write_secrets

install_embedded_files
ensure_repository
enable_timers
log "backups installed: ${TIMERS}"
