# Helpers shared by the action's scripts (sourced, not run).
# shellcheck shell=bash

# fail MESSAGE: print a GitHub error annotation and exit 2 (bad input, as cargo-models).
fail() {
    printf '::error title=cargo-models action::%s\n' "$(escape_data "$1")"
    exit 2
}

# escape_data TEXT: escape a workflow command's message (%, CR, LF).
escape_data() {
    local s=$1
    s=${s//'%'/'%25'}
    s=${s//$'\r'/'%0D'}
    s=${s//$'\n'/'%0A'}
    printf '%s' "$s"
}

# set_output NAME VALUE: append one output, using the heredoc form with a random delimiter,
# so a value can never inject another output.
set_output() {
    local delim
    delim="EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run this inside GitHub Actions}"
}

# check_bool NAME VALUE
check_bool() {
    case $2 in
    true | false) ;;
    *) fail "input \`$1\` must be \`true\` or \`false\`, found \`$2\`" ;;
    esac
}

# The SHA-256 command: sha256sum, or shasum on macOS runners, which lack sha256sum.
# shellcheck disable=SC2034 # used by the scripts that source this file
if command -v sha256sum >/dev/null; then
    sha256_cmd=(sha256sum)
else
    sha256_cmd=(shasum -a 256)
fi
