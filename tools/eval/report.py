"""Aggregates result records into the markdown report (every table per half) and PNG plots.

Aggregation rule everywhere: mean over repeats (and downstream models / classes where stated)
per dataset first, then the mean over the datasets of a half — each dataset weighs the same.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict

import numpy as np

import data as D
import peers as P
import report_rowtasks as RT

HALF_TITLES = (("tune", "TUNING half"), ("report", "REPORT half"))
LEAD = ("real", "smote", "smote-enc", "gaussian", "jitter", "copula", "arf", "tvae", "nrgboost", "forestdiffusion")


def _order(methods) -> list[str]:
    methods = set(methods)
    known = [m for m in LEAD if m in methods]
    ember = sorted(m for m in methods if m.startswith("ember"))
    return known + ember + sorted(methods - set(known) - set(ember))


def _finite(values) -> np.ndarray:
    return np.array([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)


def _mean(values) -> float:
    v = _finite(values)
    return float(v.mean()) if len(v) else float("nan")


def fmt(v: float, digits: int = 3, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def mean_std(values) -> str:
    v = _finite(values)
    if len(v) == 0:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Per-dataset aggregates.

def utility_by(records) -> dict:
    """{(dataset, n, method): mean Δ over models and repeats}."""
    per = defaultdict(list)
    for r in records:
        if r.get("kind") == "utility" and r["method"] != "real":
            per[(r["dataset"], r["n"], r["method"], r["repeat"])].append(r["delta"])
    agg = defaultdict(list)
    for (ds, n, m, _), v in per.items():
        agg[(ds, n, m)].append(np.mean(v))
    return {k: float(np.mean(v)) for k, v in agg.items()}


def half_mean(by: dict, datasets, method, n_filter=lambda n: True) -> float:
    """Mean over datasets of the mean over the dataset's N_real values that pass the filter."""
    per_ds = []
    for ds in datasets:
        v = [val for (d, n, m), val in by.items() if d == ds and m == method and n_filter(n)]
        if v:
            per_ds.append(np.mean(v))
    return float(np.mean(per_ds)) if per_ds else float("nan")


def ll_by(records) -> dict:
    """{(dataset, method): mean LL per row} (mean over classes and splits)."""
    agg = defaultdict(list)
    for r in records:
        if r.get("kind") == "ll":
            agg[(r["dataset"], r["method"])].append(r["ll"])
    return {k: _mean(v) for k, v in agg.items()}


def metric_by(records, kind, key, extra=None) -> dict:
    agg = defaultdict(list)
    for r in records:
        if r.get("kind") == kind and (extra is None or extra(r)) and key in r:
            agg[(r["dataset"], r["method"])].append(r[key])
    return {k: _mean(v) for k, v in agg.items()}


def _datasets(records, half) -> list[str]:
    have = {r.get("dataset") for r in records}
    return [d for d in D.HALVES[half] if d in have]


def _methods(records, kind, cond=None) -> list[str]:
    return _order({r["method"] for r in records if r.get("kind") == kind and (cond is None or cond(r))})


# ---------------------------------------------------------------------------------------------
# Tables.

def utility_section(records, half) -> str:
    dss = _datasets(records, half)
    by = utility_by([r for r in records if r.get("dataset") in dss])
    if not by:
        return "_No utility results._\n"
    methods = _methods(records, "utility", lambda r: r["method"] != "real" and r["dataset"] in dss)
    sizes = sorted({n for (_, n, _) in by})
    rows = []
    for m in methods:
        ran = sum(1 for ds in dss if any(k[0] == ds and k[2] == m for k in by))
        rows.append([m] + [fmt(half_mean(by, dss, m, lambda n, s=s: n == s), 4, True) for s in sizes]
                    + [fmt(half_mean(by, dss, m, lambda n: n <= 50), 4, True), fmt(half_mean(by, dss, m), 4, True),
                       f"{ran}/{len(dss)}"])
    out = ["Mean Δ balanced accuracy vs real only (mean of the downstream models and repeats per dataset, then "
           "mean over the datasets the method ran on — see the last column; slow peers ran on fewer):", "",
           _table(["method"] + [f"N={s}" for s in sizes] + ["N ≤ 50", "all", "datasets"], rows)]
    real = defaultdict(list)
    for r in records:
        if r.get("kind") == "utility" and r["method"] == "real" and r["dataset"] in dss:
            real[(r["dataset"], r["n"])].append(r["balanced_accuracy"])
    rows = []
    for ds in dss:
        for n in sorted({k[1] for k in by if k[0] == ds}):
            rows.append([ds, str(n), fmt(_mean(real[(ds, n)]))] + [fmt(by.get((ds, n, m), float("nan")), 3, True)
                                                                   for m in methods])
    out += ["Per dataset and N_real (real-only balanced accuracy, then Δ per method):", "",
            _table(["dataset", "N", "real BA"] + methods, rows)]
    return "\n".join(out)


