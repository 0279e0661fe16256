#!/usr/bin/env bash
# Benchmark cargo-models against the transfer limit (curl -o), the hashing limit
# (openssl dgst -sha256) and the Python tools a user would otherwise pick (pooch,
# huggingface_hub), all against one nginx on loopback serving the same file from the page cache.
#
# Usage: bench/run.sh            (from anywhere; see bench/README.md)
# Knobs (environment):
#   BENCH_SIZE_MIB=2048      size of the big file
#   BENCH_RUNS=5             runs of every timed command (interleaved); medians are reported
#   BENCH_SCALE_FILES=8      files for the verify-scaling test ...
#   BENCH_SCALE_MIB=256      ... of this many MiB each
#   BENCH_NOOP_ENTRIES=100   entries of the no-op fetch lockfile (4 KiB blobs)
#   BENCH_NOOP_RUNS=30       hyperfine runs of the no-op fetch (after 5 warm-ups)
#   BENCH_TMP=/tmp           where the temp dir (data, caches) goes; removed at the end
#   BENCH_OUT=bench/results.md   where the Markdown report is written (also printed)
#   BENCH_SKIP_INSTALL=1     do not apt-get / pip install (everything must be present)
#   BENCH_SKIP_BUILD=1       do not run `cargo build --release`
#   CARGO_MODELS_BIN=path    binary to measure [default: target/release/cargo-models]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
RUNS=${BENCH_RUNS:-5}
SCALE_FILES=${BENCH_SCALE_FILES:-8}
SCALE_MIB=${BENCH_SCALE_MIB:-256}
NOOP_ENTRIES=${BENCH_NOOP_ENTRIES:-100}
NOOP_RUNS=${BENCH_NOOP_RUNS:-30}
OUT=${BENCH_OUT:-$BENCH_DIR/results.md}
VENV=$REPO/.tools/bench-venv
POOCH_SPEC=${BENCH_POOCH_SPEC:-pooch==1.9.0}
HF_SPEC=${BENCH_HF_SPEC:-huggingface_hub==2.4.0}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Nothing from the caller's environment may steer the tools: no proxies, no cargo-models
# settings, no Hugging Face token or cache.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
for v in $(env | grep -o '^CARGO_MODELS_[A-Z_]*' || true); do unset "$v"; done
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE HF_HUB_ENABLE_HF_TRANSFER

