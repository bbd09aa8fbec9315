#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting
# from its seed corpus in tests/fuzz/corpus/<format>/ (new inputs go to a
# scratch directory, never into the repository). Fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}"
seconds="${2:-15}"
shopt -s nullglob
targets=("$build_dir"/tests/fuzz/*_fuzz)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no targets in $build_dir/tests/fuzz" >&2
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  t="$(realpath "$t")"
  name="$(basename "$t" _fuzz)"
  mkdir -p "$scratch/$name"
  seeds="tests/fuzz/corpus/$name"
  [[ -d "$seeds" ]] || seeds=""
  echo "fuzz: $name for ${seconds}s" >&2
  (cd "$scratch" && "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$scratch/" "$scratch/$name" ${seeds:+"$OLDPWD/$seeds"} 2>"$scratch/$name.log") || {
    tail -40 "$scratch/$name.log" >&2
    echo "fuzz: $name FAILED" >&2
    exit 1
  }
  grep -E "^Done [0-9]+ runs" "$scratch/$name.log" | tail -1 | sed "s/^/fuzz: $name: /" >&2 || true
done
