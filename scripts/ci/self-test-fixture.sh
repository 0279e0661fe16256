#!/usr/bin/env bash
# First step of .github/workflows/self-test.yml: picks the lockfile the action will check.
# On GitHub: generates three small models, serves them on 127.0.0.1 and pins them in
# target/self-test/models.lock. Under scripts/ci/action-e2e.sh (act): that harness serves the
# models and chooses the scenario through SELF_TEST_* variables.
set -euo pipefail

if [[ -n ${SELF_TEST_LOCKFILE-} ]]; then
    lockfile=$SELF_TEST_LOCKFILE
    if [[ -n ${SELF_TEST_BIN_DIR-} ]]; then
        echo "$SELF_TEST_BIN_DIR" >>"$GITHUB_PATH"
    fi
    install=${SELF_TEST_INSTALL:-true}
    version=${SELF_TEST_VERSION-}
    expect=${SELF_TEST_EXPECT_VERIFIED:-3}
else
    dir=target/self-test
    rm -rf "$dir"
    mkdir -p "$dir"
    nohup python3 scripts/ci/model_server.py "$dir" </dev/null >"$dir/server.log" 2>&1 &
    for _ in $(seq 300); do
        [[ -f $dir/port ]] && break
        sleep 0.1
    done
    [[ -f $dir/port ]] || {
        cat "$dir/server.log"
        echo "::error::the test model server did not start"
        exit 1
    }
    cp "$dir/good.lock" "$dir/models.lock"
    lockfile=$dir/models.lock
    install=true
    version=
    expect=3
fi

{
    echo "lockfile=$lockfile"
    echo "install=$install"
    echo "version=$version"
    echo "expect-verified=$expect"
} >>"$GITHUB_OUTPUT"