def fidelity_section(records, half) -> str:
    dss = _datasets(records, half)
    fid = [r for r in records if r.get("kind") == "fidelity" and r["dataset"] in dss]
    if not fid:
        return "_No fidelity results._\n"
    methods = _methods(fid, "fidelity")
    keys = (("c2st", "C2ST AUC ↓ (0.5 best)"), ("corr_err", "corr. error ↓"), ("wasserstein", "W1 ↓"),
            ("ks", "KS ↓"), ("dcr", "median DCR"), ("copy_rate", "exact copies"))
    rows = []
    for m in methods:
        row = [m]
        for k, _ in keys:
            by = metric_by(fid, "fidelity", k, lambda r, m=m: r["method"] == m)
            row.append(fmt(_mean([by.get((ds, m), float("nan")) for ds in dss])))
        rows.append(row)
    out = ["Mean over datasets (per dataset: mean over splits; synthetic rows vs the held-out test rows; "
           "DCR = median distance of a synthetic row to its closest training row, `holdout-real` = the test "
           "rows' own DCR for scale; exact copies = share of synthetic rows equal to a training row):", "",
           _table(["method"] + [t for _, t in keys], rows)]
    top = defaultdict(lambda: ([], []))
    for r in fid:
        if r.get("top_real") is not None and not math.isnan(r.get("top_real", float("nan"))):
            top[(r["dataset"], r["method"])][0].append(r["top_real"])
            top[(r["dataset"], r["method"])][1].append(r["top_syn"])
    c2 = metric_by(fid, "fidelity", "c2st")
    rows = [[ds] + [fmt(c2.get((ds, m), float("nan"))) for m in methods] for ds in dss]
    out += ["C2ST AUC per dataset:", "", _table(["dataset"] + methods, rows)]
    rows = []
    for ds in dss:
        row = [ds]
        for m in methods:
            a, b = top.get((ds, m), ([], []))
            row.append(f"{np.mean(a):+.2f} → {np.mean(b):+.2f}" if a else "–")
        rows.append(row)
    out += ["Strongest real pairwise correlation (real → synthetic):", "", _table(["dataset"] + methods, rows)]
    return "\n".join(out)


def ll_section(records, half) -> str:
    dss = _datasets(records, half)
    ll = [r for r in records if r.get("kind") == "ll" and r["dataset"] in dss]
    if not ll:
        return "_No log-likelihood results._\n"
    methods = _order({r["method"] for r in ll})
    by = ll_by(ll)
    ess = defaultdict(list)
    for r in ll:
        if r.get("ess_share") is not None:
            ess[r["dataset"]].append(r["ess_share"])
    rows = [[ds] + [fmt(by.get((ds, m), float("nan")), 2) for m in methods] + [fmt(_mean(ess[ds]), 3)] for ds in dss]
    rows.append(["**mean**"] + [fmt(_mean([by.get((ds, m), float("nan")) for ds in dss]), 2) for m in methods] + [""])
    sizes = sorted({r["n"] for r in ll})
    rows2 = []
    for m in methods:
        row = [m]
        for s in sizes:
            b = ll_by([r for r in ll if r["n"] == s])
            row.append(fmt(_mean([b.get((ds, m), float("nan")) for ds in dss]), 2))
        rows2.append(row)
    worse = [ds for ds in dss if by.get((ds, "ember"), float("nan")) < by.get((ds, "base"), float("nan"))]
    chk = [r["max_rel_diff"] for r in records if r.get("kind") == "ll-check" and r["dataset"] in dss]
    return "\n".join([
        "Mean held-out log-likelihood per row (per class in Ember's encoded space, mean over classes and splits; "
        "higher is better; last column: importance-sampling ESS as a share of the draws):", "",
        _table(["dataset"] + methods + ["ESS share"], rows),
        "By N_real (mean over datasets):", "", _table(["method"] + [f"N={s}" for s in sizes], rows2),
        f"Ember below its own base on {len(worse)} of {len(dss)} datasets" + (f" ({', '.join(worse)})." if worse else "."),
        f"Reader vs `ember energy` on the test rows: max relative difference {max(chk) if chk else float('nan'):.2e}.",
        ""])


