#!/usr/bin/env bash
# Runs every example of examples/ against the bundled reference servers (on
# 127.0.0.1, ports chosen by the system), as `make check` does: each must
# exit 0 and print what it promises.  A backend whose server is not built
# (or node, for the GraphQL server from npm) is skipped, saying why.
set -u
b=${GJ_BUILDDIR:-.}
s=${GJ_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0; n=0; skipped=0
pids=()
tmp=$(mktemp -d)
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# start PROGRAM ARGS...: run it with stdout to a file, wait for "PORT n"; sets $port.
start() {
  local out="$tmp/out.$RANDOM"
  "$@" >"$out" 2>"$out.err" & pids+=($!)
  port=""
  for _ in $(seq 1 300); do
    port=$(awk '/^PORT/{print $2; exit}' "$out" 2>/dev/null)
    [ -n "$port" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "could not start $1: $(cat "$out.err")"
  return 1
}

# check NAME PATTERN -- COMMAND...: COMMAND exits 0 and prints PATTERN.
check() {
  local name=$1 pat=$2; shift 3
  local out rc
  n=$((n + 1))
  out=$("$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "not ok - $name (exit $rc)"; echo "$out" | sed 's/^/    /' | head -20; fail=$((fail + 1))
  else
    echo "ok - $name"; echo "$out" | sed 's/^/    /' | tail -3
  fi
}
skip() { echo "skip - $1"; skipped=$((skipped + 1)); }
export b s tmp

# doc_program FILE: the first C block of FILE, compiled as a user would
# (with the build's sanitizer flags, if any) into $tmp/doc; 0 when it built.
doc_program() {
  awk '/^```c$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' "$1" >"$tmp/doc.c"
  local san; san=$(sed -n 's/^GJ_SAN_FLAGS = //p' "$b/Makefile" 2>/dev/null)
  cc -std=c11 -Wall -Werror $san -I"$s/include" -o "$tmp/doc" "$tmp/doc.c" \
     -L"$b/.libs" -lgraphjob -Wl,-rpath,"$b/.libs" -pthread
}
export -f doc_program

if start "$b/tests/servers/bolt/bolt-refserver" --seed; then
  u="bolt://neo4j:password@127.0.0.1:$port"
  check "README.md's C example compiles and runs as printed" '^Alice$' -- \
    bash -c 'doc_program "$1" && "$2/doc" "$3"' _ "$s/README.md" "$tmp" "$u"
  check "docs/getting-started.md's first program" '^3 rows$' -- \
    bash -c 'doc_program "$1" && "$2/doc" "$3"' _ "$s/docs/getting-started.md" "$tmp" "$u"
  check "bolt" "sum of 1..100000 streamed: 5000050000" -- "$b/examples/bolt" "$u"
  check "epoll_loop" "^300 jobs finished \(0 failed, 300 rows\)" -- "$b/examples/epoll_loop" "$u" 'RETURN 1 AS x' 300
  seq 1 5000 | awk '{printf "{\"n\": %d, \"name\": \"item %d\"}\n", $1, $1}' >"$tmp/items.jsonl"
  check "bulk_load" "^5000 lines loaded: 5000 done, 0 failed" -- \
    "$b/examples/bulk_load" "$u?queue_size=64" 'CREATE (:Item {n: $n, name: $name})' "$tmp/items.jsonl"
  if [ -x "$b/examples/http_service" ] && [ -x "$b/examples/http_load" ]; then
    if start "$b/examples/http_service" "$u?max_conns=2&workers=2" 0 4; then
      check "http_service + http_load" "400 answered right, 0 not" -- \
        "$b/examples/http_load" "http://127.0.0.1:$port" 400 64
    else
      n=$((n + 1)); fail=$((fail + 1)); echo "not ok - http_service did not start"
    fi
  else
    skip "http_service (no libmicrohttpd)"
  fi
else
  n=$((n + 1)); fail=$((fail + 1))
fi

if [ -x "$b/tests/servers/arango/arango-refserver" ]; then
  start "$b/tests/servers/arango/arango-refserver" --password pw &&
    check "arango" "server job [0-9]+: \[1,2,3,4,5\]" -- "$b/examples/arango" "http://root:pw@127.0.0.1:$port"
else
  skip "arango (arango-refserver not built: no libmicrohttpd)"
fi

if ! "$b/tools/graphjob" -V | grep -q ' gremlin'; then
  skip "gremlin (no gremlin backend in this build)"
elif start "$b/tests/servers/gremlin/gremlin-refserver"; then
  check "gremlin" "the session kept x = 42" -- "$b/examples/gremlin" "ws://127.0.0.1:$port/gremlin"
fi

if ! "$b/tools/graphjob" -V | grep -q ' graphql'; then
  skip "graphql (no graphql backend in this build)"
elif ! command -v node >/dev/null; then
  skip "graphql (no node for the npm GraphQL server)"
elif [ ! -d "$s/tests/peers/node_modules/graphql-http" ]; then
  skip "graphql (tests/peers/node_modules missing: cd tests/peers && npm ci)"
elif start node "$s/tests/peers/graphql_http_server.js"; then
  check "graphql" '"hello":"Hello, Ada!"' -- "$b/examples/graphql" "graphql+http://127.0.0.1:$port/graphql"
fi

echo "$((n - fail)) passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
