#!/usr/bin/env bash
# The graphjob command-line program against the bundled reference servers:
# results, server errors with their identity, exit codes, usage errors.
set -u
b=${GJ_BUILDDIR:-.}
gj="$b/tools/graphjob"
fail=0; n=0
check() { # NAME EXPECTED-EXIT PATTERN -- ARGS...
  local name=$1 want=$2 pat=$3; shift 4
  local out rc
  out=$("$gj" "$@" 2>&1); rc=$?
  n=$((n + 1))
  if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "not ok - $name (exit $rc, want $want)"; echo "$out" | head -5; fail=$((fail + 1))
  else
    echo "ok - $name"
  fi
}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
start() {
  local out; out=$(mktemp)
  "$@" >"$out" 2>/dev/null & pids+=($!)
  port=""
  for _ in $(seq 1 100); do port=$(awk '/^PORT/{print $2; exit}' "$out"); [ -n "$port" ] && break; sleep 0.05; done
  rm -f "$out"
}

check "usage error" 2 "usage: graphjob" -- 
check "unknown scheme" 2 "scheme" -- "nosuch://h" "RETURN 1"
check "version" 0 "libgraphjob" -- --version

if [ -x "$b/tests/servers/bolt/bolt-refserver" ]; then
  start "$b/tests/servers/bolt/bolt-refserver" --seed
  u="bolt://neo4j:password@127.0.0.1:$port"
  check "bolt rows" 0 '"rows":\[\[1\],\[2\],\[3\]\]' -- "$u" 'UNWIND range(1, 3) AS x RETURN x'
  check "bolt params as JSON" 0 '"rows":\[\["Ada",\[1,2\]\]\]' -- -p name=Ada -p 'xs=[1,2]' "$u" 'RETURN $name AS n, $xs AS xs'
  check "bolt several jobs, one fails" 1 '"job":2.*Neo.ClientError.Statement.SyntaxError' -- "$u" 'RETURN 1 AS x' 'RETRUN 1'
  check "bolt wrong password" 1 'GJ_EAUTH' -- "bolt://neo4j:wrong@127.0.0.1:$port" 'RETURN 1'
fi
if [ -x "$b/tests/servers/arango/arango-refserver" ]; then
  start "$b/tests/servers/arango/arango-refserver" --password pw
  u="http://root:pw@127.0.0.1:$port"
  check "arango rows" 0 '"rows":\[1,2,3\]' -- "$u" 'FOR i IN 1..3 RETURN i'
  check "arango 1501 keeps errorNum and HTTP 400" 1 '"server_number":1501,"http_status":400' -- "$u" 'BAD QUERY'
  # With logging on, the password appears nowhere in the output.
  n=$((n + 1))
  out=$("$gj" -vv "http://root:S3cr3tPw@127.0.0.1:$port" 'RETURN 1' 2>&1)
  if grep -q S3cr3tPw <<<"$out" || ! grep -q GJ_EAUTH <<<"$out"; then
    echo "not ok - password never printed"; echo "$out" | grep -n S3cr3tPw | head -3; fail=$((fail + 1))
  else
    echo "ok - password never printed ($(wc -l <<<"$out") lines of output)"
  fi
fi
echo "$((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
