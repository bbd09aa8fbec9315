#!/usr/bin/env bash
# Runs the radioactivity experiment end to end (see docs/distillation.md):
#   bench/distill/run.sh [OUT_DIR] [BUILD_DIR]
# Stages (DISTILL_STAGES, default "train detect table"):
#   train:  distill.py: word-level trigram teacher, kgw-watermarked and clean
#           teacher outputs, auditor files (vocabulary GGUF, key, reference,
#           prompts, pack), the base model, students = the base fine-tuned on
#           each rho mixture (two processes at once), GGUF export;
#   detect: for each student GGUF: start the real llama-server, run wm_bench
#           (the C++ detector) in closed and reading mode, stop the server;
#   table:  table.py prints the table.
# Files already produced are not redone. Wall and CPU time of every step go to
# OUT_DIR/timings.txt (GNU time).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(mkdir -p "${1:-$HERE/out}" && cd "${1:-$HERE/out}" && pwd)"
BUILD="${2:-$REPO/build}"
PY=/usr/bin/python3
export PEDIGREE_SAMPLES_MAKE="${PEDIGREE_SAMPLES_MAKE:-$REPO/samples/make}"
RHOS="${DISTILL_RHOS:-0,1,5,10,50,100}"
STAGES="${DISTILL_STAGES:-train detect table}"
# Two training processes; each trains its students one after another.
GROUPS_A="${DISTILL_GROUP_A:-10,0,50}"
GROUPS_B="${DISTILL_GROUP_B:-5,100,1}"

timed() {  # timed LABEL CMD...: runs CMD, appends "LABEL wall ... cpu ..." to timings.txt
  local label="$1"
  shift
  /usr/bin/time -o "$OUT/.time.$label" -f "%e %U %S" "$@"
  read -r wall user sys < "$OUT/.time.$label"
  echo "$label wall ${wall}s cpu $(echo "$user + $sys" | bc)s" | tee -a "$OUT/timings.txt"
  rm -f "$OUT/.time.$label"
}

train() {
  [ -f "$OUT/teacher.npz" ] || timed teacher nice -n 5 "$PY" "$HERE/distill.py" "$OUT" teacher
  [ -f "$OUT/teacher_outputs.npz" ] || timed generate nice -n 5 "$PY" "$HERE/distill.py" "$OUT" generate
  [ -f "$OUT/pack.json" ] || timed pack "$PY" "$HERE/distill.py" "$OUT" pack
  [ -f "$OUT/base.pt" ] || timed base nice -n 5 "$PY" "$HERE/distill.py" "$OUT" base > "$OUT/base.log" 2>&1
  for g in "$GROUPS_A" "$GROUPS_B"; do
    DISTILL_RHOS="$g" timed "students-${g//,/-}" nice -n 5 "$PY" "$HERE/distill.py" "$OUT" students \
      > "$OUT/train-${g//,/-}.log" 2>&1 &
  done
  wait
  DISTILL_RHOS="$RHOS" timed export "$PY" "$HERE/distill.py" "$OUT" export
}

detect() {
  local server port rho res spid wrong
  server="${LLAMA_SERVER:-$("$REPO/scripts/llama-server.sh")}"
  if [ ! -x "$BUILD/bench/distill/wm_bench" ]; then
    cmake -S "$REPO" -B "$BUILD" -DPEDIGREE_BUILD_BENCH=ON > /dev/null
    cmake --build "$BUILD" -j2 --target wm_bench
  fi
  port="${DISTILL_PORT:-18461}"
  for rho in ${RHOS//,/ }; do
    res="$OUT/result-rho$rho.json"
    [ -f "$res" ] && continue
    "$server" -m "$OUT/student-rho$rho.gguf" --host 127.0.0.1 --port "$port" -c 64 -np 1 -t 1 --poll 0 \
      > "$OUT/server-rho$rho.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 120); do
      curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
      sleep 1
    done
    wrong=0
    [ "$rho" = 0 ] && wrong=100
    timed "detect-rho$rho" "$BUILD/bench/distill/wm_bench" --url "http://127.0.0.1:$port" --pack "$OUT/pack.json" \
      --key "$OUT/key.json" --wrong-keys "$wrong" --out "$res" || { kill "$spid"; exit 2; }
    kill "$spid"
    wait "$spid" 2> /dev/null || true
  done
}

for st in $STAGES; do
  case "$st" in
    train) train ;;
    detect) detect ;;
    table) "$PY" "$HERE/table.py" "$OUT" | tee "$OUT/table.md" ;;
    *) echo "run.sh: unknown stage '$st' (want train, detect or table)" >&2; exit 2 ;;
  esac
done
