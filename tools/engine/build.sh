#!/usr/bin/env bash
# Builds the Pulumi engine tier from Go modules into a cache outside the checkout:
#   ${JHP_ENGINE_CACHE:-~/.cache/jupyterhub-platform/engine}/<hash of versions.env + wrapper>/bin
# holding pulumi, pulumi-language-python (+ -exec), pulumi-resource-pulumi-python, pulumi-resource-
# kubernetes, the preview-only stand-in pulumi-resource-command, and the test cluster the tier applies
# stacks to: kube-apiserver (k8s.io/kubernetes, wrapper module apiserver/) and etcd (etcd/).
# The engine part of the directory name hashes versions.env up to its test-cluster section plus cli/;
# the test cluster's section, apiserver/ and etcd/ are hashed apart (recorded in <dir>/cluster.key), so
# changing the cluster's versions rebuilds only kube-apiserver and etcd.
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

cluster_marker='^# --- test cluster'
grep -q "$cluster_marker" "$here/versions.env" || { echo "engine-build: versions.env lost its test-cluster line" >&2; exit 1; }
build_key=$(cd "$here" && { sed "/$cluster_marker/,\$d" versions.env; cat cli/go.mod cli/go.sum; } | sha256sum | cut -c1-16)
cluster_key=$(cd "$here" && { sed -n "/$cluster_marker/,\$p" versions.env; cat apiserver/go.mod apiserver/go.sum \
  etcd/go.mod etcd/go.sum etcd/main.go; } | sha256sum | cut -c1-16)
root=${JHP_ENGINE_CACHE:-$HOME/.cache/jupyterhub-platform/engine}/$build_key
bin=$root/bin
binaries=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python
  pulumi-resource-command pulumi-resource-kubernetes kube-apiserver etcd)
cluster_built() { [[ -f $root/cluster.key && $(cat "$root/cluster.key") == "$cluster_key" ]]; }
if [[ ${1:-} == --if-built ]]; then
  for name in "${binaries[@]}"; do [[ -x $bin/$name ]] || exit 1; done
  cluster_built || exit 1
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

# kube_ldflags: Kubernetes' version stamps (hack/lib/version.sh sets the same variables), so that
# /version reports the release rather than v0.0.0 to the kubernetes provider.
kube_ldflags() {
  local minor=${KUBERNETES_VERSION#v1.} flags="-s -w" pkg
  minor=${minor%%.*}
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

pinned_in() { # pinned_in DIR MODULE: the version DIR/go.mod requires (or replaces MODULE by)
  (cd "$here/$1" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$2")
}

apiserver_build() {
  [[ $(pinned_in apiserver k8s.io/kubernetes) == "$KUBERNETES_VERSION" ]] \
    || die "apiserver/go.mod does not pin k8s.io/kubernetes $KUBERNETES_VERSION (versions.env): change both together"
  [[ $(pinned_in apiserver k8s.io/api) == "$KUBERNETES_STAGING_VERSION" ]] \
    || die "apiserver/go.mod does not replace k8s.io/api by $KUBERNETES_STAGING_VERSION (versions.env)"
  (cd "$here/apiserver" && "${go_build[@]}" -ldflags "$(kube_ldflags)" -o "$bin/kube-apiserver" \
    k8s.io/kubernetes/cmd/kube-apiserver)
}

etcd_build() {
  [[ $(pinned_in etcd go.etcd.io/etcd/server/v3) == "$ETCD_SERVER_VERSION" ]] \
    || die "etcd/go.mod does not pin go.etcd.io/etcd/server/v3 $ETCD_SERVER_VERSION (versions.env)"
  (cd "$here/etcd" && "${go_build[@]}" -ldflags "-s -w" -o "$bin/etcd" .)
}

# In a function, so that bash has read all of it before building (editing this file mid-build is safe).
main() {
  total=$SECONDS
  build_once pulumi cli_build
  build_once pulumi-language-python own_build pulumi-language-python pulumi-language-python
  build_once pulumi-language-python-exec sdk_scripts
  build_once pulumi-resource-pulumi-python sdk_scripts
  build_once pulumi-resource-command own_build pulumi-resource-command pulumi-resource-previewonly
  build_once pulumi-resource-kubernetes kubernetes_build
  if ! cluster_built; then  # the test cluster's versions changed (or never built here): rebuild both
    rm -f "$bin/kube-apiserver" "$bin/etcd" "$root/cluster.key"
  fi
  build_once etcd etcd_build
  build_once kube-apiserver apiserver_build
  "$bin/kube-apiserver" --version >/dev/null || die "$bin/kube-apiserver does not run"
  echo "$cluster_key" > "$root/cluster.key"
  "$bin/pulumi" version >/dev/null || die "$bin/pulumi does not run"
  say "done in $((SECONDS - total))s; cache $(du -sh "$root" | cut -f1) at $root"
  echo "$bin"
}
main
