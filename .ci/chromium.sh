#!/usr/bin/env bash
# Debian's Chromium for the browser tests of the report site (tests/browser, marker `browser`): they
# drive it through Python's playwright with executable_path, since Playwright's own browser download
# does not work on a closed network. Prints the executable's path on stdout; everything else goes to
# stderr.
#
#   .ci/chromium.sh          install Debian's chromium if missing, print its path
#   .ci/chromium.sh status   exit 0 when it is installed (and print its path)
#
# Idempotent: an installed chromium is not installed again. No fonts package is installed: the site
# vendors its own fonts (warehouse/site/static/fonts), so pages render the same with or without
# system fonts. Settings: DAAM_CHROMIUM (a chromium of your own: used as is, an error if not executable).
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }

find_chromium() { [ -x /usr/bin/chromium ] && echo /usr/bin/chromium; }

# A chromium of one's own is used as is; a wrong path is an error, not a reason to install another one.
if [ -n "${DAAM_CHROMIUM:-}" ]; then
    if [ ! -f "$DAAM_CHROMIUM" ] || [ ! -x "$DAAM_CHROMIUM" ]; then
        say "DAAM_CHROMIUM=$DAAM_CHROMIUM is not an executable file"
        exit 1
    fi
    find_chromium() { echo "$DAAM_CHROMIUM"; }
fi

case "${1:-install}" in
    status) find_chromium; exit ;;
    install) ;;
    *) say "usage: $0 [install|status]"; exit 2 ;;
esac

if ! EXE=$(find_chromium); then
    bash "$(dirname "$0")/apt-install.sh" chromium chromium.sh
    EXE=$(find_chromium) || { say "chromium installed but /usr/bin/chromium is not executable"; exit 1; }
fi

# A binary that can not start (missing libraries after a partial upgrade) fails here, not in the tests.
version=$("$EXE" --version 2>/dev/null) || { say "$EXE does not start: $EXE --version failed"; exit 1; }
say "ready: $version"
echo "$EXE"
