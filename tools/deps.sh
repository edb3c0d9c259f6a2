#!/usr/bin/env bash
# deps.sh - install the Debian packages invsync needs to build and test.
# Idempotent: installs only what is missing. As root it runs apt-get; otherwise
# it prints the command to run and fails, so a build never half-works.
set -euo pipefail

pkgs=(
    build-essential pkg-config
    librdkafka-dev liburcu-dev libxxhash-dev libzstd-dev libcmocka-dev libmicrohttpd-dev
    libjansson-dev libmimalloc-dev kcat maven openjdk-17-jre-headless
    clang libclang-rt-14-dev
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: run as root: $cmd" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
