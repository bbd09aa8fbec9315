#!/usr/bin/env bash
# Runs the radioactivity experiment end to end (see docs/distillation.md):
#   bench/distill/run.sh [OUT_DIR] [BUILD_DIR]
# 1. distill.py: trigram teacher, kgw-watermarked and clean teacher outputs,
#    auditor files (key, reference, prompts, pack), students, GGUF export;
# 2. for each student: start the real llama-server, run wm_bench (the C++
#    detector) in closed and reading mode, stop the server;
# 3. table.py prints the table. Stages that already produced their files are skipped.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$HERE/out}"
BUILD="${2:-$REPO/build}"
PY=/usr/bin/python3
export PEDIGREE_SAMPLES_MAKE="${PEDIGREE_SAMPLES_MAKE:-$REPO/samples/make}"
SERVER="${LLAMA_SERVER:-$("$REPO/scripts/llama-server.sh")}"
RHOS="${DISTILL_RHOS:-0,1,5,10,50,100}"
mkdir -p "$OUT"

[ -f "$OUT/teacher.npz" ] || "$PY" "$HERE/distill.py" "$OUT" teacher
[ -f "$OUT/teacher_outputs.json" ] || "$PY" "$HERE/distill.py" "$OUT" generate
[ -f "$OUT/pack.json" ] || "$PY" "$HERE/distill.py" "$OUT" pack
DISTILL_RHOS="$RHOS" "$PY" "$HERE/distill.py" "$OUT" students
DISTILL_RHOS="$RHOS" "$PY" "$HERE/distill.py" "$OUT" export

cmake -S "$REPO" -B "$BUILD" -DPEDIGREE_BUILD_BENCH=ON > /dev/null
cmake --build "$BUILD" -j2 --target wm_bench

PORT="${DISTILL_PORT:-18461}"
for rho in ${RHOS//,/ }; do
  res="$OUT/result-rho$rho.json"
  [ -f "$res" ] && continue
  "$SERVER" -m "$OUT/student-rho$rho.gguf" --host 127.0.0.1 --port "$PORT" -c 64 -np 1 -t 1 --poll 0 \
    > "$OUT/server-rho$rho.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break
    sleep 1
  done
  wrong=0
  [ "$rho" = 0 ] && wrong=100
  start=$(date +%s)
  "$BUILD/bench/distill/wm_bench" --url "http://127.0.0.1:$PORT" --pack "$OUT/pack.json" --key "$OUT/key.json" \
    --wrong-keys "$wrong" --out "$res" || { kill "$spid"; exit 2; }
  echo "rho=$rho detection $(( $(date +%s) - start )) s" | tee -a "$OUT/timings.txt"
  kill "$spid"
  wait "$spid" 2> /dev/null || true
done
"$PY" "$HERE/table.py" "$OUT"
