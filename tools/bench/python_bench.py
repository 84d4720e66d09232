"""The Python API's cost: `ember.Model.score` from numpy arrays and pandas DataFrames against the
runtime's own speed and ONNX Runtime's Python API on the same model (docs/BENCHMARKS.md, "Python").

For each model (numeric features only, so that ONNX Runtime can take the same raw rows):

* 1-row call time (µs): ``model.score(x)`` with x a (1, F) float64 array and a 1-row DataFrame;
  the bare C call ``ember_score`` on one already-encoded row (the runtime's work plus one ctypes
  call: the floor under any binding); ONNX Runtime ``session.run`` on a (1, F) float32 array of
  the score graph (z-scoring, every class's energy, −logsumexp).
* Throughput (rows/s, one thread): the same calls on a 100,000-row DataFrame / array / encoded
  block / ONNX batch.

Rows are drawn from the model itself (``model.sample``), so they are in distribution. ONNX scores
are checked against Ember's first (relative error ≤ 1e-4). Times are the best of ``--repeats``
runs of ~``--seconds`` each (the machine is shared: the best run is the least disturbed).

    tools/.venv-bench/bin/python tools/bench/python_bench.py models/iris.ember --train-small --markdown
"""
from __future__ import annotations

import argparse
import ctypes as ct
import json
import os
import sys
import time

import numpy as np
import pandas as pd

import ember  # the installed package (make python VENV=…): imported before tools/python is on sys.path
import ember._capi as capi

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "python"))
import ember_reader as er  # noqa: E402
from onnx_export import build_score_graph  # noqa: E402


#: What best_time measures: "cpu" (this thread's CPU time, time.thread_time: what an idle machine
#: would show, little disturbed by other processes) or "wall" (time.perf_counter).
CLOCK = "cpu"


def best_time(fn, seconds: float, repeats: int) -> float:
    """Seconds per call: the best of ``repeats`` runs of about ``seconds`` each, on :data:`CLOCK`.
    Every call measured runs on this thread (ONNX Runtime with one intra-op thread included)."""
    clock = time.thread_time if CLOCK == "cpu" else time.perf_counter
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    calls = max(1, int(seconds / one))
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        for _ in range(calls):
            fn()
        best = min(best, (clock() - t0) / calls)
    return best


def ort_session(proto_bytes: bytes):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(proto_bytes, so, providers=["CPUExecutionProvider"])


def measure(path: str, label: str, rows: int, seconds: float, repeats: int) -> dict:
    model = ember.load(path)
    if any(k == "categorical" for k in model.feature_kinds):
        raise SystemExit(f"{path}: categorical features (the ONNX comparison takes raw numbers)")
    frame = model.sample(rows, seed=1)[model.features]
    array = frame.to_numpy(dtype=np.float64)
    x1, f1 = array[:1].copy(), frame.iloc[:1]
    encoded = model.encode(frame)
    e1 = encoded[:1].copy()
    # The bare C call, with every pointer given as a plain address (the cheapest ctypes call).
    L = ct.CDLL(capi.library_path())
    L.ember_score.restype = ct.c_int32
    L.ember_score.argtypes = [ct.c_void_p, ct.c_void_p, ct.c_size_t, ct.c_void_p, ct.c_void_p, ct.c_void_p]
    out = np.empty(rows, dtype=np.float32)
    h, pe1, penc, pout = model._h.value, e1.ctypes.data, encoded.ctypes.data, out.ctypes.data

    sess = ort_session(build_score_graph(er.read_model(path)).SerializeToString())
    x32 = array.astype(np.float32)
    ours = model.score(frame)
    theirs = sess.run(None, {"x": x32})[0]
    rel = float(np.max(np.abs(ours - theirs) / np.maximum(1, np.abs(ours))))
    if rel > 1e-4:
        raise SystemExit(f"{path}: ONNX Runtime and Ember scores differ (relative {rel:.2e})")
    x32_1 = x32[:1].copy()

    r = {"model": label, "clock": CLOCK, "path": os.path.relpath(path, ROOT), "features": len(model.features),
         "classes": len(model.classes), "rows": rows, "max_relative_difference_vs_ort": rel}
    r["one_row_us"] = {
        "ember_numpy": 1e6 * best_time(lambda: model.score(x1), seconds, repeats),
        "ember_dataframe": 1e6 * best_time(lambda: model.score(f1), seconds, repeats),
        "c_call_encoded": 1e6 * best_time(lambda: L.ember_score(h, pe1, 1, pout, None, None), seconds, repeats),
        "ort": 1e6 * best_time(lambda: sess.run(None, {"x": x32_1}), seconds, repeats),
    }
    r["rows_per_s"] = {
        "ember_dataframe": rows / best_time(lambda: model.score(frame), seconds, repeats),
        "ember_numpy": rows / best_time(lambda: model.score(array), seconds, repeats),
        "c_call_encoded": rows / best_time(lambda: L.ember_score(h, penc, rows, pout, None, None), seconds, repeats),
        "ort": rows / best_time(lambda: sess.run(None, {"x": x32}), seconds, repeats),
    }
    r["python_overhead_us"] = r["one_row_us"]["ember_numpy"] - r["one_row_us"]["c_call_encoded"]
    return r


def markdown(results: list) -> str:
    lines = ["| model | 1-row numpy (µs) | 1-row DataFrame (µs) | bare C call (µs) | ORT 1 row (µs) | "
             "100k DataFrame (rows/s) | 100k numpy (rows/s) | runtime, encoded (rows/s) | ORT 100k (rows/s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        o, t = r["one_row_us"], r["rows_per_s"]
        lines.append(f"| {r['model']} | {o['ember_numpy']:.1f} | {o['ember_dataframe']:.1f} | {o['c_call_encoded']:.1f} | "
                     f"{o['ort']:.1f} | {t['ember_dataframe']:,.0f} | {t['ember_numpy']:,.0f} | "
                     f"{t['c_call_encoded']:,.0f} | {t['ort']:,.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="model files (numeric features only)")
    ap.add_argument("--train-small", action="store_true",
                    help="also train iris in process with hidden 32,32 (a small network) and measure it")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: this thread's CPU time (default; robust on a shared machine); wall: elapsed time")
    a = ap.parse_args(argv)
    global CLOCK
    CLOCK = a.clock
    todo = [(p, os.path.basename(p)) for p in a.models]
    if a.train_small:
        out = os.path.join(HERE, "out", "iris-32x32.ember")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        iris = pd.read_csv(os.path.join(ROOT, "models", "data", "iris.csv"))
        ember.train(iris, target="species", seed=1, hidden=[32, 32]).save(out)
        todo.append((out, "iris, hidden 32,32"))
    results = [measure(p, label, a.rows, a.seconds, a.repeats) for p, label in todo]
    for r in results:
        print(json.dumps(r))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    if a.markdown:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
