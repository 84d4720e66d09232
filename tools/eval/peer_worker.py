#!/usr/bin/env python3
"""Runs peer generators per class, inside the peers venv (tools/.venv-peers).

    peer_worker.py JOB.json

JOB: {"train_csv", "numeric", "categorical", "integer", "counts": {label: rows}, "seed",
"methods": [{"name", "settings", "out_csv", "out_json"}]}. For every method and class: fit on
that class's training rows (missing cells imputed with the class-independent mean/mode of the
training rows — none of the peers take missing cells), sample ``counts[label]`` rows, time
fit + sample. Writes the rows (raw units, features + ``target``) to ``out_csv`` and
``{"seconds", "per_class_seconds", "fallback_classes", "error"}`` to ``out_json``. A class too
small for a peer (fit raises) gets copies of its rows and is listed in ``fallback_classes``; a
method that fails on every class records the error. Imports only what each method needs.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
import warnings

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
warnings.simplefilter("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TARGET = "target"


def _seed_all(seed: int) -> None:
    import random
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    try:
        import torch
        torch.manual_seed(seed)
        torch.set_num_threads(1)
    except ImportError:
        pass


def fit_sample(name: str, settings: dict, df: pd.DataFrame, numeric, categorical, integer, n: int,
               seed: int) -> pd.DataFrame:
    """``n`` rows like ``df`` (one class, no missing cells) from peer ``name``."""
    _seed_all(seed)
    if name == "copula":
        from sdv.metadata import Metadata
        from sdv.single_table import GaussianCopulaSynthesizer
        md = Metadata.detect_from_dataframes({"t": df}, infer_keys=None)
        for c in numeric:
            md.update_column(c, sdtype="numerical", table_name="t")
        for c in categorical:
            md.update_column(c, sdtype="categorical", table_name="t")
        syn = GaussianCopulaSynthesizer(md, **settings)
        syn.fit({"t": df})
        out = syn.sample(n)
        return out["t"] if isinstance(out, dict) else out
    if name == "tvae":
        from ctgan import TVAE
        m = TVAE(**settings)
        m.set_random_state(seed)
        m.fit(df, discrete_columns=list(categorical))
        return m.sample(n)
    if name == "arf":
        if not hasattr(np, "in1d"):
            np.in1d = np.isin  # arfpy 0.1.1 calls np.in1d, removed in numpy 2.4
        from arfpy import arf
        x = df.copy()
        for c in categorical:
            x[c] = x[c].astype("category")
        m = arf.arf(x=x, **settings)
        m.forde()
        out = m.forge(n=n)
        return out
    if name == "forestdiffusion":
        from ForestDiffusion import ForestDiffusionModel
        # Columns constant within the class are held constant (ForestDiffusion cannot fit them).
        const = [c for c in list(numeric) + list(categorical) if df[c].astype(str).nunique() <= 1]
        numeric = [c for c in numeric if c not in const]
        categorical = [c for c in categorical if c not in const]
        cols = list(numeric) + list(categorical)
        codes = {c: sorted(df[c].astype(str).unique()) for c in categorical}
        x = np.column_stack([df[c].to_numpy(float) for c in numeric]
                            + [df[c].astype(str).map({v: i for i, v in enumerate(codes[c])}).to_numpy(float)
                               for c in categorical])
        cat_idx = list(range(len(numeric), len(cols)))
        int_idx = [i for i, c in enumerate(numeric) if c in integer]
        m = ForestDiffusionModel(x, cat_indexes=cat_idx, int_indexes=int_idx, bin_indexes=[], n_jobs=1,
                                 seed=seed, **settings)
        xs = m.generate(batch_size=n)
        out = pd.DataFrame(xs, columns=cols)
        for c in categorical:
            k = np.clip(np.round(out[c].to_numpy(float)).astype(int), 0, len(codes[c]) - 1)
            out[c] = [codes[c][i] for i in k]
        for c in const:
            out[c] = df[c].iloc[0]
        return out
    if name == "nrgboost":
        return _nrgboost(settings, df, numeric, categorical, n, seed)
    raise ValueError(f"unknown peer {name!r}")


def _nrgboost(settings: dict, df: pd.DataFrame, numeric, categorical, n: int, seed: int) -> pd.DataFrame:
    from nrgboost import Dataset, NRGBooster
    x = df.copy()
    for c in categorical:
        x[c] = x[c].astype(str).astype("category")
    ds = Dataset(x)
    params = dict(settings)
    steps = params.pop("sample_steps", 50)
    params.setdefault("num_threads", 1)
    m = NRGBooster.fit(ds, params, seed=seed)
    out = m.sample(n, num_steps=steps, num_threads=1, seed=seed)
    return out if isinstance(out, pd.DataFrame) else pd.DataFrame(out, columns=df.columns)


IMPORTS = {"copula": ("sdv.single_table", "sdv.metadata"), "tvae": ("ctgan",), "arf": ("arfpy.arf",),
           "forestdiffusion": ("ForestDiffusion",), "nrgboost": ("nrgboost",)}


def run_method(spec: dict, train: pd.DataFrame, numeric, categorical, integer, counts: dict, seed: int) -> None:
    name, settings = spec["name"], spec.get("settings", {})
    if name == "arf" and not hasattr(np, "in1d"):
        np.in1d = np.isin  # arfpy 0.1.1 calls np.in1d, removed in numpy 2.4
    import importlib
    for mod in IMPORTS.get(name, ()):  # imported before the clock starts: timings are fit + sample
        importlib.import_module(mod)
    feats = list(numeric) + list(categorical)
    x = train[feats].copy()
    for c in numeric:
        x[c] = pd.to_numeric(x[c], errors="coerce")
        x[c] = x[c].fillna(x[c].mean() if x[c].notna().any() else 0.0)
    for c in categorical:
        mode = x[c].dropna().astype(str).mode()
        x[c] = x[c].astype(object).where(x[c].notna(), mode.iloc[0] if len(mode) else "?").astype(str)
    y = train[TARGET].astype(str).to_numpy()
    parts, per_class, fallback, errors = [], {}, [], []
    for i, (label, k) in enumerate(sorted(counts.items())):
        if k <= 0:
            continue
        rows = x[y == label].reset_index(drop=True)
        t = time.perf_counter()
        try:
            if len(rows) < 2:
                raise ValueError(f"class {label!r} has {len(rows)} training row(s)")
            out = fit_sample(name, settings, rows, numeric, categorical, integer, k, seed + 7919 * i)
            out = out[feats].reset_index(drop=True)
            if len(out) != k:
                raise ValueError(f"returned {len(out)} rows, expected {k}")
        except Exception as exc:  # noqa: BLE001 - reported in the JSON
            errors.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")
            fallback.append(label)
            out = rows.iloc[np.arange(k) % max(len(rows), 1)].reset_index(drop=True)
        per_class[label] = time.perf_counter() - t
        out[TARGET] = label
        parts.append(out)
    result = dict(seconds=float(sum(per_class.values())), per_class_seconds=per_class, fallback_classes=fallback,
                  errors=errors, error=None)
    if fallback and len(fallback) == len([k for k in counts.values() if k > 0]):
        result["error"] = "every class failed: " + "; ".join(errors)[:1500]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=feats + [TARGET])
    frame.to_csv(spec["out_csv"], index=False)
    with open(spec["out_json"], "w") as fh:
        json.dump(result, fh)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as fh:
        job = json.load(fh)
    train = pd.read_csv(job["train_csv"], dtype={c: str for c in job["categorical"]} | {TARGET: str},
                        keep_default_na=True)
    for spec in job["methods"]:
        try:
            run_method(spec, train, job["numeric"], job["categorical"], job.get("integer", []), job["counts"],
                       int(job["seed"]))
        except Exception as exc:  # noqa: BLE001
            with open(spec["out_json"], "w") as fh:
                json.dump(dict(seconds=None, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1200:]}"), fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
