#!/usr/bin/env bash
# The real-engine tier: the program under the Pulumi engine built by tools/engine/build.sh, offline.
#   bash tools/e2e.sh            (builds the engine first if its cache is missing: ~30-60 min cold)
# For dev and prod, as fresh stacks on a local file backend in a temporary folder (passphrase secrets,
# test secret values on stdin, no plugin downloads, no update check):
#   - `pulumi preview` succeeds, with every Helm Release loading its chart from test charts served on
#     127.0.0.1 (charts.repository_overrides);
#   - the preview's resources (type and name) are exactly the offline render's plan.json.
# Ends with `e2e: N passed, M failed` and exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
python=$repo/venv/bin/python
[[ -x $python ]] || { echo "e2e: no venv: run bash tools/test.sh (or python3 -m venv venv && pip install) first" >&2; exit 2; }

bin=$(bash tools/engine/build.sh | tail -n 1)
work=$(mktemp -d "${TMPDIR:-/tmp}/jhp-e2e.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

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
# The preview-only stand-ins answer with the versions the program pins (requirements.txt).
PULUMI_PREVIEWONLY_VERSION_COMMAND=$(sed -n 's/^pulumi-command==//p' requirements.txt)
PULUMI_PREVIEWONLY_VERSION_RANDOM=$(sed -n 's/^pulumi-random==//p' requirements.txt)
export PULUMI_PREVIEWONLY_VERSION_COMMAND PULUMI_PREVIEWONLY_VERSION_RANDOM

# The project, copied so stack files and state never land in the checkout.
project=$work/project
mkdir -p "$project"
cp -r Pulumi.yaml __main__.py requirements.txt components config "$project/"
ln -s "$repo/venv" "$project/venv"
# The dynamic providers (pulumi-resource-pulumi-python) run in the program's virtualenv.
export PULUMI_RUNTIME_VIRTUALENV="$project/venv"

stacks=(dev prod)
for stack in "${stacks[@]}"; do
  start=$(date +%s%N)
  "$python" -m tools.render "$stack" --out "$work/render-$stack" >/dev/null
  echo "e2e: offline render of $stack took $(( ($(date +%s%N) - start) / 1000000 )) ms"
done
"$python" -m tools.e2e_support charts "$work/charts" "$work"/render-*/plan.json
"$python" -m tools.e2e_support serve "$work/charts" "$work/port" &
server_pid=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { echo "e2e: the chart server did not start" >&2; exit 1; }
charts_url="http://127.0.0.1:$(cat "$work/port")"

preview_stack() { # preview_stack STACK: fresh stack, test secrets on stdin, preview to JSON
  local stack=$1 name="e2e-$1" key start
  (cd "$repo" && "$python" -m tools.e2e_support stack-file "Pulumi.$stack.yaml" "$charts_url" \
    "$project/Pulumi.$name.yaml") > "$work/secrets-$stack"
  (cd "$project" && pulumi stack init "$name" --secrets-provider passphrase --non-interactive >/dev/null) || return 1
  while read -r key; do
    printf 'e2e-test-value-%s' "$key" | (cd "$project" && pulumi config set --secret --stack "$name" "$key") || return 1
  done < "$work/secrets-$stack"
  start=$(date +%s%N)
  (cd "$project" && timeout 1200 pulumi preview --stack "$name" --non-interactive --json \
    > "$work/preview-$stack.json" 2> "$work/preview-$stack.err") || {
    tail -n 40 "$work/preview-$stack.err" "$work/preview-$stack.json" >&2; return 1; }
  echo "e2e: pulumi preview of $stack took $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

for stack in "${stacks[@]}"; do
  check "pulumi preview of a fresh $stack stack" preview_stack "$stack"
  check "$stack preview resources match the offline render" \
    "$python" -m tools.e2e_support compare "$work/render-$stack/plan.json" "$work/preview-$stack.json"
done

echo "e2e: $passed passed, $failed failed"
((failed == 0))
