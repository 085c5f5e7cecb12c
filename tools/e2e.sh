#!/usr/bin/env bash
# The real-engine tier: the program under the Pulumi engine built by tools/engine/build.sh, offline.
#   bash tools/e2e.sh [preview] [contract] [cluster]   (default: all three; builds the engine first if
#                     its cache is missing; JHP_ENGINE_BIN=DIR uses an engine bin directory)
# For dev, prod and the 200-worker fixture, as fresh stacks on a local file backend in a temporary folder (passphrase secrets,
# test secret values on stdin, no plugin downloads, no update check):
#   - `pulumi preview` succeeds, with every Helm Release pointed at test charts served on 127.0.0.1
#     (charts.repository_overrides). Measured: in these fresh previews every Release has unknown
#     inputs (the cluster does not exist yet), so the kubernetes provider does not download the charts
#     yet; they are served so the configured source goes through the provider's Check for real;
#   - the preview's resources (type and name) are exactly the offline render's plan.json.
# And a small stack with the stack contract alone, published to S3 (moto_server on 127.0.0.1) by the
# real dynamic provider: created on up, untouched by an up without change, updated, deleted on destroy.
# And (part `cluster`) `pulumi up`, a second `pulumi up` that must change nothing, and `pulumi destroy`
# of the dev stack in existing-cluster mode against kube-apiserver and etcd (tools/engine/build.sh builds
# both) started here on 127.0.0.1 ephemeral ports with a CA made here; its Releases come from test charts
# served on 127.0.0.1; every object is then read back over HTTPS with the admin client certificate
# (tools/e2e_kube.py). Destroy must stop at the protected objects; after `pulumi state unprotect --all`
# it must remove everything except the retain_on_delete volumes.
# Ends with `e2e: N passed, M failed` and exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
python=$repo/venv/bin/python
[[ -x $python ]] || { echo "e2e: no venv: run bash tools/test.sh (or python3 -m venv venv && pip install) first" >&2; exit 2; }

parts=("$@")
((${#parts[@]} > 0)) || parts=(preview contract cluster)
bin=${JHP_ENGINE_BIN:-$(bash tools/engine/build.sh | tail -n 1)}
work=$(mktemp -d "${TMPDIR:-/tmp}/jhp-e2e.XXXXXX")
pids=() # every background process this script starts (chart servers, moto_server, etcd, kube-apiserver)
started() { # started PID: stopped at exit, newest first; disowned so that bash reports nothing about it
  pids=("$1" "${pids[@]}")
  disown "$1"
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do # kube-apiserver before etcd: each gets 15 s to stop, then is killed
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # a stopped run still stops its servers (through the EXIT trap)

passed=0
failed=0
check() { # check NAME COMMAND...: one counted check
  local name=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "e2e: PASS $name"
  else
    failed=$((failed + 1)); echo "e2e: FAIL $name"
  fi
}

# The engine, offline and self-contained in $work.
umask 077
printf 'e2e-%s\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$work/passphrase"
export PATH="$bin:$PATH" PULUMI_HOME="$work/pulumi-home" PULUMI_BACKEND_URL="file://$work/state" \
  PULUMI_CONFIG_PASSPHRASE_FILE="$work/passphrase" PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
  PULUMI_SKIP_UPDATE_CHECK=true PULUMI_SKIP_CONFIRMATIONS=true PULUMI_K8S_HELM_REPOSITORY_CONFIG_PATH="$work/helm/repositories.yaml" \
  PULUMI_K8S_HELM_REPOSITORY_CACHE="$work/helm/cache"
unset PULUMI_CONFIG_PASSPHRASE PULUMI_ACCESS_TOKEN
mkdir -p "$work/state" "$work/helm/cache"
# The preview-only stand-in answers with the version the program pins (requirements.txt).
PULUMI_PREVIEWONLY_VERSION_COMMAND=$(sed -n 's/^pulumi-command==//p' requirements.txt)
export PULUMI_PREVIEWONLY_VERSION_COMMAND
# The dynamic providers (pulumi-resource-pulumi-python) run in the program's virtualenv.
export PULUMI_RUNTIME_VIRTUALENV="$repo/venv"

new_project() { # new_project DIR MAIN: a copy of the program (stack files and state never land in the checkout)
  mkdir -p "$1"
  cp -r Pulumi.yaml requirements.txt components config rosters "$1/"
  cp "$2" "$1/__main__.py"
  ln -s "$repo/venv" "$1/venv"
}

serve_charts() { # serve_charts DIR: an HTTP chart repository of DIR (filled later is fine) on 127.0.0.1 at $served_url
  mkdir -p "$1"
  "$python" -m tools.e2e_support serve "$1" "$1.port" > "$1.log" 2>&1 &
  started $!
  for _ in $(seq 100); do [[ -s $1.port ]] && break; sleep 0.1; done
  [[ -s $1.port ]] || { echo "e2e: the chart server did not start" >&2; exit 1; }
  served_url="http://127.0.0.1:$(cat "$1.port")"
}

# --- preview: dev and prod as fresh stacks, compared with the offline render -------------------------
test_secret() { # test_secret KEY: a test value of the shape the key's value rule accepts (config/secrets.py)
  case "$1" in
    encryption_key_*) head -c 32 /dev/zero | tr '\0' k | base64 ;; # 32 bytes, base64
    keepalived_auth_pass) printf 'e2epass' ;;                       # VRRP PASS: at most 8 characters
    *) printf 'e2e-test-value-%s' "$1" ;;
  esac
}

# The stacks previewed: dev, prod and the 200-worker fixture (about 1,000 resources: the engine at scale).
preview_stacks=(dev prod scale-200)
stack_source() { # stack_source STACK: the committed stack file it is made from
  case "$1" in
    scale-200) printf 'tests/fixtures/scale-200.yaml' ;;
    *) printf 'Pulumi.%s.yaml' "$1" ;;
  esac
}

