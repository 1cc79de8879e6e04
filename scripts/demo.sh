#!/usr/bin/env bash
# The main job (README "Quick start"): install the build dependencies, build
# libgraphjob, its command-line program and the reference servers, then run
# `graphjob demo`: it starts the bundled servers on loopback (Bolt,
# ArangoDB, Gremlin, and the GraphQL server from npm when node is there),
# runs a few jobs on each backend — rows, a parameter, a server error, a slow
# query it cancels — prints what happened and stops them.  It ends with
# examples/jobs_demo, python-arango's async-job walk-through.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
# npm packages for the GraphQL server (optional: without them it is skipped)
if command -v npm >/dev/null && [ -f tests/peers/package-lock.json ] && [ ! -d tests/peers/node_modules ]; then
  (cd tests/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "demo: npm ci failed: the GraphQL server will be skipped"
fi
mkdir -p build
cd build
# scripts/test.sh records its configure arguments here and configures again
# (with -Werror) when they differ; the demo uses the defaults.
if [ ! -f Makefile ]; then
  "$top/configure" -q
  : >.gj-configure-args
fi
echo "demo: building (make -j2) ..."
make -j2 >/dev/null
make -j2 examples/jobs_demo >/dev/null
echo
./tools/graphjob demo
echo
echo "== The job model: python-arango's AsyncJob walk-through (built-in test backend)"
./examples/jobs_demo
