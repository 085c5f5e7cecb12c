#!/usr/bin/env bash
# Builds the Pulumi engine tier from Go modules into a cache outside the checkout:
#   ${JHP_ENGINE_CACHE:-~/.cache/jupyterhub-platform/engine}/<hash of versions.env + wrapper>/bin
# holding pulumi, pulumi-language-python (+ -exec), pulumi-resource-pulumi-python, pulumi-resource-
# kubernetes and the preview-only stand-ins pulumi-resource-command / pulumi-resource-random.
# Idempotent: a binary already in the cache is kept (delete the directory to rebuild). Prints what it
# built and where; the last line is the bin directory. Upstream sources live only in the Go module
# cache and in <cache>/src (a writable copy of the kubernetes provider module for its generate step).
# Go builds run under `nice -n 19`: they take both cores for many minutes.
#   bash tools/engine/build.sh             build what is missing, print the bin directory
#   bash tools/engine/build.sh --if-built  build nothing: print the bin directory if complete, else exit 1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091  # plain KEY=value lines, read from beside this script
source "$here/versions.env"

build_key=$(cd "$here" && cat versions.env cli/go.mod cli/go.sum | sha256sum | cut -c1-16)
root=${JHP_ENGINE_CACHE:-$HOME/.cache/jupyterhub-platform/engine}/$build_key
bin=$root/bin
binaries=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python
  pulumi-resource-command pulumi-resource-random pulumi-resource-kubernetes)
if [[ ${1:-} == --if-built ]]; then
  for name in "${binaries[@]}"; do [[ -x $bin/$name ]] || exit 1; done
  echo "$bin"
  exit 0
fi
mkdir -p "$bin" "$root/src"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local
go_build=(nice -n 19 go build)

say() { printf 'engine-build: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
command -v go >/dev/null || die "go is not on PATH (Go 1.26 is needed)"

# build_once NAME COMMAND...: runs COMMAND unless bin/NAME exists; timed.
build_once() {
  local name=$1; shift
  # This repository's own programs (cli/cmd/*) are rebuilt when their source is newer (seconds).
  if [[ $1 == own_build && -x $bin/$name && -n $(find "$here/cli/cmd/$3" -newer "$bin/$name" -print -quit) ]]; then
    rm -f "$bin/$name"
  fi
  if [[ -x $bin/$name ]]; then
    say "have $name ($bin/$name)"
    return 0
  fi
  local start=$SECONDS
  "$@" || die "building $name"
  [[ -x $bin/$name ]] || die "building $name produced no $bin/$name"
  say "built $name in $((SECONDS - start))s -> $bin/$name"
}

cli_build() {
  local pinned
  pinned=$(cd "$here/cli" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
  [[ $pinned == "$PULUMI_CLI_VERSION" ]] \
    || die "cli/go.mod pins pkg/v3 $pinned but versions.env says $PULUMI_CLI_VERSION: change both together"
  (cd "$here/cli" && "${go_build[@]}" -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_CLI_VERSION" \
    -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

own_build() { # own_build NAME PACKAGE-DIR: this repository's Go programs in the wrapper module
  (cd "$here/cli" && "${go_build[@]}" -ldflags "-s -w -X main.version=${PULUMI_SDK_VERSION#v}" \
    -o "$bin/$1" "./cmd/$2")
}

# The executor script and the dynamic-provider host ship inside the sdk/v3 module.
sdk_scripts() {
  local dir
  dir=$(cd "$here/cli" && go mod download -json "$PULUMI_SDK_MODULE@$PULUMI_SDK_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $dir && -d $dir/python ]] || die "no module directory for $PULUMI_SDK_MODULE@$PULUMI_SDK_VERSION"
  install -m 0755 "$dir/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"
  install -m 0755 "$dir/python/dist/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
}

kubernetes_build() {
  local mod src dir
  mod="$KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_PSEUDO"
  dir=$(cd "$here/cli" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $dir && -d $dir ]] || die "the Go module proxy did not give $mod"
  src=$root/src/kubernetes
  rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  (cd "$src" && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
    && go get "github.com/pulumi/pulumi-kubernetes/sdk/v4@$KUBERNETES_SDK_VERSION") || return 1
  # The embedded schema is generated (gitignored upstream): stamp the committed schema with the version.
  (cd "$src/cmd/pulumi-resource-kubernetes" && VERSION=$KUBERNETES_PROVIDER_VERSION nice -n 19 go run generate.go) \
    || return 1
  (cd "$src" && "${go_build[@]}" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
    -o "$bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
}

# In a function, so that bash has read all of it before building (editing this file mid-build is safe).
main() {
  total=$SECONDS
  build_once pulumi cli_build
  build_once pulumi-language-python own_build pulumi-language-python pulumi-language-python
  build_once pulumi-language-python-exec sdk_scripts
  build_once pulumi-resource-pulumi-python sdk_scripts
  build_once pulumi-resource-command own_build pulumi-resource-command pulumi-resource-previewonly
  build_once pulumi-resource-random own_build pulumi-resource-random pulumi-resource-previewonly
  build_once pulumi-resource-kubernetes kubernetes_build
  "$bin/pulumi" version >/dev/null || die "$bin/pulumi does not run"
  say "done in $((SECONDS - total))s; cache $(du -sh "$root" | cut -f1) at $root"
  echo "$bin"
}
main
