#!/usr/bin/env bash
# Hashing benchmark (issue: foundation). Creates in a temporary directory a
# multi-file safetensors model (default 4 files, 4 GiB) and a single 2 GiB
# file, warms the page cache, and times in the same run:
#   cat > /dev/null (the read limit), sha256sum, openssl dgst -sha256,
#   pedigree hash (files), pedigree hash --tensors, pedigree hash --method shards
# Prints wall time, throughput, CPU use, peak RSS and ratios against the peers.
# usage: bench/hash/run.sh [PEDIGREE_BIN]   env: BENCH_DIR, MULTI_GIB, SINGLE_GIB, FILES, REPEAT
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$root/build/cli/pedigree}"
multi_gib="${MULTI_GIB:-4}"
single_gib="${SINGLE_GIB:-2}"
files="${FILES:-4}"
repeat="${REPEAT:-3}"
work="$(mktemp -d "${BENCH_DIR:-/tmp}/pedigree-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
[[ -x "$bin" ]] || { echo "bench: $bin not built" >&2; exit 2; }

echo "bench: writing ${multi_gib} GiB in $files files and a ${single_gib} GiB file under $work" >&2
python3 "$root/bench/hash/make_model.py" "$work/multi" "$multi_gib" "$files"
python3 "$root/bench/hash/make_model.py" "$work/single" "$single_gib" 1
multi_files=("$work"/multi/*.safetensors)
single="$work/single/model.safetensors"
cat "${multi_files[@]}" "$single" > /dev/null  # warm the page cache

# best-of-N wall seconds, plus cpu% and max RSS (KiB) of the best run
measure() {
  local best="" cpu="" rss=""
  for _ in $(seq "$repeat"); do
    local out
    out="$( { /usr/bin/time -f '%e %P %M' "$@" > /dev/null; } 2>&1 | tail -1)"
    read -r wall pcpu maxrss <<< "$out"
    if [[ -z "$best" ]] || awk "BEGIN{exit !($wall < $best)}"; then best="$wall"; cpu="$pcpu"; rss="$maxrss"; fi
  done
  echo "$best $cpu $rss"
}

bytes_of() { du -cb "$@" | tail -1 | cut -f1; }
report() {  # name bytes "wall cpu rss"
  local name="$1" bytes="$2"; read -r wall cpu rss <<< "$3"
  awk -v n="$name" -v b="$bytes" -v w="$wall" -v c="$cpu" -v r="$rss" \
    'BEGIN{printf "%-34s %7.2f s  %7.2f GiB/s  cpu %5s  rss %7.1f MiB\n", n, w, b/w/2^30, c, r/1024}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b/a}'; }

mb=$(bytes_of "${multi_files[@]}")
sb=$(bytes_of "$single")
echo "== multi-file model: $files files, $(awk -v b="$mb" 'BEGIN{printf "%.2f", b/2^30}') GiB; $(nproc) cores"
r_cat=$(measure cat "${multi_files[@]}");              report "cat > /dev/null (read limit)" "$mb" "$r_cat"
r_sum=$(measure sha256sum "${multi_files[@]}");        report "sha256sum" "$mb" "$r_sum"
r_ssl=$(measure openssl dgst -sha256 "${multi_files[@]}"); report "openssl dgst -sha256" "$mb" "$r_ssl"
r_ped=$(measure "$bin" hash "$work/multi");            report "pedigree hash" "$mb" "$r_ped"
r_ten=$(measure "$bin" hash --tensors "$work/multi");  report "pedigree hash --tensors" "$mb" "$r_ten"
echo "== single file: $(awk -v b="$sb" 'BEGIN{printf "%.2f", b/2^30}') GiB"
s_ssl=$(measure openssl dgst -sha256 "$single");       report "openssl dgst -sha256" "$sb" "$s_ssl"
s_ped=$(measure "$bin" hash "$single");                report "pedigree hash (files)" "$sb" "$s_ped"
s_shd=$(measure "$bin" hash --method shards --shard-size 268435456 "$single")
report "pedigree hash --method shards 256M" "$sb" "$s_shd"

w() { echo "$1" | cut -d' ' -f1; }
echo "== ratios (higher is better for pedigree)"
echo "pedigree vs sha256sum (multi):          $(ratio "$(w "$r_ped")" "$(w "$r_sum")")x   target >= 6"
echo "pedigree vs openssl dgst (multi):       $(ratio "$(w "$r_ped")" "$(w "$r_ssl")")x   target >= 1.6"
echo "pedigree vs read limit (multi):         $(ratio "$(w "$r_ped")" "$(w "$r_cat")")x"
echo "tensor digests overhead:                $(awk -v a="$(w "$r_ped")" -v b="$(w "$r_ten")" 'BEGIN{printf "%+.0f%%", (b/a-1)*100}')   target <= +10%"
echo "shards vs openssl dgst (single):        $(ratio "$(w "$s_shd")" "$(w "$s_ssl")")x"
echo "peak RSS pedigree (MiB):                $(awk -v a="$(echo "$r_ped" | cut -d' ' -f3)" -v b="$(echo "$r_ten" | cut -d' ' -f3)" -v c="$(echo "$s_shd" | cut -d' ' -f3)" 'BEGIN{m=a; if(b>m)m=b; if(c>m)m=c; printf "%.1f", m/1024}')   target <= 64"
