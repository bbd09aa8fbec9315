#!/bin/sh
# This file implements the lineage benchmark: generates a random llama model of
# 7B shape (d=4096, 32 layers, vocab 32000, ffn 11008; F16 safetensors, 13.5 GB)
# a derived copy (hidden units permuted and sign-flipped, mantissa noise) and an
# independent model (another seed), times
# `pedigree lineage` (derived, self, independent) end to end with /usr/bin/time -v,
# prints wall time, CPU time and peak RSS against the target (< 60 s on 2 cores, < 4 GiB), and deletes
# the weights. Each pair is timed with the default comparison (compact
# fingerprints); EXACT=1 also times --exact (full weights, HuRef invariants;
# much slower, not held to the target). COLD=1 (root) empties the
# page cache before every run, so each one reads the weights from disk.
# Usage: bench/lineage/run.sh [BUILD_DIR] [WORK_DIR]  (KEEP=1 keeps them)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
work=${2:-/tmp/pedigree-bench-lineage}
pedigree=$build/cli/pedigree
[ -x "$pedigree" ] || { echo "run.sh: $pedigree not built" >&2; exit 2; }
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
if [ ! -s "$work/derived.safetensors" ]; then
  echo "generating 7B-shape weights in $work ..."
  /usr/bin/time -f "generation: %e s" /usr/bin/python3 "$here/gen.py" "$work"
fi
if [ ! -s "$work/other/base.safetensors" ]; then
  echo "generating an independent 7B-shape model in $work/other ..."
  /usr/bin/time -f "generation: %e s" /usr/bin/python3 "$here/gen.py" "$work/other" --seed 99 --base-only
fi
ls -l "$work"/*.safetensors "$work"/other/*.safetensors
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() {  # label, then the command
  label=$1; shift
  if [ "${COLD:-0}" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; label="$label, cold cache"; fi
  log=$(mktemp)
  set +e
  /usr/bin/time -v "$@" >"$log.out" 2>"$log"
  rc=$?
  set -e
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
         awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$log" | awk '{ s += $1 } END { print s }')
  rss_mib=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
  ok=$(awk -v w="$wall" -v r="$rss" -v rc="$rc" 'BEGIN { print (rc <= 1 && w != "" && w < 60 && r < 4 * 1024 * 1024) ? "meets" : "MISSES" }')
  echo "$label: exit $rc, wall $wall s (target < 60 s), CPU $cpu s, peak RSS $rss_mib MiB (target < 4096 MiB): $ok the target"
  grep -E "verdict|primary score|hidden units matched|independence test" "$log.out" || cat "$log" >&2
  rm -f "$log" "$log.out"
}

measure "lineage base derived (2 cores)" "$pedigree" lineage -j 2 "$work/base.safetensors" "$work/derived.safetensors"
measure "lineage base base (2 cores)" "$pedigree" lineage -j 2 "$work/base.safetensors" "$work/base.safetensors"
measure "lineage base independent (2 cores)" "$pedigree" lineage -j 2 "$work/base.safetensors" "$work/other/base.safetensors"
if [ "${EXACT:-0}" = 1 ]; then
  measure "lineage --exact base derived (2 cores)" "$pedigree" lineage --exact -j 2 "$work/base.safetensors" "$work/derived.safetensors"
  measure "lineage --exact base independent (2 cores)" "$pedigree" lineage --exact -j 2 "$work/base.safetensors" "$work/other/base.safetensors"
fi
