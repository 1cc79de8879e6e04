#!/usr/bin/env bash
# Build libgraphjob and run every test:
#   1. unit: the unit and integration tests (GoogleTest), the examples and the
#      command-line program's tests, built with -Werror (a build directory
#      configured otherwise before, e.g. by scripts/demo.sh, is cleaned and
#      configured again)
#   2. asan: the same under ASan + UBSan (leak checking on)
#   3. tsan: the concurrency and integration tests under TSan
#   4. valgrind: memcheck on every test program, unit and integration (the
#      command-line program under test runs under valgrind too; a few
#      timing-bound cases excluded: $valgrind_integration_tests)
#   5. fuzz: the libFuzzer targets for a bounded time (clang)
#   6. distcheck: make distcheck
#   7. deb: dpkg-buildpackage -us -uc -b, lintian -I -E --pedantic (errors,
#      and warnings not explained in debian/README.source, fail), install the
#      packages, compile an example with `pkg-config --cflags --libs graphjob`
#      only and run it against a reference server, then remove them
# and an install stage: install into a staging directory, build an example
# with only `pkg-config --cflags --libs graphjob`, run it against the shared
# library, check that the library exports the gj_* API and nothing else,
# and that no symbol of debian/libgraphjob0.symbols disappeared.
# The official-driver cross-checks (tests/peers: neo4j-driver, arangojs) run
# inside `make check`; their npm packages are installed first (npm ci).
# Ends with one line "N passed, N failed".  Usage: scripts/test.sh [stage...]
# (stages: unit install asan tsan valgrind fuzz distcheck deb; all by default).
# Environment: JOBS (make -j, default 2), GJ_BUILD_ROOT (where the build*
# directories go, default the top of the tree), FUZZ_SECONDS (default 60).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-2}
# The build directories (build, build-asan, build-tsan, build-fuzz, build-deb)
# are made under $GJ_BUILD_ROOT, by default the top of the tree.
bd=${GJ_BUILD_ROOT:-$top}
mkdir -p "$bd"
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit install asan tsan valgrind fuzz distcheck deb)

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

# configure_build DIR [configure args...]: configure and build in DIR.  A
# DIR configured with other arguments (recorded in DIR/.gj-configure-args) is
# cleaned and configured again, so that e.g. the -Werror build really is one.
# Compiler warnings (stderr) are shown.
configure_build() {
  local dir=$1; shift
  mkdir -p "$dir"
  if [ -f "$dir/Makefile" ] && [ "$(cat "$dir/.gj-configure-args" 2>/dev/null)" != "$*" ]; then
    echo "    ($dir was configured with other options: cleaning it and configuring again)"
    (cd "$dir" && make clean >/dev/null 2>&1; rm -f Makefile)
  fi
  (cd "$dir" && { [ -f Makefile ] || { "$top/configure" -q "$@" && echo "$*" >.gj-configure-args; }; } &&
   make -j"$jobs" >/dev/null)
}

