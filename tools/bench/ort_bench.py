#!/usr/bin/env python3
"""Benchmarks one class's energy of a `.ember` model in ONNX Runtime and numpy (one thread each),
and compares with `ember bench --json` when given.

    ort_bench.py MODEL.ember [--class 0] [--batch 1,1024] [--seconds 1] [--chains 500] [--steps 200]
                 [--ember-json FILE] [--json OUT.json] [--markdown]

Measures energy rows/s and energy+gradient rows/s per batch size, and an SGLD job (chains ×
steps of x ← x − ε∇E + √(2ε)·ξ, ε = --step-size) in seconds, driven by ORT and by numpy. Before
timing, the ONNX and numpy energies and gradients are checked against the float64 numpy
reference of ``ember_reader`` (relative error ≤ 1e-4, else exit 1).

Thread limits are set before numpy is imported. The environment may pin OpenBLAS to a core type
(OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE): run with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``
for the numpy numbers (the `make bench-ort` target does).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import ember_reader as er  # noqa: E402
from numpy_energy import NumpyEnergy  # noqa: E402

TOLERANCE = 1e-4


def rel_err(a: np.ndarray, ref: np.ndarray) -> float:
    """max |a − ref| / max(max |ref|, 1e-12)."""
    return float(np.max(np.abs(np.asarray(a, np.float64) - ref)) / max(float(np.max(np.abs(ref))), 1e-12))


def rate(fn, rows_per_call: int, seconds: float) -> float:
    """Rows per second of ``fn()`` over about ``seconds`` (after one warm-up call)."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 3:
            return rows_per_call * calls / elapsed


def sgld(grad_fn, x0: np.ndarray, steps: int, eps: float, seed: int) -> tuple[np.ndarray, float]:
    """Runs ``steps`` SGLD steps from ``x0``; returns the final rows and the seconds taken."""
    rng = np.random.default_rng(seed)
    x = x0.astype(np.float32).copy()
    noise = np.float32(math.sqrt(2.0 * eps))
    e32 = np.float32(eps)
    start = time.perf_counter()
    for _ in range(steps):
        g = grad_fn(x)
        x -= e32 * g
        x += noise * rng.standard_normal(x.shape, dtype=np.float32)
    return x, time.perf_counter() - start


