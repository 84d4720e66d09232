"""Aggregates result records into markdown tables (mean ± std over repeats) and PNG plots."""
from __future__ import annotations

import math
import os
from collections import defaultdict

import numpy as np

METHOD_ORDER = ("real", "smote", "jitter", "gaussian", "ember-tabebm", "ember-langevin", "ember-mala")


def _order(methods) -> list[str]:
    known = [m for m in METHOD_ORDER if m in methods]
    return known + sorted(m for m in methods if m not in METHOD_ORDER)


def mean_std(values) -> str:
    v = np.array([x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))], float)
    if len(v) == 0:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def _mean(values) -> float:
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else float("nan")


def utility_tables(records: list[dict]) -> str:
    """Δ balanced accuracy (augmented − real only) per dataset × N_real × method, mean over the
    downstream models then mean ± std over repeats; and per downstream model averaged over all."""
    util = [r for r in records if r.get("kind") == "utility"]
    if not util:
        return "_No utility results._\n"
    methods = _order({r["method"] for r in util} - {"real"})
    models = sorted({r["model"] for r in util}, key=lambda m: ("lr", "knn", "mlp", "rf", "xgb").index(m)
                    if m in ("lr", "knn", "mlp", "rf", "xgb") else 9)
    # per (dataset, n, repeat, method): mean delta over models
    per = defaultdict(list)
    real = defaultdict(list)
    for r in util:
        if r["method"] == "real":
            real[(r["dataset"], r["n"], r["repeat"])].append(r["balanced_accuracy"])
        else:
            per[(r["dataset"], r["n"], r["method"], r["repeat"])].append(r["delta"])
    out = ["### Δ balanced accuracy vs real only (mean over " + ", ".join(m.upper() for m in models)
           + "; mean ± std over repeats)", "",
           "| dataset | N_real | real-only BA | " + " | ".join(methods) + " |",
           "|---|---|---|" + "---|" * len(methods)]
    keys = sorted({(k[0], k[1]) for k in per} | {(k[0], k[1]) for k in real})
    for ds, n in keys:
        reps = sorted({k[2] for k in real if k[0] == ds and k[1] == n})
        row = [ds, str(n), mean_std([np.mean(real[(ds, n, rp)]) for rp in reps])]
        for m in methods:
            vals = [np.mean(per[(ds, n, m, rp)]) for rp in reps if per.get((ds, n, m, rp))]
            row.append(mean_std(vals))
        out.append("| " + " | ".join(row) + " |")
    out += ["", "### Δ balanced accuracy per downstream model (mean over datasets, N_real and repeats)", "",
            "| method | " + " | ".join(m.upper() for m in models) + " | all |", "|---|" + "---|" * (len(models) + 1)]
    for m in methods:
        row = [m]
        for md in models:
            row.append(f"{_mean([r['delta'] for r in util if r['method'] == m and r['model'] == md]):+.4f}")
        row.append(f"{_mean([r['delta'] for r in util if r['method'] == m]):+.4f}")
        out.append("| " + " | ".join(row) + " |")
    # N_real = 20 and 50 summary
    out += ["", "### Δ balanced accuracy by N_real (mean over datasets, models and repeats)", "",
            "| method | " + " | ".join(str(n) for n in sorted({r['n'] for r in util})) + " |",
            "|---|" + "---|" * len({r['n'] for r in util})]
    for m in methods:
        out.append("| " + m + " | " + " | ".join(
            f"{_mean([r['delta'] for r in util if r['method'] == m and r['n'] == n]):+.4f}"
            for n in sorted({r['n'] for r in util})) + " |")
    if "smote" in methods:
        out += ["", "### Paired difference to SMOTE (Δ_method − Δ_SMOTE per split, mean over models; "
                "mean and 95% interval over all splits)", "",
                "| method | N_real ≤ 50 | all N_real | splits |", "|---|---|---|---|"]
        for m in methods:
            if m == "smote":
                continue
            diffs_small, diffs_all = [], []
            for (ds, n, mm, rp), v in per.items():
                if mm != m or not per.get((ds, n, "smote", rp)):
                    continue
                dv = float(np.mean(v) - np.mean(per[(ds, n, "smote", rp)]))
                diffs_all.append(dv)
                if n <= 50:
                    diffs_small.append(dv)
            out.append(f"| {m} | {ci(diffs_small)} | {ci(diffs_all)} | {len(diffs_all)} |")
    return "\n".join(out) + "\n"


def ci(values) -> str:
    """mean ± 1.96·sd/√n."""
    v = np.array(values, float)
    if len(v) == 0:
        return "–"
    if len(v) == 1:
        return f"{v[0]:+.4f}"
    return f"{v.mean():+.4f} ± {1.96 * v.std(ddof=1) / math.sqrt(len(v)):.4f}"


def fidelity_table(records: list[dict]) -> str:
    fid = [r for r in records if r.get("kind") == "fidelity"]
    if not fid:
        return "_No fidelity results._\n"
    methods = _order({r["method"] for r in fid})
    out = ["| dataset | method | KS ↓ | inverse KL ↑ | class fidelity ↑ | median DCR |", "|---|---|---|---|---|---|"]
    for ds in sorted({r["dataset"] for r in fid}):
        for m in methods:
            rs = [r for r in fid if r["dataset"] == ds and r["method"] == m]
            if rs:
                out.append(f"| {ds} | {m} | {mean_std([r.get('ks') for r in rs])} | "
                           f"{mean_std([r.get('inv_kl') for r in rs])} | {mean_std([r.get('class_fidelity') for r in rs])} | "
                           f"{mean_std([r.get('dcr') for r in rs])} |")
    return "\n".join(out) + "\n"


