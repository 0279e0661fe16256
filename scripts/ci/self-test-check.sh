#!/usr/bin/env bash
# Last step of .github/workflows/self-test.yml: the action's outputs must describe what it did.
set -euo pipefail

echo "self-test outputs: verified=$VERIFIED failed=$FAILED cache-hit=$CACHE_HIT version=$VERSION cache-dir=$CACHE_DIR"
errors=0
check() {
    if [[ $2 != "$3" ]]; then
        echo "::error title=self-test::output \`$1\` is \`$2\`, expected \`$3\`"
        errors=$((errors + 1))
    fi
}
check verified "$VERIFIED" "$EXPECT_VERIFIED"
check failed "$FAILED" 0
case $CACHE_HIT in true | false) ;; *) check cache-hit "$CACHE_HIT" "true or false" ;; esac
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || check version "$VERSION" "a version"
[[ -d $CACHE_DIR/blobs-v1 ]] || check cache-dir "$CACHE_DIR" "a folder with blobs-v1/"
# `models`: name -> path of a verified blob, whose file name is the SHA-256 of its bytes.
MODELS=$MODELS EXPECT=$EXPECT_VERIFIED python3 - <<'PY' || errors=$((errors + 1))
import hashlib, json, os, sys
models = json.loads(os.environ["MODELS"])
bad = [] if len(models) == int(os.environ["EXPECT"]) else [f"{len(models)} models"]
for name, path in models.items():
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if os.path.basename(path) != digest:
        bad.append(f"{name}: {path} has sha256 {digest}")
if bad:
    print("::error title=self-test::output `models` is wrong: " + "; ".join(bad))
    sys.exit(1)
PY
# The e2e test passes inputs such as `x$(touch pwned)`: had one run as a command, it would have
# left a file here (act removes the workspace when the job ends, so this is checked now).
if [[ -n $(find . -maxdepth 3 -name 'pwned*' -print -quit) ]]; then
    echo "::error title=self-test::an input was run as a command: $(find . -maxdepth 3 -name 'pwned*' | head -3 | tr '\n' ' ')"
    errors=$((errors + 1))
fi
exit $((errors > 0))
