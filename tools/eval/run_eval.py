#!/usr/bin/env python3
"""Ember evaluation harness (issue 9): augmentation utility with peers, fidelity, held-out
log-likelihood, OOD (held-out class and ADBench-style synthetic anomalies) and classification,
on a TUNING and a REPORT half of 17 offline datasets, driving the `ember` CLI as a user would.

    run_eval.py [--half tune|report|all] [--datasets a,b]
                [--tasks aug,fidelity,ll,ood,classify,full,explain,impute,conditional]
                [--methods real,smote,...,ember,ember-rows] [--ember-variant NAME='TRAIN|SAMPLE']
                [--quick] [--repeats R] [--sizes 20,50] [--jobs 2] [--output FILE]

Methods: real (always), smote, gaussian, jitter, copula, arf, tvae, nrgboost, forestdiffusion
(peers; cached on disk under tools/eval/out/cache), and Ember variants (variants.py; default
``ember`` and ``ember-rows``). Without a working ``--ember`` the Ember methods are reported as
errors and the rest still runs.
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
import peers as P  # noqa: E402
import report as R  # noqa: E402
import tasks as T  # noqa: E402
import variants as V  # noqa: E402
from metrics import DOWNSTREAM  # noqa: E402

BASELINE_METHODS = ("smote", "smote-enc", "gaussian")
PEER_METHODS = tuple(P.PEERS)
DEFAULT_METHODS = ",".join(("real",) + BASELINE_METHODS + PEER_METHODS + V.DEFAULT)
KNOWN = {"real", "jitter"} | set(BASELINE_METHODS) | set(PEER_METHODS) | set(V.VARIANTS)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="3 repeats, N_real ∈ {20, 50}, OOD on 2 held-out classes × 1 repeat, 5,000 IS draws, "
                         "no full-data split")
    ap.add_argument("--ember", default=os.path.join(ROOT, ".build", "release", "ember"), help="ember executable")
    ap.add_argument("--half", choices=("tune", "report", "all"), default="all", help="which datasets (data.py)")
    ap.add_argument("--datasets", help="comma-separated dataset names (overrides --half)")
    ap.add_argument("--tasks", default=",".join(T.TASKS), help="any of " + ",".join(T.TASKS))
    ap.add_argument("--methods", default=DEFAULT_METHODS)
    ap.add_argument("--ember-variant", action="append", default=[], metavar="NAME='TRAIN|SAMPLE'",
                    help="an extra Ember variant (repeatable); it runs when named in --methods (added automatically)")
    ap.add_argument("--downstream", default=",".join(DOWNSTREAM))
    ap.add_argument("--repeats", type=int, help="default 3")
    ap.add_argument("--sizes", help="N_real values, default 20,50,100,200,500 (20,50 with --quick)")
    ap.add_argument("--synthetic", type=int, default=T.SYNTHETIC_ROWS, help="synthetic rows per split")
    ap.add_argument("--draws", type=int, help="importance-sampling draws per class (default 20000; 5000 with --quick)")
    ap.add_argument("--ood-classes", type=int, help="held-out classes per dataset (default 3; 2 with --quick)")
    ap.add_argument("--ood-repeats", type=int, help="repeats of the OOD tasks (default 2; 1 with --quick)")
    ap.add_argument("--no-full", action="store_true", help="skip the full-data 70/30 classification split (task full)")
    ap.add_argument("--cache-only", action="store_true",
                    help="peers only from the cache; a peer not cached for a split is reported as not run")
    ap.add_argument("--merge-records", metavar="JSON", action="append", default=[],
                    help="add this run's records to a saved records file (a record of the same task, dataset, "
                         "split, method replaces the saved one) and report on the union (repeatable)")
    ap.add_argument("--no-cache", action="store_true", help="recompute peers and baselines (still writes the cache)")
    ap.add_argument("--ember-train-args", default="", help="extra `ember train` options for every Ember variant")
    ap.add_argument("--ember-threads", type=int, default=1, help="--threads for ember train/sample (per job)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    ap.add_argument("--output", help="markdown report (default docs/EVALUATION.md; with --quick, or with a partial "
                    "--half/--datasets/--tasks selection, tools/eval/out/EVALUATION-quick.md)")
    ap.add_argument("--img-dir", help="plots (default docs/img, else tools/eval/out/img)")
    ap.add_argument("--records", help="raw result records, JSON (default tools/eval/out/records[-quick].json)")
    ap.add_argument("--from-records", metavar="JSON",
                    help="run nothing: re-render the markdown and plots from a saved records file")
    return ap.parse_args(argv)


def selection(args) -> dict:
    repeats = args.repeats or 3
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20, 50] if args.quick else list(D.N_REAL))
    extra = [V.parse_variant(t) for t in args.ember_variant]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for v in extra:
        if v.name not in methods:
            methods.append(v.name)
    unknown = [m for m in methods if m not in KNOWN and m not in {v.name for v in extra}]
    if unknown:
        raise SystemExit(f"error: unknown method(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOWN))})")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    bad = [t for t in tasks if t not in T.TASKS]
    if bad:
        raise SystemExit(f"error: unknown task(s) {', '.join(bad)} (known: {', '.join(T.TASKS)})")
    datasets = [d.strip() for d in args.datasets.split(",")] if args.datasets else list(D.HALVES[args.half])
    for d in datasets:
        if d not in D.INFO:
            raise SystemExit(f"error: unknown dataset {d!r} (known: {', '.join(D.DATASETS)})")
    return dict(repeats=repeats, sizes=sizes, variants=extra, methods=methods, tasks=tasks, datasets=datasets)


def build_jobs(args) -> dict[str, list[dict]]:
    sel = selection(args)
    ember = args.ember if os.path.isfile(args.ember) and os.access(args.ember, os.X_OK) else None
    common = dict(methods=sel["methods"], tasks=sel["tasks"], variants=sel["variants"],
                  downstream=[d.strip() for d in args.downstream.split(",") if d.strip()],
                  ember=ember, ember_train_args=shlex.split(args.ember_train_args), ember_threads=args.ember_threads,
                  synthetic=args.synthetic, draws=args.draws or (5000 if args.quick else 20000), no_cache=args.no_cache,
                  cache_only=args.cache_only)
    jobs = {"splits": [], "ood": [], "anomalies": [], "full": [], "rowtasks": []}
    tasks = set(sel["tasks"])
    for name in sel["datasets"]:
        ds = D.load(name)
        if tasks & {"aug", "fidelity", "ll", "classify"}:
            for n in D.n_real_sizes(ds, sel["sizes"]):
                for rep in range(sel["repeats"]):
                    jobs["splits"].append(dict(common, dataset=name, n=n, repeat=rep))
        if "ood" in tasks:
            k = args.ood_classes or (2 if args.quick else 3)
            reps = args.ood_repeats or (1 if args.quick else 2)
            for h in ds.classes[:k]:
                for rep in range(reps):
                    jobs["ood"].append(dict(common, dataset=name, holdout=h, repeat=rep))
            for rep in range(reps):
                jobs["anomalies"].append(dict(common, dataset=name, repeat=rep))
        if "full" in tasks and not args.no_full and not args.quick:
            jobs["full"].append(dict(common, dataset=name, repeat=0))
        if tasks & set(T.ROW_TASKS):
            for rep in range(1 if args.quick else sel["repeats"]):
                jobs["rowtasks"].append(dict(common, dataset=name, repeat=rep))
    # Longest first: big datasets and large N_real.
    jobs["splits"].sort(key=lambda j: (-j["n"], j["dataset"], j["repeat"]))
    return jobs


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
    meta = saved.get("meta", {})
    for path in args.merge_records:  # the --from-records file wins over the merged ones
        with open(path) as fh:
            old = json.load(fh)
        keys = {record_key(r) for r in saved["records"]}
        saved["records"] = [r for r in old["records"] if record_key(r) not in keys] + saved["records"]
        om = old.get("meta", {})
        meta.setdefault("merged", []).append(dict(command=om.get("command"), commit=om.get("commit"),
                                                  wall_seconds=om.get("wall_seconds")))
    imgs = R.plots(saved["records"], args.img_dir, "eval-quick" if meta.get("quick") else "eval")
    write_markdown(args, saved["records"], imgs, meta)
    print(f"wrote {args.output} from {args.from_records}", file=sys.stderr)
    return 0


PHASES = (("splits", "split_task"), ("full", "full_task"), ("ood", "ood_task"), ("anomalies", "anomaly_task"),
          ("rowtasks", "rowtask"))


def run(args) -> int:
    jobs = build_jobs(args)
    sel = selection(args)
    ember = next((j["ember"] for js in jobs.values() for j in js), None)
    print(", ".join(f"{len(v)} {k}" for k, v in jobs.items()) + f"; {args.jobs} jobs; ember: {ember or 'not found'}; "
          f"peers: {P.peers_available() or 'ok'}", file=sys.stderr)
    records: list[dict] = []
    start = time.time()
    commit, dirty = git_commit(), git_dirty()  # what ran, taken at the start
    phase_seconds = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for label, fname in PHASES:
            js = jobs[label]
            if not js:
                continue
            t = time.time()
            futures = [pool.submit(T.safe, getattr(T, fname), j) for j in js]
            for i, f in enumerate(as_completed(futures), 1):
                recs = f.result()
                records.extend(recs)
                errs = [r for r in recs if r.get("kind") == "error"]
                if i % max(1, len(js) // 20) == 0 or i == len(js):
                    print(f"  {label}: {i}/{len(js)} done ({time.time() - start:.0f} s)"
                          + (f", {len(errs)} error(s) in the last" if errs else ""), file=sys.stderr)
            phase_seconds[label] = time.time() - t
    total = time.time() - start
    merged_from = []
    for path in args.merge_records:
        with open(path) as fh:
            old = json.load(fh)
        new_keys = {record_key(r) for r in records}
        records = [r for r in old["records"] if record_key(r) not in new_keys] + records
        merged_from.append(old.get("meta", {}))
    meta = dict(command=command_line(args.argv), commit=commit, wall_seconds=total, phase_seconds=phase_seconds,
                ember=ember, ember_version=ember_version(ember), quick=args.quick, jobs=args.jobs,
                ember_train_args=args.ember_train_args, repeats=sel["repeats"], sizes=sel["sizes"],
                tasks=sel["tasks"], methods=sel["methods"], datasets=sel["datasets"],
                variants={v.name: v.spec for v in list(V.VARIANTS.values()) + sel["variants"] if v.name in sel["methods"]},
                draws=args.draws or (5000 if args.quick else 20000), machine=machine(), peers=P.describe(),
                dirty=dirty)
    if merged_from:
        meta["merged"] = [dict(command=m.get("command"), commit=m.get("commit"), wall_seconds=m.get("wall_seconds"))
                          for m in merged_from]
    os.makedirs(os.path.dirname(os.path.abspath(args.records)), exist_ok=True)
    with open(args.records, "w") as fh:
        json.dump({"meta": meta, "records": records}, fh, default=str)
    imgs = R.plots(records, args.img_dir, "eval-quick" if args.quick else "eval")
    write_markdown(args, records, imgs, meta)
    print(f"wrote {args.output} ({total:.0f} s), plots {', '.join(imgs)}, records {args.records}", file=sys.stderr)
    return 0


def record_key(r: dict) -> tuple:
    """What a record measures (for --merge-records): task, dataset, split, method and details."""
    return tuple(str(r.get(k)) for k in ("kind", "dataset", "n", "repeat", "holdout", "anomaly", "method", "model",
                                         "cls", "split", "corruption", "condition"))


def git_dirty() -> bool:
    try:
        out = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                             text=True, check=True).stdout
        return bool(out.strip())
    except Exception:  # noqa: BLE001
        return False


def ember_version(ember) -> str:
    if ember and os.path.exists(ember):
        try:
            return subprocess.run([ember, "--version"], capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    return "not found"


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 2 ** 20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.machine()} {cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def command_line(argv=None) -> str:
    return "tools/eval/run_eval.py " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))


def write_markdown(args, records, imgs, meta) -> None:
    md = R.markdown(records, imgs, meta, os.path.dirname(os.path.abspath(args.output)))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(md)
    os.replace(tmp, args.output)


def main(argv=None) -> int:
    args = parse_args(argv)
    partial = args.quick or args.half != "all" or args.datasets or args.tasks != ",".join(T.TASKS)
    if args.output is None:
        args.output = os.path.join(HERE, "out", "EVALUATION-quick.md") if partial else os.path.join(ROOT, "docs", "EVALUATION.md")
    if args.img_dir is None:
        args.img_dir = os.path.join(HERE, "out", "img") if partial else os.path.join(ROOT, "docs", "img")
    if args.records is None:
        args.records = os.path.join(HERE, "out", "records-quick.json" if partial else "records.json")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return render(args) if args.from_records else run(args)


if __name__ == "__main__":
    sys.exit(main())
