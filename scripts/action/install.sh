#!/usr/bin/env bash
# Puts cargo-models on PATH: the one already there (install: false), a published version
# (version: X.Y.Z), or, by default, one built from the action's own checkout so the binary
# always matches the ref in `uses:` (restored from the cache when that source was built before).
set -euo pipefail
# shellcheck source=scripts/action/common.sh
source "$(dirname "$0")/common.sh"

if [[ $CM_INSTALL == false ]]; then
    command -v cargo-models >/dev/null ||
        fail "\`install: false\` but no \`cargo-models\` on PATH: install it in an earlier step, or remove \`install: false\`"
    bin=cargo-models
else
    bin="$CM_TOOL_DIR/bin/cargo-models"
    command -v cargo >/dev/null ||
        fail "building cargo-models needs \`cargo\` on PATH (a Rust toolchain), as GitHub's hosted runners have"
    if [[ -n ${CM_VERSION-} ]]; then
        echo "Installing cargo-models ${CM_VERSION#=} from crates.io"
        cargo install --locked cargo-models --version "=${CM_VERSION#=}" --root "$CM_TOOL_DIR" \
            --target-dir "$RUNNER_TEMP/cargo-models-target" ||
            fail "could not install cargo-models \`${CM_VERSION}\` from crates.io: is it a published version?"
    elif [[ -x $bin ]] && "$bin" --version >/dev/null 2>&1; then
        echo "Using the cached build of cargo-models at $bin"
    else
        echo "Building cargo-models from $GITHUB_ACTION_PATH (a few minutes on a cold runner; cached afterwards)"
        cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$CM_TOOL_DIR" \
            --target-dir "$RUNNER_TEMP/cargo-models-target"
    fi
    echo "$CM_TOOL_DIR/bin" >>"${GITHUB_PATH:?}"
fi

version=$("$bin" --version)
version=${version##* }
echo "cargo-models $version"
set_output version "$version"
