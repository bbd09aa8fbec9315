"""Prints the radioactivity table of bench/distill from the wm_bench results
(OUT_DIR/result-rho*.json): per rho the scored tuples, green rate and log10 p
in closed and reading mode, rows with dedup off, with the min-window filter and
with a wrong key, and for the wrong keys on rho = 0 the false-positive rates and
a Kolmogorov-Smirnov test of their p-values against U(0, 1).

    python3 bench/distill/table.py OUT_DIR
"""
import glob
import json
import math
import os
import re
import sys


def ks_uniform(ps):
    """D statistic and asymptotic p-value of the one-sample KS test against U(0,1)."""
    xs = sorted(ps)
    n = len(xs)
    d = max(max((i + 1) / n - x, x - i / n) for i, x in enumerate(xs))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def cell(r, mode):
    k = r[mode]["reports"][0]["keys"][0]
    return k["scored_tuples"], k["green_fraction"], k["log10_p"]


def fmt_row(label, r):
    out = [label]
    for mode in ("closed", "reading"):
        if mode in r:
            n, g, lp = cell(r, mode)
            out += [str(n), "%.4f" % g, "%.2f" % lp]
        else:
            out += ["-", "-", "-"]
    return "| " + " | ".join(out) + " |"


def main():
    out = sys.argv[1]
    files = sorted(glob.glob(os.path.join(out, "result-rho*.json")),
                   key=lambda p: int(re.search(r"rho(\d+)", p).group(1)))
    print("| rho % | closed tuples | closed green | closed log10 p | reading tuples | reading green | reading log10 p |")
    print("|---|---|---|---|---|---|---|")
    results = {int(re.search(r"rho(\d+)", p).group(1)): json.load(open(p)) for p in files}
    for rho, r in results.items():
        print(fmt_row(str(rho), r["key"]))
    for rho, r in results.items():
        for name, label in (("dedup_off", "dedup off"), ("min_window_2", "min window 2"), ("wrong_key", "wrong key")):
            if name in r:
                print(fmt_row("%d, %s" % (rho, label), r[name]))
    if 0 in results and "wrong_keys" in results[0]:
        for mode, rep in results[0]["wrong_keys"].items():
            lps = [k["log10_p"] for k in rep["reports"][0]["keys"]]
            ps = [10 ** lp for lp in lps]
            d, p = ks_uniform(ps)
            print("\nrho=0, %s mode, %d random wrong keys: false positives at 1e-3: %d (rate %.3f); at 1e-6: %d; "
                  "min log10 p %.2f; mean p %.3f; KS D = %.4f, KS p = %.3f"
                  % (mode, len(ps), sum(x < 1e-3 for x in ps), sum(x < 1e-3 for x in ps) / len(ps),
                     sum(x < 1e-6 for x in ps), min(lps), sum(ps) / len(ps), d, p))


if __name__ == "__main__":
    main()
