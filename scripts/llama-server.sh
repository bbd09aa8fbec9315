#!/usr/bin/env bash
# Builds the real llama.cpp `llama-server` from the git bundle shipped inside the
# pinned npm package node-llama-cpp (llama/gitRelease.bundle), once, into a cache
# directory keyed by the package version, and prints the binary's path on stdout.
# Also leaves the llama.cpp source (with gguf-py) at $cache/llama.cpp-$version.
# Environment: PEDIGREE_NPM_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/pedigree),
#              PEDIGREE_LLAMA_JOBS (default nproc). Progress goes to stderr.
set -euo pipefail
version=3.22.1
cache="${PEDIGREE_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pedigree}"
pkg="$cache/node-llama-cpp-$version"
src="$cache/llama.cpp-$version"
out="$cache/llama-server-$version"

if [[ -x "$out/llama-server" && -f "$out/.complete" ]]; then
  echo "$out/llama-server"
  exit 0
fi
mkdir -p "$cache"

# 1. The pinned npm package, without its prebuilt binaries or install scripts.
if [[ ! -f "$pkg/.complete" ]]; then
  for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "llama-server: '$tool' not found" >&2; exit 2; }
  done
  rm -rf "$pkg.tmp" && mkdir -p "$pkg.tmp"
  echo "llama-server: installing node-llama-cpp@$version" >&2
  (cd "$pkg.tmp" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-save --omit=optional \
    --ignore-scripts --no-audit --no-fund --loglevel=error \
    "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >&2)
  touch "$pkg.tmp/.complete"
  rm -rf "$pkg" && mv -T "$pkg.tmp" "$pkg"
fi

# 2. The llama.cpp source from the bundle.
if [[ ! -f "$src/.complete" ]]; then
  bundle="$pkg/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  [[ -f "$bundle" ]] || { echo "llama-server: $bundle missing" >&2; exit 2; }
  rm -rf "$src.tmp"
  git clone --quiet "$bundle" "$src.tmp" >&2
  touch "$src.tmp/.complete"
  rm -rf "$src" && mv -T "$src.tmp" "$src"
fi

# 3. The server, statically linked, CPU only.
echo "llama-server: building llama-server (several minutes, once)" >&2
rm -rf "$out.build"
cmake -S "$src" -B "$out.build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=OFF >&2
cmake --build "$out.build" --target llama-server -j "${PEDIGREE_LLAMA_JOBS:-$(nproc)}" >&2
rm -rf "$out" && mkdir -p "$out"
cp "$out.build/bin/llama-server" "$out/llama-server"
rm -rf "$out.build"
touch "$out/.complete"
echo "$out/llama-server"
