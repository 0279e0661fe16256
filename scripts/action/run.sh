#!/usr/bin/env bash
# Runs `cargo-models fetch --locked` (or `verify`). The binary itself prints the annotations
# and writes the step summary and the verified/failed/models outputs (GITHUB_ACTIONS=true turns
# that on). On pull requests, appends `cargo models diff <base> --format markdown` to the
# summary. Exits with the binary's code, so the step fails on any mismatch.
set -euo pipefail
# shellcheck source=scripts/action/common.sh
source "$(dirname "$0")/common.sh"

cd -- "$CM_WORKING_DIRECTORY"
export CARGO_MODELS_CACHE=$CM_CACHE_DIR
if [[ $CM_SUMMARY != true ]]; then
    unset GITHUB_STEP_SUMMARY
fi

args=(--lockfile "$CM_LOCKFILE" "$CM_COMMAND")
if [[ $CM_COMMAND == fetch ]]; then
    args+=(--locked --verify "$CM_VERIFY")
    [[ $CM_OFFLINE == true ]] && args+=(--offline)
fi
[[ -n $CM_JOBS ]] && args+=(--jobs "$CM_JOBS")

printf 'cargo-models'
printf ' %q' "${args[@]}"
printf '\n'
status=0
cargo-models "${args[@]}" || status=$?

# The diff of models.lock against the pull request's base, for the reviewer.
base=${CM_DIFF_BASE-}
if [[ -z $base && ${GITHUB_EVENT_NAME-} == pull_request* && -n ${GITHUB_BASE_REF-} ]]; then
    # origin/<base> (fetch-depth: 0), a local branch, or the base side of the merge commit that
    # actions/checkout checks out for a pull request (fetch-depth: 2). Never fetches.
    candidates=("origin/$GITHUB_BASE_REF" "$GITHUB_BASE_REF")
    if git rev-parse --verify --quiet 'HEAD^2^{commit}' >/dev/null 2>&1; then
        candidates+=('HEAD^1')
    fi
    for candidate in "${candidates[@]}"; do
        if git rev-parse --verify --quiet "$candidate^{commit}" >/dev/null 2>&1; then
            base=$candidate
            break
        fi
    done
    if [[ -z $base ]]; then
        echo "::notice title=cargo-models action::no diff of models.lock: the base branch \`$(escape_data "$GITHUB_BASE_REF")\` is not in the checkout (use actions/checkout with fetch-depth: 2 or 0)"
    fi
fi
if [[ -n $base && $base != none && -n ${GITHUB_STEP_SUMMARY-} ]]; then
    echo "Diff of models.lock against $base"
    if diff_md=$(cargo-models --lockfile "$CM_LOCKFILE" diff "$base" --format markdown); then
        printf '\n%s\n' "$diff_md" >>"$GITHUB_STEP_SUMMARY"
    else
        echo "::warning title=cargo-models action::could not diff models.lock against \`$(escape_data "$base")\`"
    fi
fi

exit "$status"
