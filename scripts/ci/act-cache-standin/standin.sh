#!/usr/bin/env bash
# restore|save: what the stand-in cache actions do. One tar per key in $ACT_CACHE_STANDIN_DIR;
# keys are made file names by hashing them. Like actions/cache, an existing key is never
# overwritten, and restore-keys match the newest cache whose key starts with the prefix.
set -euo pipefail
store=${ACT_CACHE_STANDIN_DIR:?ACT_CACHE_STANDIN_DIR is not set}
mkdir -p "$store"
name() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
case $1 in
save)
    file="$store/$(name "$CACHE_KEY").tar"
    if [[ -e $file ]]; then
        echo "cache stand-in: key $CACHE_KEY already exists, not saved"
        exit 0
    fi
    tar -C "$CACHE_PATH" -cf "$file.tmp" .
    printf '%s\n' "$CACHE_KEY" >"$file.key"
    mv "$file.tmp" "$file"
    echo "cache stand-in: saved $CACHE_KEY"
    echo "$CACHE_KEY" >>"$store/saves.log"
    ;;
restore)
    matched=
    if [[ -e $store/$(name "$CACHE_KEY").tar ]]; then
        matched=$CACHE_KEY
    else
        while IFS= read -r prefix; do
            [[ -n $prefix ]] || continue
            # newest first
            while IFS= read -r keyfile; do
                key=$(cat "$keyfile")
                if [[ $key == "$prefix"* ]]; then
                    matched=$key
                    break 2
                fi
            done < <(find "$store" -name '*.tar.key' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
        done <<<"$CACHE_RESTORE_KEYS"
    fi
    if [[ -z $matched ]]; then
        echo "cache stand-in: no cache for $CACHE_KEY"
        echo "cache-hit=false" >>"$GITHUB_OUTPUT"
        exit 0
    fi
    mkdir -p "$CACHE_PATH"
    tar -C "$CACHE_PATH" -xf "$store/$(name "$matched").tar"
    echo "cache stand-in: restored $matched"
    hit=false
    [[ $matched == "$CACHE_KEY" ]] && hit=true
    {
        echo "cache-hit=$hit"
        echo "cache-matched-key=$matched"
    } >>"$GITHUB_OUTPUT"
    ;;
esac
