#!/usr/bin/env python3
"""Round 5 prototype (issue 9): synthesis rules applied to per-class Gaussian draws and to
Ember's own rows, on the evaluation protocol's splits (TUNING half only by default).

    tools/eval/tune_r5.py --ember .build/release/ember [--datasets ...] [--sizes 20,50] [--jobs 2]

Rules measured (each: mean Δ balanced accuracy of the five downstream models, C2ST AUC,
correlation error):
  g            per-class Gaussian (Ledoit–Wolf + 1e-3·I), the evaluation's ``gaussian`` peer
  g-T<t>       the same with the covariance scaled by t (draws contracted / spread)
  g-hard       Gaussian draws of class c kept only when c has the largest balanced posterior
               (equal priors) under the per-class Gaussians; re-drawn until n_c are kept
  g-soft<a>    kept with probability p_bal(c|x)^a
  e            Ember's rows (``ember sample``)
  e-hard/soft  Ember's rows filtered the same way by ``ember energy``'s per-class energies
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402,F401

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import generators as G  # noqa: E402
import metrics as M  # noqa: E402
from ember_cli import EmberCLI, read_csv  # noqa: E402
from tasks import prepare_split  # noqa: E402

POOL = 10  # candidates per wanted row


def gauss_fit(x, y):
    from sklearn.covariance import LedoitWolf
    out = {}
    for c in sorted(set(y)):
        rows = x[y == c]
        mu = rows.mean(axis=0)
        cov = LedoitWolf().fit(rows).covariance_ if len(rows) > 1 else np.zeros((x.shape[1], x.shape[1]))
        out[c] = (mu, cov + 1e-3 * np.eye(x.shape[1]))
    return out


def logpdf(x, mu, cov):
    l = np.linalg.cholesky(cov)
    z = np.linalg.solve(l, (x - mu).T)
    return -0.5 * (z * z).sum(0) - np.log(np.diag(l)).sum() - 0.5 * len(mu) * np.log(2 * np.pi)


def balanced_posterior(logp: np.ndarray) -> np.ndarray:
    """Rows × classes log densities → posteriors with equal priors."""
    m = logp.max(1, keepdims=True)
    p = np.exp(logp - m)
    return p / p.sum(1, keepdims=True)


def select(pool_x, post_c, n, rule, rng):
    """First n rows of the pool accepted by ``rule`` (in pool order), topped up with rejected
    rows when too few are accepted. Returns (rows, accepted share)."""
    if rule == "none":
        return pool_x[:n], 1.0
    if rule == "hard":
        ok = post_c["argmax"]
    elif rule.startswith("soft"):
        a = float(rule[4:])
        ok = rng.random(len(pool_x)) < post_c["p"] ** a
    elif rule.startswith("tau"):
        ok = post_c["p"] >= float(rule[3:])
    else:
        raise ValueError(rule)
    idx = np.flatnonzero(ok)[:n]
    share = ok.mean()
    if len(idx) < n:
        rest = np.flatnonzero(~ok)[: n - len(idx)]
        idx = np.concatenate([idx, rest])
    return pool_x[np.sort(idx)], float(share)


GAUSS_RULES = {"g": (1.0, "none"), "g-T0.5": (0.5, "none"), "g-T0.7": (0.7, "none"), "g-T1.3": (1.3, "none"),
               "g-hard": (1.0, "hard"), "g-soft1": (1.0, "soft1"), "g-soft2": (1.0, "soft2"),
               "g-T0.7-hard": (0.7, "hard")}
EMBER_RULES = {"e": "none", "e-hard": "hard", "e-soft1": "soft1", "e-soft2": "soft2"}


def task(job):
    sp = prepare_split(job["dataset"], job["n"], job["repeat"])
    seed = sp.seed
    counts = G.class_counts(sp.y_tr, 500)
    classes = sorted(counts)
    syn, notes = {}, {}
    rules = job["rules"]
    # Gaussian family, baseline-encoded space.
    fit = gauss_fit(sp.x_tr, sp.y_tr)
    for name, (t, rule) in GAUSS_RULES.items():
        if name not in rules:
            continue
        rng = np.random.default_rng(seed)
        xs, ys, shares = [], [], []
        for c in classes:
            n = counts[c]
            if n <= 0:
                continue
            mu, cov = fit[c]
            m = n if rule == "none" else POOL * n
            pool = rng.multivariate_normal(mu, t * cov, size=m, method="cholesky")
            lp = np.stack([logpdf(pool, *fit[k]) for k in classes], 1)
            post = balanced_posterior(lp)
            ci = classes.index(c)
            pc = dict(argmax=post.argmax(1) == ci, p=post[:, ci])
            rows, share = select(pool, pc, n, rule, rng)
            xs.append(rows)
            ys += [c] * n
            shares.append(share)
        syn[name] = (np.vstack(xs), np.array(ys, dtype=object))
        notes[name] = float(np.mean(shares))
    # Ember family.
    erules = [r for r in rules if r in EMBER_RULES]
    if erules and job.get("ember"):
        work = tempfile.mkdtemp(prefix="r5-")
        try:
            cli = EmberCLI(job["ember"], ["--min-class-rows", "1"], threads=1)
            frame = sp.frame.iloc[sp.tr][sp.ds.features + [D.TARGET]]
            model, _ = cli.train(frame, work, seed)
            total = sum(counts.values())
            rows, _ = cli.sample(model, POOL * total, seed, work, extra=job.get("sample_args", []))
            _, e = cli.energy(model, rows[sp.ds.features], work)
            labels = [c[2:] for c in e.columns]
            post = balanced_posterior(-e.to_numpy(float))
            xb = sp.enc.transform(rows)
            yb = rows[D.TARGET].astype(str).to_numpy()
            rng = np.random.default_rng(seed)
            for name in erules:
                rule = EMBER_RULES[name]
                xs, ys, shares = [], [], []
                for c in classes:
                    n = counts[c]
                    sel = np.flatnonzero(yb == c)
                    ci = labels.index(c)
                    pc = dict(argmax=post[sel].argmax(1) == ci, p=post[sel, ci])
                    r, share = select(xb[sel], pc, n, rule, rng)
                    xs.append(r)
                    ys += [c] * n
                    shares.append(share)
                syn[name] = (np.vstack(xs), np.array(ys, dtype=object))
                notes[name] = float(np.mean(shares))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    recs = []
    real = {m: M.fit_score(m, sp.x_tr, sp.y_tr, sp.x_te, sp.y_te, seed) for m in M.DOWNSTREAM}
    for name, (xs, ys) in syn.items():
        xa, ya = np.vstack([sp.x_tr, xs]), np.concatenate([sp.y_tr, ys])
        d = {m: M.fit_score(m, xa, ya, sp.x_te, sp.y_te, seed) - real[m] for m in M.DOWNSTREAM}
        rec = dict(dataset=sp.ds.name, n=job["n"], repeat=job["repeat"], method=name,
                   delta=float(np.mean(list(d.values()))), per_model=d, accepted=notes[name])
        if name in job.get("fidelity", ()):
            rec["c2st"] = M.c2st_auc(sp.x_te, sp.y_te, xs, ys, seed)
            rec["corr_err"] = M.correlation_error(sp.x_te, xs, sp.numeric)["corr_err"]
        recs.append(rec)
    return recs


def table(records):
    methods = sorted({r["method"] for r in records})
    sizes = sorted({r["n"] for r in records})
    print("| rule | Δ BA N ≤ 50 | " + " | ".join(f"N={s}" for s in sizes) + " | C2ST | corr err | accepted |")
    print("|---|---|" + "---|" * len(sizes) + "---|---|---|")
    for m in methods:
        rs = [r for r in records if r["method"] == m]
        by = [np.mean([r["delta"] for r in rs if r["n"] == s]) for s in sizes]
        c2 = np.nanmean([r.get("c2st", np.nan) for r in rs])
        ce = np.nanmean([r.get("corr_err", np.nan) for r in rs])
        print(f"| {m} | {100 * np.mean([r['delta'] for r in rs]):+.2f} | " + " | ".join(f"{100 * v:+.2f}" for v in by)
              + f" | {c2:.3f} | {ce:.3f} | {np.mean([r['accepted'] for r in rs]):.2f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ember")
    ap.add_argument("--datasets", default=",".join(D.TUNING))
    ap.add_argument("--sizes", default="20,50")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rules", default=",".join(list(GAUSS_RULES) + list(EMBER_RULES)))
    ap.add_argument("--sample-args", default="")
    ap.add_argument("--fidelity", default="", help="rules whose C2ST / correlation error are measured")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--from-json")
    a = ap.parse_args()
    if a.from_json:
        if a.from_json.endswith("l"):
            table([json.loads(line) for line in open(a.from_json)])
        else:
            table(json.load(open(a.from_json)))
        return
    jobs = [dict(dataset=name, n=n, repeat=rep, rules=a.rules.split(","), fidelity=a.fidelity.split(","),
                 ember=os.path.abspath(a.ember) if a.ember else None, sample_args=a.sample_args.split())
            for name, n, rep in D.protocol_splits(a.datasets.split(","), [int(s) for s in a.sizes.split(",")], a.repeats)]
    records = []
    log = open(a.json + "l", "w") if a.json else None
    with ProcessPoolExecutor(a.jobs) as ex:
        for i, r in enumerate(ex.map(task, jobs)):
            records += r
            if log:
                for rec in r:
                    log.write(json.dumps(rec) + "\n")
                log.flush()
            print(f"{i + 1}/{len(jobs)} {r[0]['dataset']} {r[0]['n']} {r[0]['repeat']}", file=sys.stderr, flush=True)
    if a.json:
        json.dump(records, open(a.json, "w"))
    table(records)


if __name__ == "__main__":
    main()
