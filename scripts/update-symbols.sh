#!/usr/bin/env bash
# Regenerate debian/libgraphjob0.symbols (dpkg-gensymbols' format) from the
# library a build made, or check it:
#
#   scripts/update-symbols.sh [BUILD_DIR]          rewrite the symbols file
#   scripts/update-symbols.sh --check [BUILD_DIR]  compare only: exit 1 when a
#                                                  symbol of the file is gone
#                                                  (an ABI break), 0 otherwise
#                                                  (new symbols are listed)
#
# BUILD_DIR defaults to ./build.  A symbol keeps the version it was first
# recorded with; a new one gets the upstream version of debian/changelog
# (dpkg-gensymbols' #MINVER#: programs using it need at least that
# version).  Run it after adding public functions, before a release; the
# package build (dh_makeshlibs -> dpkg-gensymbols -c1) and scripts/test.sh
# fail when a symbol listed here disappears.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
build=${1:-build}
file=debian/libgraphjob0.symbols

so=$(ls "$build"/.libs/libgraphjob.so.*.*.* 2>/dev/null | head -n 1 || true)
[ -n "$so" ] || { echo "update-symbols: no $build/.libs/libgraphjob.so.X.Y.Z: build first" >&2; exit 2; }
soname=$(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
version=${version%-*}          # upstream part: 0.1.0-1 -> 0.1.0

# name@VERSION for every exported symbol, and the version nodes themselves.
exported=$(nm -D --defined-only "$so" | awk '
  $2 == "A" { print $3 "@" $3; next }
  { s = $3; sub(/@@/, "@", s); print s }' | sort -u)

declare -A known
if [ -f "$file" ]; then
  while read -r sym ver; do
    known[$sym]=$ver
  done < <(sed -n 's/^ \([^ ]*\) \(.*\)$/\1 \2/p' "$file")
fi

gone=()
for sym in "${!known[@]}"; do
  grep -qxF "$sym" <<<"$exported" || gone+=("$sym")
done
new=()
while read -r sym; do
  [ -n "$sym" ] && [ -z "${known[$sym]:-}" ] && new+=("$sym")
done <<<"$exported"

if [ $check = 1 ]; then
  for s in "${new[@]}"; do echo "update-symbols: new symbol $s (run scripts/update-symbols.sh)"; done
  if [ ${#gone[@]} -gt 0 ]; then
    for s in "${gone[@]}"; do echo "update-symbols: symbol $s disappeared from $soname" >&2; done
    exit 1
  fi
  echo "update-symbols: $(wc -l <<<"$exported") symbols exported, none of $file gone"
  exit 0
fi

if [ ${#gone[@]} -gt 0 ]; then
  for s in "${gone[@]}"; do echo "update-symbols: warning: $s is no longer exported: removed from $file (an ABI break: bump the soname)" >&2; done
fi
{
  echo "$soname libgraphjob0 #MINVER#"
  echo "* Build-Depends-Package: libgraphjob-dev"
  while read -r sym; do
    [ -n "$sym" ] && echo " $sym ${known[$sym]:-$version}"
  done <<<"$exported"
} > "$file.new"
mv "$file.new" "$file"
echo "update-symbols: $file: $(wc -l <<<"$exported") symbols (${#new[@]} new)"
