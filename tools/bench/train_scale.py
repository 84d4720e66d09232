"""Training at scale: wall time, CPU time, peak RSS and quality of `ember train` per table size.

    tools/.venv-eval/bin/python tools/bench/train_scale.py [--sizes 1000x20,10000x20,...]
        [--ember .build/release/ember] [--work DIR] [--train-args "--threads 2"] [--no-baseline]

For every ROWSxCOLUMNS size: writes a synthetic table (tools/bench/scale_data.py: three classes
60/30/10 %, two string columns, missing cells) and a 5,000-row test table from the same
distribution, runs `ember train` with defaults and stderr not a terminal (a file), then
`ember classify` on the test table. Prints one markdown row per size:

- wall s and CPU s (user + system) of the training process, the 1-minute load average before
  and after it (the machine may be shared: wall time means little without it), its peak RSS
  (from wait4, so only that process), the number of progress lines it wrote;
- held-out balanced accuracy and OOD AUROC recorded in the model's provenance;
- test balanced accuracy of `ember classify`, next to a logistic regression (scikit-learn,
  one-hot strings, mean-imputed and standardised numbers) trained on the same training table.

On a shared machine wall time depends on the load: CPU seconds are the steadier figure.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_sizes(text):
    out = []
    for item in text.split(","):
        rows, cols = item.lower().split("x")
        out.append((int(float(rows)), int(cols)))
    return out


def balanced_accuracy(truth, predicted):
    classes = sorted(set(truth))
    recalls = []
    for c in classes:
        mask = truth == c
        recalls.append(float(np.mean(predicted[mask] == c)))
    return float(np.mean(recalls))


def run_measured(args, stderr_path):
    """Runs `args` with stderr to a file; returns (status, wall s, cpu s, peak RSS MiB).

    The peak RSS comes from GNU time (`/usr/bin/time -f %M`) around the command when it is
    installed: a child's own ru_maxrss (from wait4) also counts the pages of this Python process
    it was forked from before exec (pandas, the tables read so far), which made small runs look
    like 260 MiB. Without GNU time, that upper bound is reported."""
    gnu_time = "/usr/bin/time"
    with open(stderr_path, "w") as err:
        t0 = time.monotonic()
        if os.path.exists(gnu_time):
            fd, peak_path = tempfile.mkstemp(suffix=".rss")
            os.close(fd)
            p = subprocess.Popen([gnu_time, "-f", "%M", "-o", peak_path] + args, stdout=subprocess.DEVNULL, stderr=err)
        else:
            peak_path = None
            p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024
    if peak_path:
        with open(peak_path) as f:
            lines = [line for line in f.read().split("\n") if line.strip().isdigit()]
        os.unlink(peak_path)
        if lines:
            peak = int(lines[-1]) / 1024
    return p.returncode, wall, usage.ru_utime + usage.ru_stime, peak


def logistic_baseline(train_csv, test_csv, target="y"):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    tr = pd.read_csv(train_csv, keep_default_na=True)
    te = pd.read_csv(test_csv, keep_default_na=True)
    strings = [c for c in tr.columns if c != target and not pd.api.types.is_numeric_dtype(tr[c])]
    numbers = [c for c in tr.columns if c != target and c not in strings]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), strings),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=2000))
    model.fit(tr.drop(columns=[target]), tr[target])
    return balanced_accuracy(te[target].to_numpy(), model.predict(te.drop(columns=[target])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000x20,10000x20,20000x20")
    ap.add_argument("--ember", default=os.path.join(ROOT, ".build/release/ember"))
    ap.add_argument("--work", default=os.path.join(HERE, "out", "train-scale"))
    ap.add_argument("--train-args", default="", help="extra `ember train` arguments")
    ap.add_argument("--test-rows", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    print(f"ember train at scale ({os.cpu_count()} cores visible; load average {os.getloadavg()[0]:.1f} at start)")
    print(f"train arguments: {a.train_args or '(defaults)'}\n")
    print("| rows × cols | wall s | CPU s | load before→after | peak RSS MiB | progress lines | held-out bal. acc "
          "| held-out OOD AUROC | test bal. acc ember | test bal. acc logistic |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rows, cols in parse_sizes(a.sizes):
        stem = os.path.join(a.work, f"t{rows}x{cols}")
        train_csv, test_csv, model = stem + ".csv", stem + "-test.csv", stem + ".ember"
        if not os.path.exists(test_csv):
            subprocess.run(
                [sys.executable, os.path.join(HERE, "scale_data.py"), str(rows), str(cols), train_csv,
                 "--seed", str(a.seed), "--test-rows", str(a.test_rows), test_csv],
                check=True,
            )
        args = [a.ember, "train", train_csv, "--target", "y", "--output", model] + shlex.split(a.train_args)
        load_before = os.getloadavg()[0]
        status, wall, cpu, rss = run_measured(args, stem + ".train.log")
        load_after = os.getloadavg()[0]
        if status != 0:
            print(f"| {rows} × {cols} | failed (exit {status}, see {stem}.train.log) |")
            continue
        with open(stem + ".train.log") as f:
            progress = sum(1 for line in f if line.startswith("ember train: ") and " | " in line)
        info = json.loads(subprocess.run([a.ember, "inspect", model, "--json"], capture_output=True, check=True).stdout)
        prov = info["provenance"]
        out = subprocess.run(
            [a.ember, "classify", model, test_csv, "--label-only"], capture_output=True, check=True, text=True
        ).stdout.split("\n")
        predicted = np.array([line for line in out[1:] if line])
        truth = pd.read_csv(test_csv)["y"].to_numpy()
        ember_test = balanced_accuracy(truth, predicted)
        lr = "-" if a.no_baseline else f"{logistic_baseline(train_csv, test_csv):.3f}"
        print(
            f"| {rows:,} × {cols} | {wall:.1f} | {cpu:.1f} | {load_before:.1f}→{load_after:.1f} | {rss:.0f} | {progress} "
            f"| {prov['heldout_balanced_accuracy']:.3f} | {prov['heldout_ood_auroc']:.3f} | {ember_test:.3f} | {lr} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
