#!/usr/bin/env bash
# Runs the radioactivity experiment end to end (see docs/distillation.md):
#   bench/distill/run.sh [OUT_DIR] [BUILD_DIR]
# Stages (DISTILL_STAGES, default "train pack detect table"):
#   train:  distill.py: the teacher (a neural language model trained with
#           torch), kgw-watermarked and clean teacher outputs, the base model,
#           students = the base fine-tuned on each rho mixture (two processes
#           at once), GGUF export;
#   pack:   the auditor's files: vocabulary GGUF, key, 100 wrong keys,
#           supervised and unsupervised references, watermark packs;
#   detect: for each student GGUF, `pedigree probe` (which serves it with the
#           real llama-server) with the packs; answers shared through the
#           response cache in OUT_DIR/cache;
#   table:  table.py prints the tables.
# Files already produced are not redone. Wall and CPU time of every step go to
# OUT_DIR/timings.txt (GNU time; a probe step includes its llama-server).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(mkdir -p "${1:-$HERE/out}" && cd "${1:-$HERE/out}" && pwd)"
BUILD="${2:-$REPO/build}"
PY=/usr/bin/python3
export PEDIGREE_SAMPLES_MAKE="${PEDIGREE_SAMPLES_MAKE:-$REPO/samples/make}"
RHOS="${DISTILL_RHOS:-0,1,5,10,50,100}"
STAGES="${DISTILL_STAGES:-train pack detect table}"
# Two training processes; each trains its students one after another.
GROUPS_A="${DISTILL_GROUP_A:-10,0,50}"
GROUPS_B="${DISTILL_GROUP_B:-5,100,1}"

timed() {  # timed LABEL CMD...: runs CMD, appends "LABEL wall ... cpu ..." to timings.txt; CMD's exit status
  local label="$1" rc=0 wall user sys
  shift
  /usr/bin/time -o "$OUT/.time.$label" -f "%e %U %S" "$@" || rc=$?
  # GNU time writes "Command exited with non-zero status N" before the figures.
  read -r wall user sys < <(tail -n 1 "$OUT/.time.$label")
  echo "$label wall ${wall}s cpu $(echo "$user + $sys" | bc)s" | tee -a "$OUT/timings.txt"
  rm -f "$OUT/.time.$label"
  return "$rc"
}

train() {
  [ -f "$OUT/teacher.pt" ] || timed teacher "$PY" "$HERE/distill.py" "$OUT" teacher > "$OUT/teacher.log" 2>&1
  [ -f "$OUT/teacher_outputs.npz" ] || timed generate "$PY" "$HERE/distill.py" "$OUT" generate
  [ -f "$OUT/base.pt" ] || timed base "$PY" "$HERE/distill.py" "$OUT" base > "$OUT/base.log" 2>&1
  for g in "$GROUPS_A" "$GROUPS_B"; do
    DISTILL_RHOS="$g" timed "students-${g//,/-}" "$PY" "$HERE/distill.py" "$OUT" students \
      > "$OUT/train-${g//,/-}.log" 2>&1 &
  done
  wait
  DISTILL_RHOS="$RHOS" timed export "$PY" "$HERE/distill.py" "$OUT" export
}

# One pedigree probe run: the student GGUF served by llama-server (started by
# pedigree), the given packs and key files; exit 0 or 1 (detected) is a result.
probe() {
  local label="$1" gguf="$2" out="$3"
  shift 3
  local rc=0
  timed "$label" "$PEDIGREE" probe "$gguf" --llama-server "$SERVER" --cache-dir "$OUT/cache" --json -o "$out" "$@" ||
    rc=$?
  [ "$rc" -le 1 ] || { echo "run.sh: pedigree probe failed (exit $rc)" >&2; exit 2; }
}

# Detection of the students of one lane (comma-separated rhos), one after another.
detect_lane() {
  local rho res packs wrong s mw
  for rho in ${1//,/ }; do
    case ",$RHOS," in *",$rho,"*) ;; *) continue ;; esac
    res="$OUT/result-rho$rho.json"
    [ -f "$res" ] && continue
    packs=()
    for s in supervised unsupervised; do
      packs+=(--pack "$OUT/pack-$s.json" --pack "$OUT/pack-$s-dedup-off.json")
      for mw in 2 4 8 16; do packs+=(--pack "$OUT/pack-$s-min-window-$mw.json"); done
    done
    probe "detect-rho$rho" "$OUT/student-rho$rho.gguf" "$res.tmp" "${packs[@]}" --watermark-key "$OUT/key.json"
    if [ "$rho" = 0 ]; then  # the wrong keys: same answers (from the cache), other keys
      packs=()
      wrong=()
      for s in supervised unsupervised; do
        packs+=(--pack "$OUT/pack-$s-wrong-key.json" --pack "$OUT/pack-$s-wrong-keys-0.json"
                --pack "$OUT/pack-$s-wrong-keys-1.json")
      done
      for k in "$OUT"/wrong-keys/key-*.json; do wrong+=(--watermark-key "$k"); done
      probe "detect-rho0-wrong-keys" "$OUT/student-rho0.gguf" "$OUT/result-rho0-wrong.json" "${packs[@]}" "${wrong[@]}"
    fi
    mv "$res.tmp" "$res"
  done
}

# Two lanes at once, like the training: each pedigree probe serves its student
# with a one-thread llama-server.
detect() {
  SERVER="${LLAMA_SERVER:-$("$REPO/scripts/llama-server.sh")}"
  PEDIGREE="${PEDIGREE:-$BUILD/cli/pedigree}"
  [ -x "$PEDIGREE" ] || cmake --build "$BUILD" -j2 --target pedigree
  detect_lane "$GROUPS_A" &
  local a=$!
  detect_lane "$GROUPS_B" &
  local b=$!
  local rc=0
  wait "$a" || rc=$?
  wait "$b" || rc=$?
  [ "$rc" = 0 ] || exit "$rc"
}

for st in $STAGES; do
  start=$(date +%s.%N)
  case "$st" in
    train) train ;;
    pack) [ -f "$OUT/pack-supervised.json" ] || timed pack "$PY" "$HERE/distill.py" "$OUT" pack ;;
    detect) detect ;;
    table) "$PY" "$HERE/table.py" "$OUT" | tee "$OUT/table.md" ;;
    *) echo "run.sh: unknown stage '$st' (want train, pack, detect or table)" >&2; exit 2 ;;
  esac
  echo "stage $st wall $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f')s" >> "$OUT/timings.txt"
done
