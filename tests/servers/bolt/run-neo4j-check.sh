#!/bin/sh
# run-neo4j-check.sh — certify bolt-refserver with the official neo4j-driver:
# runs tests/peers/neo4j_check.js, which starts the server itself in each
# configuration (5.x manifest / legacy handshake, 5.0, 4.4, routing cluster,
# TLS, faults) and stops it.  Builds nothing.
#
# usage: run-neo4j-check.sh [SERVER_BINARY]
#   default binary: $BOLT_REFSERVER, else $GJ_BUILDDIR/tests/servers/bolt/bolt-refserver
# exit: the check's status; 77 (skip) without node, openssl or
#       tests/peers/node_modules/neo4j-driver (run `npm ci` there).
set -u
here=$(cd "$(dirname "$0")" && pwd)
peers=$(cd "$here/../../peers" && pwd)
server=${1:-${BOLT_REFSERVER:-${GJ_BUILDDIR:-.}/tests/servers/bolt/bolt-refserver}}

for tool in node openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed"
        exit 77
    fi
done
if [ ! -d "$peers/node_modules/neo4j-driver" ]; then
    echo "SKIP: neo4j-driver is not installed; run 'npm ci' in $peers"
    exit 77
fi
exec timeout 600 node "$peers/neo4j_check.js" "$server"
