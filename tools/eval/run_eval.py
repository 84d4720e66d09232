#!/usr/bin/env python3
"""Ember evaluation harness: augmentation utility, fidelity/privacy, OOD and classification on
iris, wine, breast_cancer, digits and penguins, driving the `ember` CLI as a user would.

    run_eval.py [--quick] [--ember PATH] [--datasets iris,wine,...] [--methods real,smote,...]
                [--repeats R] [--sizes 20,50] [--jobs 2] [--output docs/EVALUATION.md]

Methods: real (always), smote, jitter, gaussian, ember (= ember-tabebm, ember-langevin,
ember-mala: one trained model per split, sampled with each sampler). Without a working
``--ember`` the Ember methods are reported as errors and the rest still runs.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import data as D  # noqa: E402
import report as R  # noqa: E402
import tasks as T  # noqa: E402
from metrics import DOWNSTREAM  # noqa: E402

DEFAULT_METHODS = "real,smote,jitter,gaussian,ember"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats, N_real ∈ {20, 50}, OOD on 2 classes per dataset")
    ap.add_argument("--ember", default=os.path.join(ROOT, ".build", "release", "ember"), help="ember executable")
    ap.add_argument("--datasets", default=",".join(D.DATASETS))
    ap.add_argument("--methods", default=DEFAULT_METHODS)
    ap.add_argument("--downstream", default=",".join(DOWNSTREAM))
    ap.add_argument("--repeats", type=int, help="default 10 (3 with --quick)")
    ap.add_argument("--sizes", help="N_real values, default 20,50,100,200,500 (20,50 with --quick)")
    ap.add_argument("--synthetic", type=int, default=T.SYNTHETIC_ROWS, help="synthetic rows per split")
    ap.add_argument("--no-ood", action="store_true")
    ap.add_argument("--ood-classes", type=int, help="held-out classes per dataset (default all, at most 3; 2 with --quick)")
    ap.add_argument("--ood-repeats", type=int, help="default 3 (1 with --quick)")
    ap.add_argument("--ember-train-args", default="--min-class-rows 1",
                    help="extra `ember train` options (the default lets tiny classes of N_real = 20 train)")
    ap.add_argument("--ember-threads", type=int, default=1, help="--threads for ember train/sample (per job)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    ap.add_argument("--output", help="markdown report (default docs/EVALUATION.md; with --quick "
                    "tools/eval/out/EVALUATION-quick.md, so a quick run never rewrites the docs)")
    ap.add_argument("--img-dir", help="plots (default docs/img; with --quick tools/eval/out/img)")
    ap.add_argument("--records", help="raw result records, JSON (default tools/eval/out/records.json; "
                    "records-quick.json with --quick)")
    ap.add_argument("--from-records", metavar="JSON",
                    help="run nothing: re-render the markdown and plots from a saved records file")
    return ap.parse_args(argv)


def build_jobs(args) -> tuple[list[dict], list[dict]]:
    repeats = args.repeats or (3 if args.quick else 10)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20, 50] if args.quick else list(D.N_REAL))
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in ("real", "ember", "smote", "jitter", "gaussian")
               and not (m.startswith("ember-") and m[6:] in T.EMBER_SAMPLERS)]
    if unknown:
        raise SystemExit(f"error: unknown method(s) {', '.join(unknown)}")
    ember = args.ember if os.path.isfile(args.ember) and os.access(args.ember, os.X_OK) else None
    common = dict(methods=methods, downstream=[d.strip() for d in args.downstream.split(",") if d.strip()],
                  ember=ember, ember_train_args=shlex.split(args.ember_train_args), ember_threads=args.ember_threads,
                  synthetic=args.synthetic)
    aug, ood = [], []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        ds = D.load(name)
        for n in D.n_real_sizes(ds, sizes):
            for rep in range(repeats):
                aug.append(dict(common, dataset=name, n=n, repeat=rep))
        if not args.no_ood:
            k = args.ood_classes or (2 if args.quick else 3)
            for h in ds.classes[:k]:
                for rep in range(args.ood_repeats or (1 if args.quick else 3)):
                    ood.append(dict(common, dataset=name, holdout=h, repeat=rep))
    return aug, ood


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:  # noqa: BLE001
        return "unknown"


def render(args) -> int:
    """Re-renders the report from a saved records file (its metadata: command, wall time, ember)."""
    with open(args.from_records) as fh:
        saved = json.load(fh)
    meta = saved.get("meta", {}) if isinstance(saved, dict) else {}
    records = saved["records"] if isinstance(saved, dict) else saved
    quick = meta.get("quick", args.quick)
    imgs = R.plots(records, args.img_dir, "eval-quick" if quick else "eval")
    write_markdown(args, records, imgs, meta.get("wall_seconds", float("nan")), meta.get("phase_seconds", {}),
                   meta.get("ember"), command=meta.get("command"), commit=meta.get("commit"))
    print(f"wrote {args.output} from {args.from_records}", file=sys.stderr)
    return 0


def run(args) -> int:
    aug, ood = build_jobs(args)
    ember = aug[0]["ember"] if aug else (ood[0]["ember"] if ood else None)
    print(f"{len(aug)} augmentation splits, {len(ood)} OOD runs, {args.jobs} jobs, ember: {ember or 'not found'}",
          file=sys.stderr)
    records: list[dict] = []
    start = time.time()
    phase_seconds = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for label, fn, jobs in (("augmentation", T.augmentation_task, aug), ("ood", T.ood_task, ood)):
            t = time.time()
            futures = [pool.submit(T.safe, fn, j) for j in jobs]
            for i, f in enumerate(as_completed(futures), 1):
                recs = f.result()
                records.extend(recs)
                errs = [r for r in recs if r.get("kind") == "error"]
                if i % max(1, len(jobs) // 20) == 0 or i == len(jobs):
                    print(f"  {label}: {i}/{len(jobs)} done ({time.time() - start:.0f} s)"
                          + (f", {len(errs)} error(s) in the last" if errs else ""), file=sys.stderr)
            phase_seconds[label] = time.time() - t
    total = time.time() - start
    os.makedirs(os.path.dirname(os.path.abspath(args.records)), exist_ok=True)
    meta = dict(command=command_line(args.argv), commit=git_commit(), wall_seconds=total, phase_seconds=phase_seconds,
                ember=ember, quick=args.quick, ember_train_args=args.ember_train_args, jobs=args.jobs)
    with open(args.records, "w") as fh:
        json.dump({"meta": meta, "records": records}, fh)
    imgs = R.plots(records, args.img_dir, "eval-quick" if args.quick else "eval")
    write_markdown(args, records, imgs, total, phase_seconds, ember)
    print(f"wrote {args.output} ({total:.0f} s), plots {', '.join(imgs)}, records {args.records}", file=sys.stderr)
    return 0


def command_line(argv=None) -> str:
    return "tools/eval/run_eval.py " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))


def write_markdown(args, records, imgs, total, phase_seconds, ember, command=None, commit=None) -> None:
    cmd = command or command_line(args.argv)
    ember_version = "not found"
    if ember and os.path.exists(ember):
        try:
            ember_version = subprocess.run([ember, "--version"], capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    rel = lambda p: os.path.relpath(p, os.path.dirname(os.path.abspath(args.output)))  # noqa: E731
    md = [
        "# Ember evaluation", "",
        "Generated by `tools/eval/run_eval.py` (do not edit by hand). Reproduce: `make eval` (full protocol, "
        "about 15–30 min on 2 cores) or `make eval-quick` (3 repeats, N_real ∈ {20, 50}); both build the release "
        "`ember`, create `tools/.venv-eval` from `tools/requirements-eval.txt` and rewrite this file and its plots. "
        "Raw records: `tools/eval/out/records.json` (re-render with `--from-records`).", "",
        f"- Command: `{cmd}`",
        f"- Commit: `{commit or git_commit()}`",
        f"- ember: `{ember or 'not found'}` ({ember_version}); extra train options `{args.ember_train_args}`",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.jobs} worker processes, one thread each",
        f"- Wall time: {total:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in phase_seconds.items()) + ")",
        "", "## Protocol", "",
        "- Datasets: scikit-learn iris, wine, breast_cancer, digits; palmerpenguins (rows without a species "
        "dropped; `island`, `sex` categorical and missing cells kept for Ember; the baselines and downstream "
        "models get mean/mode imputation, z-scoring and one-hot encoding fitted on the real training rows).",
        "- A fixed stratified test set of min(n/2, 500) rows per dataset; from the rest, N_real rows "
        "(stratified, per repeat) split 4:1 per class into train and validation. The downstream models run at "
        "library defaults, so the validation rows are not used (LR gets max_iter = 1000; XGBoost, RF n_jobs = 1).",
        "- 500 synthetic rows per split with the real training split's class proportions; downstream LR, kNN, "
        "MLP, RF, XGBoost trained on real + synthetic; metric balanced accuracy on the test set; Δ = augmented − "
        "real only, same split and model seed.",
        "- Ember: `ember train` on the training split, then `ember sample --count 500 --sampler S` for S in "
        "tabebm, langevin, mala (sampler settings otherwise from the model file). Classification: `ember "
        "classify` on the test rows vs LR and RF on the real training split.",
        "- Baselines: SMOTE (imbalanced-learn, per class, k = 5/3/1 as the class size allows), Gaussian jitter "
        "of random real rows (σ = 0.1 in z-scored units, one-hot columns included), per-class multivariate "
        "Gaussian (Ledoit–Wolf + 10⁻³·I).",
        "- Fidelity: mean per-column KS statistic and inverse KL (1/(1+KL) on 10-bin histograms) of each class's "
        "synthetic rows vs the test rows of the same class; class fidelity = share of synthetic rows an RF "
        "trained on the full dataset assigns to the intended class; median DCR = distance from each synthetic "
        "row to the closest real training row (encoded space); `holdout-real` is the test rows' DCR, for scale.",
        "- OOD: for each held-out class, train on up to 500 pool rows of the other classes, score the test rows; "
        "AUROC of held-out-class rows vs the rest for `ember score`, IsolationForest, LOF (novelty) and a "
        "per-class Gaussian.",
        "", "## Augmentation utility", "", R.utility_tables(records),
    ]
    for p in imgs:
        if "delta" in p:
            md += [f"![Δ balanced accuracy vs N_real]({rel(p)})", ""]
    md += ["## Fidelity and privacy", "", R.fidelity_table(records),
           "## OOD detection (AUROC, held-out class vs the rest)", "", R.ood_table(records)]
    for p in imgs:
        if "ood" in p:
            md += [f"![OOD AUROC per dataset]({rel(p)})", ""]
    md += ["## Classification (balanced accuracy on the test set)", "", R.classify_table(records),
           "## Timing per method (generation: fit + sample; Ember: train, then each sampler)", "",
           R.timing_table(records), "## Errors", "", R.error_list(records)]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write("\n".join(md))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.output is None:
        args.output = os.path.join(HERE, "out", "EVALUATION-quick.md") if args.quick else os.path.join(ROOT, "docs", "EVALUATION.md")
    if args.img_dir is None:
        args.img_dir = os.path.join(HERE, "out", "img") if args.quick else os.path.join(ROOT, "docs", "img")
    if args.records is None:
        args.records = os.path.join(HERE, "out", "records-quick.json" if args.quick else "records.json")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return render(args) if args.from_records else run(args)


if __name__ == "__main__":
    sys.exit(main())