def ood_section(records, half) -> str:
    dss = _datasets(records, half)
    ood = [r for r in records if r.get("kind") == "ood" and r["dataset"] in dss]
    if not ood:
        return "_No OOD results._\n"
    kinds = [k for k in ("held-out class", "local", "global", "dependency", "clustered") if any(r["anomaly"] == k for r in ood)]
    methods = _methods(ood, "ood")
    rows = []
    for m in methods:
        row = [m]
        for k in kinds:
            by = metric_by(ood, "ood", "auroc", lambda r, k=k: r["anomaly"] == k)
            row.append(fmt(_mean([by.get((ds, m), float("nan")) for ds in dss])))
        rows.append(row)
    out = ["Mean AUROC over datasets, per anomaly kind:", "", _table(["method"] + kinds, rows)]
    for k in kinds:
        by = metric_by(ood, "ood", "auroc", lambda r, k=k: r["anomaly"] == k)
        out += [f"AUROC per dataset — {k}:", "",
                _table(["dataset"] + methods, [[ds] + [fmt(by.get((ds, m), float("nan"))) for m in methods] for ds in dss])]
    return "\n".join(out)


def classify_section(records, half) -> str:
    dss = _datasets(records, half)
    cl = [r for r in records if r.get("kind") == "classify" and r["dataset"] in dss]
    if not cl:
        return "_No classification results._\n"
    methods = _order({r["method"] for r in cl})
    sizes = sorted({r["n"] for r in cl if r.get("split") == "protocol"})
    rows = []
    for m in methods:
        row = [m]
        for s in sizes + ["full"]:
            by = metric_by(cl, "classify", "balanced_accuracy", lambda r, s=s: r["n"] == s)
            row.append(fmt(_mean([by.get((ds, m), float("nan")) for ds in dss])))
        rows.append(row)
    out = ["Mean balanced accuracy over datasets (protocol splits by N_real; `full` = 70/30 split, training rows "
           f"capped at {D.FULL_TRAIN_CAP}, test at {D.FULL_TEST_CAP}, one seed):", "",
           _table(["method"] + [f"N={s}" for s in sizes] + ["full"], rows)]
    rows = []
    for ds in dss:
        for s in sizes + ["full"]:
            by = metric_by(cl, "classify", "balanced_accuracy", lambda r, s=s: r["n"] == s)
            if any((ds, m) in by for m in methods):
                rows.append([ds, str(s)] + [fmt(by.get((ds, m), float("nan"))) for m in methods])
    out += ["Per dataset:", "", _table(["dataset", "N"] + methods, rows)]
    return "\n".join(out)


