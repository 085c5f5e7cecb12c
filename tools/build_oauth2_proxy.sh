#!/usr/bin/env bash
# Build the pinned oauth2-proxy from its Go module into a per-user cache outside the repo, so the
# consoles live test (tests/test_consoles_live.py) drives the real login proxy. Idempotent: a binary
# that already reports the pinned version is kept. The build runs under `nice -n 19` because CI
# machines are shared; every network step and the build itself have a deadline.
# Usage: tools/build_oauth2_proxy.sh   (prints the binary's path on stdout)
set -euo pipefail

# Keep in step with components/consoles/versions.py (OAUTH2_PROXY_VERSION); a test checks it.
version="v7.15.6"
module="github.com/oauth2-proxy/oauth2-proxy/v7"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/jupyterhub-platform/oauth2-proxy"
dest="$cache_root/$version"
binary="$dest/oauth2-proxy"

if [[ -x "$binary" ]] && "$binary" --version 2>&1 | grep -q -- "oauth2-proxy ${version}"; then
  echo "$binary"
  exit 0
fi

# Go 1.21+ fetches the toolchain the module's go line asks for (GOTOOLCHAIN=auto); older Go cannot.
go_too_old="error: oauth2-proxy ${version} needs Go 1.21 or newer on PATH (https://go.dev/dl; Debian 12's golang-go is 1.19)"
command -v go >/dev/null 2>&1 || { echo "$go_too_old" >&2; exit 1; }
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if ! [[ "$go_minor" =~ ^[0-9]+$ ]] || ((go_minor < 21)); then
  echo "$go_too_old (found $(go env GOVERSION))" >&2
  exit 1
fi

# Ask the module proxy first: a clear message beats a long build that fails on a missing version.
if ! versions=$(timeout 120 go list -m -versions "$module" 2>&1); then
  echo "error: the Go module proxy did not answer for $module: $versions" >&2
  exit 1
fi
if ! grep -qw -- "$version" <<<"$versions"; then
  echo "error: the Go module proxy does not serve $module@$version (it serves: ${versions#"$module"})" >&2
  exit 1
fi

mkdir -p "$cache_root"
staging=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$staging"' EXIT
echo "building $module@$version (cold builds take several minutes)" >&2
# The release stamps its version at link time (as upstream's Makefile does); `--version` then reports it.
ldflags="-X ${module}/pkg/version.VERSION=${version}"
GOBIN="$staging" GOFLAGS="${GOFLAGS:-} -trimpath" nice -n 19 timeout 3600 go install -ldflags="$ldflags" "$module@$version"
# go install names the binary after the module path's last element (v7), not the project.
built="$staging/v7"
[[ -x "$built" ]] || built="$staging/oauth2-proxy"
"$built" --version 2>&1 | grep -q -- "oauth2-proxy ${version}" || {
  echo "error: the built binary does not report oauth2-proxy ${version}: $("$built" --version 2>&1)" >&2
  exit 1
}
mkdir -p "$dest"
# Rename into place: a concurrent run sees either no binary or a whole one.
mv -f "$built" "$binary.tmp.$$"
mv -f "$binary.tmp.$$" "$binary"
echo "$binary"
