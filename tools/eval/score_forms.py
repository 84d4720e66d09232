#!/usr/bin/env python3
"""Candidate anomaly-score read-outs on the quick OOD protocol's own jobs, without retraining.

Replays ``tasks.ood_task`` (held-out class: the first two classes, repeat 0) and
``tasks.anomaly_task`` (local, global, dependency, clustered; repeat 0) — the same rows, splits,
seeds and ``ember train`` arguments as ``run_eval.py --quick --tasks ood`` — and keeps, per job,
each test row's per-class energies (``ember energy``), the file's log priors and per-class
calibration quantiles, its Gaussian bases' energies, the encoded rows and the baselines' scores
(``metrics.ood_scores``). It then prints the mean AUROC over datasets (jobs of a dataset
averaged first, as the report does) of every score form in ``FORMS`` beside the peers.

    tools/.venv-eval/bin/python tools/eval/score_forms.py --ember .build/release/ember \
        --half tune --store /tmp/score-forms-tune [--jobs 2] [--datasets iris,wine]

Jobs already in ``--store`` are not re-run (delete the directory to start again). The TUNING
half chooses; run the REPORT half only to report a choice already made (docs/TUNING.md).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))

import anomalies as A  # noqa: E402
import data as D  # noqa: E402
import metrics as M  # noqa: E402
import tasks as T  # noqa: E402
from ember_cli import EmberCLI  # noqa: E402

KINDS = ("held-out class",) + tuple(A.KINDS)


def _lse(a: np.ndarray) -> np.ndarray:
    t = a.max(1)
    return t + np.log(np.exp(a - t[:, None]).sum(1))


def _lw_logpdf(x_tr, y_tr, labels, x) -> np.ndarray:
    """(n, C) per-class Ledoit–Wolf + 1e-3·I Gaussian log densities (the peer's estimator)."""
    from scipy.stats import multivariate_normal
    from sklearn.covariance import LedoitWolf
    out = []
    for c in labels:
        rows = x_tr[y_tr == c]
        cov = (LedoitWolf().fit(rows).covariance_ if len(rows) > 1 else np.zeros((rows.shape[1],) * 2))
        out.append(multivariate_normal(rows.mean(0), cov + 1e-3 * np.eye(rows.shape[1]), allow_singular=True).logpdf(x))
    return np.stack(out, 1)


RIDGES = (0.001, 0.01, 0.05, 0.2, 0.5, 1.0)  # the trainer's single-Gaussian grid (ClassObjective.ridges)


def _ridge_logpdf(x_tr, y_tr, labels, x) -> np.ndarray:
    """(n, C) per-class single Gaussians S + r·I, r from ``RIDGES`` by 5-fold held-out
    log-likelihood on the class's rows: the trainer's single-Gaussian candidate, re-fitted here
    (so the mixture levels' share of Ember's base can be told from the covariance estimator's)."""
    from scipy.stats import multivariate_normal

    def fit(rows, r):
        cov = np.cov(rows, rowvar=False, bias=True) if len(rows) > 1 else np.zeros((rows.shape[1],) * 2)
        return multivariate_normal(rows.mean(0), np.atleast_2d(cov) + r * np.eye(rows.shape[1]), allow_singular=True)

    out = []
    for c in labels:
        rows = x_tr[y_tr == c]
        folds = np.arange(len(rows)) % 5
        if len(rows) >= 10:
            cv = [np.mean([fit(rows[folds != f], r).logpdf(rows[folds == f]).mean() for f in range(5)]) for r in RIDGES]
            r = RIDGES[int(np.argmax(cv))]
        else:
            r = 0.05
        out.append(fit(rows, r).logpdf(x))
    return np.stack(out, 1)


def _tail(E: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per class: share of the class's own held-out rows with energy ≤ E (the file's table),
    continued linearly beyond its largest value (in units of the table's upper half)."""
    cols = []
    for c in range(E.shape[1]):
        qq, e = q[c], E[:, c]
        f = np.interp(e, qq, np.linspace(0, 1, len(qq)))
        cols.append(np.where(e > qq[-1], 1 + (e - qq[-1]) / max(qq[-1] - qq[len(qq) // 2], 1e-6), f))
    return np.stack(cols, 1)


def forms(z, k: str) -> dict[str, np.ndarray]:
    """Every candidate score (higher = more anomalous) of one job's frame ``k``."""
    E, Eb, lp = z[f"E_{k}"], z[f"Eb_{k}"], z["logpri"]
    q = z["cal_q"]
    med, iqr = q[:, 50], np.maximum(q[:, 75] - q[:, 25], 1e-6)
    lw = _lw_logpdf(z["xe_tr"], z["y_tr"], z["labels"], z[f"xe_{k}"])
    rg = _ridge_logpdf(z["xe_tr"], z["y_tr"], z["labels"], z[f"xe_{k}"])
    out = {
        "ember score (CLI)": z[f"score_{k}"],
        "prior mixture −log Σ π_c e^−E_c (today)": -_lse(lp[None] - E),
        "equal-prior mixture −log Σ e^−E_c / C": -_lse(-E),
        "min_c E_c": E.min(1),
        "min_c (E_c − log π_c)": (E - lp[None]).min(1),
        "min_c (E_c − median_c)": (E - med[None]).min(1),
        "min_c (E_c − median_c) / IQR_c": ((E - med[None]) / iqr[None]).min(1),
        "prior mixture of E_c − median_c": -_lse(lp[None] - (E - med[None])),
        "min_c tail share F_c(E_c)": _tail(E, q).min(1),
    }
    for t in (0.25, 0.5, 2.0, 4.0):
        out[f"−T log Σ π_c e^−E_c/T, T = {t:g}"] = -t * _lse((lp[None] - E) / t)
    out["base only: prior mixture"] = -_lse(lp[None] - Eb)
    out["base only: min_c"] = Eb.min(1)
    out["single Gaussian S + r·I, r by 5-fold LL: prior mixture"] = -_lse(lp[None] + rg)
    out["Ledoit–Wolf in Ember's space: max_c (peer form)"] = -lw.max(1)
    out["Ledoit–Wolf in Ember's space: prior mixture"] = -_lse(lp[None] + lw)
    for p in ("gaussian", "knn", "mahalanobis"):
        out[f"peer: {p}"] = z[f"peer_{p}_{k}"]
    return out


def _save(path, cli, train_frame, y_tr, frames, labels, seed, x_tr, x_te) -> None:
    import ember_reader as ER
    wd = tempfile.mkdtemp(prefix="score-forms-")
    try:
        model, secs = cli.train(train_frame, wd, seed)
        m = ER.read_model(model)
        out = dict(labels=np.array(m.labels), logpri=np.log(np.array([c.prior for c in m.classes])),
                   cal_q=np.array([c.calibration.quantiles for c in m.classes]), y_tr=y_tr.astype(str),
                   train_seconds=secs)
        out["xe_tr"], _ = cli.energy(model, train_frame.drop(columns=[D.TARGET]), wd)
        for k, f in frames.items():
            xe, E = cli.energy(model, f, wd)
            if list(E.columns) != ["E_" + lab for lab in m.labels]:
                raise RuntimeError(f"energy columns {list(E.columns)} do not match the classes {m.labels}")
            out[f"E_{k}"] = E.to_numpy(float)
            out[f"Eb_{k}"] = np.stack([c.base.energy_and_grad(xe, want_grad=False)[0] for c in m.classes], 1)
            out[f"xe_{k}"] = xe
            out[f"score_{k}"] = cli.score(model, f, wd)
            out[f"lab_{k}"] = labels[k]
            for name, s in M.ood_scores(x_tr, y_tr, x_te[k], seed).items():
                out[f"peer_{name}_{k}"] = s
        np.savez_compressed(path + ".tmp.npz", **out)
        os.replace(path + ".tmp.npz", path)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def replay(name: str, ember: str, store: str) -> list[str]:
    """Runs one dataset's quick OOD jobs (those not yet in ``store``); returns the files."""
    cli = EmberCLI(ember, list(T.COMMON_TRAIN_ARGS), threads=1)
    ds = D.load(name)
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)
    pool, test = D.holdout_split(ds)
    done = []
    for h in ds.classes[:2]:  # run_eval --quick: 2 held-out classes, 1 repeat
        path = os.path.join(store, f"{name}__held__{h}.npz")
        if not os.path.exists(path):
            seed = 7000 + ds.classes.index(h)
            keep = pool[y[pool] != h]
            tr = keep[D.stratified_take(y[keep], min(len(keep), T.OOD_MAX_ROWS), np.random.default_rng(seed))]
            enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
            _save(path, cli, ds.frame.iloc[tr][ds.features + [D.TARGET]], y[tr],
                  {"held-out class": ds.frame.iloc[test][ds.features]}, {"held-out class": y[test] == h}, seed,
                  enc.transform(ds.frame.iloc[tr]), {"held-out class": enc.transform(ds.frame.iloc[test])})
        done.append(path)
    path = os.path.join(store, f"{name}__anomalies.npz")
    if not os.path.exists(path):
        seed = 9000
        tr = pool[D.stratified_take(y[pool], min(len(pool), T.OOD_MAX_ROWS), np.random.default_rng(seed))]
        enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
        real = ds.frame.iloc[test]
        frames, labels, x_te = {}, {}, {}
        for i, kind in enumerate(A.KINDS):
            an = A.generate(real[ds.features + [D.TARGET]], ds.numeric, ds.categorical, kind, len(test), seed + i)
            frames[kind] = pd.concat([real[ds.features].reset_index(drop=True), an], ignore_index=True)
            labels[kind] = np.r_[np.zeros(len(test), bool), np.ones(len(an), bool)]
            x_te[kind] = enc.transform(frames[kind])
        _save(path, cli, ds.frame.iloc[tr][ds.features + [D.TARGET]], y[tr], frames, labels, seed,
              enc.transform(ds.frame.iloc[tr]), x_te)
    done.append(path)
    return done


def table(store: str, datasets: list[str]) -> pd.DataFrame:
    """One row per (dataset, job, anomaly kind, form) with the AUROC and the class count."""
    rows = []
    for name in datasets:
        for f in sorted(glob.glob(os.path.join(store, f"{name}__*.npz"))):
            if f.endswith(".tmp.npz"):
                continue
            z = np.load(f)
            kinds = [k for k in KINDS if f"E_{k}" in z.files]
            for k in kinds:
                for form, s in forms(z, k).items():
                    rows.append(dict(dataset=name, job=os.path.basename(f)[:-4], anomaly=k, form=form,
                                     classes=z[f"E_{k}"].shape[1], auroc=M.auroc(s, z[f"lab_{k}"])))
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ember", required=True, help="the ember binary to train and score with")
    ap.add_argument("--half", choices=("tune", "report"), default="tune")
    ap.add_argument("--datasets", help="comma-separated subset of the half")
    ap.add_argument("--store", required=True, help="directory for the per-job energies (re-used)")
    ap.add_argument("--jobs", type=int, default=1, help="datasets replayed in parallel")
    ap.add_argument("--json", help="write the per-job AUROC table here")
    args = ap.parse_args(argv)
    datasets = args.datasets.split(",") if args.datasets else list(D.HALVES[args.half])
    os.makedirs(args.store, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        list(ex.map(replay, datasets, [args.ember] * len(datasets), [args.store] * len(datasets)))
    df = table(args.store, datasets)
    if args.json:
        df.to_json(args.json, orient="records", indent=1, force_ascii=False)
    per_ds = df.groupby(["anomaly", "form", "dataset"], sort=False).auroc.mean().reset_index()
    mean = per_ds.groupby(["form", "anomaly"], sort=False).auroc.mean().unstack("anomaly")[list(KINDS)]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 60)
    print(f"Mean AUROC over {len(datasets)} datasets ({args.half} half):")
    print(mean.round(4).to_string())
    held = per_ds[per_ds.anomaly == "held-out class"].pivot(index="form", columns="dataset", values="auroc")
    print("\nHeld-out class, per dataset:")
    print(held.loc[mean.index, datasets].round(3).to_string())
    cls = df[df.anomaly == "held-out class"].groupby("dataset").classes.first()
    print("\nTraining classes in the held-out-class jobs:", ", ".join(f"{d} {cls[d]}" for d in datasets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
