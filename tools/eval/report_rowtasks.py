"""Report tables and targets of the explain / impute / conditional tasks (issue 14;
``rowtasks.py``). Aggregation as everywhere: mean over repeats per dataset, then over the
datasets of a half."""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

import data as D

EXPLAIN_METHODS = ("ember", "zscore", "gauss-cond")
IMPUTE_METHODS = ("ember", "ember-draws", "ember-1draw", "iterative", "knn", "mean/mode")
COND_METHODS = ("ember", "gaussian", "unconditional")


def _mean(v) -> float:
    v = [x for x in v if isinstance(x, (int, float)) and not math.isnan(x)]
    return float(np.mean(v)) if v else float("nan")


def _fmt(v, digits=3) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _table(header, rows) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def _by(records, kind, key, group) -> dict:
    """{(dataset, group value, method): mean over repeats of key}."""
    agg = defaultdict(list)
    for r in records:
        if r.get("kind") == kind and key in r:
            agg[(r["dataset"], r.get(group) if group else None, r["method"])].append(r[key])
    return {k: _mean(v) for k, v in agg.items()}


def _datasets(records, half, kind) -> list[str]:
    have = {r["dataset"] for r in records if r.get("kind") == kind}
    return [d for d in D.HALVES[half] if d in have]


def _half(by, dss, group, method) -> float:
    return _mean([by.get((ds, group, method)) for ds in dss])


def section(records, half) -> str:
    out = []
    dss = _datasets(records, half, "explain")
    if dss:
        by = _by(records, "explain", "top1", "corruption")
        kinds = [k for k in ("shift", "swap", "category") if any(key[1] == k for key in by)]
        rows = []
        for k in kinds:
            have = [ds for ds in dss if (ds, k, "ember") in by]
            rows.append([k, str(len(have))] + [_fmt(_half(by, have, k, m)) for m in EXPLAIN_METHODS])
        out += ["### Explanations: corrupted column ranked first (`score --explain 1`)", "",
                "Share of rows whose one corrupted column is ranked first (mean over datasets):", "",
                _table(["corruption", "datasets"] + list(EXPLAIN_METHODS), rows)]
        rows = [[ds] + [_fmt(by.get((ds, k, "ember"))) + " / " + _fmt(by.get((ds, k, "zscore")))
                        + " / " + _fmt(by.get((ds, k, "gauss-cond"))) for k in kinds] for ds in dss]
        out += ["Per dataset (ember / z-score / Gaussian conditional z):", "", _table(["dataset"] + kinds, rows)]
    dss = _datasets(records, half, "impute")
    if dss:
        rm = _by(records, "impute", "rmse", None)
        ca = _by(records, "impute", "cat_acc", None)
        rows = []
        for m in IMPUTE_METHODS:
            r_ds = [ds for ds in dss if not math.isnan(rm.get((ds, None, m), float("nan")))]
            c_ds = [ds for ds in dss if not math.isnan(ca.get((ds, None, m), float("nan")))]
            rows.append([m, f"{_fmt(_half(rm, r_ds, None, m))} ({len(r_ds)})", f"{_fmt(_half(ca, c_ds, None, m))} ({len(c_ds)})"])
        out += ["### Imputation under 20 % MCAR (ember = `ember impute`, its point imputation; ember-draws = mean / most "
                "frequent of `--draws 20`; ember-1draw = the first of those draws)", "",
                "RMSE over masked numeric cells in training-σ units (lower is better) and accuracy over masked "
                "categorical cells (datasets with such cells in parentheses):", "",
                _table(["method", "RMSE", "categorical accuracy"], rows)]
        rows = [[ds] + [_fmt(rm.get((ds, None, m))) + (" / " + _fmt(ca.get((ds, None, m))) if not math.isnan(
            ca.get((ds, None, m), float("nan"))) else "") for m in IMPUTE_METHODS] for ds in dss]
        out += ["Per dataset (RMSE / categorical accuracy):", "", _table(["dataset"] + list(IMPUTE_METHODS), rows)]
    dss = _datasets(records, half, "conditional")
    if dss:
        er = _by(records, "conditional", "error", "condition")
        di = _by(records, "conditional", "direction", "condition")
        sa = _by(records, "conditional", "satisfied", "condition")
        conds = [c for c in ("given q20", "given q50", "given q80", "where >= q80") if any(k[1] == c for k in er)]
        rows = []
        for c in conds:
            have = [ds for ds in dss if (ds, c, "ember") in er]
            rows.append([c, str(len(have))] + [_fmt(_half(er, have, c, m)) for m in COND_METHODS]
                        + [_fmt(_half(di, have, c, "ember")), _fmt(_half(sa, have, c, "ember"))])
        anchors = {r["dataset"]: r["anchor"] for r in records if r.get("kind") == "conditional"}
        out += ["### Conditional synthesis (`sample --given` / `--where` on the most correlated numeric column)", "",
                "Error = mean over the other numeric columns of |mean(rows) − mean(real rows near the value)| in "
                "training-σ units (lower is better); direction = share of the columns real rows move (≥ 0.1 σ) "
                "that the generated rows move the same way; satisfied = share of rows meeting every condition:", "",
                _table(["condition", "datasets"] + [f"error: {m}" for m in COND_METHODS] + ["direction", "satisfied"],
                       rows),
                "Anchor columns: " + ", ".join(f"{ds} `{anchors[ds]}`" for ds in dss if ds in anchors) + "", ""]
    return "\n".join(out) + "\n" if out else "_No explain / impute / conditional results._\n"


