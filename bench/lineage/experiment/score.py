"""This file implements the scoring side of the lineage experiment: it runs the
built `pedigree lineage A B --json` (fingerprints) and `--exact --json` on every
derived pair (base vs each derivative) and every independent pair (base_i vs
base_j and vs base_j's derivatives), prints the table (markdown) and the AUC of
derived against independent pairs. Usage: score.py PEDIGREE WORK_DIR."""
import json
import os
import subprocess
import sys
import time


def lineage(pedigree, a, b, exact):
    args = [pedigree, "lineage", "-j", "1", "--json", a, b] + (["--exact"] if exact else [])
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    r = json.loads(p.stdout)
    want = 1 if r["verdict"] == "derived" else 0
    if p.returncode != want:
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode} for verdict {r['verdict']}")
    return r


def pairs(models):
    bases = sorted(k for k, m in models.items() if m["kind"] == "base")
    out = []
    for b in bases:
        for k, m in sorted(models.items()):
            if m["base"] == b and m["kind"] != "base":
                out.append(("derived", m["kind"], b, k))
    for i, bi in enumerate(bases):
        for bj in bases:
            if bj == bi:
                continue
            same = models[bi]["corpus"] == models[bj]["corpus"]
            if bj > bi:
                out.append(("independent", "base, same data" if same else "base, other data", bi, bj))
            for k, m in sorted(models.items()):
                if m["base"] == bj and m["kind"] != "base":
                    out.append(("independent", m["kind"], bi, k))
    return out


def auc(pos, neg):
    """Probability that a derived pair outscores an independent one (ties 1/2)."""
    if not pos or not neg:
        return None
    s = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return s / (len(pos) * len(neg))


def fmt(v, f="{:.3f}"):
    return "-" if v is None else f.format(v)


def main(pedigree, work):
    models = json.load(open(os.path.join(work, "models.json")))["models"]
    t0 = time.time()
    rows = []
    for group, kind, a, b in pairs(models):
        fa, fb = (os.path.join(work, models[x]["file"]) for x in (a, b))
        fp, ex = lineage(pedigree, fa, fb, False), lineage(pedigree, fa, fb, True)
        rows.append(dict(group=group, kind=kind, a=a, b=b,
                         raw_cos=fp["raw_cosine_q"], raw_cos_exact=ex["raw_cosine_q"], huref=ex["huref"],
                         primary=fp["primary_score"], primary_exact=ex["primary_score"],
                         log10_p=fp["independence_test"]["fisher_log10_p"],
                         log10_p_exact=ex["independence_test"]["fisher_log10_p"],
                         verdict=fp["verdict"], verdict_exact=ex["verdict"]))
    secs = time.time() - t0
    print("| pair type | A | B | raw cos Q | HuRef (exact) | primary | primary (exact) | log10 p | log10 p (exact) | verdict | verdict (exact) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        print(f"| {r['group']}: {r['kind']} | {r['a']} | {r['b']} | {fmt(r['raw_cos'])} | {fmt(r['huref'])} | "
              f"{fmt(r['primary'])} | {fmt(r['primary_exact'])} | {fmt(r['log10_p'], '{:.1f}')} | "
              f"{fmt(r['log10_p_exact'], '{:.1f}')} | {r['verdict']} | {r['verdict_exact']} |")
    der = [r for r in rows if r["group"] == "derived"]
    ind = [r for r in rows if r["group"] == "independent"]
    summary = {"pairs_derived": len(der), "pairs_independent": len(ind), "scoring_wall_seconds": round(secs, 1)}
    print()
    for key in ("primary", "primary_exact", "huref", "raw_cos"):
        pos = [r[key] for r in der if r[key] is not None]
        neg = [r[key] for r in ind if r[key] is not None]
        a = auc(pos, neg)
        margin = min(pos) - max(neg) if pos and neg else None
        summary[key] = dict(auc=a, margin=margin, min_derived=min(pos) if pos else None,
                            max_independent=max(neg) if neg else None, n_derived=len(pos), n_independent=len(neg))
        print(f"{key}: AUC {fmt(a, '{:.4f}')} over {len(pos)} derived / {len(neg)} independent pairs; "
              f"margin (min derived - max independent) {fmt(margin, '{:+.4f}')} "
              f"(min derived {fmt(summary[key]['min_derived'], '{:.4f}')}, "
              f"max independent {fmt(summary[key]['max_independent'], '{:.4f}')})")
    for key in ("log10_p", "log10_p_exact"):
        pos = [-r[key] for r in der if r[key] is not None]
        neg = [-r[key] for r in ind if r[key] is not None]
        a = auc(pos, neg)
        summary[key] = dict(auc=a, n_derived=len(pos), n_independent=len(neg),
                            min_derived=min(pos) if pos else None, max_independent=max(neg) if neg else None)
        print(f"-{key}: AUC {fmt(a, '{:.4f}')} over {len(pos)} derived / {len(neg)} independent pairs where the "
              f"test ran (min derived {fmt(summary[key]['min_derived'], '{:.1f}')}, "
              f"max independent {fmt(summary[key]['max_independent'], '{:.1f}')})")
    for v in ("verdict", "verdict_exact"):
        wrong_ind = [f"{r['a']}~{r['b']}" for r in ind if r[v] == "derived"]
        missed = [f"{r['a']}~{r['b']} ({r[v]})" for r in der if r[v] != "derived"]
        inc = [f"{r['a']}~{r['b']}" for r in ind if r[v] == "inconclusive"]
        summary[v] = dict(independent_called_derived=wrong_ind, derived_not_called_derived=missed,
                          independent_inconclusive=inc)
        print(f"{v}: independent pairs called derived: {len(wrong_ind)} {wrong_ind}; derived pairs not called "
              f"derived: {len(missed)} {missed}; independent pairs inconclusive: {len(inc)}")
    perm = [r for r in der if r["kind"] == "permuted"]
    print("raw cosine on the permuted pairs: " + ", ".join(f"{r['b']} {r['raw_cos']:.3f}" for r in perm)
          + " (primary " + ", ".join(f"{r['primary']:.3f}" for r in perm) + ")")
    print(f"scoring: {len(rows)} pairs x 2 runs in {secs:.1f} s wall")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"rows": rows, "summary": summary}, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: score.py PEDIGREE WORK_DIR")
    main(sys.argv[1], sys.argv[2])
