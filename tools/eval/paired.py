"""Paired differences of augmentation Δ between Ember variants (or any methods) of a records file.

A split is (dataset, N_real, repeat); its Δ is the mean over the downstream models of the
balanced-accuracy gain over real-only rows, in points. For every method the table gives the
half's mean Δ (report.py's rule: repeats, then N_real, then datasets, each weighing the same),
the mean ± standard error of the paired split-by-split difference to a reference method, the
number of datasets where the method's mean Δ is above the reference's, and fidelity (C2ST AUC,
correlation error; mean over splits per dataset, then over datasets).

Usage: ``tools/.venv-eval/bin/python tools/eval/paired.py RECORDS.json --half tune --ref ember
--methods ember-t06,gaussian``.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np

import data as D


def split_deltas(records, half: str, max_n: int = 50) -> dict:
    """{(dataset, n, repeat, method): Δ in points} for utility records of `half` with n ≤ max_n."""
    per = defaultdict(list)
    for r in records:
        if r.get("kind") == "utility" and r["method"] != "real" and r["dataset"] in D.HALVES[half] and r["n"] <= max_n:
            per[(r["dataset"], r["n"], r["repeat"], r["method"])].append(r["delta"])
    return {k: 100 * float(np.mean(v)) for k, v in per.items()}


def half_mean(deltas: dict, method: str, n=None) -> float:
    """Mean over datasets of the mean over N_real of the mean over repeats."""
    by = defaultdict(lambda: defaultdict(list))
    for (ds, size, _, m), v in deltas.items():
        if m == method and (n is None or size == n):
            by[ds][size].append(v)
    per_ds = [np.mean([np.mean(v) for v in sizes.values()]) for sizes in by.values()]
    return float(np.mean(per_ds)) if per_ds else float("nan")


def paired(deltas: dict, method: str, ref: str) -> tuple[float, float, int, int, int]:
    """(mean, standard error, splits) of method − ref over the splits both ran on, and
    (datasets where the method's mean is higher, datasets)."""
    splits = sorted({k[:3] for k in deltas if k[3] == method} & {k[:3] for k in deltas if k[3] == ref})
    d = np.array([deltas[s + (method,)] - deltas[s + (ref,)] for s in splits])
    if len(d) < 2:
        return float("nan"), float("nan"), len(d), 0, 0
    per_ds = defaultdict(list)
    for s, v in zip(splits, d):
        per_ds[s[0]].append(v)
    wins = sum(np.mean(v) > 0 for v in per_ds.values())
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), len(d), int(wins), len(per_ds)


def fidelity(records, half: str, method: str, key: str) -> float:
    by = defaultdict(list)
    for r in records:
        if r.get("kind") == "fidelity" and r["method"] == method and r["dataset"] in D.HALVES[half] and key in r:
            by[r["dataset"]].append(r[key])
    return float(np.mean([np.mean(v) for v in by.values()])) if by else float("nan")


def table(records, half: str, ref: str, methods: list[str]) -> str:
    deltas = split_deltas(records, half)
    sizes = sorted({k[1] for k in deltas})
    out = [f"| method | Δ BA N ≤ 50 | " + " | ".join(f"N = {n}" for n in sizes)
           + f" | − {ref} (paired: mean ± s.e., splits) | better on datasets | C2ST | corr. error |",
           "|---|---|" + "---|" * len(sizes) + "---|---|---|---|"]
    for m in [ref] + [m for m in methods if m != ref]:
        mean, se, k, wins, nds = paired(deltas, m, ref) if m != ref else (0, 0, 0, 0, 0)
        diff = f"{mean:+.2f} ± {se:.2f} ({k})" if m != ref else "—"
        out.append(f"| {m} | {half_mean(deltas, m):+.2f} | " + " | ".join(f"{half_mean(deltas, m, n):+.2f}" for n in sizes)
                   + f" | {diff} | {f'{wins}/{nds}' if m != ref else '—'} | {fidelity(records, half, m, 'c2st'):.3f}"
                   + f" | {fidelity(records, half, m, 'corr_err'):.3f} |")
    dss = [d for d in D.HALVES[half] if any(k[0] == d for k in deltas)]
    ms = [ref] + [m for m in methods if m != ref]
    out += ["", "| dataset | " + " | ".join(ms) + " |", "|---|" + "---|" * len(ms)]
    for ds in dss:
        cells = []
        for m in ms:
            v = [x for (d, _, _, mm), x in deltas.items() if d == ds and mm == m]
            cells.append(f"{np.mean(v):+.2f}" if v else "–")
        out.append(f"| {ds} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records")
    ap.add_argument("--half", choices=sorted(D.HALVES), default="tune")
    ap.add_argument("--ref", default="ember")
    ap.add_argument("--methods", required=True, help="comma-separated methods compared with --ref")
    a = ap.parse_args()
    print(table(json.load(open(a.records))["records"], a.half, a.ref, a.methods.split(",")), end="")


if __name__ == "__main__":
    main()