# ---------------------------------------------------------------- tools (idempotent install)
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then
    pkgs=()
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || pkgs+=(nginx-light)
    command -v hyperfine >/dev/null || pkgs+=(hyperfine)
    [ -x /usr/bin/time ] || pkgs+=(time)
    command -v curl >/dev/null || pkgs+=(curl)
    command -v openssl >/dev/null || pkgs+=(openssl)
    command -v sha256sum >/dev/null || pkgs+=(coreutils)
    command -v eatmydata >/dev/null || pkgs+=(eatmydata)
    python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
    if [ ${#pkgs[@]} -gt 0 ]; then
        log "apt-get install ${pkgs[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$POOCH_SPEC" "$HF_SPEC"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PY=$VENV/bin/python

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] && [ -z "${CARGO_MODELS_BIN:-}" ]; then
    log "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet)
fi
CM=${CARGO_MODELS_BIN:-$REPO/target/release/cargo-models}
[ -x "$CM" ] || die "no binary at $CM"

# ---------------------------------------------------------------- temp dir, server, cleanup
mkdir -p "${BENCH_TMP:-/tmp}"
T=$(mktemp -d "${BENCH_TMP:-/tmp}/cargo-models-bench.XXXXXX")
chmod 755 "$T"   # nginx workers run as an unprivileged user
NGINX_PID=
cleanup() {
    local rc=$?
    if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    chmod -R u+w "$T" 2>/dev/null || true   # cached blobs are read-only
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DATA=$T/data
RAW=$T/raw.tsv
META=$T/meta.tsv
mkdir -p "$DATA/small" "$DATA/scale" "$T/nginx"
: >"$RAW"
: >"$META"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

SIZE=$((SIZE_MIB * 1024 * 1024))
log "writing $SIZE_MIB MiB of random data, $SCALE_FILES x $SCALE_MIB MiB, $NOOP_ENTRIES x 4 KiB"
head -c "$SIZE" /dev/urandom >"$DATA/big.bin"
for i in $(seq 1 "$SCALE_FILES"); do
    head -c $((SCALE_MIB * 1024 * 1024)) /dev/urandom >"$DATA/scale/s$i.bin"
done
for i in $(seq -w 1 "$NOOP_ENTRIES"); do
    head -c 4096 /dev/urandom >"$DATA/small/m$i.bin"
done
SHA=$(sha256sum "$DATA/big.bin" | cut -d' ' -f1)
chmod -R a+rX "$DATA"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
HF_REPO=bench/model
HF_COMMIT=0123456789abcdef0123456789abcdef01234567
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    types { }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT;
        root $DATA;
        # The Hugging Face Hub layout, /{repo_id}/resolve/{revision}/{filename}, with the
        # headers huggingface_hub reads from its HEAD request.
        location /$HF_REPO/resolve/main/ {
            alias $DATA/;
            add_header X-Repo-Commit $HF_COMMIT always;
            add_header X-Linked-Etag "\"$SHA\"" always;
            add_header X-Linked-Size $SIZE always;
        }
    }
}
EOF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$BASE/small/m$(seq -w 1 "$NOOP_ENTRIES" | head -1).bin" && break
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$T/nginx/error.log" >&2; die "nginx did not start"; }
    sleep 0.1
done
log "nginx $NGINX_PID on $BASE"

# ---------------------------------------------------------------- lockfiles
lock_entry() { # name url sha size
    printf '\n[[model]]\nname = "%s"\nurl = "%s"\nsha256 = "%s"\nsize = %s\n' "$@"
}
{ echo "version = 1"; lock_entry big "$BASE/big.bin" "$SHA" "$SIZE"; } >"$T/big.lock"
{
    echo "version = 1"
    (cd "$DATA/scale" && sha256sum s*.bin) | while read -r sum f; do
        lock_entry "${f%.bin}" "$BASE/scale/$f" "$sum" $((SCALE_MIB * 1024 * 1024))
    done
} >"$T/scale.lock"
{
    echo "version = 1"
    (cd "$DATA/small" && sha256sum m*.bin) | while read -r sum f; do
        lock_entry "${f%.bin}" "$BASE/small/$f" "$sum" 4096
    done
} >"$T/noop.lock"

# ---------------------------------------------------------------- measuring
# measure SECTION TOOL RUN CMD...: wall time with a nanosecond clock around the command, peak
# RSS from /usr/bin/time. A command that prints a number on its last stdout line (pyfetch.py)
# reports its own in-call time, which is then used instead of the wall time.
measure() {
    local section=$1 tool=$2 run=$3
    shift 3
    sync   # no command pays for the previous one's writeback
    local t0 t1
    t0=$(date +%s.%N)
    if ! /usr/bin/time -f '%M' -o "$T/rss" "$@" >"$T/out" 2>"$T/err"; then
        cat "$T/err" >&2
        die "$tool failed: $*"
    fi
    t1=$(date +%s.%N)
    local wall inner
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    inner=$wall
    if [ "$tool" = pooch ] || [ "$tool" = hf ]; then inner=$(tail -n1 "$T/out"); fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$tool" "$run" "$inner" "$wall" "$(tail -n1 "$T/rss")" >>"$RAW"
    log "$section $tool run $run: ${inner}s (wall ${wall}s)"
}
check_size() { # file
    local n
    n=$(stat -c %s "$1")
    [ "$n" -eq "$SIZE" ] || die "$1 has $n bytes, expected $SIZE"
}

