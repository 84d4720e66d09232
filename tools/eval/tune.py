#!/usr/bin/env python3
"""Sampler/trainer tuning on the evaluation protocol: for each (dataset, N_real, repeat) split,
train Ember once per training configuration, then sample with every sampler configuration and
score the augmented downstream models against real-only and the baselines on the same split.

    tools/eval/tune.py --ember .build/release/ember [--datasets ...] [--sizes 20,50] [--repeats 3]

Prints a table of mean Δ balanced accuracy (overall and per N_real), KS and median DCR per
configuration; `--json FILE` keeps the raw records. Used to choose the defaults of
`ember train` / `ember sample` (docs/EVALUATION.md, "Tuning").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import generators as G  # noqa: E402
import metrics as M  # noqa: E402
from ember_cli import EmberCLI, read_csv  # noqa: E402
from tasks import prepare_split  # noqa: E402

# name -> extra `ember sample` options
SAMPLE_CONFIGS = {
    "default": [],
    "T1": ["--temperature", "1"],
    "T0.5": ["--temperature", "0.5"],
    "interp30-T0.1": ["--init-from", "interpolate", "--steps", "30"],
    "interp30-T1": ["--init-from", "interpolate", "--steps", "30", "--temperature", "1"],
    "interp-noise": ["--init-from", "interpolate", "--steps", "0", "--init-noise", "0.13"],
    "base-T1": ["--init-from", "base", "--temperature", "1", "--steps", "300", "--step-size", "0.02"],
    "interp10-T1": ["--init-from", "interpolate", "--steps", "10", "--temperature", "1"],
    "interp60-T1": ["--init-from", "interpolate", "--steps", "60", "--temperature", "1"],
    "interp100-T1": ["--init-from", "interpolate", "--steps", "100", "--temperature", "1"],
    "interp30-T1-e0.03": ["--init-from", "interpolate", "--steps", "30", "--temperature", "1", "--step-size", "0.03"],
    "interp30-T0.5": ["--init-from", "interpolate", "--steps", "30", "--temperature", "0.5"],
    "interp30-T2": ["--init-from", "interpolate", "--steps", "30", "--temperature", "2"],
    "interp3-T1": ["--init-from", "interpolate", "--steps", "3", "--temperature", "1"],
    "interp10-T0.2": ["--init-from", "interpolate", "--steps", "10", "--temperature", "0.2"],
    "interp10-T0.1-n0.13": ["--init-from", "interpolate", "--steps", "10", "--temperature", "0.1", "--init-noise", "0.13"],
    "interp10-T0.3-n0.1": ["--init-from", "interpolate", "--steps", "10", "--temperature", "0.3", "--init-noise", "0.1"],
    "interp-noise0.2": ["--init-from", "interpolate", "--steps", "0", "--init-noise", "0.2"],
    "interp30-T1-n0.1": ["--init-from", "interpolate", "--steps", "30", "--temperature", "1", "--init-noise", "0.1"],
}
TRAIN_CONFIGS = {"nce": []}


def task(job):
    n, rep = job["n"], job["repeat"]
    sp = prepare_split(job["dataset"], n, rep)
    ds, seed, tr, frame, enc = sp.ds, sp.seed, sp.tr, sp.frame, sp.enc
    x_tr, y_tr, x_te, y_te, numeric = sp.x_tr, sp.y_tr, sp.x_te, sp.y_te, sp.numeric
    counts = G.class_counts(y_tr, 500)
    synthetic = {m: G.BASELINES[m](x_tr, y_tr, counts, seed) for m in ("smote-enc", "jitter", "gaussian")}
    workdir = tempfile.mkdtemp(prefix="ember-tune-")
    try:
        for tname, targs in job["train_configs"].items():
            cli = EmberCLI(job["ember"], ["--min-class-rows", "1"] + targs, threads=1)
            model, _ = cli.train(frame.iloc[tr][ds.features + [D.TARGET]], workdir, seed, name=tname)
            for sname, sargs in job["sample_configs"].items():
                out = os.path.join(workdir, f"s-{tname}-{sname}.csv")
                cli._run(["sample", model, "--count", str(sum(counts.values())), "--seed", str(seed), "--output", out,
                          "--quiet", "--threads", "1"] + sargs)
                rows = read_csv(out)
                synthetic[f"{tname}/{sname}"] = (enc.transform(rows), rows[D.TARGET].astype(str).to_numpy(dtype=object))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    records = []
    real = {m: M.fit_score(m, x_tr, y_tr, x_te, y_te, seed) for m in job["downstream"]}
    for name, (xs, ys) in synthetic.items():
        x_aug, y_aug = np.vstack([x_tr, xs]), np.concatenate([y_tr, ys])
        deltas = {m: M.fit_score(m, x_aug, y_aug, x_te, y_te, seed) - real[m] for m in job["downstream"]}
        fid = M.fidelity(xs, ys, x_te, y_te, numeric)
        records.append(dict(dataset=ds.name, n=n, repeat=rep, method=name, delta=float(np.mean(list(deltas.values()))),
                            per_model=deltas, ks=fid["ks"], dcr=M.median_dcr(xs, x_tr)))
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ember", required=True)
    ap.add_argument("--datasets", default=",".join(D.TUNING), help="default: the TUNING half only")
    ap.add_argument("--sizes", default="20,50")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--downstream", default="lr,knn,mlp,rf,xgb")
    ap.add_argument("--configs", default=",".join(SAMPLE_CONFIGS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    sample_configs = {k: SAMPLE_CONFIGS[k] for k in a.configs.split(",")}
    jobs = [dict(dataset=name, n=n, repeat=rep, ember=os.path.abspath(a.ember), downstream=a.downstream.split(","),
                 sample_configs=sample_configs, train_configs=TRAIN_CONFIGS)
            for name, n, rep in D.protocol_splits(a.datasets.split(","), [int(s) for s in a.sizes.split(",")], a.repeats)]
    records = []
    with ProcessPoolExecutor(a.jobs) as ex:
        for r in ex.map(task, jobs):
            records += r
    if a.json:
        with open(a.json, "w") as f:
            json.dump(records, f)
    methods = sorted({r["method"] for r in records}, key=lambda m: -np.mean([r["delta"] for r in records if r["method"] == m]))
    sizes = sorted({r["n"] for r in records})
    print("| method | Δ all | " + " | ".join(f"Δ N={s}" for s in sizes) + " | KS | DCR |")
    print("|---|---|" + "---|" * len(sizes) + "---|---|")
    for m in methods:
        rs = [r for r in records if r["method"] == m]
        by = [np.mean([r["delta"] for r in rs if r["n"] == s]) for s in sizes]
        print(f"| {m} | {np.mean([r['delta'] for r in rs]):+.4f} | " + " | ".join(f"{v:+.4f}" for v in by)
              + f" | {np.mean([r['ks'] for r in rs]):.3f} | {np.median([r['dcr'] for r in rs]):.3f} |")


if __name__ == "__main__":
    main()
