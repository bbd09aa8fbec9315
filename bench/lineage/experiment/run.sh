#!/bin/sh
# This file implements the lineage experiment end to end: trains the tiny model
# families (build_models.py), scores every derived and independent pair with the
# built `pedigree lineage` (score.py), prints the table, AUCs and timings, and
# deletes the models (KEEP=1 keeps them; SAMPLES=1 refreshes samples/lineage/).
# Usage: bench/lineage/experiment/run.sh BUILD_DIR [WORK_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: run.sh BUILD_DIR [WORK_DIR]" >&2; exit 2; }
pedigree=$(cd "$1" && pwd)/cli/pedigree
work=${2:-/tmp/pedigree-lineage-experiment}
[ -x "$pedigree" ] || { echo "run.sh: $pedigree not built" >&2; exit 2; }
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -s "$work/models.json" ]; then
  /usr/bin/time -f "training and export: %e s wall, %U s user CPU, %S s system" \
    /usr/bin/python3 "$here/build_models.py" "$work"
fi
/usr/bin/time -f "scoring: %e s wall" /usr/bin/python3 "$here/score.py" "$pedigree" "$work"
if [ "${SAMPLES:-0}" = 1 ]; then
  /usr/bin/python3 "$here/keep_samples.py" "$work"
fi
