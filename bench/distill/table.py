"""Prints the radioactivity tables of bench/distill from the `pedigree probe
--json` results (OUT_DIR/result-rho*.json): per setting (supervised,
unsupervised) and rho the scored tuples, green rate and log10 p in closed and
reading mode; rows with dedup off and with the min-window filter; then, on the
rho = 0 student (OUT_DIR/result-rho0-wrong.json), one wrong key and 100 random
wrong keys: false-positive rates and a Kolmogorov-Smirnov test of their
p-values against U(0, 1).

    python3 bench/distill/table.py OUT_DIR
"""
import glob
import json
import math
import os
import re
import sys

SETTINGS = ("supervised", "unsupervised")


def ks_uniform(ps):
    """D statistic and asymptotic p-value (Stephens' correction) of the one-sample KS test against U(0,1)."""
    xs = sorted(ps)
    n = len(xs)
    d = max(max((i + 1) / n - x, x - i / n) for i, x in enumerate(xs))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def packs_of(path):
    """pack id -> {mode: [key reports]} of one probe result."""
    out = {}
    for p in json.load(open(path))["packs"]:
        out[p["id"]] = {r["mode"]: r["keys"] for r in p["watermark"]["reports"]}
    return out


def row(label, modes):
    cells = [label]
    for mode in ("closed", "reading"):
        k = modes[mode][0]
        cells += [str(k["scored_tuples"]), "%.4f" % k["green_fraction"], "%.2f" % k["log10_p"]]
    return "| " + " | ".join(cells) + " |"


def main():
    out = sys.argv[1]
    files = glob.glob(os.path.join(out, "result-rho*.json"))
    results = {}
    for f in files:
        m = re.fullmatch(r"result-rho(\d+)\.json", os.path.basename(f))
        if m:
            results[int(m.group(1))] = packs_of(f)
    for setting in SETTINGS:
        print(f"\n### {setting}\n")
        print("| rho % | closed tuples | closed green | closed log10 p | reading tuples | reading green | reading log10 p |")
        print("|---|---|---|---|---|---|---|")
        for rho in sorted(results):
            print(row(str(rho), results[rho]["distill-" + setting]))
        variants = [("dedup-off", "dedup off")] + [(f"min-window-{m}", f"min window {m}") for m in (2, 4, 8, 16)]
        for suffix, label in variants:
            for rho in sorted(results):
                pack = results[rho].get(f"distill-{setting}-{suffix}")
                if pack:
                    print(row(f"{rho}, {label}", pack))
    wrong = os.path.join(out, "result-rho0-wrong.json")
    if not os.path.exists(wrong):
        return
    w = packs_of(wrong)
    for setting in SETTINGS:
        print(f"\n{setting}, rho = 0, one wrong key:")
        print(row("0, wrong key", w[f"distill-{setting}-wrong-key"]))
        for mode in ("closed", "reading"):
            lps = [k["log10_p"] for j in (0, 1) for k in w[f"distill-{setting}-wrong-keys-{j}"][mode]]
            ps = [10 ** lp for lp in lps]
            d, p = ks_uniform(ps)
            print("%s, rho = 0, %s mode, %d random wrong keys: false positives at 1e-3: %d; at 1e-6: %d; "
                  "min log10 p %.2f; mean p %.3f; KS D = %.4f, KS p = %.3f"
                  % (setting, mode, len(ps), sum(x < 1e-3 for x in ps), sum(x < 1e-6 for x in ps), min(lps),
                     sum(ps) / len(ps), d, p))


if __name__ == "__main__":
    main()
