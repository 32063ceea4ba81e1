#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server and DATABASE_URL_TEST pointing at it.
#
#   crates/server/scripts/with-postgres.sh cargo test -p dreamcatcher-server
#
# Installs Debian's postgresql package when no server binaries are found (needs root), creates
# a cluster in a temporary directory, starts it on a free loopback port (as the `postgres`
# user when run as root: PostgreSQL refuses to run as root), runs the command, then stops the
# cluster and deletes it, whatever the command's outcome. Exits with the command's status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

find_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
        fi
    done | sort -V | tail -n 1
}

bindir="$(find_bindir)"
if [ -z "$bindir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed and installing it needs root: apt-get install postgresql" >&2
        exit 1
    fi
    echo "installing PostgreSQL (apt-get install -y postgresql)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir="$(find_bindir)"
fi
if [ -z "$bindir" ]; then
    echo "no initdb/pg_ctl found under /usr/lib/postgresql after installing" >&2
    exit 1
fi

# Root runs the server as `postgres`; anyone else as themselves.
run_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local port
    for port in $(seq 55432 55632); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

workdir="$(mktemp -d "${TMPDIR:-/tmp}/dreamcatcher-pg.XXXXXX")"
chmod 755 "$workdir"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$workdir"
fi
datadir="$workdir/data"
port="$(free_port)" || { echo "no free port in 55432-55632" >&2; exit 1; }

cleanup() {
    run_as_owner "$bindir/pg_ctl" -D "$datadir" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT

run_as_owner "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# fsync off: the cluster is thrown away after the run.
run_as_owner "$bindir/pg_ctl" -D "$datadir" -l "$workdir/server.log" -w -t 60 \
    -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
    start >/dev/null || { cat "$workdir/server.log" >&2; exit 1; }

export DATABASE_URL_TEST="postgres://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

status=0
"$@" || status=$?
exit "$status"
