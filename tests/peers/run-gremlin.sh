#!/bin/sh
# run-gremlin.sh — certify the Gremlin Server reference server with the
# official gremlin npm driver (3.8.2 and 3.6.4): start servers on port 0 (one
# plain with a small --max-content-length, one requiring SASL PLAIN, one on
# TLS with a throw-away certificate when openssl is installed), read their
# ports, run gremlin_check.js against them, stop them by PID, and exit with
# the check's status.  Builds nothing.
#
# usage: run-gremlin.sh [SERVER_BINARY]
#   default binary: $GREMLIN_REFSERVER, else $GJ_BUILDDIR/tests/servers/gremlin/gremlin-refserver
# exit: the check's status; 1 if a server did not exit cleanly;
#       77 (skip) without node or tests/peers/node_modules/gremlin and
#       gremlin-3.6 (run `npm ci` there); 99 when a server cannot be started.
set -u

here=$(cd "$(dirname "$0")" && pwd)
server=${1:-${GREMLIN_REFSERVER:-${GJ_BUILDDIR:-.}/tests/servers/gremlin/gremlin-refserver}}
max_content_length=1048576
user=stephen
password=password

if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed"
    exit 77
fi
for module in gremlin gremlin-3.6; do
    if [ ! -d "$here/node_modules/$module" ]; then
        echo "SKIP: the npm package $module is not installed; run 'npm ci' in $here"
        exit 77
    fi
done
if [ ! -x "$server" ]; then
    echo "run-gremlin.sh: server binary not found: $server" >&2
    exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-gremlin.XXXXXX") || exit 99
pids=

stop_servers() {
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $pids; do
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "run-gremlin.sh: server $pid did not stop on SIGTERM, killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid"
        rc_one=$?
        [ "$rc_one" -ne 0 ] && server_rc=$rc_one
    done
    pids=
    return 0
}

cleanup() {
    stop_servers
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME ARGS...: run a server, wait for its port (in $port).
start() {
    name=$1
    shift
    : >"$tmp/$name.out"
    "$server" --port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    started=$!
    pids="$pids $started"
    port=
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$tmp/$name.out" | head -n 1)
        [ -n "$port" ] && return 0
        kill -0 "$started" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "run-gremlin.sh: the $name server did not print its port; stderr:" >&2
    cat "$tmp/$name.err" >&2
    exit 99
}

server_rc=0
start plain --max-content-length "$max_content_length"
plain_port=$port
start auth --user "$user" --password "$password"
auth_port=$port
# wss:// with a throw-away self-signed certificate, when openssl is there
tls_args=
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1; then
    start tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
    tls_args="--tls-url wss://127.0.0.1:$port/gremlin"
else
    echo "# no openssl: the wss:// checks are skipped"
fi

# shellcheck disable=SC2086
timeout 300 node "$here/gremlin_check.js" "ws://127.0.0.1:$plain_port/gremlin" "ws://127.0.0.1:$auth_port/gremlin" \
    --user "$user" --password "$password" --max-content-length "$max_content_length" $tls_args
rc=$?

stop_servers
if [ "$server_rc" -ne 0 ]; then
    echo "run-gremlin.sh: a server exited with status $server_rc; stderr:" >&2
    cat "$tmp"/*.err >&2
    [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
