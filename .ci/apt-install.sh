#!/usr/bin/env bash
# Install one Debian package quietly for CI (.ci/postgres.sh, .ci/chromium.sh): needs root, says so
# otherwise; progress and timing on stderr, so callers can keep stdout for what they print.
#   bash .ci/apt-install.sh PACKAGE CALLER
set -euo pipefail
package=$1 caller=${2:-apt-install.sh}
say() { echo "$caller: $*" >&2; }
if [ "$(id -u)" != 0 ]; then
    say "$package is not installed and installing it needs root: apt-get install $package"
    exit 1
fi
say "installing Debian's $package"
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "$package" >&2
say "installed in $(( $(date +%s) - started )) s"
