#!/usr/bin/env bash
# Build libgraphjob and run every test:
#   1. the unit and integration tests (GoogleTest) with -Werror
#   2. the same under ASan + UBSan (leak checking on)
#   3. the concurrency and integration tests under TSan
#   4. valgrind memcheck on a selection
#   5. the libFuzzer targets for a bounded time (clang)
#   6. make distcheck
# and an install stage: install into a staging directory, build an example
# with only `pkg-config --cflags --libs graphjob`, run it against the shared
# library, and check that the library exports the gj_* API and nothing else.
# The official-driver cross-checks (tests/peers: neo4j-driver, arangojs) run
# inside `make check`; their npm packages are installed first (npm ci).
# Ends with one line "N passed, N failed".  Usage: scripts/test.sh [stage...]
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-2}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit install asan tsan valgrind fuzz distcheck)

passed=0; failed=0; failures=()
ok()   { passed=$((passed + 1)); echo "=== PASS: $1"; }
bad()  { failed=$((failed + 1)); failures+=("$1"); echo "=== FAIL: $1"; }
run()  { local name=$1; shift; echo "=== RUN: $name"; if "$@"; then ok "$name"; else bad "$name"; fi; }

bash scripts/deps.sh || { echo "deps failed"; echo "0 passed, 1 failed"; exit 1; }
if [ -f tests/peers/package-lock.json ] && [ ! -d tests/peers/node_modules ]; then
  (cd tests/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "npm ci in tests/peers failed"; echo "0 passed, 1 failed"; exit 1; }
fi
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }

# configure_build DIR [configure args...]: configure (once) and build in DIR.
configure_build() {
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@"; } && make -j"$jobs" >/dev/null)
}

# check_in DIR [TESTS...]: make check, printing the logs of failures.
check_in() {
  local dir=$1; shift
  local args=()
  [ $# -gt 0 ] && args=("TESTS=$*")
  (cd "$dir" && make -j"$jobs" check "${args[@]}" >"$dir/check.out" 2>&1)
  local rc=$?
  grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS|# )' "$dir/check.out" | sed 's/^/    /'
  if [ $rc -ne 0 ]; then
    for trs in $(cd "$dir" && grep -lE '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs') 2>/dev/null); do
      echo "---- ${trs%.trs}.log"; tail -n 60 "$dir/${trs%.trs}.log"
    done
    tail -n 30 "$dir/check.out"
  fi
  return $rc
}

concurrency_tests="tests/unit/job_test tests/unit/stress_test tests/unit/pool_test tests/unit/ws_test tests/integration/bolt_test tests/integration/bolt_session_test tests/integration/arango_test tests/integration/hostile_test tests/unit/session_test tests/integration/gremlin_test tests/integration/graphql_test tests/integration/arango_session_test"

for stage in "${stages[@]}"; do
  case $stage in
  unit)
    run "build (-Werror)" configure_build "$top/build" --enable-werror
    run "make check" check_in "$top/build" ;;
  install)
    run "build" configure_build "$top/build" --enable-werror
    run "install + pkg-config + exports" bash -c '
      set -e
      stage=$(mktemp -d); trap "rm -rf $stage" EXIT
      cd "'"$top"'/build"
      make install DESTDIR="$stage" >/dev/null
      prefix=$(sed -n "s/^prefix=//p" pkgconfig/graphjob.pc)
      lib=$(ls -d "$stage$prefix"/lib*/pkgconfig | head -n 1)
      export PKG_CONFIG_PATH="$lib" PKG_CONFIG_SYSROOT_DIR="$stage"
      cc -std=c11 -Wall -Werror -o "$stage/config_check" "'"$top"'/examples/config_check.c"          $(pkg-config --cflags --libs graphjob)
      LD_LIBRARY_PATH="$(dirname "$lib")" "$stage/config_check" "bolt://neo4j:pw@db1:7687,db2:7688?max_conns=8" | tee "$stage/out"
      grep -q "hosts .*db1:7687,db2:7688" "$stage/out"
      so=$(ls "$(dirname "$lib")"/libgraphjob.so.* | head -n 1)
      bad=$(nm -D --defined-only "$so" | awk "{print \$3}" | grep -vE "^(gj_[a-z]|GRAPHJOB_)" || true)
      [ -z "$bad" ] || { echo "unexpected exports: $bad"; exit 1; }
      nm -D --defined-only "$so" | grep -q " gj_client_submit@@GRAPHJOB_0$"
      ! nm -D --defined-only "$so" | grep -q " gj__"
      echo "exports: $(nm -D --defined-only "$so" | grep -c " gj_") gj_* functions, nothing else"
    ' ;;
  asan)
    run "build (ASan+UBSan)" configure_build "$top/build-asan" --enable-werror \
        --enable-sanitizers=address,undefined CFLAGS="-O1 -g" CXXFLAGS="-O1 -g"
    run "make check (ASan+UBSan)" check_in "$top/build-asan" ;;
  tsan)
    run "build (TSan)" configure_build "$top/build-tsan" --enable-werror \
        --enable-sanitizers=thread CFLAGS="-O1 -g" CXXFLAGS="-O1 -g"
    export GJ_STRESS_JOBS=${GJ_STRESS_JOBS_TSAN:-100000}
    run "make check (TSan: concurrency tests)" check_in "$top/build-tsan" $concurrency_tests
    unset GJ_STRESS_JOBS ;;
  valgrind)
    run "build" configure_build "$top/build" --enable-werror
    (cd "$top/build" && make -j"$jobs" check TESTS= >/dev/null 2>&1)
    for t in job_test session_test error_test value_test json_test json_in_test config_test pool_test stress_test alloc_torture_test \
             packstream_test chunk_test bolt_msg_test graphbinary_test graphson_test gremlin_msg_test ws_test result_meta_test; do
      [ -x "$top/build/tests/unit/$t" ] || continue
      run "valgrind $t" env GJ_STRESS_JOBS=2000 valgrind -q --error-exitcode=9 --leak-check=full \
          --errors-for-leak-kinds=definite,indirect "$top/build/tests/unit/$t" --gtest_brief=1
    done ;;
  fuzz)
    if command -v clang >/dev/null; then
      run "build (libFuzzer)" configure_build "$top/build-fuzz" --enable-fuzzing CC=clang CXX=clang++
      for f in "$top"/build-fuzz/tests/fuzz/*_fuzz; do
        [ -x "$f" ] || continue
        name=$(basename "$f"); corpus="$top/tests/fuzz/corpus/${name%_fuzz}"
        mkdir -p "$top/build-fuzz/corpus-$name"
        run "fuzz $name (${FUZZ_SECONDS:-60}s)" "$f" -max_total_time="${FUZZ_SECONDS:-60}" \
            -rss_limit_mb=2048 -print_final_stats=1 "$top/build-fuzz/corpus-$name" \
            $( [ -d "$corpus" ] && echo "$corpus" )
      done
    else
      echo "=== SKIP: fuzzing (no clang)"
    fi ;;
  distcheck)
    run "make distcheck" bash -c "cd '$top/build' && make -j$jobs distcheck >'$top/build/distcheck.out' 2>&1 || { tail -n 60 '$top/build/distcheck.out'; exit 1; }" ;;
  *) echo "unknown stage $stage"; bad "stage $stage" ;;
  esac
done

echo
if [ $failed -gt 0 ]; then
  echo "failed stages:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
