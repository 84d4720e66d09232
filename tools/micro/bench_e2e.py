#!/usr/bin/env python3
"""End-to-end scoring benchmark: Ember CLIs against pandas + ONNX Runtime, in one run.

Writes (once, fixed seed) a numeric CSV of ROWS × 30 standard-normal values ("%.6f", 27 MB
for 100,000 rows, header x0…x29) and a (30 → 128 → 128 → 1) 2-class model
(tools/bench/make_bench_model.py), then measures, alternating the contenders, best of
--repeat runs:

* pandas read_csv alone, in-process (the reference the targets are stated against);
* pandas read_csv → standardise → ONNX Runtime energies of every class → score → to_csv,
  in-process (Python's start-up and imports excluded);
* each Ember binary given with --ember: `BIN score MODEL rows.csv --output OUT` (a new
  process: start-up included), with --threads 1 and with the default (all cores);
  peak RSS of the process (one more run under /usr/bin/time);
* cold start of each binary: mean and minimum wall time over --cold runs of `BIN verify MODEL`
  and of `BIN score MODEL one-row.csv --threads 1` (load + verify + first score), and the
  latter minus the mean time to spawn `/bin/true` (the spawn cost from Python).

Prints a Markdown table (and --json). Usage:
  tools/.venv-bench/bin/python tools/micro/bench_e2e.py --ember dist/ember-micro \
      --ember .build/release/ember [--rows 100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))


def write_inputs(work: str, rows: int) -> tuple[str, str]:
    model = os.path.join(work, "bench-30-128.ember")
    csv = os.path.join(work, f"rows-{rows}x30.csv")
    if not os.path.exists(model):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench", "make_bench_model.py"),
                        "--d", "30", "--h", "128", "--seed", "1", "--out", model],
                       check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(csv):
        x = np.random.default_rng(7).standard_normal((rows, 30))
        np.savetxt(csv, x, fmt="%.6f", delimiter=",", header=",".join(f"x{i}" for i in range(30)), comments="")
    return model, csv


def run_process(argv: list[str]) -> float:
    """Wall seconds of one run of argv (stdout discarded)."""
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace').strip()[:300]}")
    return wall


def peak_rss(argv: list[str]) -> int:
    """Peak RSS (bytes) of argv, measured by /usr/bin/time (a small parent: the figure is not
    inflated by the pages of this Python process, as a fork from it would be)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace').strip()[:300]}")
    return int(p.stderr.decode().strip().splitlines()[-1]) * 1024


