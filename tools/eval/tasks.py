"""The units of work of the evaluation, each self-contained so a process pool can run them:

* :func:`split_task` — one (dataset, N_real, repeat) split of the TabEBM protocol: synthetic
  rows of every method (non-Ember ones from the cache), augmentation utility, fidelity, Ember's
  held-out log-likelihood against its base / a GMM / a KDE, and classification vs LR, LDA,
  regularised QDA and RF.
* :func:`ood_task` — one (dataset, held-out class, repeat): train without the class, AUROC of
  the held-out class vs the rest.
* :func:`anomaly_task` — one (dataset, repeat): train on all classes, AUROC of ADBench-style
  synthetic anomalies (local, global, dependency, clustered) vs held-out real rows.
* :func:`full_task` — one dataset's full-data 70/30 classification split.
* :func:`rowtasks.rowtask` — one (dataset, repeat): explanations of corrupted rows, imputation
  under 20 % MCAR and conditional synthesis (``--tasks explain,impute,conditional``).

Each returns a list of flat result records (dicts).
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from types import SimpleNamespace

import numpy as np
import pandas as pd

import anomalies as A
import data as D
import generators as G
import likelihood as L
import metrics as M
import peers as P
from ember_cli import EmberCLI, EmberError
from rowtasks import TASKS as ROW_TASKS
from rowtasks import rowtask  # noqa: F401 - a phase of run_eval.py (explain, impute, conditional)
from variants import COMMON_TRAIN_ARGS, VARIANTS, Variant

SYNTHETIC_ROWS = 500
TASKS = ("aug", "fidelity", "ll", "ood", "classify", "full") + ROW_TASKS
OOD_MAX_ROWS = 500


def prepare_split(dataset: str, n: int, rep: int) -> SimpleNamespace:
    """One (dataset, N_real, repeat) split: the fixed test set, the stratified N_real rows split
    4:1, the baseline encoder fitted on the training rows and the encoded arrays.
    Seed 1000·repeat + N_real."""
    ds = D.load(dataset)
    seed = 1000 * rep + n
    pool, test = D.holdout_split(ds)
    tr, va = D.real_split(ds, pool, n, seed)
    frame = ds.frame
    enc = D.Encoder().fit(ds, frame.iloc[tr])
    y = frame[D.TARGET].to_numpy(dtype=object).astype(str)
    return SimpleNamespace(
        ds=ds, seed=seed, tr=tr, va=va, test=test, frame=frame, enc=enc, y=y,
        x_tr=enc.transform(frame.iloc[tr]), y_tr=y[tr], x_te=enc.transform(frame.iloc[test]), y_te=y[test],
        numeric=enc.numeric_mask())


def _variants(job: dict) -> list[Variant]:
    extra = {v.name: v for v in job.get("variants", [])}
    return [extra.get(m) or VARIANTS[m] for m in job["methods"] if m.startswith("ember")]


def _groups(variants: list[Variant]) -> dict[tuple, list[Variant]]:
    """Variants grouped by their train args (one trained model per group)."""
    out: dict[tuple, list[Variant]] = {}
    for v in variants:
        out.setdefault(tuple(v.train), []).append(v)
    return out


def _cli(job: dict) -> EmberCLI:
    return EmberCLI(job["ember"], list(COMMON_TRAIN_ARGS) + list(job.get("ember_train_args", [])),
                    threads=job.get("ember_threads", 1))


def _local_method(m: str, sp, counts) -> tuple[np.ndarray, np.ndarray]:
    """A method computed here: encoded rows and labels."""
    if m == "smote":
        f = G.smote_frame(sp.frame.iloc[sp.tr], sp.ds.numeric, sp.ds.categorical, counts, sp.seed)
        return sp.enc.transform(f), f[D.TARGET].astype(str).to_numpy()
    xs, ys = G.BASELINES[m](sp.x_tr, sp.y_tr, counts, sp.seed)
    return xs, np.asarray(ys).astype(str)


def generate_cached(job: dict, sp, counts: dict, records: list, base: dict) -> dict[str, tuple]:
    """Synthetic rows of every non-Ember method of the job: from the cache, else computed
    (peers in one subprocess of the peers venv) and cached. Returns {method: (x_enc, y)}."""
    out, todo = {}, []
    width = sp.enc.width
    for m in job["methods"]:
        if m == "real" or m.startswith("ember"):
            continue
        if not P.applies(m, sp.n, sp.rep, width):
            continue
        key = P.settings_key(m, dict(rows=sum(counts.values())))
        hit = P.cache_get(sp.ds.name, sp.n, sp.rep, m, key) if not job.get("no_cache") else None
        if hit is not None:
            frame, info = hit
            if info.get("error"):
                records.append(dict(base, kind="error", method=m, message=str(info["error"])[:800]))
                continue
            if "x" in info:  # encoded-space method
                out[m] = (np.asarray(info["x"], float), np.asarray(info["y"]).astype(str))
            else:
                out[m] = (sp.enc.transform(frame), frame[D.TARGET].astype(str).to_numpy())
            records.append(dict(base, kind="timing", method=m, seconds=info.get("seconds"), cached=True,
                                fallback=len(info.get("fallback_classes") or [])))
            continue
        if m in P.LOCAL or m in G.BASELINES:
            t = time.perf_counter()
            if m == "smote":
                f = G.smote_frame(sp.frame.iloc[sp.tr], sp.ds.numeric, sp.ds.categorical, counts, sp.seed)
                secs = time.perf_counter() - t
                P.cache_put(sp.ds.name, sp.n, sp.rep, m, key, f, dict(seconds=secs, categorical=sp.ds.categorical))
                out[m] = (sp.enc.transform(f), f[D.TARGET].astype(str).to_numpy())
            else:
                xs, ys = _local_method(m, sp, counts)
                secs = time.perf_counter() - t
                P.cache_put(sp.ds.name, sp.n, sp.rep, m, key, None,
                            dict(seconds=secs, x=np.asarray(xs).tolist(), y=np.asarray(ys).tolist()))
                out[m] = (xs, ys)
            records.append(dict(base, kind="timing", method=m, seconds=secs, cached=False))
        elif m in P.PEERS and job.get("cache_only"):
            records.append(dict(base, kind="error", method=m, message="not run: not in the cache (--cache-only)"))
        elif m in P.PEERS:
            todo.append((m, key))
        else:
            records.append(dict(base, kind="error", method=m, message=f"unknown method {m}"))
    if todo:
        train = sp.frame.iloc[sp.tr][sp.ds.features + [D.TARGET]]
        integer = P.integer_columns(train, sp.ds.numeric)
        res = P.run_peers([m for m, _ in todo], train, sp.ds.numeric, sp.ds.categorical, integer, counts, sp.seed)
        for m, key in todo:
            frame, info = res[m]
            info = dict(info, categorical=sp.ds.categorical)
            if frame is None or info.get("error"):
                msg = info.get("error") or "no rows"
                records.append(dict(base, kind="error", method=m, message=str(msg)[:800]))
                if "peers venv" not in str(msg):
                    P.cache_put(sp.ds.name, sp.n, sp.rep, m, key, None, info)
                continue
            P.cache_put(sp.ds.name, sp.n, sp.rep, m, key, frame, info)
            try:
                out[m] = (sp.enc.transform(frame), frame[D.TARGET].astype(str).to_numpy())
            except Exception as exc:  # noqa: BLE001
                records.append(dict(base, kind="error", method=m, message=f"bad rows: {exc}"[:800]))
                continue
            records.append(dict(base, kind="timing", method=m, seconds=info.get("seconds"), cached=False,
                                fallback=len(info.get("fallback_classes") or [])))
            if info.get("fallback_classes"):
                records.append(dict(base, kind="note", method=m,
                                    message="classes copied (peer failed on them): "
                                            + "; ".join(info.get("errors") or [])[:500]))
    return out


def split_task(job: dict) -> list[dict]:
    """One split. ``job``: dataset, n, repeat, methods, tasks, downstream, ember (path or None),
    variants (extra Variant objects), synthetic, draws."""
    n, rep, tasks = job["n"], job["repeat"], set(job.get("tasks", TASKS))
    sp = prepare_split(job["dataset"], n, rep)
    sp.n, sp.rep = n, rep
    ds, seed = sp.ds, sp.seed
    counts = G.class_counts(sp.y_tr, job.get("synthetic", SYNTHETIC_ROWS))
    base = dict(dataset=ds.name, half=D.half_of(ds.name), n=n, repeat=rep, train_rows=len(sp.tr),
                test_rows=len(sp.test))
    records: list[dict] = []
    sampling = bool(tasks & {"aug", "fidelity"})
    synthetic = generate_cached(job, sp, counts, records, base) if sampling else {}

    variants = _variants(job)
    workdir = tempfile.mkdtemp(prefix=f"ember-eval-{ds.name}-{n}-{rep}-")
    try:
        if variants and not job.get("ember"):
            for v in variants:
                records.append(dict(base, kind="error", method=v.name, message="no ember executable (--ember PATH)"))
        elif variants:
            cli = _cli(job)
            train_frame = sp.frame.iloc[sp.tr][ds.features + [D.TARGET]]
            test_frame = sp.frame.iloc[sp.test][ds.features]
            for gi, (targs, group) in enumerate(_groups(variants).items()):
                try:
                    model, secs = cli.train(train_frame, workdir, seed, name=f"m{gi}", extra=targs)
                except EmberError as exc:
                    for v in group:
                        records.append(dict(base, kind="error", method=v.name, message=str(exc)[:800]))
                    continue
                records.append(dict(base, kind="timing", method=f"{group[0].name}:train", seconds=secs))
                scorer = next((v for v in group if v.scores), None)
                if scorer is not None and "classify" in tasks:
                    try:
                        pred = cli.classify(model, test_frame, workdir)
                        from sklearn.metrics import balanced_accuracy_score
                        records.append(dict(base, kind="classify", method=scorer.name, split="protocol",
                                            balanced_accuracy=float(balanced_accuracy_score(sp.y_te, pred.astype(str)))))
                    except EmberError as exc:
                        records.append(dict(base, kind="error", method=f"{scorer.name}:classify", message=str(exc)[:800]))
                if scorer is not None and "ll" in tasks:
                    try:
                        records += ll_records(cli, model, sp, workdir, base, scorer.name, job.get("draws", L.DRAWS))
                    except Exception as exc:  # noqa: BLE001
                        records.append(dict(base, kind="error", method=f"{scorer.name}:ll",
                                            message=f"{type(exc).__name__}: {exc}"[:800]))
                if not sampling:
                    continue
                for v in group:
                    try:
                        rows, secs = cli.sample(model, sum(counts.values()), seed, workdir, extra=v.sample, tag=v.name)
                        synthetic[v.name] = (sp.enc.transform(rows), rows[D.TARGET].astype(str).to_numpy())
                        records.append(dict(base, kind="timing", method=v.name, seconds=secs))
                    except (EmberError, KeyError, ValueError) as exc:
                        records.append(dict(base, kind="error", method=v.name, message=str(exc)[:800]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if "classify" in tasks:
        for m in M.CLASSIFIERS:
            records.append(dict(base, kind="classify", method=m, split="protocol",
                                balanced_accuracy=M.classify_score(m, sp.x_tr, sp.y_tr, sp.x_te, sp.y_te, seed)))
    if "aug" in tasks:
        records += utility_records(job, sp, synthetic, base)
    if "fidelity" in tasks:
        records += fidelity_records(sp, synthetic, base)
    return records


def utility_records(job, sp, synthetic, base) -> list[dict]:
    out, real = [], {}
    for model in job["downstream"]:
        real[model] = M.fit_score(model, sp.x_tr, sp.y_tr, sp.x_te, sp.y_te, sp.seed)
        out.append(dict(base, kind="utility", method="real", model=model, balanced_accuracy=real[model], delta=0.0))
    for m, (xs, ys) in synthetic.items():
        if len(ys) == 0:
            continue
        x_aug, y_aug = np.vstack([sp.x_tr, xs]), np.concatenate([sp.y_tr, ys])
        for model in job["downstream"]:
            ba = M.fit_score(model, x_aug, y_aug, sp.x_te, sp.y_te, sp.seed)
            out.append(dict(base, kind="utility", method=m, model=model, balanced_accuracy=ba, delta=ba - real[model]))
    return out


def fidelity_records(sp, synthetic, base) -> list[dict]:
    out = []
    for m, (xs, ys) in synthetic.items():
        if len(ys) == 0:
            continue
        corr = M.correlation_error(sp.x_te, xs, sp.numeric)
        out.append(dict(base, kind="fidelity", method=m, rows=len(ys),
                        c2st=M.c2st_auc(sp.x_te, sp.y_te, xs, ys, sp.seed),
                        corr_err=corr["corr_err"], top_real=corr["top_real"], top_syn=corr["top_syn"],
                        wasserstein=M.wasserstein_mean(sp.x_te, xs, sp.numeric),
                        ks=M.fidelity(xs, ys, sp.x_te, sp.y_te, sp.numeric)["ks"],
                        dcr=float(np.median(M.nearest_distance(xs, sp.x_tr))),
                        copy_rate=M.exact_copy_rate(xs, sp.x_tr)))
    out.append(dict(base, kind="fidelity", method="holdout-real", rows=len(sp.y_te),
                    dcr=float(np.median(M.nearest_distance(sp.x_te, sp.x_tr))),
                    copy_rate=M.exact_copy_rate(sp.x_te, sp.x_tr)))
    return out


def ll_records(cli, model, sp, workdir, base, name, draws) -> list[dict]:
    """Per-class held-out LL in Ember's encoded space: Ember (importance sampled), its base,
    a BIC-chosen GMM and a CV-bandwidth KDE, fitted on the class's encoded training rows.
    Cross-checks the reference reader against `ember energy` on the test rows."""
    ds = sp.ds
    x_te, e_te = cli.energy(model, sp.frame.iloc[sp.test][ds.features], workdir)
    x_tr, _ = cli.energy(model, sp.frame.iloc[sp.tr][ds.features], workdir)
    ref = L.read_model(model)
    out = []
    mismatch = 0.0
    for ci, cls in enumerate(ref.classes):
        col = f"E_{cls.label}"
        if col in e_te:
            mismatch = max(mismatch, float(np.max(np.abs(cls.energy(x_te) - e_te[col].to_numpy(float))
                                                  / (1.0 + np.abs(e_te[col].to_numpy(float))))))
        te, tr = x_te[sp.y_te == cls.label], x_tr[sp.y_tr == cls.label]
        if len(te) < 2 or len(tr) < 2:
            continue
        r = L.ember_class_ll(cls, te, draws, seed=sp.seed + ci)
        g, k = L.gmm_ll(tr, te, seed=sp.seed)
        kd, bw = L.kde_ll(tr, te)
        rec = dict(base, kind="ll", cls=cls.label, class_train_rows=len(tr), class_test_rows=len(te), dims=x_te.shape[1])
        out += [dict(rec, method=name, ll=r["ll"], log_z=r["log_z"], ess=r["ess"], ess_share=r["ess_share"]),
                dict(rec, method="base", ll=r["base_ll"]), dict(rec, method="gmm", ll=g, k=k),
                dict(rec, method="kde", ll=kd, bandwidth=bw)]
    out.append(dict(base, kind="ll-check", method=name, max_rel_diff=mismatch))
    return out


def _ember_ood(job, train_frame, score_frames: dict, seed, base, name_prefix="") -> tuple[list, dict]:
    """Trains every scoring Ember variant on ``train_frame`` and scores each frame."""
    recs, scores = [], {}
    variants = [v for v in _variants(job) if v.scores]
    if not variants or not job.get("ember"):
        return recs, scores
    workdir = tempfile.mkdtemp(prefix="ember-ood-")
    try:
        cli = _cli(job)
        for gi, (targs, group) in enumerate(_groups(variants).items()):
            v = group[0]
            try:
                model, secs = cli.train(train_frame, workdir, seed, name=f"o{gi}", extra=targs)
                recs.append(dict(base, kind="timing", method=f"{v.name}:train-ood", seconds=secs))
                scores[v.name] = {k: cli.score(model, f, workdir) for k, f in score_frames.items()}
            except EmberError as exc:
                recs.append(dict(base, kind="error", method=f"{v.name}:ood", message=str(exc)[:800]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return recs, scores


def ood_task(job: dict) -> list[dict]:
    """Held-out-class OOD on one dataset. ``job``: dataset, holdout (class label), repeat."""
    ds = D.load(job["dataset"])
    h, rep = job["holdout"], job["repeat"]
    seed = 7000 + 100 * rep + ds.classes.index(h)
    pool, test = D.holdout_split(ds)
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)
    keep = pool[y[pool] != h]
    rng = np.random.default_rng(seed)
    tr = keep[D.stratified_take(y[keep], min(len(keep), OOD_MAX_ROWS), rng)]
    enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
    x_tr, x_te = enc.transform(ds.frame.iloc[tr]), enc.transform(ds.frame.iloc[test])
    positive = y[test] == h
    base = dict(dataset=ds.name, half=D.half_of(ds.name), holdout=h, repeat=rep, train_rows=len(tr))
    records = []
    for name, s in M.ood_scores(x_tr, y[tr], x_te, seed).items():
        records.append(dict(base, kind="ood", anomaly="held-out class", method=name, auroc=M.auroc(s, positive)))
    recs, scores = _ember_ood(job, ds.frame.iloc[tr][ds.features + [D.TARGET]],
                              {"test": ds.frame.iloc[test][ds.features]}, seed, base)
    records += recs
    for name, s in scores.items():
        records.append(dict(base, kind="ood", anomaly="held-out class", method=name, auroc=M.auroc(s["test"], positive)))
    return records


def anomaly_task(job: dict) -> list[dict]:
    """Synthetic anomalies (ADBench types) vs held-out real rows on one dataset and repeat:
    train on ≤ 500 pool rows of every class; anomalies generated from the test rows, as many
    as there are test rows (≤ 500)."""
    ds = D.load(job["dataset"])
    rep = job["repeat"]
    seed = 9000 + 100 * rep
    pool, test = D.holdout_split(ds)
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)
    rng = np.random.default_rng(seed)
    tr = pool[D.stratified_take(y[pool], min(len(pool), OOD_MAX_ROWS), rng)]
    enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
    x_tr = enc.transform(ds.frame.iloc[tr])
    real = ds.frame.iloc[test]
    frames, labels = {}, {}
    for i, kind in enumerate(A.KINDS):
        an = A.generate(real[ds.features + [D.TARGET]], ds.numeric, ds.categorical, kind, len(test), seed + i)
        frames[kind] = pd.concat([real[ds.features].reset_index(drop=True), an], ignore_index=True)
        labels[kind] = np.r_[np.zeros(len(test), bool), np.ones(len(an), bool)]
    base = dict(dataset=ds.name, half=D.half_of(ds.name), repeat=rep, train_rows=len(tr))
    records = []
    for kind in A.KINDS:
        for name, s in M.ood_scores(x_tr, y[tr], enc.transform(frames[kind]), seed).items():
            records.append(dict(base, kind="ood", anomaly=kind, method=name, auroc=M.auroc(s, labels[kind])))
    recs, scores = _ember_ood(job, ds.frame.iloc[tr][ds.features + [D.TARGET]], frames, seed, base)
    records += recs
    for name, per in scores.items():
        for kind in A.KINDS:
            records.append(dict(base, kind="ood", anomaly=kind, method=name, auroc=M.auroc(per[kind], labels[kind])))
    return records


def full_task(job: dict) -> list[dict]:
    """Full-data classification: 70/30 stratified, training rows capped (data.FULL_TRAIN_CAP)."""
    ds = D.load(job["dataset"])
    tr, te = D.full_split(ds, seed=job.get("repeat", 0))
    y = ds.frame[D.TARGET].to_numpy(dtype=object).astype(str)
    enc = D.Encoder().fit(ds, ds.frame.iloc[tr])
    x_tr, x_te = enc.transform(ds.frame.iloc[tr]), enc.transform(ds.frame.iloc[te])
    base = dict(dataset=ds.name, half=D.half_of(ds.name), n="full", repeat=job.get("repeat", 0),
                train_rows=len(tr), test_rows=len(te))
    records = [dict(base, kind="classify", split="full", method=m,
                    balanced_accuracy=M.classify_score(m, x_tr, y[tr], x_te, y[te], 0)) for m in M.CLASSIFIERS]
    variants = [v for v in _variants(job) if v.scores]
    if variants and job.get("ember"):
        workdir = tempfile.mkdtemp(prefix="ember-full-")
        try:
            cli = _cli(job)
            for gi, (targs, group) in enumerate(_groups(variants).items()):
                try:
                    model, secs = cli.train(ds.frame.iloc[tr][ds.features + [D.TARGET]], workdir, 0, name=f"f{gi}",
                                            extra=targs)
                    pred = cli.classify(model, ds.frame.iloc[te][ds.features], workdir)
                    from sklearn.metrics import balanced_accuracy_score
                    records.append(dict(base, kind="classify", split="full", method=group[0].name, train_seconds=secs,
                                        balanced_accuracy=float(balanced_accuracy_score(y[te], pred.astype(str)))))
                except EmberError as exc:
                    records.append(dict(base, kind="error", method=f"{group[0].name}:full", message=str(exc)[:800]))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return records


def safe(fn, job: dict) -> list[dict]:
    """Runs a task, turning an unexpected exception into an error record (the run goes on)."""
    try:
        return fn(job)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        return [dict(kind="error", dataset=job.get("dataset"), half=D.half_of(job.get("dataset", "")),
                     method=fn.__name__, n=job.get("n"), repeat=job.get("repeat"),
                     message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}")]
