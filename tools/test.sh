#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: installs the Debian tools the tests drive
# (haproxy, keepalived, shellcheck, sshd, ip, go) and the pinned Python packages, builds the pinned
# oauth2-proxy from its Go module (tools/build_oauth2_proxy.sh; cached), then runs ruff, mypy and
# pytest. Extra arguments go to pytest. With CI=true, a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# Debian's golang-go is older than oauth2-proxy's go line: `go install` then fetches that toolchain itself.
for pair in haproxy:haproxy keepalived:keepalived shellcheck:shellcheck sshd:openssh-server ip:iproute2 go:golang-go; do
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

venv/bin/ruff check .
venv/bin/mypy
venv/bin/python -m pytest -q "$@"
