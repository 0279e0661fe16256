#!/usr/bin/env bash
# Validates the action's inputs (GitHub does not enforce `required` or value sets) and computes
# the paths and cache keys the later steps use. Inputs arrive as CM_* variables (composite
# actions get no INPUT_*), are only ever used as data, and are never evaluated.
set -euo pipefail
# shellcheck source=scripts/action/common.sh
source "$(dirname "$0")/common.sh"

: "${GITHUB_WORKSPACE:?GITHUB_WORKSPACE is not set: run this inside GitHub Actions}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set: run this inside GitHub Actions}"
: "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this inside GitHub Actions}"

case ${CM_COMMAND-} in
fetch | verify) ;;
*) fail "input \`command\` must be \`fetch\` or \`verify\`, found \`${CM_COMMAND-}\`" ;;
esac
case ${CM_VERIFY-} in
stamp | full) ;;
*) fail "input \`verify\` must be \`stamp\` or \`full\`, found \`${CM_VERIFY-}\`" ;;
esac
if [[ -n ${CM_JOBS-} && ! ${CM_JOBS} =~ ^[1-9][0-9]{0,3}$ ]]; then
    fail "input \`jobs\` must be a whole number from 1 to 9999, or empty, found \`${CM_JOBS}\`"
fi
check_bool offline "${CM_OFFLINE-}"
check_bool cache "${CM_CACHE-}"
check_bool summary "${CM_SUMMARY-}"
check_bool install "${CM_INSTALL-}"
if [[ -n ${CM_VERSION-} ]]; then
    if [[ ${CM_INSTALL} != true ]]; then
        fail "inputs \`version\` and \`install: false\` contradict each other: remove one"
    fi
    # A published version: semver, optionally with a leading `=`; no ranges, no flags.
    if [[ ! ${CM_VERSION} =~ ^=?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]; then
        fail "input \`version\` must be a published version of cargo-models such as \`0.1.0\`, found \`${CM_VERSION}\`"
    fi
fi
if [[ -n ${CM_DIFF_BASE-} && ${CM_DIFF_BASE} == -* ]]; then
    fail "input \`diff-base\` must be a git revision, found \`${CM_DIFF_BASE}\`"
fi

# The working directory and the lockfile must exist.
wd=${CM_WORKING_DIRECTORY:-.}
[[ $wd == /* ]] || wd="$GITHUB_WORKSPACE/$wd"
[[ -d $wd ]] || fail "input \`working-directory\`: no folder \`${CM_WORKING_DIRECTORY}\` in the workspace"
wd=$(cd -- "$wd" && pwd -P)
lockfile=${CM_LOCKFILE-}
[[ -n $lockfile ]] || fail "input \`lockfile\` is empty: give the path of models.lock, relative to \`working-directory\`"
[[ $lockfile == /* ]] || lockfile="$wd/$lockfile"
if [[ ! -f $lockfile ]]; then
    fail "no lockfile at \`${CM_LOCKFILE}\` (looked in \`$wd\`): create one with \`cargo models add URL\`, or set the \`lockfile\` input"
fi

cache_dir=${CM_CACHE_DIR:-$RUNNER_TEMP/cargo-models-cache}
[[ $cache_dir == /* ]] || cache_dir="$GITHUB_WORKSPACE/$cache_dir"

os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
lock_hash=$("${sha256_cmd[@]}" "$lockfile" | cut -d' ' -f1)

set_output working-directory "$wd"
set_output lockfile "$lockfile"
set_output cache-dir "$cache_dir"
set_output cache-key "cargo-models-v1-$os-$lock_hash"
set_output cache-restore-prefix "cargo-models-v1-$os-"

# Building from the action's own source: cache the binary under a key of what it is built from.
if [[ $CM_INSTALL == true && -z ${CM_VERSION-} ]]; then
    src_hash=$(
        cd -- "$GITHUB_ACTION_PATH"
        find Cargo.toml Cargo.lock src -type f -print0 | LC_ALL=C sort -z | xargs -0 "${sha256_cmd[@]}" | "${sha256_cmd[@]}" | cut -d' ' -f1
    )
    set_output build true
    set_output tool-dir "$RUNNER_TEMP/cargo-models-tool"
    set_output tool-key "cargo-models-bin-v1-$os-$arch-$src_hash"
else
    set_output build false
    set_output tool-dir "$RUNNER_TEMP/cargo-models-tool"
    set_output tool-key ""
fi
