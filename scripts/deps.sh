#!/usr/bin/env bash
# Install what building and testing libgraphjob needs on Debian 12 (as root,
# or with sudo available).  Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(build-essential autoconf automake libtool pkg-config
      libcurl4-openssl-dev libwebsockets-dev libjson-c-dev libyaml-dev libssl-dev
      libgtest-dev libgmock-dev googletest libmicrohttpd-dev
      clang libclang-rt-dev valgrind openssl ca-certificates nodejs npm)

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
