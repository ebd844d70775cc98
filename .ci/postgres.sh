#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the SQL source (tests/sql_source), on 127.0.0.1:5433,
# with a role and database `daam` (password `daam`). Prints its URL on stdout; everything else goes
# to stderr.
#
#   .ci/postgres.sh          install Debian's postgresql if missing, start the server if not running
#   .ci/postgres.sh status   exit 0 when this server is running
#   .ci/postgres.sh stop     stop it (its data is throwaway: the next start makes a new one)
#
# Idempotent: a server of this script already running is reused, packages already installed are not
# installed again, and a PostgreSQL of the system on its own port (the Debian cluster on 5432) is left
# alone. Runs as root (the server then runs as the `postgres` user: initdb refuses root) or as any user
# with the binaries installed. Settings: DAAM_PG_PORT (5433), DAAM_PG_DIR (/tmp/daam-ci-postgres-<port>).
set -euo pipefail

PORT="${DAAM_PG_PORT:-5433}"
BASE="${DAAM_PG_DIR:-/tmp/daam-ci-postgres-$PORT}"
DATA="$BASE/data"
LOG="$BASE/server.log"
URL="postgresql+psycopg://daam:daam@127.0.0.1:$PORT/daam"

say() { echo "postgres.sh: $*" >&2; }
case "$BASE" in /tmp/?*|/var/tmp/?*|"$HOME"/?*) ;; *) say "DAAM_PG_DIR must be below /tmp, /var/tmp or \$HOME"; exit 2 ;; esac

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

# As the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

running() {
    local bin="$1"
    [ -f "$DATA/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# A server that pg_ctl takes for running but that is a dead process (a zombie no one reaps), or whose
# binaries were replaced since it started (a package upgrade: it can not load its own libraries any
# more), is replaced by a new one, like a server that fails to provision.
postmaster_pid() { head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true; }
dead() {
    local pid state
    pid=$(postmaster_pid)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
    state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo Z)
    [ "$state" = Z ] || [ "$state" = X ]
}
upgraded() { [[ "$(readlink "/proc/$(postmaster_pid)/exe" 2>/dev/null || true)" == *" (deleted)" ]]; }
stale() { dead || upgraded; }

BIN=$(pg_bindir || true)
case "${1:-start}" in
    status)
        [ -n "$BIN" ] && running "$BIN" && ! stale
        exit
        ;;
    stop)
        if [ -n "$BIN" ] && running "$BIN" && ! dead; then
            as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2
        fi
        exit 0
        ;;
    start) ;;
    *) say "usage: $0 [start|status|stop]"; exit 2 ;;
esac

# 1. The packages (Debian's postgresql), unless already there.
if [ -z "$BIN" ]; then
    bash "$(dirname "$0")/apt-install.sh" postgresql postgres.sh
    BIN=$(pg_bindir) || { say "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql"; exit 1; }
fi

# 2. The server: reuse ours if it runs, else a new data directory.
start_new() {
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
        say "another server already listens on 127.0.0.1:$PORT: stop it or set DAAM_PG_PORT"
        exit 1
    fi
    rm -rf "$BASE"
    mkdir -p "$BASE"
    chmod 700 "$BASE"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$BASE"; fi
    as_owner "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth-local=trust \
        --auth-host=scram-sha-256 --no-sync >"$BASE/initdb.log" 2>&1 \
        || { cat "$BASE/initdb.log" >&2; exit 1; }
    # Throwaway data: no durability needed, and the socket beside the data (no /run/postgresql needed).
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -o "-c port=$PORT -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories=$BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2 || { tail -n 30 "$LOG" >&2; exit 1; }
}

# 3. Ready, then the role and the database (each time: cheap and idempotent). Returns 1 on failure.
provision() {
    local _
    for _ in $(seq 1 60); do
        "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
        sleep 0.5
    done
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || { say "the server does not answer on 127.0.0.1:$PORT"; return 1; }
    psql_super -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'daam') THEN CREATE ROLE daam LOGIN PASSWORD 'daam';
        ELSE ALTER ROLE daam LOGIN PASSWORD 'daam'; END IF; END \$\$;" >&2 || return 1
    local have
    have=$(psql_super -tA -c "SELECT 1 FROM pg_database WHERE datname = 'daam'") || return 1
    if [ "$have" != 1 ]; then psql_super -c "CREATE DATABASE daam OWNER daam" >&2 || return 1; fi
}
psql_super() { as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$BASE" -p "$PORT" -U postgres -d postgres "$@"; }

if running "$BIN" && ! stale; then
    say "reusing the server already running in $DATA"
    if ! provision; then
        say "the running server fails: starting a new one"
        as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
        start_new
        provision || exit 1
    fi
else
    if running "$BIN"; then
        say "the server of $DATA is dead or its binaries were upgraded since it started: starting a new one"
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 10 stop >/dev/null 2>&1 || true
    fi
    start_new
    provision || exit 1
fi
say "ready on 127.0.0.1:$PORT (data in $DATA, log in $LOG)"
echo "$URL"
