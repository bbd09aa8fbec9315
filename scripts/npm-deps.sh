#!/usr/bin/env bash
# Installs the pinned npm packages of tests/node/ (package.json + package-lock.json)
# with `npm ci` into a cache directory keyed by the hash of those two files, and
# prints the resulting node_modules path on stdout (everything else goes to stderr).
# Idempotent: a completed install is reused at once. Needs node and npm.
# Environment: PEDIGREE_NPM_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/pedigree).
set -euo pipefail
src="$(cd "$(dirname "$0")/../tests/node" && pwd)"
cache="${PEDIGREE_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pedigree}"
hash="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)"
dest="$cache/npm-$hash"

if [[ -f "$dest/.complete" ]]; then
  echo "$dest/node_modules"
  exit 0
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "npm-deps: '$tool' not found; install nodejs and npm" >&2
    exit 2
  fi
done
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/npm-$hash.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$tmp/"
echo "npm-deps: installing pinned npm packages into $dest" >&2
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
# The SARIF Multitool's Linux package ships its .NET executable without the
# execute bit (its own bin.js spawns it); set it so tests can run it directly.
multitool="$tmp/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
[[ -f "$multitool" ]] && chmod +x "$multitool"
touch "$tmp/.complete"
# Another run may have finished first; either copy is the same.
if ! mv -T "$tmp" "$dest" 2>/dev/null; then
  [[ -f "$dest/.complete" ]] || { echo "npm-deps: cannot create $dest" >&2; exit 2; }
fi
echo "$dest/node_modules"
