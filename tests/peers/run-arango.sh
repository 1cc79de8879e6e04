#!/bin/sh
# run-arango.sh — certify the ArangoDB reference server with the official
# arangojs driver: start the server on port 0 (two coordinators), read its
# port, run arango_check.js against it, stop the server by its PID, and exit
# with the check's status.  Builds nothing.
#
# usage: run-arango.sh [SERVER_BINARY]
#   default binary: $ARANGO_REFSERVER, else $GJ_BUILDDIR/tests/servers/arango/arango-refserver
# exit: the check's status; 1 if the server did not exit cleanly;
#       77 (skip) without node or tests/peers/node_modules (run `npm ci` there);
#       99 when the server cannot be started.
set -u

here=$(cd "$(dirname "$0")" && pwd)
server=${1:-${ARANGO_REFSERVER:-${GJ_BUILDDIR:-.}/tests/servers/arango/arango-refserver}}
max_body=1048576

if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed"
    exit 77
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "SKIP: arangojs 10.4 needs node >= 20 (this is node $(node --version 2>/dev/null))"
    exit 77
fi
if [ ! -d "$here/node_modules/arangojs" ]; then
    echo "SKIP: arangojs is not installed; run 'npm ci' in $here"
    exit 77
fi
if [ ! -x "$server" ]; then
    echo "run-arango.sh: server binary not found: $server" >&2
    exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-arango.XXXXXX") || exit 99
pid=

stop_server() {
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "run-arango.sh: server $pid did not stop on SIGTERM, killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"
    server_rc=$?
    pid=
    return 0
}

cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$tmp/out"
"$server" --port 0 --coordinators 2 --max-body "$max_body" >"$tmp/out" 2>"$tmp/err" &
pid=$!

port=
i=0
while [ $i -lt 100 ]; do
    port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$tmp/out" | head -n 1)
    [ -n "$port" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    echo "run-arango.sh: server did not print its port; stderr:" >&2
    cat "$tmp/err" >&2
    exit 99
fi

timeout 300 node "$here/arango_check.js" "http://127.0.0.1:$port" --max-body "$max_body"
rc=$?

server_rc=0
stop_server
if [ "$server_rc" -ne 0 ]; then
    echo "run-arango.sh: server exited with status $server_rc; stderr:" >&2
    cat "$tmp/err" >&2
    [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