def load_ember_json(path: str) -> list[dict]:
    """`ember bench --json` output: one object or a list of objects (one per batch size)."""
    with open(path) as fh:
        text = fh.read()
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def ort_session(proto_bytes: bytes):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(proto_bytes, so, providers=["CPUExecutionProvider"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--class", dest="cls", default="0", help="class label or index (default 0)")
    ap.add_argument("--batch", default="1,1024")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds per throughput measurement")
    ap.add_argument("--chains", type=int, default=500)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--step-size", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ember-json", help="output of `ember bench MODEL --json`")
    ap.add_argument("--json", dest="json_out", help="write the results here as JSON")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    args = ap.parse_args(argv)

    import onnxruntime as ort
    from onnx_export import build_graph

    model = er.read_model(args.model)
    try:
        ci = model.class_index(args.cls)
    except KeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cls = model.classes[ci]
    d = model.encoded_width
    batches = [int(b) for b in args.batch.split(",") if b.strip()]
    rng = np.random.default_rng(args.seed)
    pool = cls.starting_rows if cls.starting_rows.shape[0] else rng.standard_normal((64, d)).astype(np.float32)

    def rows(n: int) -> np.ndarray:
        idx = rng.integers(0, pool.shape[0], n)
        return (pool[idx] + 0.1 * rng.standard_normal((n, d))).astype(np.float32)

    e_sess = ort_session(build_graph(model, ci, gradient=False).SerializeToString())
    g_sess = ort_session(build_graph(model, ci, gradient=True).SerializeToString())
    npe = NumpyEnergy(model, ci)

    # Correctness against the float64 reference.
    xc = rows(257)
    ref_e, ref_g = cls.energy_and_grad(xc.astype(np.float64))
    checks = {
        "ort_energy": rel_err(e_sess.run(None, {"x": xc})[0], ref_e),
        "ort_grad_energy": rel_err(g_sess.run(None, {"x": xc})[0], ref_e),
        "ort_grad": rel_err(g_sess.run(None, {"x": xc})[1], ref_g),
        "numpy_energy": rel_err(npe.energy(xc), ref_e),
        "numpy_grad": rel_err(npe.energy_and_grad(xc)[1], ref_g),
    }
    bad = {k: v for k, v in checks.items() if not v <= TOLERANCE}
    print(f"model {args.model}: class {cls.label!r}, d = {d}, layers "
          f"{' → '.join([str(d)] + [str(l.outputs) for l in cls.layers])}, base k = "
          f"{cls.base.components if cls.base else 0}; onnxruntime {ort.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}")
    print("check vs float64 reference (max rel. error): " + ", ".join(f"{k} {v:.1e}" for k, v in checks.items()))
    if bad:
        print(f"error: relative error above {TOLERANCE}: {bad}", file=sys.stderr)
        return 1

    results: dict = {"model": os.path.basename(args.model), "class": cls.label, "d": d,
                     "hidden": [l.outputs for l in cls.layers[:-1]], "checks": checks, "batches": []}
    for b in batches:
        x = rows(b)
        feed = {"x": x}
        r = {
            "batch": b,
            "ort_energy_rows_per_s": rate(lambda: e_sess.run(None, feed), b, args.seconds),
            "ort_gradient_rows_per_s": rate(lambda: g_sess.run(None, feed), b, args.seconds),
            "numpy_energy_rows_per_s": rate(lambda: npe.energy(x), b, args.seconds),
            "numpy_gradient_rows_per_s": rate(lambda: npe.energy_and_grad(x), b, args.seconds),
        }
        results["batches"].append(r)
        print(f"batch {b}: energy ORT {r['ort_energy_rows_per_s']:,.0f} rows/s, numpy "
              f"{r['numpy_energy_rows_per_s']:,.0f}; energy+gradient ORT {r['ort_gradient_rows_per_s']:,.0f}, "
              f"numpy {r['numpy_gradient_rows_per_s']:,.0f}")

    x0 = rows(args.chains)
    _, ort_s = sgld(lambda x: g_sess.run(None, {"x": x})[1], x0, args.steps, args.step_size, args.seed)
    _, np_s = sgld(lambda x: npe.energy_and_grad(x)[1], x0, args.steps, args.step_size, args.seed)
    results["sgld"] = {"chains": args.chains, "steps": args.steps, "ort_seconds": ort_s, "numpy_seconds": np_s}
    print(f"SGLD {args.chains} chains × {args.steps} steps: ORT {ort_s:.3f} s, numpy {np_s:.3f} s")

    if args.ember_json:
        ember = load_ember_json(args.ember_json)
        results["ember"] = ember
        results["ratios"] = compare(ember, results, args.chains)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(results, fh, indent=2)
    if args.markdown:
        print(markdown(results))
    return 0


def compare(ember: list[dict], results: dict, chains: int) -> list[dict]:
    """Prints and returns the Ember/ORT and Ember/numpy ratios (> 1: Ember is faster)."""
    out = []
    by_batch = {r["batch"]: r for r in results["batches"]}
    for e in ember:
        b = int(e.get("batch", 0))
        threads = e.get("threads", "?")
        r = by_batch.get(b)
        if r is None:
            print(f"ember batch {b}: no ORT/numpy measurement at this batch size (use --batch)")
            continue
        row = {"batch": b, "threads": threads}
        for kind, ek in (("energy", "energy_rows_per_s"), ("gradient", "gradient_rows_per_s")):
            if ek in e:
                row[f"{kind}_ember"] = float(e[ek])
                row[f"{kind}_vs_ort"] = float(e[ek]) / r[f"ort_{kind}_rows_per_s"]
                row[f"{kind}_vs_numpy"] = float(e[ek]) / r[f"numpy_{kind}_rows_per_s"]
        out.append(row)
        print(f"ember batch {b} ({threads} thread(s)): energy {row.get('energy_ember', float('nan')):,.0f} rows/s = "
              f"{row.get('energy_vs_ort', float('nan')):.2f}× ORT, {row.get('energy_vs_numpy', float('nan')):.2f}× numpy; "
              f"energy+gradient {row.get('gradient_ember', float('nan')):,.0f} rows/s = "
              f"{row.get('gradient_vs_ort', float('nan')):.2f}× ORT, {row.get('gradient_vs_numpy', float('nan')):.2f}× numpy")
    # SGLD: the Ember object carries sgld_seconds (or sgld_samples_per_s = chains / seconds).
    e0 = ember[0] if ember else {}
    secs = e0.get("sgld_seconds")
    if secs is None and e0.get("sgld_samples_per_s"):
        secs = float(e0.get("sgld_chains", chains)) / float(e0["sgld_samples_per_s"])
    if secs:
        s = results["sgld"]
        row = {"sgld_ember_seconds": float(secs), "sgld_vs_ort": s["ort_seconds"] / float(secs),
               "sgld_vs_numpy": s["numpy_seconds"] / float(secs)}
        out.append(row)
        print(f"SGLD: Ember {float(secs):.3f} s; speed ratio Ember/ORT {row['sgld_vs_ort']:.2f}, "
              f"Ember/numpy {row['sgld_vs_numpy']:.2f} (> 1: Ember is faster)")
    return out


def markdown(results: dict) -> str:
    """A markdown table of one model's results."""
    lines = [f"| {results['model']} (d = {results['d']}, hidden {results['hidden']}) | batch | ORT rows/s | "
             "numpy rows/s | Ember rows/s | Ember/ORT | Ember/numpy |", "|---|---|---|---|---|---|---|"]
    ratios = {r["batch"]: r for r in results.get("ratios", []) if "batch" in r}
    for r in results["batches"]:
        e = ratios.get(r["batch"], {})
        for kind in ("energy", "gradient"):
            em = e.get(f"{kind}_ember")
            lines.append(f"| {'energy' if kind == 'energy' else 'energy + gradient'} | {r['batch']} | "
                         f"{r[f'ort_{kind}_rows_per_s']:,.0f} | {r[f'numpy_{kind}_rows_per_s']:,.0f} | "
                         + (f"{em:,.0f} | {e[f'{kind}_vs_ort']:.2f} | {e[f'{kind}_vs_numpy']:.2f} |" if em else "– | – | – |"))
    s = results["sgld"]
    sg = next((r for r in results.get("ratios", []) if "sgld_ember_seconds" in r), None)
    lines.append(f"| SGLD {s['chains']}×{s['steps']} (seconds) | {s['chains']} | {s['ort_seconds']:.3f} | "
                 f"{s['numpy_seconds']:.3f} | " + (f"{sg['sgld_ember_seconds']:.3f} | {sg['sgld_vs_ort']:.2f} | "
                                                 f"{sg['sgld_vs_numpy']:.2f} |" if sg else "– | – | – |"))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