# Warm the page cache so every tool reads the source from memory.
cat "$DATA/big.bin" "$DATA"/scale/*.bin >/dev/null

# Can huggingface_hub be pointed at the server? One untimed try decides whether it is measured.
HF_OK=0
export HF_HOME=$T/hf-home HF_ENDPOINT=$BASE HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1
if out=$("$PY" "$BENCH_DIR/pyfetch.py" hf "$HF_REPO" big.bin main "$T/hf-probe" 2>"$T/hf-probe.err"); then
    check_size "$(echo "$out" | tail -n2 | head -n1)"
    HF_OK=1
else
    log "huggingface_hub could not download from the server:"
    tail -n5 "$T/hf-probe.err" >&2
fi
rm -rf "$T/hf-probe"
meta hf_ok "$HF_OK"

# 1. Download and verify, interleaved: every run measures every tool once.
log "1/5 download + verify"
for run in $(seq 1 "$RUNS"); do
    d=$T/dl
    rm -rf "$d" && mkdir -p "$d"
    measure download curl "$run" curl -s -o "$d/big.bin" "$BASE/big.bin"
    check_size "$d/big.bin"; rm -rf "$d" && mkdir -p "$d"

    measure download curl-fsync "$run" bash -c 'curl -s -o "$2" "$1" && sync "$2"' _ "$BASE/big.bin" "$d/big.bin"
    check_size "$d/big.bin"; rm -rf "$d" && mkdir -p "$d"

    measure download curl-pipe "$run" bash -c \
        'curl -s "$1" | tee "$2" | openssl dgst -sha256 -r | grep -q "^$3 "' _ \
        "$BASE/big.bin" "$d/big.bin" "$SHA"
    check_size "$d/big.bin"; rm -rf "$d" && mkdir -p "$d"

    measure download cargo-models "$run" "$CM" fetch --lockfile "$T/big.lock" --cache-dir "$d/cache" -q
    check_size "$d/cache/blobs-v1/sha256/${SHA:0:2}/$SHA"; chmod -R u+w "$d"; rm -rf "$d" && mkdir -p "$d"

    measure download cargo-models-nofsync "$run" eatmydata "$CM" fetch --lockfile "$T/big.lock" --cache-dir "$d/cache" -q
    check_size "$d/cache/blobs-v1/sha256/${SHA:0:2}/$SHA"; chmod -R u+w "$d"; rm -rf "$d" && mkdir -p "$d"

    measure download pooch "$run" "$PY" "$BENCH_DIR/pyfetch.py" pooch "$BASE/big.bin" "$SHA" "$d"
    check_size "$(tail -n2 "$T/out" | head -n1)"; rm -rf "$d" && mkdir -p "$d"

    if [ "$HF_OK" = 1 ]; then
        measure download hf "$run" "$PY" "$BENCH_DIR/pyfetch.py" hf "$HF_REPO" big.bin main "$d/hf"
        check_size "$(tail -n2 "$T/out" | head -n1)"; rm -rf "$d"
    fi
done

# 2. Full hash of one cached file: the same blob for every tool.
log "2/5 full verify of a cached file"
HC=$T/cache-hash
"$CM" fetch --lockfile "$T/big.lock" --cache-dir "$HC" -q
BLOB=$HC/blobs-v1/sha256/${SHA:0:2}/$SHA
cat "$BLOB" >/dev/null
for run in $(seq 1 "$RUNS"); do
    measure hash openssl "$run" openssl dgst -sha256 "$BLOB"
    grep -q "$SHA" "$T/out" || die "openssl printed another digest"
    measure hash cargo-models "$run" "$CM" verify --lockfile "$T/big.lock" --cache-dir "$HC" -q
    measure hash sha256sum "$run" sha256sum "$BLOB"
done

# 3. Verify scaling across cores.
log "3/5 verify scaling"
SC=$T/cache-scale
"$CM" fetch --lockfile "$T/scale.lock" --cache-dir "$SC" -q
cat "$SC"/blobs-v1/sha256/*/* >/dev/null
NCPU=$(nproc)
for run in $(seq 1 "$RUNS"); do
    measure scale j1 "$run" "$CM" verify --lockfile "$T/scale.lock" --cache-dir "$SC" -q -j 1
    measure scale "j$NCPU" "$run" "$CM" verify --lockfile "$T/scale.lock" --cache-dir "$SC" -q -j "$NCPU"
    measure scale default "$run" "$CM" verify --lockfile "$T/scale.lock" --cache-dir "$SC" -q
