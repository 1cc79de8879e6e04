#!/usr/bin/env bash
# Build libgraphjob and run the main job (see README "Quick start").
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || "$top/configure" -q
make -j2 >/dev/null
make -j2 examples/jobs_demo >/dev/null
./examples/jobs_demo