# werror_in DIR: the build of DIR compiles with -Werror.
werror_in() {
  grep -q '^GJ_WARN_CFLAGS = .*-Werror' "$1/Makefile" && grep -q '^GJ_WARN_CXXFLAGS = .*-Werror' "$1/Makefile"
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

concurrency_tests="tests/unit/job_test tests/unit/stress_test tests/unit/pool_test tests/unit/ws_test tests/integration/bolt_test tests/integration/bolt_session_test tests/integration/arango_test tests/integration/hostile_test tests/unit/session_test tests/integration/gremlin_test tests/integration/arango_session_test tests/integration/graphql_test tests/integration/cli_test"

# Integration tests under valgrind (stage valgrind), as PROGRAM[:GTEST_FILTER]:
# every one, each ending within two minutes there (measured on 2 busy cores:
# cli_test 91 s, gremlin_test 74 s, graphql_test 42 s, hostile_test 34 s,
# bolt_test 28 s, the others under 15 s), without the cases valgrind's
# slowdown or allocator defeats: hostile_test's TLS failure "within 5 s"
# (the handshake alone takes longer under valgrind) and bolt_test's
# MillionRowsThroughCallback (it reads the heap with mallinfo2: 0 under
# valgrind).  They run in the other stages.  The whole stage, unit tests
# included: 7 minutes after the build.  Append new programs here.
valgrind_integration_tests="tests/integration/cli_test tests/integration/bolt_test:-BoltTest.MillionRowsThroughCallback tests/integration/bolt_session_test tests/integration/arango_test tests/integration/arango_session_test tests/integration/arango_request_test tests/integration/gremlin_test tests/integration/graphql_test tests/integration/hostile_test:-Hostile.Connect5fTlsFailureIsFinal"

for stage in "${stages[@]}"; do
  case $stage in
  unit)
    run "build (-Werror)" configure_build "$bd/build" --enable-werror
    run "the build uses -Werror" werror_in "$bd/build"
    run "make check" check_in "$bd/build"
    # The bench/ programs are not part of make check (they measure, and take
    # minutes); they must still build with -Werror.
    run "bench programs build (-Werror)" bash -c "cd '$bd/build' && make -j$jobs bench >'$bd/build/bench.out' 2>&1 || { tail -n 40 '$bd/build/bench.out'; exit 1; }" ;;
  install)
    run "build" configure_build "$bd/build" --enable-werror
    run "install + pkg-config + exports" bash -c '
      set -e
      stage=$(mktemp -d); trap "rm -rf $stage" EXIT
      cd "'"$bd"'/build"
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
    '
    run "symbols: none of debian/libgraphjob0.symbols gone" scripts/update-symbols.sh --check "$bd/build" ;;
  asan)
    run "build (ASan+UBSan)" configure_build "$bd/build-asan" --enable-werror \
        --enable-sanitizers=address,undefined CFLAGS="-O1 -g" CXXFLAGS="-O1 -g"
    run "make check (ASan+UBSan)" check_in "$bd/build-asan" ;;
  tsan)
    run "build (TSan)" configure_build "$bd/build-tsan" --enable-werror \
        --enable-sanitizers=thread CFLAGS="-O1 -g" CXXFLAGS="-O1 -g"
    export GJ_STRESS_JOBS=${GJ_STRESS_JOBS_TSAN:-100000}
    run "make check (TSan: concurrency tests)" check_in "$bd/build-tsan" $concurrency_tests
    unset GJ_STRESS_JOBS ;;
  valgrind)
    run "build" configure_build "$bd/build" --enable-werror
    (cd "$bd/build" && make -j"$jobs" check TESTS= >/dev/null 2>&1)
    # Every unit test; the integration tests of $valgrind_integration_tests
    # (PROGRAM or PROGRAM:GTEST_FILTER), with the command-line program that
    # tests/integration/cli_test runs under valgrind too.
    vg="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect"
    for t in $(cd "$bd/build" && ls tests/unit/*_test 2>/dev/null) $valgrind_integration_tests; do
      prog=${t%%:*}; filter=${t#"$prog"}; filter=${filter#:}
      [ -x "$bd/build/$prog" ] && [ -f "$bd/build/$prog" ] || continue
      run "valgrind $t" env GJ_STRESS_JOBS=2000 GJ_CLI_WRAPPER="$vg" timeout 900 \
          "$bd/build/libtool" --mode=execute $vg "$bd/build/$prog" --gtest_brief=1 \
          ${filter:+--gtest_filter="$filter"}
    done ;;
  fuzz)
    if command -v clang >/dev/null; then
      run "build (libFuzzer)" configure_build "$bd/build-fuzz" --enable-fuzzing CC=clang CXX=clang++
      for f in "$bd"/build-fuzz/tests/fuzz/*_fuzz; do
        [ -x "$f" ] || continue
        name=$(basename "$f"); corpus="$top/tests/fuzz/corpus/${name%_fuzz}"
        mkdir -p "$bd/build-fuzz/corpus-$name"
        run "fuzz $name (${FUZZ_SECONDS:-60}s)" "$f" -max_total_time="${FUZZ_SECONDS:-60}" \
            -rss_limit_mb=2048 -print_final_stats=1 "$bd/build-fuzz/corpus-$name" \
            $( [ -d "$corpus" ] && echo "$corpus" )
      done
    else
      echo "=== SKIP: fuzzing (no clang)"
    fi ;;
  distcheck)
    run "make distcheck" bash -c "cd '$bd/build' && make -j$jobs distcheck >'$bd/build/distcheck.out' 2>&1 || { tail -n 60 '$bd/build/distcheck.out'; exit 1; }" ;;
  deb)
    for tool in dpkg-buildpackage dh lintian; do
      command -v $tool >/dev/null || { bad "deb: $tool missing (scripts/deps.sh installs it)"; continue 2; }
    done
    run "build (reference servers for the deb stage)" configure_build "$bd/build" --enable-werror
    deb="$bd/build-deb"
    run "deb: dpkg-buildpackage -us -uc -b" bash -c '
      set -e
      rm -rf "'"$deb"'"; mkdir -p "'"$deb"'/src"; cd "'"$top"'"
      # the tree as git sees it (tracked, and new files not ignored), or all of it
      if git rev-parse --git-dir >/dev/null 2>&1; then
        { git ls-files; git ls-files --others --exclude-standard; } | sort -u |
          while read -r f; do if [ -e "$f" ]; then printf "%s\n" "$f"; fi; done >"'"$deb"'/files"
        tar -cf - -T "'"$deb"'/files" | (cd "'"$deb"'/src" && tar -xf -)
      else
        tar --exclude="./build*" -cf - . | (cd "'"$deb"'/src" && tar -xf -)
      fi
      cd "'"$deb"'/src"
      DEB_BUILD_OPTIONS="nocheck parallel='"$jobs"'" dpkg-buildpackage -us -uc -b >"'"$deb"'/build.log" 2>&1 ||
        { tail -n 60 "'"$deb"'/build.log"; exit 1; }
      ! grep -n "aclocal: warning: couldn.t open directory" "'"$deb"'/build.log"
      ls "'"$deb"'"/*.deb'
    run "deb: lintian -I -E --pedantic (no error; every warning explained in debian/README.source)" bash -c '
      set -e
      cd "'"$deb"'"
      ls *.changes >/dev/null
      rc=0; lintian -I -E --pedantic *.changes >lintian.out 2>&1 || rc=$?
      [ $rc -le 1 ] || { cat lintian.out; echo "lintian itself failed (exit $rc)"; exit 1; }
      grep -v "running with root privileges" lintian.out | tee lintian.txt
      ! grep -q "^E: " lintian.txt
      for tag in $(sed -n "s/^W: [^ ]* \([a-z0-9-]*\).*/\1/p" lintian.txt | sort -u); do
        grep -q -- "$tag" "'"$top"'/debian/README.source" || { echo "lintian warning $tag is not explained in debian/README.source"; exit 1; }
      done'
    run "deb: install, build an example with pkg-config only, run it against bolt-refserver" bash -c '
      set -e
      trap "echo \"failed: \$BASH_COMMAND\"" ERR
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      cd "'"$deb"'"
      $SUDO dpkg -i libgraphjob0_*.deb libgraphjob-dev_*.deb graphjob-tools_*.deb >/dev/null
      trap "$SUDO dpkg -r graphjob-tools libgraphjob-dev libgraphjob0 >/dev/null" EXIT
      cc -std=c11 -Wall -Werror -o bolt /usr/share/doc/libgraphjob-dev/examples/bolt.c $(pkg-config --cflags --libs graphjob)
      ldd ./bolt | grep -Eq "libgraphjob.so.0 => (/usr)?/lib/"   # the installed one (/lib is /usr/lib)
      "'"$bd"'/build/tests/servers/bolt/bolt-refserver" --seed >port.txt 2>/dev/null & srv=$!
      trap "kill $srv; $SUDO dpkg -r graphjob-tools libgraphjob-dev libgraphjob0 >/dev/null" EXIT
      for _ in $(seq 1 100); do grep -q PORT port.txt && break; sleep 0.1; done
      url="bolt://neo4j:password@127.0.0.1:$(awk "/PORT/{print \$2}" port.txt)"
      ./bolt "$url" | tee bolt.out
      grep -q "sum of 1..100000 streamed: 5000050000" bolt.out
      /usr/bin/graphjob -F plain "$url" "RETURN 42 AS answer" | grep -qx 42
      test -f /usr/share/man/man3/gj_client_submit.3.gz && test -f /usr/share/man/man1/graphjob.1.gz
      echo "installed: $(dpkg -L libgraphjob-dev | grep -c "/man3/") man3 pages, $(ls /usr/share/doc/libgraphjob-dev/examples | wc -l) examples"' ;;
  *) echo "unknown stage $stage"; bad "stage $stage" ;;
  esac
done

echo
if [ $failed -gt 0 ]; then
  echo "failed stages:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
