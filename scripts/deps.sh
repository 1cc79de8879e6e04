#!/usr/bin/env bash
# Install what building and testing libgraphjob needs on Debian 12 (as root,
# or with sudo available).  Idempotent: installs only what is missing.
set -euo pipefail

# build: the compiler, autotools, perl (man3 pages; automake needs it too),
# the libraries; tests: GoogleTest, libmicrohttpd (the ArangoDB reference
# server, examples/http_service), clang (libFuzzer), valgrind, node + npm (the
# official-driver cross-checks and the GraphQL servers); packages: dpkg-dev,
# debhelper, lintian (scripts/test.sh's deb stage).
pkgs=(build-essential autoconf automake libtool pkg-config perl
      libcurl4-openssl-dev libwebsockets-dev libjson-c-dev libyaml-dev libssl-dev
      libgtest-dev libgmock-dev googletest libmicrohttpd-dev
      clang libclang-rt-dev valgrind openssl ca-certificates nodejs npm
      dpkg-dev debhelper lintian)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from outside Debian (e.g. the machine image): keep those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: ok"