def targets(records, half) -> list[list[str]]:
    """Rows (half, target, measured, met?) for issue 14's targets."""
    out = []
    yes = lambda ok: "–" if ok is None else ("**met**" if ok else "not met")  # noqa: E731
    dss = _datasets(records, half, "explain")
    if dss:
        by = _by(records, "explain", "top1", "corruption")
        e, z, g = (_half(by, dss, "shift", m) for m in EXPLAIN_METHODS)
        if not math.isnan(e):
            out.append([half, "Explain: corrupted column first in ≥ 90 % (shift ±4σ)",
                        f"{100 * e:.1f}% (z-score {100 * z:.1f}%, Gaussian conditional {100 * g:.1f}%)", yes(e >= 0.9)])
    dss = _datasets(records, half, "impute")
    if dss:
        rm = _by(records, "impute", "rmse", None)
        ca = _by(records, "impute", "cat_acc", None)
        have = [ds for ds in dss if not math.isnan(rm.get((ds, None, "ember"), float("nan")))]
        if have:
            e, it, kn = (_half(rm, have, None, m) for m in ("ember", "iterative", "knn"))
            out.append([half, "Impute: RMSE ≤ IterativeImputer's and ≤ KNNImputer's",
                        f"{e:.3f} vs iterative {it:.3f}, kNN {kn:.3f}", yes(e <= it and e <= kn)])
        have = [ds for ds in dss if not math.isnan(ca.get((ds, None, "ember"), float("nan")))]
        if have:
            e, mo = _half(ca, have, None, "ember"), _half(ca, have, None, "mean/mode")
            out.append([half, "Impute: categorical accuracy ≥ mode's", f"{e:.3f} vs mode {mo:.3f} ({len(have)} datasets)",
                        yes(e >= mo)])
    dss = _datasets(records, half, "conditional")
    if dss:
        sa = [r["satisfied"] for r in records if r.get("kind") == "conditional" and r.get("method") == "ember"
              and r["dataset"] in dss and "satisfied" in r]
        out.append([half, "Conditions: 100 % of rows satisfy them", f"{100 * min(sa):.1f}% (worst of {len(sa)} runs)" if sa
                    else "–", yes(bool(sa) and min(sa) >= 1.0)])
        er = _by(records, "conditional", "error", "condition")
        di = _by(records, "conditional", "direction", "condition")
        e = _mean([er.get(k) for k in er if k[0] in dss and k[2] == "ember"])
        u = _mean([er.get(k) for k in er if k[0] in dss and k[2] == "unconditional"])
        d = _mean([di.get(k) for k in di if k[0] in dss and k[2] == "ember"])
        out.append([half, "Conditions: --given moves correlated columns as real data does",
                    f"error {e:.3f} vs {u:.3f} ignoring the condition; same direction {100 * d:.0f}%", yes(e < u)])
    return out