done
meta ncpu "$NCPU"

# 4. No-op fetch of a lockfile whose blobs are all cached and stamped.
log "4/5 no-op fetch of $NOOP_ENTRIES cached entries"
NC=$T/cache-noop
"$CM" fetch --lockfile "$T/noop.lock" --cache-dir "$NC" -q
plan=$("$CM" fetch --lockfile "$T/noop.lock" --cache-dir "$NC" --message-format json | grep '"reason":"plan"')
echo "$plan" | grep -q "\"cached\":$NOOP_ENTRIES,\"to_fetch\":0" || die "second fetch is not a no-op: $plan"
meta noop_plan "$plan"
hyperfine -N --warmup 5 --runs "$NOOP_RUNS" --export-json "$T/noop.json" \
    "$CM fetch --lockfile $T/noop.lock --cache-dir $NC -q" >&2
for run in $(seq 1 "$RUNS"); do   # peak memory of the no-op, and a cross-check of the clock
    measure noop cargo-models "$run" "$CM" fetch --lockfile "$T/noop.lock" --cache-dir "$NC" -q
done

# 5. Peak memory: collected by /usr/bin/time around every command above.
log "5/5 report"

# ---------------------------------------------------------------- machine and versions
meta size_bytes "$SIZE"
meta size_mib "$SIZE_MIB"
meta runs "$RUNS"
meta scale "$SCALE_FILES x $SCALE_MIB MiB"
meta scale_bytes $((SCALE_FILES * SCALE_MIB * 1024 * 1024))
meta noop_entries "$NOOP_ENTRIES"
meta noop_runs "$NOOP_RUNS"
meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
meta cores "$NCPU"
meta mem "$(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
meta kernel "$(uname -sr)"
meta sha_ni "$(grep -q -m1 -w sha_ni /proc/cpuinfo && echo yes || echo no)"
meta fs "$(df -T "$T" | awk 'NR == 2 { print $2 " on " $1 }')"
meta cargo_models "$("$CM" --version) ($(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown))"
meta rustc "$(rustc --version 2>/dev/null || echo unknown)"
meta curl "$(curl --version | head -n1 | cut -d' ' -f1-2)"
meta openssl "$(openssl version)"
meta sha256sum "$(sha256sum --version | head -n1)"
meta nginx "$("$NGINX" -v 2>&1 | sed 's/.*: //')"
meta python "$("$PY" --version)"
meta pooch "$("$PY" -c 'import pooch; print(pooch.__version__)')"
meta huggingface_hub "$("$PY" -c 'import huggingface_hub; print(huggingface_hub.__version__)')"
meta requests "$("$PY" -c 'import requests; print(requests.__version__)')"
meta hyperfine "$(hyperfine --version)"
knobs=$(env | grep -o '^BENCH_[A-Z_]*=.*' | sort || true)
meta command "$(if [ -n "$knobs" ]; then printf '%q ' $knobs; fi)bench/run.sh"
meta date "$(date -u +%Y-%m-%dT%H:%MZ)"
openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ { print $NF }' >"$T/speed" || true
meta openssl_speed "$(cat "$T/speed")"

python3 "$BENCH_DIR/report.py" "$RAW" "$META" "$T/noop.json" >"$T/results.md"
cp "$RAW" "${OUT%.md}-raw.tsv"
cp "$T/results.md" "$OUT"
cat "$T/results.md"
log "wrote $OUT and ${OUT%.md}-raw.tsv"
