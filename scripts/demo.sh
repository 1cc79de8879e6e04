#!/usr/bin/env bash
# The main job (README "Quick start"): build libgraphjob and its command-line
# program, start the bundled reference servers (Bolt and ArangoDB) on free
# loopback ports, and run queries against each backend through `graphjob`:
# every query is a job; each prints as one JSON line (result or server error).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || "$top/configure" -q
make -j2 >/dev/null
make -j2 tools/graphjob tests/servers/bolt/bolt-refserver tests/servers/arango/arango-refserver \
     examples/jobs_demo >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME CMD...: run a server that prints "PORT n"; sets $port.
start() {
  local out; out=$(mktemp)
  "$@" >"$out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do
    port=$(awk '/^PORT/{print $2; exit}' "$out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  rm -f "$out"
  [ -n "$port" ] || { echo "demo: $1 did not start" >&2; exit 1; }
}

gj=./tools/graphjob
show() { echo; echo "\$ graphjob $*" | sed -E 's#//([^:]+):[^@]*@#//\1:***@#'; "$gj" "$@" || true; }

start tests/servers/bolt/bolt-refserver --seed
bolt="bolt://neo4j:password@127.0.0.1:$port"
echo "== Neo4j (Bolt) — reference server on 127.0.0.1:$port"
show "$bolt" 'RETURN 1 AS one, "hello" AS greeting' 'UNWIND range(1, 5) AS x RETURN x'
show -p name=Ada -p 'langs=["C","Cypher"]' "$bolt" 'RETURN $name AS name, $langs AS langs'
show "$bolt" 'RETRUN 1'

start tests/servers/arango/arango-refserver --password secret
arango="http://root:secret@127.0.0.1:$port"
echo; echo "== ArangoDB (HTTP) — reference server on 127.0.0.1:$port"
show "$arango" 'RETURN "hello"' 'FOR i IN 1..5 RETURN i'
show -p v=42 "$arango" 'RETURN @v'
show "$arango" 'INVALID QUERY'
show "http://root:wrong@127.0.0.1:$port" 'RETURN 1'

echo; echo "== The job model (python-arango's AsyncJob walk-through, built-in test backend)"
./examples/jobs_demo