def rank_section(records, half) -> str:
    """Average rank per task across the half's datasets (1 = best; ties share the mean rank)."""
    from scipy.stats import rankdata
    dss = _datasets(records, half)
    tasks = []
    by = utility_by(records)
    tasks.append(("utility (Δ BA, N ≤ 50)", {(ds, m): np.mean([v for (d, n, mm), v in by.items() if d == ds and mm == m and n <= 50])
                                             for (ds, _, m) in by if any(n <= 50 for (d, n, mm) in by if d == ds and mm == m)}, True))
    tasks.append(("fidelity (C2ST, lower)", {k: -v for k, v in metric_by(records, "fidelity", "c2st").items()}, True))
    tasks.append(("LL", ll_by(records), True))
    for k in ("held-out class", "local", "global", "dependency", "clustered"):
        tasks.append((f"OOD {k}", metric_by(records, "ood", "auroc", lambda r, k=k: r.get("anomaly") == k), True))
    tasks.append(("classification (protocol)", metric_by(records, "classify", "balanced_accuracy",
                                                         lambda r: r.get("split") == "protocol"), True))
    tasks.append(("classification (full)", metric_by(records, "classify", "balanced_accuracy",
                                                     lambda r: r.get("split") == "full"), True))
    out = []
    for title, vals, higher in tasks:
        methods = _order({m for (ds, m) in vals if ds in dss and m != "holdout-real"})
        if not methods:
            continue
        ranks = defaultdict(list)
        for ds in dss:
            have = [m for m in methods if (ds, m) in vals and not math.isnan(vals[(ds, m)])]
            if len(have) < 2:
                continue
            r = rankdata([-vals[(ds, m)] for m in have])
            for m, rv in zip(have, r):
                ranks[m].append(rv)
        if ranks:
            order = sorted(ranks, key=lambda m: np.mean(ranks[m]))
            out.append(f"| {title} | " + ", ".join(f"{m} {np.mean(ranks[m]):.2f} ({len(ranks[m])})" for m in order) + " |")
    if not out:
        return "_No results to rank._\n"
    return ("Average rank per task (1 = best; in brackets: datasets ranked — methods that did not run on a dataset "
            "are not ranked there):\n\n| task | methods by average rank |\n|---|---|\n" + "\n".join(out) + "\n")


def timing_section(records) -> str:
    t = [r for r in records if r.get("kind") == "timing" and r.get("seconds") is not None]
    if not t:
        return "_No timing results._\n"
    rows = []
    for m in _order({r["method"] for r in t}):
        v = [r["seconds"] for r in t if r["method"] == m]
        cached = sum(1 for r in t if r["method"] == m and r.get("cached"))
        fb = sum(r.get("fallback") or 0 for r in t if r["method"] == m)
        rows.append([m, str(len(v)), f"{np.mean(v):.2f}", f"{np.max(v):.1f}", f"{np.sum(v):.0f}", str(cached), str(fb)])
    return _table(["method", "calls", "mean s", "max s", "total s", "from cache", "classes copied"], rows)