def ood_table(records: list[dict]) -> str:
    ood = [r for r in records if r.get("kind") == "ood"]
    if not ood:
        return "_No OOD results._\n"
    methods = _order({r["method"] for r in ood})
    out = ["| dataset | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for ds in sorted({r["dataset"] for r in ood}):
        out.append(f"| {ds} | " + " | ".join(mean_std([r["auroc"] for r in ood if r["dataset"] == ds and r["method"] == m])
                                             for m in methods) + " |")
    out.append("| **mean** | " + " | ".join(f"{_mean([r['auroc'] for r in ood if r['method'] == m]):.3f}"
                                            for m in methods) + " |")
    return "\n".join(out) + "\n"


def classify_table(records: list[dict]) -> str:
    cl = [r for r in records if r.get("kind") == "classify"]
    if not cl:
        return "_No classification results._\n"
    methods = [m for m in ("ember", "lr", "rf") if any(r["method"] == m for r in cl)]
    out = ["| dataset | N_real | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for ds, n in sorted({(r["dataset"], r["n"]) for r in cl}):
        out.append(f"| {ds} | {n} | " + " | ".join(
            mean_std([r["balanced_accuracy"] for r in cl if r["dataset"] == ds and r["n"] == n and r["method"] == m])
            for m in methods) + " |")
    return "\n".join(out) + "\n"


def timing_table(records: list[dict]) -> str:
    t = [r for r in records if r.get("kind") == "timing"]
    if not t:
        return "_No timing results._\n"
    out = ["| method | calls | mean s per call | total s |", "|---|---|---|---|"]
    for m in _order({r["method"] for r in t}):
        v = [r["seconds"] for r in t if r["method"] == m]
        out.append(f"| {m} | {len(v)} | {np.mean(v):.3f} | {np.sum(v):.1f} |")
    return "\n".join(out) + "\n"


def error_list(records: list[dict]) -> str:
    errs = [r for r in records if r.get("kind") == "error"]
    if not errs:
        return "None.\n"
    seen, out = set(), []
    for r in errs:
        lines = (r.get("message") or "").strip().splitlines() or [""]
        key = (r.get("method"), lines[-1][:300])
        if key in seen:
            continue
        seen.add(key)
        n = sum(1 for e in errs if e.get("method") == key[0] and key[1] in (e.get("message") or ""))
        where = f"N={r.get('n')}" if r.get("n") is not None else f"held-out {r.get('holdout')}"
        out.append(f"- `{key[0]}` ({n}×, e.g. {r.get('dataset')} {where}): {key[1]}")
    return "\n".join(out) + "\n"


def plots(records: list[dict], img_dir: str, prefix: str = "eval") -> list[str]:
    """Δ balanced accuracy vs N_real per method (one panel per dataset) and OOD AUROC per
    dataset; returns the written paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(img_dir, exist_ok=True)
    paths = []
    util = [r for r in records if r.get("kind") == "utility" and r["method"] != "real"]
    if util:
        datasets = sorted({r["dataset"] for r in util})
        fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets), 3.4), squeeze=False, sharey=True)
        for ax, ds in zip(axes[0], datasets):
            for m in _order({r["method"] for r in util}):
                ns = sorted({r["n"] for r in util if r["dataset"] == ds and r["method"] == m})
                if not ns:
                    continue
                means, sds = [], []
                for n in ns:
                    reps = defaultdict(list)
                    for r in util:
                        if r["dataset"] == ds and r["method"] == m and r["n"] == n:
                            reps[r["repeat"]].append(r["delta"])
                    v = [np.mean(x) for x in reps.values()]
                    means.append(np.mean(v))
                    sds.append(np.std(v) / max(math.sqrt(len(v)), 1))
                ax.errorbar(ns, means, yerr=sds, marker="o", ms=3, capsize=2, label=m)
            ax.axhline(0, color="gray", lw=0.8)
            ax.set_xscale("log")
            ticks = sorted({r["n"] for r in util if r["dataset"] == ds})
            ax.set_xticks(ticks)
            ax.set_xticklabels([str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_title(ds)
            ax.set_xlabel("N_real")
        axes[0][0].set_ylabel("Δ balanced accuracy (mean of models)")
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        p = os.path.join(img_dir, f"{prefix}-delta-ba.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    ood = [r for r in records if r.get("kind") == "ood"]
    if ood:
        datasets = sorted({r["dataset"] for r in ood})
        methods = _order({r["method"] for r in ood})
        fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(datasets), 3.4))
        w = 0.8 / len(methods)
        for i, m in enumerate(methods):
            vals = [_mean([r["auroc"] for r in ood if r["dataset"] == ds and r["method"] == m]) for ds in datasets]
            ax.bar(np.arange(len(datasets)) + i * w - 0.4 + w / 2, vals, w, label=m)
        ax.set_xticks(np.arange(len(datasets)))
        ax.set_xticklabels(datasets, fontsize=8)
        ax.set_ylim(0.0, 1.0)
        ax.axhline(0.5, color="gray", lw=0.8)
        ax.set_ylabel("OOD AUROC (held-out class)")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        p = os.path.join(img_dir, f"{prefix}-ood-auroc.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths
