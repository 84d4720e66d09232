"""Explanations, imputation and conditional synthesis (issue 14), on one trained model per
(dataset, repeat): :func:`rowtask` trains ``ember`` on ≤ 500 stratified pool rows (seed
11000 + 100·repeat) and runs the three tasks the job names, each against simple baselines.

* ``explain`` — ≤ 200 test rows, each with ONE corrupted column: ``shift`` (a numeric cell moved
  by ±4 training standard deviations, random sign), ``swap`` (a numeric cell replaced by the
  same column of a random row of another class, kept only when it moves ≥ 2 σ), ``category``
  (a categorical cell changed to another category). Top-1 hit rate of ``ember score --explain 1``
  against a per-column marginal z-score (|x − μ|/σ; a category of training frequency p counts
  as Φ⁻¹(1 − p/2)) and a Gaussian conditional z-score (|x_j − E[x_j | x_−j]| / sd, one
  Gaussian fitted on the encoded training rows; categorical columns: their marginal z).
* ``impute`` — ≤ 200 test rows with 20 % of their observed feature cells masked (MCAR; every
  row keeps ≥ 1 cell), the target column absent. ``ember`` = ``ember impute`` (its default
  point imputation: conditional means / most probable categories); ``ember-draws`` = ``ember
  impute --draws 20``, numeric cells the mean of the draws, categorical cells their most frequent
  category; ``ember-1draw`` = the first of those draws. Baselines fitted
  on the same training rows: mean/mode, scikit-learn ``KNNImputer`` (5 neighbours) and
  ``IterativeImputer`` (BayesianRidge, 10 rounds), both on z-scored numeric + one-hot columns
  (a category = the arg-max of its imputed one-hot values). RMSE in training-σ units over the
  masked numeric cells; accuracy over the masked categorical cells.
* ``conditional`` — the numeric column most correlated with the others (training rows) is fixed
  at its training 20/50/80 % quantiles with ``ember sample --given`` (200 rows each), and bounded
  from below at its 80 % quantile with ``--where``. Real reference: the 50 non-training rows
  nearest to the value (every non-training row above the bound for ``--where``). Error = mean
  over the other numeric columns of |mean(generated) − mean(real reference)| / σ; baselines: the
  unconditional training mean (what ignoring the condition gives) and the conditional mean of
  one Gaussian fitted on the training rows. ``direction`` = share of the columns that real
  rows move by ≥ 0.1 σ away from the unconditional mean that the generated rows move the same
  way. ``satisfied`` = share of generated rows meeting every condition (a categorical ``--given``
  at the column's most frequent category is checked too).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

import data as D
from ember_cli import EmberCLI, EmberError, read_csv, write_csv
from variants import COMMON_TRAIN_ARGS

TASKS = ("explain", "impute", "conditional")
TRAIN_ROWS = 500
TEST_ROWS = 200
SHIFT = 4.0
MASK = 0.2
DRAWS = 20
GIVEN_ROWS = 200
WINDOW = 50


def _cli(job: dict) -> EmberCLI:
    return EmberCLI(job["ember"], list(COMMON_TRAIN_ARGS) + list(job.get("ember_train_args", [])),
                    threads=job.get("ember_threads", 1))


def _run(cli: EmberCLI, args: list[str]) -> float:
    return cli._run(args)  # noqa: SLF001 - the harness's one way to run ember


def _stats(frame: pd.DataFrame, numeric: list[str]) -> tuple[np.ndarray, np.ndarray]:
    x = frame[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    mu = x.mean().fillna(0.0).to_numpy()
    sd = x.std(ddof=0).to_numpy()
    return mu, np.where(np.isfinite(sd) & (sd > 1e-12), sd, 1.0)


def rowtask(job: dict) -> list[dict]:
    """``job``: dataset, repeat, tasks, ember (path), ember_train_args, ember_threads."""
    ds = D.load(job["dataset"])
    rep = job["repeat"]
    seed = 11000 + 100 * rep
    pool, test = D.holdout_split(ds)
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)
    rng = np.random.default_rng(seed)
    tr = pool[D.stratified_take(y[pool], min(len(pool), TRAIN_ROWS), rng)]
    te = np.sort(rng.choice(test, size=min(len(test), TEST_ROWS), replace=False))
    rest = np.setdiff1d(np.arange(len(y)), tr)
    base = dict(dataset=ds.name, half=D.half_of(ds.name), repeat=rep, train_rows=len(tr))
    tasks = [t for t in job.get("tasks", TASKS) if t in TASKS]
    if not job.get("ember"):
        return [dict(base, kind="error", method=f"ember:{t}", message="no ember executable (--ember PATH)") for t in tasks]
    cli = _cli(job)
    workdir = tempfile.mkdtemp(prefix=f"ember-rowtask-{ds.name}-{rep}-")
    records: list[dict] = []
    try:
        try:
            model, secs = cli.train(ds.frame.iloc[tr][ds.features + [D.TARGET]], workdir, seed, name="rt")
        except EmberError as exc:
            return [dict(base, kind="error", method=f"ember:{t}", message=str(exc)[:800]) for t in tasks]
        records.append(dict(base, kind="timing", method="ember:train-rowtasks", seconds=secs))
        for t in tasks:
            fn = {"explain": explain_records, "impute": impute_records, "conditional": conditional_records}[t]
            try:
                records += fn(cli, model, ds, tr, te, rest, seed, base, workdir)
            except Exception as exc:  # noqa: BLE001 - reported, the other tasks go on
                import traceback
                records.append(dict(base, kind="error", method=f"ember:{t}",
                                    message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1200:]}"[:1500]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return records


# ---------------------------------------------------------------------------------------------
# Explanations.

def corrupt(ds, frame: pd.DataFrame, y: np.ndarray, train: pd.DataFrame, kind: str, rng) -> tuple[pd.DataFrame, list]:
    """Rows of ``frame`` with one corrupted cell each (rows where no cell qualifies are
    dropped); returns (rows, corrupted column per row)."""
    mu, sd = _stats(train, ds.numeric)
    rows, cols = [], []
    values = {c: frame[c].to_numpy(dtype=object) for c in ds.features}
    for i in range(len(frame)):
        row = frame.iloc[i].copy()
        if kind == "category":
            cands = [c for c in ds.categorical if row[c] is not None and not pd.isna(row[c])
                     and train[c].dropna().nunique() > 1]
        else:
            cands = [c for c in ds.numeric if not pd.isna(row[c])]
        if not cands:
            continue
        c = cands[rng.integers(len(cands))]
        j = ds.numeric.index(c) if c in ds.numeric else -1
        if kind == "shift":
            row[c] = float(row[c]) + (1 if rng.random() < 0.5 else -1) * SHIFT * sd[j]
        elif kind == "swap":
            others = [k for k in range(len(frame)) if y[k] != y[i] and not pd.isna(values[c][k])
                      and abs(float(values[c][k]) - float(row[c])) >= 2 * sd[j]]
            if not others:
                continue
            row[c] = values[c][others[rng.integers(len(others))]]
        else:
            levels = sorted(set(train[c].dropna().astype(str)) - {str(row[c])})
            row[c] = levels[rng.integers(len(levels))]
        rows.append(row)
        cols.append(c)
    out = pd.DataFrame(rows, columns=frame.columns).reset_index(drop=True) if rows else frame.iloc[:0]
    return out, cols


def _marginal_z(ds, train: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """(n, F) marginal z per feature (numeric |z|; categorical Φ⁻¹(1 − p/2))."""
    from scipy.stats import norm
    mu, sd = _stats(train, ds.numeric)
    out = np.zeros((len(frame), len(ds.features)))
    if ds.numeric:
        x = frame[ds.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        out[:, :len(ds.numeric)] = np.nan_to_num(np.abs((x - mu) / sd))
    for k, c in enumerate(ds.categorical):
        freq = train[c].dropna().astype(str).value_counts(normalize=True)
        p = frame[c].map(lambda v: freq.get(str(v), 0.0) if v is not None and not pd.isna(v) else 1.0).to_numpy(float)
        out[:, len(ds.numeric) + k] = norm.isf(np.clip(p, 1e-12, 1.0) / 2)
    return out


def _conditional_z(ds, train: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """(n, F): numeric columns |x_j − E[x_j | rest]| / sd(x_j | rest) under one Gaussian over the
    baseline encoding (Ledoit–Wolf); categorical columns their marginal z."""
    from sklearn.covariance import LedoitWolf
    enc = D.Encoder().fit(ds, train)
    xt, xf = enc.transform(train), enc.transform(frame)
    out = _marginal_z(ds, train, frame)
    if not ds.numeric:
        return out
    cov = LedoitWolf().fit(xt).covariance_ + 1e-6 * np.eye(xt.shape[1])
    prec = np.linalg.inv(cov)
    r = (xf - xt.mean(0)) @ prec  # (P(x − m))_j / P_jj = x_j − E[x_j | rest]
    for j in range(len(ds.numeric)):
        out[:, j] = np.abs(r[:, j]) / np.sqrt(prec[j, j])
    return out


def explain_records(cli, model, ds, tr, te, rest, seed, base, workdir) -> list[dict]:
    frame = ds.frame.iloc[te][ds.features].reset_index(drop=True)
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)[te]
    train = ds.frame.iloc[tr]
    out = []
    kinds = [k for k in ("shift", "swap", "category") if (ds.categorical if k == "category" else ds.numeric)]
    for ki, kind in enumerate(kinds):
        rows, cols = corrupt(ds, frame, y, train, kind, np.random.default_rng(seed + 17 * ki))
        if not cols:
            continue
        inp, res = os.path.join(workdir, f"explain-{kind}.csv"), os.path.join(workdir, f"explain-{kind}-out.csv")
        write_csv(rows, inp)
        t = time.perf_counter()
        _run(cli, ["score", model, inp, "--explain", "1", "--output", res] + cli._threads())  # noqa: SLF001
        secs = time.perf_counter() - t
        why = pd.read_csv(res, dtype={"why_1": str}, keep_default_na=False)["why_1"].to_numpy(dtype=object)
        truth = np.array(cols, dtype=object)
        rec = dict(base, kind="explain", corruption=kind, rows=len(cols))
        out.append(dict(rec, method="ember", top1=float(np.mean(why == truth)), seconds=secs))
        names = np.array(ds.features, dtype=object)
        for name, z in (("zscore", _marginal_z(ds, train, rows)), ("gauss-cond", _conditional_z(ds, train, rows))):
            out.append(dict(rec, method=name, top1=float(np.mean(names[np.argmax(z, axis=1)] == truth))))
    return out


# ---------------------------------------------------------------------------------------------
# Imputation.

def mask_cells(frame: pd.DataFrame, features: list[str], share: float, rng) -> np.ndarray:
    """(n, F) boolean: observed cells chosen MCAR with probability ``share``; each row keeps at
    least one observed cell."""
    observed = frame[features].notna().to_numpy()
    m = (rng.random(observed.shape) < share) & observed
    for i in np.flatnonzero(m.sum(1) >= observed.sum(1)):
        keep = np.flatnonzero(observed[i])
        if len(keep):
            m[i, keep[rng.integers(len(keep))]] = False
    return m


def _matrix(ds, frame: pd.DataFrame, mu, sd, cats) -> np.ndarray:
    """z-scored numeric + one-hot categorical, NaN where the cell is missing."""
    parts = []
    if ds.numeric:
        parts.append((frame[ds.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(float) - mu) / sd)
    for c in ds.categorical:
        v = frame[c].to_numpy(dtype=object)
        oh = np.array([[float(str(x) == k) for k in cats[c]] if x is not None and not pd.isna(x)
                       else [np.nan] * len(cats[c]) for x in v]).reshape(len(v), len(cats[c]))
        parts.append(oh)
    return np.hstack(parts) if parts else np.zeros((len(frame), 0))


def impute_records(cli, model, ds, tr, te, rest, seed, base, workdir) -> list[dict]:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer
    rng = np.random.default_rng(seed + 5)
    train = ds.frame.iloc[tr]
    truth = ds.frame.iloc[te][ds.features].reset_index(drop=True)
    mask = mask_cells(truth, ds.features, MASK, rng)
    masked = truth.copy()
    for j, c in enumerate(ds.features):
        masked.loc[mask[:, j], c] = None
    mu, sd = _stats(train, ds.numeric)
    cats = {c: sorted(train[c].dropna().astype(str).unique().tolist()) or ["?"] for c in ds.categorical}
    xt, xm = _matrix(ds, train, mu, sd, cats), _matrix(ds, masked, mu, sd, cats)
    nnum = len(ds.numeric)
    z_true = (truth[ds.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(float) - mu) / sd if nnum else None

    def score(z_num: np.ndarray | None, cat_pred: dict) -> dict:
        out = {}
        if nnum:
            mm = mask[:, :nnum]
            out["rmse"] = float(np.sqrt(np.mean((z_num[mm] - z_true[mm]) ** 2))) if mm.any() else float("nan")
            out["num_cells"] = int(mm.sum())
        hits, total = 0, 0
        for k, c in enumerate(ds.categorical):
            m = mask[:, nnum + k]
            hits += int(np.sum(np.asarray(cat_pred[c])[m] == truth[c].astype(str).to_numpy()[m]))
            total += int(m.sum())
        out["cat_acc"] = hits / total if total else float("nan")
        out["cat_cells"] = total
        return out

    def from_matrix(x: np.ndarray) -> tuple:
        offs, preds = nnum, {}
        for c in ds.categorical:
            k = len(cats[c])
            preds[c] = np.array(cats[c], dtype=object)[np.argmax(x[:, offs:offs + k], axis=1)]
            offs += k
        return (x[:, :nnum] if nnum else None), preds

    rec = dict(base, kind="impute", rows=len(truth), mask=MASK)
    out = []
    # Ember: the default point imputation.
    inp, res = os.path.join(workdir, "impute-in.csv"), os.path.join(workdir, "impute-out.csv")
    write_csv(masked, inp)
    t = time.perf_counter()
    _run(cli, ["impute", model, inp, "--seed", str(seed), "--output", res, "--quiet"] + cli._threads())  # noqa: SLF001
    secs = time.perf_counter() - t
    got = pd.read_csv(res, dtype={c: str for c in ds.categorical}, keep_default_na=False)
    if len(got) != len(truth):
        raise RuntimeError(f"ember impute wrote {len(got)} rows, expected {len(truth)}")
    z_num = (got[ds.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(float) - mu) / sd if nnum else None
    preds = {c: got[c].to_numpy(dtype=object) for c in ds.categorical}
    out.append(dict(rec, method="ember", seconds=secs, **score(z_num, preds)))
    # Ember --draws: mean of the numeric draws, most frequent category; and a single draw.
    t = time.perf_counter()
    _run(cli, ["impute", model, inp, "--draws", str(DRAWS), "--seed", str(seed), "--output", res, "--quiet"]
         + cli._threads())  # noqa: SLF001
    secs = time.perf_counter() - t
    got = pd.read_csv(res, dtype={c: str for c in ds.categorical}, keep_default_na=False)
    if len(got) != len(truth) * DRAWS:
        raise RuntimeError(f"ember impute --draws wrote {len(got)} rows, expected {len(truth) * DRAWS}")
    z_num = z_one = None
    if nnum:
        v = got[ds.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        z_num = ((v.reshape(len(truth), DRAWS, nnum).mean(1)) - mu) / sd
        z_one = (v.reshape(len(truth), DRAWS, nnum)[:, 0, :] - mu) / sd
    preds = {}
    for c in ds.categorical:
        vals = got[c].to_numpy(dtype=object).reshape(len(truth), DRAWS)
        preds[c] = np.array([pd.Series(r).mode().iloc[0] for r in vals], dtype=object)
    out.append(dict(rec, method="ember-draws", seconds=secs, **score(z_num, preds)))
    one = {c: got[c].to_numpy(dtype=object).reshape(len(truth), DRAWS)[:, 0] for c in ds.categorical}
    out.append(dict(rec, method="ember-1draw", **score(z_one, one)))
    # Baselines.
    means = np.zeros((len(truth), nnum))
    modes = {c: np.full(len(truth), train[c].dropna().astype(str).mode().iloc[0] if train[c].notna().any() else "?",
                        dtype=object) for c in ds.categorical}
    out.append(dict(rec, method="mean/mode", **score(means, modes)))
    fill = np.where(np.isnan(xt), np.nanmean(np.where(np.isnan(xt), np.nan, xt), axis=0), xt)
    for name, imp in (("knn", KNNImputer(n_neighbors=5)),
                      ("iterative", IterativeImputer(max_iter=10, random_state=seed, sample_posterior=False))):
        t = time.perf_counter()
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp.fit(fill if name == "knn" else xt)
            x = imp.transform(xm)
        out.append(dict(rec, method=name, seconds=time.perf_counter() - t, **score(*from_matrix(x))))
    return out


# ---------------------------------------------------------------------------------------------
# Conditional synthesis.

def _quote(v: float) -> str:
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


def conditional_records(cli, model, ds, tr, te, rest, seed, base, workdir) -> list[dict]:
    if len(ds.numeric) < 2:
        return []
    train = ds.frame.iloc[tr]
    num = train[ds.numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    mu, sd = _stats(train, ds.numeric)
    corr = num.corr().abs().to_numpy(copy=True)
    np.fill_diagonal(corr, np.nan)
    strength = np.nan_to_num(np.nanmean(corr, axis=1), nan=-1)
    a = int(np.argmax(strength))
    anchor = ds.numeric[a]
    others = [j for j in range(len(ds.numeric)) if j != a]
    real = ds.frame.iloc[rest][ds.numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    real = real[real[anchor].notna()]
    integer = bool(np.all(num[anchor].dropna() == np.round(num[anchor].dropna())))
    # One Gaussian over the numeric columns (mean-imputed training rows).
    z = ((num.fillna(num.mean()) - mu) / sd).to_numpy()
    cov = np.cov(z, rowvar=False) + 1e-6 * np.eye(len(ds.numeric))
    cat_given = []
    for c in ds.categorical:
        vc = train[c].dropna().astype(str)
        if vc.nunique() > 1:
            cat_given = [f"{c}={vc.mode().iloc[0]}"]
            break
    out = []
    rec = dict(base, kind="conditional", anchor=anchor, anchor_corr=float(strength[a]))
    for label, q, op in (("given q20", 0.2, "="), ("given q50", 0.5, "="), ("given q80", 0.8, "="), ("where >= q80", 0.8, ">=")):
        v = float(np.quantile(num[anchor].dropna(), q))
        if integer:
            v = float(np.round(v))
        if op == "=":
            ref = real.iloc[np.argsort(np.abs(real[anchor].to_numpy() - v), kind="stable")[:WINDOW]]
            args = ["--given", f"{anchor}={_quote(v)}"]
        else:
            ref = real[real[anchor] >= v]
            args = ["--where", f"{anchor}>={_quote(v)}"]
        if len(ref) < 5:
            continue
        extra = cat_given if label == "given q50" else []
        cmd = ["sample", model, "--count", str(GIVEN_ROWS), "--seed", str(seed), "--quiet"]
        for e in extra:
            cmd += ["--given", e]
        outp = os.path.join(workdir, f"cond-{label.replace(' ', '-')}.csv")
        t = time.perf_counter()
        try:
            _run(cli, cmd + args + ["--output", outp] + cli._threads())  # noqa: SLF001
        except EmberError as exc:
            out.append(dict(rec, condition=label, method="ember", message=str(exc)[:300], satisfied=0.0))
            continue
        secs = time.perf_counter() - t
        gen = read_csv(outp)
        gv = pd.to_numeric(gen[anchor], errors="coerce").to_numpy(float)
        ok = np.isclose(gv, v, rtol=1e-6, atol=1e-9) if op == "=" else gv >= v
        for e in extra:
            col, val = e.split("=", 1)
            ok &= gen[col].astype(str).to_numpy() == val
        gnum = ((gen[ds.numeric].apply(pd.to_numeric, errors="coerce").astype(float) - mu) / sd).to_numpy()
        rnum = ((ref - mu) / sd).to_numpy()
        m_gen, m_real = np.nanmean(gnum, axis=0), np.nanmean(rnum, axis=0)
        zv = (v - mu[a]) / sd[a]
        if op == "=":
            s12 = cov[others, a]
            m_gauss = s12 / cov[a, a] * zv
        else:  # mean of the Gaussian conditional over the truncated anchor
            from scipy.stats import norm
            s = np.sqrt(cov[a, a])
            lam = norm.pdf(zv / s) / max(norm.sf(zv / s), 1e-300)
            m_gauss = cov[others, a] / cov[a, a] * (s * lam)
        err = lambda m: float(np.mean(np.abs(m - m_real[others])))  # noqa: E731
        moved = np.abs(m_real[others]) >= 0.1
        direction = float(np.mean(np.sign(m_gen[others][moved]) == np.sign(m_real[others][moved]))) if moved.any() else float("nan")
        r = dict(rec, condition=label, value=v, reference_rows=len(ref), generated=len(gen))
        out.append(dict(r, method="ember", error=err(m_gen[others]), direction=direction,
                        satisfied=float(np.mean(ok)), seconds=secs))
        out.append(dict(r, method="gaussian", error=err(m_gauss)))
        out.append(dict(r, method="unconditional", error=err(np.zeros(len(others)))))
    return out