def error_section(records) -> str:
    errs = [r for r in records if r.get("kind") in ("error", "note")]
    if not errs:
        return "None.\n"
    groups = defaultdict(list)
    for r in errs:
        lines = (r.get("message") or "").strip().splitlines() or [""]
        groups[(r.get("kind"), r.get("method"), lines[-1][:240])].append(r)
    out = []
    for (kind, method, msg), rs in sorted(groups.items(), key=lambda kv: (kv[0][1] or "", -len(kv[1]))):
        e = rs[0]
        where = f"N={e.get('n')}" if e.get("n") is not None else f"held-out {e.get('holdout')}"
        out.append(f"- {kind} `{method}` ({len(rs)}×, e.g. {e.get('dataset')} {where}): {msg}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Targets of issue 9.

def targets_section(records) -> str:
    rows = []
    for half, _ in HALF_TITLES:
        dss = _datasets(records, half)
        if not dss:
            continue
        rows += _targets(records, half, dss)
    for half, _ in HALF_TITLES:
        rows += RT.targets(records, half)
    if not rows:
        return "_No results._\n"
    return _table(["half", "target", "measured", "met?"], rows)


def _yes(ok) -> str:
    return "–" if ok is None else ("**met**" if ok else "not met")


def _targets(records, half, dss) -> list[list[str]]:
    out = []
    ll = ll_by(records)
    e_ll = {ds: ll.get((ds, "ember")) for ds in dss}
    if any(v is not None for v in e_ll.values()):
        below = [ds for ds in dss if e_ll.get(ds) is not None and ll.get((ds, "base")) is not None
                 and e_ll[ds] < ll[(ds, "base")]]
        n_ds = sum(1 for ds in dss if e_ll.get(ds) is not None)
        out.append([half, "LL: Ember ≥ its base on every dataset", f"below base on {len(below)}/{n_ds}"
                    + (f" ({', '.join(below)})" if below else ""), _yes(not below)])
        em = _mean([e_ll[ds] for ds in dss])
        gm = _mean([ll.get((ds, "gmm")) for ds in dss if e_ll.get(ds) is not None])
        out.append([half, "LL: Ember ≥ GMM on average", f"{em:.2f} vs {gm:.2f}", _yes(em >= gm)])
    by = utility_by(records)
    small = lambda n: n <= 50  # noqa: E731
    e = half_mean(by, dss, "ember", small)
    smotes = {m: half_mean(by, dss, m, small) for m in ("smote", "smote-enc")}
    smotes = {m: v for m, v in smotes.items() if not math.isnan(v)}
    sm_name = max(smotes, key=smotes.get) if smotes else "smote"
    sm = smotes.get(sm_name, float("nan"))
    if not math.isnan(e):
        out.append([half, "Aug: Δ ≥ SMOTE + 1 point at N ≤ 50 (the better SMOTE form)",
                    f"{100 * e:+.2f} vs {sm_name} {100 * sm:+.2f} points",
                    _yes(e >= sm + 0.01 if not math.isnan(sm) else None)])
        # Each peer against Ember on the datasets that peer ran on (slow peers run on fewer).
        gaps = {}
        for m in P.PEERS:
            common = [ds for ds in dss if not math.isnan(half_mean(by, [ds], m, small))
                      and not math.isnan(half_mean(by, [ds], "ember", small))]
            if common:
                gaps[m] = (half_mean(by, common, "ember", small), half_mean(by, common, m, small), len(common))
        if gaps:
            worst = min(gaps, key=lambda m: gaps[m][0] - gaps[m][1])
            ev_, pv_, k_ = gaps[worst]
            out.append([half, "Aug: Δ ≥ best peer at N ≤ 50 (each peer on the datasets it ran on)",
                        f"closest: {worst} {100 * pv_:+.2f} vs Ember {100 * ev_:+.2f} points on {k_} dataset(s); "
                        + ", ".join(f"{m} {100 * (g[0] - g[1]):+.2f}" for m, g in gaps.items()) + " (Ember − peer)",
                        _yes(all(g[0] >= g[1] for g in gaps.values()))])
        sizes = sorted({n for (_, n, m) in by if m == "ember"})
        per_n = [half_mean(by, dss, "ember", lambda n, s=s: n == s) for s in sizes]
        out.append([half, "Aug: never < 0 on average at any N_real",
                    ", ".join(f"{s}: {100 * v:+.2f}" for s, v in zip(sizes, per_n)), _yes(min(per_n) >= 0)])
    nr = half_mean(by, dss, "ember", small)  # the default keeps no training rows
    if not math.isnan(nr):
        g = half_mean(by, dss, "gaussian", small)
        out.append([half, "Aug without stored rows: > 0 and ≥ per-class Gaussian (N ≤ 50)",
                    f"{100 * nr:+.2f} vs Gaussian {100 * g:+.2f} points", _yes(nr > 0 and nr >= g)])
    for key, title in (("c2st", "C2ST AUC"), ("corr_err", "correlation error")):
        f = metric_by(records, "fidelity", key)
        ev = _mean([f.get((ds, "ember")) for ds in dss])
        sv = {m: _mean([f.get((ds, m)) for ds in dss]) for m in ("smote", "smote-enc")}
        sv = {m: v for m, v in sv.items() if not math.isnan(v)}
        if not math.isnan(ev) and sv:
            best = min(sv, key=sv.get)
            out.append([half, f"Fidelity: {title} ≤ SMOTE's (the better form)", f"{ev:.3f} vs {best} {sv[best]:.3f}",
                        _yes(ev <= sv[best])])
    for kind in ("held-out class", "local", "global", "dependency", "clustered"):
        o = metric_by(records, "ood", "auroc", lambda r, k=kind: r.get("anomaly") == k)
        ev = _mean([o.get((ds, "ember")) for ds in dss])
        if math.isnan(ev):
            continue
        gv = _mean([o.get((ds, "gaussian")) for ds in dss])
        kv = _mean([o.get((ds, "knn")) for ds in dss])
        out.append([half, f"OOD ({kind}): ≥ best of Gaussian and kNN", f"{ev:.3f} vs Gaussian {gv:.3f}, kNN {kv:.3f}",
                    _yes(ev >= max(gv, kv))])
    cl = [r for r in records if r.get("kind") == "classify" and r.get("split") == "protocol"]
    for label, cond, tol in (("N_real = 20: within 3 points", lambda n: n == 20, 0.03),
                             ("N_real ≥ 50: within 1 point", lambda n: n >= 50, 0.01)):
        sub = [r for r in cl if cond(r["n"])]
        by_c = metric_by(sub, "classify", "balanced_accuracy")
        ev = _mean([by_c.get((ds, "ember")) for ds in dss])
        if math.isnan(ev):
            continue
        lr = _mean([by_c.get((ds, "lr")) for ds in dss])
        qd = _mean([by_c.get((ds, "qda")) for ds in dss])
        out.append([half, f"Classification {label} of best of LR/QDA", f"{ev:.3f} vs LR {lr:.3f}, QDA {qd:.3f}",
                    _yes(ev >= max(lr, qd) - tol)])
    return out


# ---------------------------------------------------------------------------------------------

def dataset_table(records) -> str:
    rows = []
    for half, _ in HALF_TITLES:
        for name in D.HALVES[half]:
            info = D.INFO[name]
            try:
                s = D.summary(name)
            except Exception as exc:  # noqa: BLE001
                rows.append([name, half, info.source, f"could not load: {exc}", "", "", "", "", "", ""])
                continue
            shares = ", ".join(f"{k} {v}" for k, v in s["class_counts"].items())
            rows.append([name, half, info.source, str(s["rows"]), f"{s['cols']} ({s['numeric']} num, {s['categorical']} cat)",
                         f"{100 * s['missing']:.1f}% cells, {100 * s['rows_with_missing']:.0f}% rows",
                         str(s["classes"]), f"{info.target}: {shares}", info.cleaning])
    return _table(["dataset", "half", "source", "rows", "columns", "missing", "classes", "target (class counts)",
                   "cleaning"], rows)


def markdown(records, imgs, meta, out_dir) -> str:
    rel = lambda p: os.path.relpath(p, out_dir)  # noqa: E731
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in (meta.get("phase_seconds") or {}).items())
    md = ["# Ember evaluation", "",
          "Generated by `tools/eval/run_eval.py` (do not edit by hand). `make eval` runs everything and rewrites this "
          "file; `make eval-quick` writes `tools/eval/out/EVALUATION-quick.md`. Raw records: "
          "`tools/eval/out/records.json` (re-render with `--from-records`).", "",
          f"- Command: `{meta.get('command')}`",
          f"- Commit: `{meta.get('commit')}`" + (" (with uncommitted changes)" if meta.get("dirty") else ""),
          f"- ember: `{meta.get('ember')}` ({meta.get('ember_version')}); Ember variants: "
          + ", ".join(f"`{k}` = `{v}`" for k, v in (meta.get("variants") or {}).items()),
          f"- Machine: {meta.get('machine')}; {meta.get('jobs')} worker processes, one thread each",
          f"- Wall time: {meta.get('wall_seconds', float('nan')):.0f} s ({phases}); repeats {meta.get('repeats')}, "
          f"N_real {meta.get('sizes')}, tasks {', '.join(meta.get('tasks') or [])}, importance-sampling draws "
          f"{meta.get('draws')}",
          *[f"- Merged with the records of an earlier run: `{m.get('command')}` at `{m.get('commit')}` "
            f"({(m.get('wall_seconds') or 0):.0f} s)" for m in meta.get("merged", [])], "",
          "## Targets of issues 9 and 14", "", targets_section(records), "",
          "## How to run", "",
          "- `make eval` — everything, both halves → this file (defaults: 3 repeats, N_real 20–500, every peer, "
          "20,000 importance-sampling draws; peers and baselines are read from `tools/eval/out/cache` when "
          "cached). `make eval-quick` → `tools/eval/out/EVALUATION-quick.md` (3 repeats, N_real 20/50, no "
          "full-data split).",
          "- Tuning loop (peers from the cache): `tools/.venv-eval/bin/python tools/eval/run_eval.py --quick --half "
          "tune --methods real,smote,smote-enc,gaussian,ember,ember-rows` — add variants with "
          "`--ember-variant NAME='TRAIN ARGS|SAMPLE ARGS'` (repeatable; the table is `tools/eval/variants.py`), "
          "pick tasks with `--tasks aug,fidelity,ll,ood,classify,full`, datasets with `--datasets`, sizes with "
          "`--sizes`, `--repeats`, `--jobs`. `--cache-only` never starts a peer; `--merge-records FILE` adds a "
          "run's records to an earlier one (also with `--from-records` to re-render).",
          "- Peers run in `tools/.venv-peers` (`make peers`, ~7 GB: PyPI's torch wheel pulls the CUDA runtime "
          "packages).", "",
          "## Datasets", "",
          "Offline only (`tools/eval/data.py`; `python tools/eval/data.py --list`). The halves are fixed in code: "
          "defaults may be chosen on the TUNING half only; iris, wine, breast_cancer, digits and penguins were used "
          "during development and are in the TUNING half. Reserved and never loaded: every dataset of Debian's "
          "`r-cran-mlbench` and `weka` packages, the Pima diabetes data in any form and their copies in other R "
          "packages (MASS `fgl`, `biopsy`, `Boston`, `cpus`, `Pima.*`, …). (weka also ships an iris file; "
          "scikit-learn's iris was development data long before this split and stays in the TUNING half.)", "",
          dataset_table(records), "",
          "## Protocol", "",
          "- TabEBM protocol: fixed stratified test set of min(n/2, 500) rows; N_real rows per repeat, split 4:1 "
          "per class into train/validation (validation unused: defaults everywhere). 500 synthetic rows per split "
          "with the training split's class proportions. Downstream LR, kNN, MLP, RF, XGBoost at defaults on real "
          "+ synthetic; balanced accuracy on the test set; Δ = augmented − real only, same split and seed.",
          "- Ember: `ember train --min-class-rows 1 [variant train args]` on the training split (one model per "
          "distinct set of train args), `ember sample --count 500 [variant sample args]`.",
          "- Baselines: `smote` = SMOTE per class on raw rows (SMOTENC when there are categorical columns; k = "
          "5/3/1 as the class allows); `smote-enc` = SMOTE per class on the encoded rows (z-scored + one-hot, the "
          "form used before; it interpolates one-hot columns too); per-class Gaussian (Ledoit–Wolf + 10⁻³·I, "
          "encoded space). The SMOTE targets compare against the better of the two forms.",
          "- Peers (per class, own venv `tools/.venv-peers`, missing cells mean/mode-imputed first; a class a peer "
          "cannot fit — e.g. one row — gets copies of its rows, counted in the timing table):",
          *[f"  - {line}" for line in (meta.get("peers") or P.describe())],
          "- Fidelity on the test rows: C2ST = 3-fold cross-validated AUROC of HistGradientBoosting separating "
          "real test rows from synthetic rows of the same classes (class one-hot as a feature, both sides ≤ 500 "
          "rows); correlation error = mean |Δ Pearson| over numeric column pairs; W1 = mean per-column "
          "Wasserstein distance (z-scored); KS per column; DCR; exact-copy rate.",
          "- Log-likelihood: per class in Ember's encoded space (rows encoded by `ember energy`); Ember's energy "
          "normalised by importance sampling with the file's own base as proposal, against the base alone, a "
          "BIC-chosen GMM (full, k ≤ 5, reg_covar 10⁻²) and a CV-bandwidth KDE fitted on the class's encoded "
          "training rows (`tools/eval/likelihood.py`).",
          "- OOD: (a) held-out class: train on ≤ 500 pool rows of the other classes; (b) synthetic anomalies "
          "(`tools/eval/anomalies.py`: local α = 5, global 1.1× range, dependency = column-shuffled, clustered) "
          "generated from the test rows, as many as the test rows, train on ≤ 500 pool rows of every class. "
          "Detectors: `ember score`, kNN (5th neighbour distance), per-class Gaussian (max class log-density) and "
          "Mahalanobis (min over classes), IsolationForest, LOF (novelty).",
          "- Classification: `ember classify` vs LR, LDA (shrinkage), regularised QDA (covariance (1 − λ)S_c + "
          "λS_pooled, λ by 3-fold CV), RF on the protocol splits and on a full-data 70/30 split.",
          "- Explanations, imputation, conditional synthesis (`tools/eval/rowtasks.py`, one model per dataset and "
          "repeat trained on ≤ 500 pool rows): corrupted-column top-1 of `score --explain 1` vs per-column z-scores; "
          "`impute --draws 20` under 20 % MCAR vs mean/mode, `KNNImputer`, `IterativeImputer`; `sample --given` / "
          "`--where` on the most correlated numeric column vs the real rows near the value (details in the module "
          "docstring and `docs/EXPLAIN.md`).", ""]
    for half, title in HALF_TITLES:
        if not _datasets(records, half):
            continue
        md += [f"# {title}", "",
               "## Average ranks", "", rank_section([r for r in records if r.get("dataset") in D.HALVES[half]], half),
               "## Augmentation utility", "", utility_section(records, half)]
        md += [f"![Δ balanced accuracy vs N_real, {title}]({rel(p)})" for p in imgs if f"delta-{half}" in p] + [""]
        md += ["## Fidelity and privacy", "", fidelity_section(records, half),
               "## Held-out log-likelihood", "", ll_section(records, half),
               "## OOD detection", "", ood_section(records, half)]
        md += [f"![OOD AUROC, {title}]({rel(p)})" for p in imgs if f"ood-{half}" in p] + [""]
        md += ["## Classification", "", classify_section(records, half)]
        md += ["## Explanations, imputation and conditional synthesis (issue 14)", "", RT.section(records, half)]
    md += ["# Timing (generation = fit + sample per split, summed over classes; Ember: train, sample)", "",
           timing_section(records), "# Errors and notes", "", error_section(records)]
    return "\n".join(md)