class PythonPipeline:
    """pandas read_csv → standardise → ORT energies per class → score → to_csv."""

    def __init__(self, model_path: str, threads: int):
        import ember_reader as er
        import onnx_export
        from ort_bench import ort_session

        self.model = er.read_model(model_path) if hasattr(er, "read_model") else er.load(model_path)
        m = self.model
        self.names = [f.name for f in m.features]
        self.mean = np.array([f.mean for f in m.features], dtype=np.float64)
        self.std = np.array([f.std for f in m.features], dtype=np.float64)
        self.log_prior = np.log(np.array([c.prior for c in m.classes], dtype=np.float64))
        self.sessions = []
        for c in range(len(m.classes)):
            s = ort_session(onnx_export.build_graph(m, c, gradient=False).SerializeToString())
            if threads != 1:
                import onnxruntime as ort
                so = ort.SessionOptions()
                so.intra_op_num_threads = threads
                so.log_severity_level = 3
                s = ort.InferenceSession(onnx_export.build_graph(m, c, gradient=False).SerializeToString(), so,
                                         providers=["CPUExecutionProvider"])
            self.sessions.append(s)

    def run(self, csv: str, out: str) -> None:
        import pandas as pd
        df = pd.read_csv(csv)
        x = ((df[self.names].to_numpy(np.float64) - self.mean) / self.std).astype(np.float32)
        e = np.stack([s.run(None, {"x": x})[0].reshape(-1) for s in self.sessions], axis=1).astype(np.float64)
        a = self.log_prior - e
        top = a.max(axis=1, keepdims=True)
        score = -(top[:, 0] + np.log(np.exp(a - top).sum(axis=1)))
        pd.DataFrame({"score": score.astype(np.float32), "nearest_class": a.argmax(axis=1)}).to_csv(out, index=False)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ember", action="append", default=[], help="an Ember CLI binary (repeatable)")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold", type=int, default=50, help="runs of `verify` for the cold-start figure")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "ember-bench-e2e"))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    model, csv = write_inputs(args.work, args.rows)
    out = os.path.join(args.work, "out.csv")
    size = os.path.getsize(csv)
    print(f"input: {csv} ({size / 1e6:.1f} MB, {args.rows} rows × 30), model {model}", file=sys.stderr)

    import pandas as pd
    results: dict[str, dict] = {}
    py1 = PythonPipeline(model, threads=1)
    pyn = PythonPipeline(model, threads=0)
    times: dict[str, list[float]] = {}
    rss: dict[str, int] = {}
    contenders: list[tuple[str, object]] = [
        ("pandas read_csv (read only)", lambda: pd.read_csv(csv)),
        ("pandas + ORT, 1 thread", lambda: py1.run(csv, out)),
        ("pandas + ORT, all threads", lambda: pyn.run(csv, out)),
    ]
    for b in args.ember:
        for threads in ("1", None):
            argv_ = [b, "score", model, csv, "--output", out] + (["--threads", threads] if threads else [])
            contenders.append((f"{os.path.relpath(b, ROOT)} score{' --threads 1' if threads else ''}", argv_))
    for _ in range(args.repeat):  # alternate, so that load changes hit everyone alike
        for name, what in contenders:
            if callable(what):
                t = time.perf_counter()
                what()
                wall = time.perf_counter() - t
            else:
                wall = run_process(what)
            times.setdefault(name, []).append(wall)
    for name, what in contenders:
        if not callable(what):
            rss[name] = peak_rss(what)
    reference = min(times["pandas read_csv (read only)"])
    print(f"\n| {args.rows:,} rows × 30 (27 MB) | best wall (s) | rows/s | ÷ pandas read_csv | peak RSS |")
    print("|---|---|---|---|---|")
    for name, _ in contenders:
        t = min(times[name])
        results[name] = {"seconds": t, "rows_per_s": args.rows / t, "vs_pandas_read": t / reference,
                         "peak_rss_bytes": rss.get(name)}
        r = f"{rss[name] / 2**20:.1f} MiB" if name in rss else "(in-process)"
        print(f"| {name} | {t:.3f} | {args.rows / t:,.0f} | {t / reference:.2f}× | {r} |")

    one_row = os.path.join(args.work, "one-row.csv")
    with open(csv) as src, open(one_row, "w") as dst:
        dst.write(src.readline() + src.readline())

    def cold(argv: list[str]) -> tuple[float, float]:
        """Mean and minimum wall milliseconds of --cold runs of argv."""
        ms = [1e3 * run_process(argv) for _ in range(args.cold)]
        return sum(ms) / len(ms), min(ms)

    print("\n| binary (%d runs each) | `verify` mean / min (ms) | `score` of one row mean / min (ms) "
          "| score minus `/bin/true` (ms, means) | size (bytes) |" % args.cold)
    print("|---|---|---|---|---|")
    spawn, spawn_min = cold(["/bin/true"])
    print(f"| /bin/true (process spawn from Python) | {spawn:.2f} / {spawn_min:.2f} | | 0 | |")
    for b in args.ember:
        verify, verify_min = cold([b, "verify", model])
        score, score_min = cold([b, "score", model, one_row, "--threads", "1"])
        results.setdefault("cold_start_ms", {})[b] = {"verify_ms": verify, "verify_min_ms": verify_min,
                                                      "score_one_row_ms": score, "score_one_row_min_ms": score_min,
                                                      "spawn_ms": spawn, "score_minus_spawn_ms": score - spawn}
        print(f"| {os.path.relpath(b, ROOT)} | {verify:.2f} / {verify_min:.2f} | {score:.2f} / {score_min:.2f} "
              f"| {score - spawn:.2f} | {os.path.getsize(b):,} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
