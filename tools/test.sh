#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: installs the Debian tools the tests drive
# (haproxy, keepalived, shellcheck, sshd, ip; for the backups etcd, etcdctl, restic, sqlite3 and
# systemd-analyze; for monitoring promtool and amtool) and the pinned Python packages, builds the pinned
# oauth2-proxy from its Go module (tools/build_oauth2_proxy.sh, cached; needs Go 1.21+ on PATH), then
# runs ruff, mypy, lint-imports (the layers of config/, see pyproject.toml) and pytest. Extra arguments
# go to pytest. With CI=true, a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pair in haproxy:haproxy keepalived:keepalived shellcheck:shellcheck sshd:openssh-server ip:iproute2 \
  etcd:etcd-server etcdctl:etcd-client restic:restic sqlite3:sqlite3 systemd-analyze:systemd \
  promtool:prometheus amtool:prometheus-alertmanager; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [[ -x "/usr/sbin/${pair%%:*}" ]] || missing+=("${pair##*:}")
done
if ((${#missing[@]} > 0)); then
  echo "installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo -n)
  "${sudo_cmd[@]}" timeout 600 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[[ -x venv/bin/python ]] || python3 -m venv venv
venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

# The consoles' live test runs the real oauth2-proxy (a cold build takes minutes; later runs reuse it).
tools/build_oauth2_proxy.sh >/dev/null

# nbgrader, ngshare and ngshare-exchange cannot share the main venv (see requirements-nbgrader.txt).
[[ -x venv-nbgrader/bin/python ]] || python3 -m venv venv-nbgrader
venv-nbgrader/bin/python -m pip install -q --disable-pip-version-check -r requirements-nbgrader.txt
venv-nbgrader/bin/python -m pip install -q --disable-pip-version-check --no-deps ngshare-exchange==0.5.3

venv/bin/ruff check .
venv/bin/mypy
venv/bin/lint-imports --no-cache
venv/bin/python -m pytest -q "$@"

# The real-engine tier (README "The real-engine tier"), only where its engine build is already in the
# cache: a cold build (bash tools/engine/build.sh) takes far longer than a CI run may.
if bash tools/engine/build.sh --if-built >/dev/null 2>&1; then
  bash tools/e2e.sh
else
  echo "real-engine tier not run: no complete engine build (engine, kube-apiserver, etcd) in the cache (bash tools/engine/build.sh makes one)"
fi
