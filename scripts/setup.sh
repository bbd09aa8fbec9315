#!/usr/bin/env bash
# Installs what Pedigree needs (Debian bookworm packages, when missing), builds
# it, and then runs one of:
#   demo   scan the bundled sample model (the main job)
#   test   build everything and run every test (unit, end-to-end, fuzz smoke)
#   build  only build
# Environment: BUILD_DIR (default build), PEDIGREE_FUZZ_SECONDS (default 15),
#              PEDIGREE_SKIP_APT=1 to never call apt-get. `test` builds llama-server
#              once (scripts/llama-server.sh) and exports PEDIGREE_LLAMA_SERVER.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
build_dir="${BUILD_DIR:-build}"

packages=(cmake ninja-build g++ pkg-config git nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libzip-dev libcurl4-openssl-dev libsqlite3-dev
  libyaml-cpp-dev libvalijson-dev libtbb-dev libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-testdata clang time)
# Only for `test`: headless Chromium opens the audit's HTML report and reads its table back.
test_packages=(chromium)

install_packages() {
  [[ "${PEDIGREE_SKIP_APT:-0}" == 1 ]] && return 0
  [[ "$mode" == test ]] && packages+=("${test_packages[@]}")
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "setup: installing ${missing[*]}" >&2
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# node and npm fetch the pinned CycloneDX schemas (embedded at build time) and
# run the independent validator in the tests. A node that is already there
# (e.g. from another source, with its own npm) is kept.
install_node() {
  [[ "${PEDIGREE_SKIP_APT:-0}" == 1 ]] && return 0
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  echo "setup: installing nodejs npm" >&2
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}

build() {
  local npm_modules
  npm_modules="$(scripts/npm-deps.sh)"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPEDIGREE_NPM_MODULES="$npm_modules" >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
}

fuzz_smoke() {
  if ! command -v clang++ >/dev/null; then
    echo "setup: clang++ not found; fuzz targets skipped" >&2
    return 0
  fi
  CXX=clang++ cmake -S . -B "$build_dir-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DPEDIGREE_NPM_MODULES="$(scripts/npm-deps.sh)" \
    -DPEDIGREE_BUILD_FUZZ=ON -DPEDIGREE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir-fuzz" -j "$(nproc)" >/dev/null
  scripts/fuzz.sh "$build_dir-fuzz" "${PEDIGREE_FUZZ_SECONDS:-15}"
}

install_packages
install_node
case "$mode" in
  build) build ;;
  demo)
    build
    "$build_dir/cli/pedigree" scan samples/tinyllama-hf
    ;;
  test)
    build
    fuzz_smoke
    # The real llama-server for the local GGUF backend tests (built once, cached).
    PEDIGREE_LLAMA_SERVER="$(scripts/llama-server.sh)"
    export PEDIGREE_LLAMA_SERVER
    ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
    ;;
  *) echo "usage: scripts/setup.sh [build|demo|test]" >&2; exit 2 ;;
esac