def plots(records: list[dict], img_dir: str, prefix: str = "eval") -> list[str]:
    """Per half: Δ balanced accuracy vs N_real per method (mean over the half's datasets) and
    mean OOD AUROC per anomaly kind per method; returns the written paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(img_dir, exist_ok=True)
    paths = []
    for half, title in HALF_TITLES:
        dss = _datasets(records, half)
        by = utility_by([r for r in records if r.get("dataset") in dss])
        if by:
            fig, ax = plt.subplots(figsize=(6.4, 4.0))
            for m in _order({m for (_, _, m) in by}):
                ns = sorted({n for (_, n, mm) in by if mm == m})
                ax.plot(ns, [half_mean(by, dss, m, lambda n, s=s: n == s) for s in ns], marker="o", ms=3, label=m,
                        lw=2.2 if m.startswith("ember") else 1.0)
            ax.axhline(0, color="gray", lw=0.8)
            ax.set_xscale("log")
            ticks = sorted({n for (_, n, _) in by})
            ax.set_xticks(ticks)
            ax.set_xticklabels([str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel("N_real")
            ax.set_ylabel("mean Δ balanced accuracy")
            ax.set_title(f"Augmentation, {title} ({len(dss)} datasets)")
            ax.legend(fontsize=7, ncol=2)
            fig.tight_layout()
            p = os.path.join(img_dir, f"{prefix}-delta-{half}.png")
            fig.savefig(p, dpi=110)
            plt.close(fig)
            paths.append(p)
        ood = [r for r in records if r.get("kind") == "ood" and r["dataset"] in dss]
        if ood:
            kinds = [k for k in ("held-out class", "local", "global", "dependency", "clustered")
                     if any(r["anomaly"] == k for r in ood)]
            methods = _order({r["method"] for r in ood})
            fig, ax = plt.subplots(figsize=(1.8 + 1.5 * len(kinds), 3.6))
            w = 0.8 / len(methods)
            for i, m in enumerate(methods):
                vals = []
                for k in kinds:
                    b = metric_by(ood, "ood", "auroc", lambda r, k=k: r["anomaly"] == k)
                    vals.append(_mean([b.get((ds, m), float("nan")) for ds in dss]))
                ax.bar(np.arange(len(kinds)) + i * w - 0.4 + w / 2, vals, w, label=m)
            ax.set_xticks(np.arange(len(kinds)))
            ax.set_xticklabels(kinds, fontsize=8)
            ax.set_ylim(0.4, 1.0)
            ax.axhline(0.5, color="gray", lw=0.8)
            ax.set_ylabel("mean AUROC")
            ax.set_title(f"OOD, {title}")
            ax.legend(fontsize=7, loc="lower right")
            fig.tight_layout()
            p = os.path.join(img_dir, f"{prefix}-ood-{half}.png")
            fig.savefig(p, dpi=110)
            plt.close(fig)
            paths.append(p)
    return paths
