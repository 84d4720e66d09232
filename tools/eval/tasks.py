"""The units of work of the evaluation, each self-contained so a process pool can run them:

* :func:`augmentation_task` — one (dataset, N_real, repeat): generate 500 synthetic rows per
  method, train the downstream models on real and on real + synthetic, measure balanced
  accuracy, fidelity (KS, inverse KL), class fidelity, DCR; plus Ember classify vs LR / RF.
* :func:`ood_task` — one (dataset, held-out class, repeat): train without the class, score the
  test rows, AUROC of the held-out class vs the rest for Ember and the baselines.

Each returns a list of flat result records (dicts).
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from types import SimpleNamespace

import numpy as np

import data as D
import generators as G
import metrics as M
from ember_cli import EmberCLI, EmberError

SYNTHETIC_ROWS = 500
EMBER_SAMPLERS = ("tabebm", "langevin", "mala")


def _ember_methods(methods: list[str]) -> list[str]:
    """Ember samplers requested: ``ember`` means all three; ``ember-langevin`` one."""
    out = []
    for m in methods:
        if m == "ember":
            out += [s for s in EMBER_SAMPLERS if s not in out]
        elif m.startswith("ember-"):
            out.append(m.split("-", 1)[1])
    return out


def prepare_split(dataset: str, n: int, rep: int) -> SimpleNamespace:
    """One (dataset, N_real, repeat) split of the protocol: the fixed test set, the stratified
    N_real rows split 4:1, the baseline encoder fitted on the training rows and the encoded
    arrays. Seed 1000·repeat + N_real."""
    ds = D.load(dataset)
    seed = 1000 * rep + n
    pool, test = D.holdout_split(ds)
    tr, va = D.real_split(ds, pool, n, seed)
    frame = ds.frame
    enc = D.Encoder().fit(ds, frame.iloc[tr])
    y = frame[D.TARGET].to_numpy(dtype=object)
    return SimpleNamespace(
        ds=ds, seed=seed, tr=tr, va=va, test=test, frame=frame, enc=enc, y=y,
        x_tr=enc.transform(frame.iloc[tr]), y_tr=y[tr], x_te=enc.transform(frame.iloc[test]), y_te=y[test],
        numeric=enc.numeric_mask())


def augmentation_task(job: dict) -> list[dict]:
    """Runs one split. ``job``: dataset, n, repeat, methods, downstream, ember (path or None),
    ember_train_args, synthetic."""
    n, rep, methods = job["n"], job["repeat"], job["methods"]
    sp = prepare_split(job["dataset"], n, rep)
    ds, seed, tr, va, test, frame, enc, y = sp.ds, sp.seed, sp.tr, sp.va, sp.test, sp.frame, sp.enc, sp.y
    x_tr, y_tr, x_te, y_te, numeric = sp.x_tr, sp.y_tr, sp.x_te, sp.y_te, sp.numeric
    counts = G.class_counts(y_tr, job.get("synthetic", SYNTHETIC_ROWS))
    base = dict(dataset=ds.name, n=n, repeat=rep, train_rows=len(tr), val_rows=len(va), test_rows=len(test))
    records: list[dict] = []
    from sklearn.ensemble import RandomForestClassifier
    judge = RandomForestClassifier(n_jobs=1, random_state=0).fit(enc.transform(frame), y.astype(str))

    synthetic: dict[str, tuple] = {}
    timing: dict[str, float] = {}
    errors: dict[str, str] = {}
    for m in methods:
        if m in G.BASELINES:
            t = time.perf_counter()
            synthetic[m] = G.BASELINES[m](x_tr, y_tr, counts, seed)
            timing[m] = time.perf_counter() - t
    samplers = _ember_methods(methods)
    ember_model = None
    workdir = tempfile.mkdtemp(prefix=f"ember-eval-{ds.name}-{n}-{rep}-")
    try:
        if samplers and job.get("ember"):
            cli = EmberCLI(job["ember"], job.get("ember_train_args"), threads=job.get("ember_threads", 1))
            try:
                ember_model, train_s = cli.train(frame.iloc[tr][ds.features + [D.TARGET]], workdir, seed)
                records.append(dict(base, kind="timing", method="ember-train", seconds=train_s))
                pred = cli.classify(ember_model, frame.iloc[test][ds.features], workdir)
                from sklearn.metrics import balanced_accuracy_score
                records.append(dict(base, kind="classify", method="ember",
                                    balanced_accuracy=float(balanced_accuracy_score(y_te.astype(str), pred.astype(str)))))
            except EmberError as exc:
                for s in samplers:
                    errors[f"ember-{s}"] = str(exc)
                ember_model = None
            for s in samplers if ember_model else []:
                try:
                    rows, secs = cli.sample(ember_model, sum(counts.values()), seed, workdir, sampler=s)
                    ys = rows[D.TARGET].astype(str).to_numpy(dtype=object)
                    synthetic[f"ember-{s}"] = (enc.transform(rows), ys)
                    timing[f"ember-{s}"] = secs
                except (EmberError, KeyError, ValueError) as exc:
                    errors[f"ember-{s}"] = str(exc)
        elif samplers:
            for s in samplers:
                errors[f"ember-{s}"] = "no ember executable (--ember PATH)"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for m, secs in timing.items():
        records.append(dict(base, kind="timing", method=m, seconds=secs))
    for m, msg in errors.items():
        records.append(dict(base, kind="error", method=m, message=msg[:500]))

    real_scores = {}
    for model in job["downstream"]:
        real_scores[model] = M.fit_score(model, x_tr, y_tr, x_te, y_te, seed)
        records.append(dict(base, kind="utility", method="real", model=model, balanced_accuracy=real_scores[model],
                            delta=0.0))
        if model in ("lr", "rf"):
            records.append(dict(base, kind="classify", method=model, balanced_accuracy=real_scores[model]))
    for m, (xs, ys) in synthetic.items():
        if len(ys) == 0:
            continue
        x_aug, y_aug = np.vstack([x_tr, xs]), np.concatenate([y_tr, ys])
        for model in job["downstream"]:
            ba = M.fit_score(model, x_aug, y_aug, x_te, y_te, seed)
            records.append(dict(base, kind="utility", method=m, model=model, balanced_accuracy=ba,
                                delta=ba - real_scores[model]))
        fid = M.fidelity(xs, ys, x_te, y_te, numeric)
        records.append(dict(base, kind="fidelity", method=m, ks=fid["ks"], inv_kl=fid["inv_kl"],
                            class_fidelity=M.class_fidelity(judge, xs, ys), dcr=M.median_dcr(xs, x_tr),
                            rows=len(ys)))
    # Reference point for DCR: held-out real test rows' distance to the training rows.
    records.append(dict(base, kind="fidelity", method="holdout-real", dcr=M.median_dcr(x_te, x_tr), rows=len(y_te)))
    return records


def ood_task(job: dict) -> list[dict]:
    """Held-out-class OOD on one dataset. ``job``: dataset, holdout (class label), repeat, ember,
    ember_train_args, max_rows."""
    ds = D.load(job["dataset"])
    h, rep = job["holdout"], job["repeat"]
    seed = 7000 + 100 * rep + ds.classes.index(h)
    pool, test = D.holdout_split(ds)
    y = ds.frame[D.TARGET].to_numpy(dtype=object)
    keep = pool[y[pool] != h]
    rng = np.random.default_rng(seed)
    n = min(len(keep), job.get("max_rows", 500))
    tr = keep[D.stratified_take(y[keep], n, rng)]
    enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
    x_tr, x_te = enc.transform(ds.frame.iloc[tr]), enc.transform(ds.frame.iloc[test])
    positive = y[test] == h
    base = dict(dataset=ds.name, holdout=h, repeat=rep, train_rows=len(tr), kind="ood")
    records = []
    for name, s in M.ood_baselines(x_tr, y[tr], x_te, seed).items():
        records.append(dict(base, method=name, auroc=M.auroc(s, positive)))
    if job.get("ember"):
        workdir = tempfile.mkdtemp(prefix=f"ember-ood-{ds.name}-")
        try:
            cli = EmberCLI(job["ember"], job.get("ember_train_args"), threads=job.get("ember_threads", 1))
            model, secs = cli.train(ds.frame.iloc[tr][ds.features + [D.TARGET]], workdir, seed)
            scores = cli.score(model, ds.frame.iloc[test][ds.features], workdir)
            records.append(dict(base, method="ember", auroc=M.auroc(scores, positive), seconds=secs))
        except EmberError as exc:
            records.append(dict(base, kind="error", method="ember-ood", message=str(exc)[:500]))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return records


def safe(fn, job: dict) -> list[dict]:
    """Runs a task, turning an unexpected exception into an error record (the run goes on)."""
    try:
        return fn(job)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        return [dict(kind="error", dataset=job.get("dataset"), method=fn.__name__, n=job.get("n"),
                     repeat=job.get("repeat"), message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}")]
