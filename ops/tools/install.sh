#!/usr/bin/env bash
# Installs the tools the ops checks run: Debian's `prometheus` (prometheus + promtool) and
# `docker-compose` (whose `config` validates docker-compose.yml without a Docker engine).
# Called by `make ops-tools` (and so by `make test`). It installs only what is missing, only as
# root with apt-get; anywhere else it says why and exits 0, and the tests that need a missing
# tool then fail where FRAUD_REQUIRE_OPS_TOOLS or CI is set (.ci/run sets the first), or skip
# on a developer's machine, naming this script.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(uname -s)" != Linux ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ops-tools: not installing ${missing[*]}: no apt-get here (Debian/Ubuntu only);" \
         "install them yourself or the ops tests that need them cannot run." >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ops-tools: not installing ${missing[*]}: needs root;" \
         "run 'sudo apt-get install --no-install-recommends ${missing[*]}'." >&2
    exit 0
fi

echo "ops-tools: installing ${missing[*]} with apt-get (once; about a minute)"
# The prometheus package would start its own daemon on 0.0.0.0:9090: a policy-rc.d that denies
# service starts (the convention Debian's invoke-rc.d reads) stops that; ours is removed after.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    ours=yes
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# Package lists may be absent (slim images) or stale: refresh them when the install cannot resolve.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/ops-tools-apt.log 2>&1; then
    apt-get update -q >>/tmp/ops-tools-apt.log 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/ops-tools-apt.log 2>&1 \
        || { tail -20 /tmp/ops-tools-apt.log >&2; exit 1; }
fi
promtool --version 2>&1 | head -1
docker-compose version --short