preview_stack() { # preview_stack STACK: fresh stack, test secrets on stdin, preview to JSON
  local stack=$1 name="e2e-$1" key start
  "$python" -m tools.e2e_support stack-file "$(stack_source "$stack")" "$charts_url" "$project/Pulumi.$name.yaml" \
    > "$work/secrets-$stack" || return 1
  (cd "$project" && pulumi stack init "$name" --secrets-provider passphrase --non-interactive >/dev/null) || return 1
  while read -r key; do
    test_secret "$key" | (cd "$project" && pulumi config set --secret --stack "$name" "$key") || return 1
  done < "$work/secrets-$stack"
  start=$(date +%s%N)
  # As the pull-request workflow runs it: without the CLI re-serialising the whole state after every
  # step, which a preview never saves (200 workers: 61 s with that work, 21 s without; README).
  (cd "$project" && PULUMI_SKIP_CHECKPOINTS=true timeout 1200 pulumi preview --stack "$name" --non-interactive --json \
    > "$work/preview-$stack.json" 2> "$work/preview-$stack.err") || {
    tail -n 40 "$work/preview-$stack.err" "$work/preview-$stack.json" >&2; return 1; }
  echo "e2e: pulumi preview of $stack took $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

preview_tier() {
  local stack start
  project=$work/project
  new_project "$project" __main__.py
  for stack in "${preview_stacks[@]}"; do
    start=$(date +%s%N)
    "$python" -m tools.render "$stack" --stack-file "$(stack_source "$stack")" --out "$work/render-$stack" >/dev/null
    echo "e2e: offline render of $stack took $(( ($(date +%s%N) - start) / 1000000 )) ms"
  done
  serve_charts "$work/charts"
  charts_url=$served_url
  "$python" -m tools.e2e_support charts "$work/charts" "$work"/render-*/plan.json
  for stack in "${preview_stacks[@]}"; do
    check "pulumi preview of a fresh $stack stack" preview_stack "$stack"
    check "$stack preview resources match the offline render" \
      "$python" -m tools.e2e_support compare "$work/render-$stack/plan.json" "$work/preview-$stack.json"
  done
}

# --- contract: published to S3 (moto_server on 127.0.0.1) by the real dynamic provider ---------------
contract_key="jupyterhub-platform/e2e-contract/platform.json"
in_contract() { # in_contract PULUMI-ARGS...: one pulumi command on the contract stack, log shown on failure
  (cd "$contract" && timeout 600 pulumi "$@" --stack e2e-contract --non-interactive) > "$work/contract.log" 2>&1 \
    || { tail -n 30 "$work/contract.log" >&2; return 1; }
}
published() { # published EXPECTED: the object in the bucket has revision EXPECTED, or is `absent`
  local found
  found=$("$python" -m tools.e2e_support s3-object "$s3_url" "$contract_key")
  if [[ $1 == absent ]]; then [[ $found == absent ]]; else [[ $found == *"\"revision\": \"$1\""* ]]; fi \
    || { echo "e2e: expected $1 in the bucket, found: $found" >&2; return 1; }
}
contract_init() {
  local key
  (cd "$contract" && pulumi stack init e2e-contract --secrets-provider passphrase --non-interactive >/dev/null \
    && pulumi config set --stack e2e-contract endpoint "$s3_url") || return 1
  for key in publish_aws_access_key_id publish_aws_secret_access_key; do
    printf 'e2e-%s' "$key" | (cd "$contract" && pulumi config set --secret --stack e2e-contract "$key") || return 1
  done
}
contract_up() { # contract_up REVISION [pulumi up flags]: up with that content, then check the bucket
  local revision=$1; shift
  (cd "$contract" && pulumi config set --stack e2e-contract revision "$revision") || return 1
  in_contract up --yes "$@" && published "$revision"
}
contract_destroy() { in_contract destroy --yes && published absent; }

contract_tier() {
  "$python" -m tools.e2e_support s3-server "$work/s3-port" > "$work/s3.log" 2>&1 &
  started $!
  for _ in $(seq 200); do [[ -s $work/s3-port ]] && break; sleep 0.1; done
  [[ -s $work/s3-port ]] || { echo "e2e: moto_server did not start" >&2; exit 1; }
  s3_url="http://127.0.0.1:$(cat "$work/s3-port")"
  contract=$work/contract
  new_project "$contract" tools/e2e_contract/__main__.py
  check "contract stack set up" contract_init
  check "contract published on the first up" contract_up 1
  check "contract untouched by an up without change" contract_up 1 --expect-no-changes
  check "contract updated when its content changes" contract_up 2
  check "contract deleted on destroy" contract_destroy
}

# --- cluster: up, up again, destroy of an existing-cluster stack on kube-apiserver + etcd (127.0.0.1) --
start_cluster() { # CA and certs, etcd, kube-apiserver on free 127.0.0.1 ports; waits (bounded) for /readyz
  local ports etcd_port peer_port api_port
  "$python" -m tools.e2e_kube pki "$kube/pki" || return 1
  ports=$("$python" -m tools.e2e_kube ports 3) || return 1
  read -r etcd_port peer_port api_port <<< "$ports"
  "$bin/etcd" --name e2e --data-dir "$kube/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "e2e=http://127.0.0.1:$peer_port" \
    > "$kube/etcd.log" 2>&1 &
  started $!
  # No controller-manager, scheduler or kubelet; the endpoint reconciler is off, so the server writes no
  # address of its own anywhere (10.96.0.0/24 is only the range it allocates Service IPs from).
  "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
    --secure-port "$api_port" --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
    --tls-cert-file "$kube/pki/apiserver.crt" --tls-private-key-file "$kube/pki/apiserver.key" \
    --client-ca-file "$kube/pki/ca.crt" --authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$kube/pki/sa.pub" \
    --service-account-signing-key-file "$kube/pki/sa.key" --cert-dir "$kube/certs" --profiling=false \
    > "$kube/apiserver.log" 2>&1 &
  started $!
  kube_url="https://127.0.0.1:$api_port"
  local start=$SECONDS
  "$python" -m tools.e2e_kube wait-ready "$kube/pki" "$kube_url" 240 \
    || { tail -n 20 "$kube/etcd.log" "$kube/apiserver.log" >&2; return 1; }
  echo "e2e: kube-apiserver ready after $((SECONDS - start)) s at $kube_url"
}

in_cluster() { # in_cluster LABEL PULUMI-ARGS...: one timed pulumi command on the cluster stack
  local label=$1 start; shift
  start=$(date +%s%N)
  (cd "$cluster" && timeout 900 pulumi "$@" --stack e2e-cluster --non-interactive) > "$work/cluster-$label.log" 2>&1 \
    || { tail -n 40 "$work/cluster-$label.log" >&2; return 1; }
  echo "e2e: pulumi $label took $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

objects() { # objects WHEN: the stack's objects in the API server as expected at that point (tools/e2e_kube.py)
  "$python" -m tools.e2e_kube objects "$work/render-cluster/plan.json" "$kube/pki" "$kube_url" "$1" "$work/versions.json"
}

cluster_init() {
  local key
  "$python" -m tools.e2e_kube stack-file Pulumi.dev.yaml "$served_url" "$cluster/Pulumi.e2e-cluster.yaml" \
    > "$work/secrets-cluster" || return 1
  "$python" -m tools.render e2e-cluster --stack-file "$cluster/Pulumi.e2e-cluster.yaml" --out "$work/render-cluster" \
    > /dev/null || return 1
  "$python" -m tools.e2e_support charts "$work/cluster-charts" "$work/render-cluster/plan.json" || return 1
  (cd "$cluster" && pulumi stack init e2e-cluster --secrets-provider passphrase --non-interactive >/dev/null) || return 1
  while read -r key; do
    if [[ $key == kubeconfig ]]; then
      "$python" -m tools.e2e_kube kubeconfig "$kube/pki" "$kube_url"
    else
      test_secret "$key"
    fi | (cd "$cluster" && pulumi config set --secret --stack e2e-cluster "$key") || return 1
  done < "$work/secrets-cluster"
}

destroy_refused() { # destroy must fail on the protected resources before deleting anything at all
  local log=$work/cluster-destroy-protected.log
  if in_cluster destroy-protected destroy --yes 2>/dev/null; then
    echo "e2e: pulumi destroy succeeded although the stack holds protected resources" >&2; return 1
  fi
  grep -q "cannot be deleted.*because it is protected\|because it is protected" "$log" \
    || { echo "e2e: destroy failed, but not because of protection:" >&2; tail -n 20 "$log" >&2; return 1; }
  objects protected && objects unchanged
}

destroy_unprotected() { # after `pulumi state unprotect --all`: everything goes except the retained volumes
  (cd "$cluster" && pulumi state unprotect --all --yes --stack e2e-cluster) > "$work/cluster-unprotect.log" 2>&1 \
    || { tail -n 20 "$work/cluster-unprotect.log" >&2; return 1; }
  in_cluster destroy destroy --yes && objects destroyed || return 1
  (cd "$cluster" && pulumi stack export --stack e2e-cluster) > "$work/cluster-state.json" || return 1
  "$python" -c 'import json, sys; left = json.load(open(sys.argv[1]))["deployment"].get("resources") or []; print(f"e2e: {len(left)} resources left in the state"); sys.exit(1 if left else 0)' \
    "$work/cluster-state.json"
}

cluster_tier() {
  kube=$work/kube
  cluster=$work/cluster
  mkdir -p "$kube"
  new_project "$cluster" tools/e2e_cluster/__main__.py
  cp __main__.py "$cluster/platform_main.py"
  serve_charts "$work/cluster-charts"
  local failed_before=$failed
  check "cluster: etcd and kube-apiserver up on 127.0.0.1" start_cluster
  ((failed == failed_before)) || return 0  # nothing below can pass without them
  check "cluster: existing-cluster stack set up (kubeconfig secret, charts on 127.0.0.1)" cluster_init
  check "cluster: pulumi up" in_cluster up up --yes
  check "cluster: every object and Release is in the API server" objects up
  check "cluster: a second pulumi up changes nothing" in_cluster up-again up --yes --expect-no-changes
  check "cluster: nothing was rewritten by the second up" objects unchanged
  check "cluster: pulumi destroy stops at the protected resources" destroy_refused
  check "cluster: unprotected, destroy removes all but the retained volumes" destroy_unprotected
}

for part in "${parts[@]}"; do
  case $part in
    preview) preview_tier ;;
    contract) contract_tier ;;
    cluster) cluster_tier ;;
    *) echo "e2e: unknown part $part (preview, contract, cluster)" >&2; exit 2 ;;
  esac
done

echo "e2e: $passed passed, $failed failed"
((failed == 0))
