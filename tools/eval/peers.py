"""Peer generators and the on-disk cache of every non-Ember method's synthetic rows.

Peers run per class in their own venv (``tools/.venv-peers``, ``make peers``) through
``peer_worker.py`` in a subprocess; SMOTE/SMOTENC, the per-class Gaussian and jitter run here.
Every method's output for one split is cached under ``tools/eval/out/cache/gen`` keyed by
dataset, N_real, repeat, method and a hash of its settings (plus :data:`CACHE_VERSION`), so a
re-run that changes only Ember reads them back instead of recomputing.

Slow peers run on a reduced protocol (``max_n``, ``max_repeats``) and some with reduced settings;
:func:`describe` says which, for the report.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE_DIR = os.path.join(HERE, "out", "cache", "gen")
PEERS_PYTHON = os.path.join(ROOT, "tools", ".venv-peers", "bin", "python")
CACHE_VERSION = 1
TARGET = "target"


@dataclass(frozen=True)
class Peer:
    """A generator run in the peers venv: settings passed to the library, the part of the
    protocol it runs on, and a per-split time-out."""
    name: str
    settings: dict = field(default_factory=dict, hash=False, compare=False)
    max_n: int = 10 ** 9
    max_repeats: int = 10 ** 9
    max_columns: int = 10 ** 9
    timeout: float = 1800.0
    note: str = ""


PEERS: dict[str, Peer] = {p.name: p for p in (
    Peer("copula", {}, note="sdv 2.0 GaussianCopulaSynthesizer at defaults"),
    Peer("arf", {"num_trees": 30}, note="arfpy 0.1.1, 30 trees (its default)"),
    Peer("tvae", {"epochs": 300}, max_n=50, note="ctgan 0.12 TVAE, 300 epochs, CPU; N_real ≤ 50"),
    Peer("nrgboost", {"num_trees": 20, "num_model_samples": 2000, "num_chains": 4, "burn_in": 50, "sample_steps": 50},
         max_n=50, max_repeats=1,
         note="nrgboost 0.0.3 reduced: 20 trees, 2,000 model samples, 4 chains, 50 burn-in and 50 sampling steps; "
              "N_real ≤ 50, first repeat only"),
    Peer("forestdiffusion", {"n_t": 10, "duplicate_K": 10, "n_estimators": 50, "diffusion_type": "flow"},
         max_n=50, max_repeats=1, max_columns=40,
         note="ForestDiffusion 1.0.6 reduced: flow, n_t = 10, duplicate_K = 10, 50 trees; N_real ≤ 50, "
              "first repeat only, ≤ 40 encoded columns"),
)}

#: Methods computed in the eval venv (cached too).
LOCAL = ("smote", "smote-enc", "gaussian", "jitter")


def applies(method: str, n: int, repeat: int, columns: int) -> bool:
    """Whether ``method`` runs on this split (slow peers run on a reduced protocol)."""
    p = PEERS.get(method)
    return p is None or (n <= p.max_n and repeat < p.max_repeats and columns <= p.max_columns)


def describe() -> list[str]:
    return [f"`{p.name}`: {p.note}" for p in PEERS.values()]


def settings_key(method: str, extra: dict | None = None) -> str:
    p = PEERS.get(method)
    blob = json.dumps(dict(v=CACHE_VERSION, m=method, s=p.settings if p else {}, e=extra or {}), sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


def _paths(dataset: str, n: int, repeat: int, method: str, key: str) -> tuple[str, str]:
    base = os.path.join(CACHE_DIR, dataset, f"n{n}-r{repeat}", f"{method}-{key}")
    return base + ".csv", base + ".json"


def cache_get(dataset, n, repeat, method, key):
    """(frame or None, meta) from the cache, or None when absent."""
    csv, meta = _paths(dataset, n, repeat, method, key)
    if not os.path.exists(meta):
        return None
    with open(meta) as fh:
        info = json.load(fh)
    if info.get("error") or "x" in info:  # a cached failure, or an encoded-space method's rows
        return None, info
    if not os.path.exists(csv):
        return None
    return _read(csv, info.get("categorical", [])), info


def cache_put(dataset, n, repeat, method, key, frame: pd.DataFrame | None, info: dict) -> None:
    csv, meta = _paths(dataset, n, repeat, method, key)
    os.makedirs(os.path.dirname(csv), exist_ok=True)
    if frame is not None:
        tmp = f"{csv}.{os.getpid()}.tmp"
        frame.to_csv(tmp, index=False)
        os.replace(tmp, csv)
    tmp = f"{meta}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, meta)


def _read(path: str, categorical) -> pd.DataFrame:
    return pd.read_csv(path, dtype={c: str for c in categorical} | {TARGET: str}, keep_default_na=True)


def peers_available() -> str | None:
    """None when the peers venv exists, else the reason it cannot run."""
    if not os.path.exists(PEERS_PYTHON):
        return f"no peers venv ({PEERS_PYTHON}): run `make peers`"
    return None


def run_peers(methods: list[str], train: pd.DataFrame, numeric, categorical, integer, counts: dict, seed: int,
              timeout: float | None = None) -> dict[str, tuple[pd.DataFrame | None, dict]]:
    """Runs ``methods`` (peer names) on one split in one subprocess of the peers venv.
    Returns {method: (frame or None, info)}; info has ``seconds`` (fit + sample, summed over
    classes) and ``error``."""
    reason = peers_available()
    if reason:
        return {m: (None, dict(error=reason, seconds=None)) for m in methods}
    work = tempfile.mkdtemp(prefix="ember-peers-")
    try:
        train_csv = os.path.join(work, "train.csv")
        train.to_csv(train_csv, index=False)
        specs = [dict(name=m, settings=PEERS[m].settings, out_csv=os.path.join(work, f"{m}.csv"),
                      out_json=os.path.join(work, f"{m}.json")) for m in methods]
        job = dict(train_csv=train_csv, numeric=list(numeric), categorical=list(categorical), integer=list(integer),
                   counts=counts, seed=seed, methods=specs)
        with open(os.path.join(work, "job.json"), "w") as fh:
            json.dump(job, fh)
        limit = timeout or sum(PEERS[m].timeout for m in methods)
        err = None
        try:
            out = subprocess.run([PEERS_PYTHON, os.path.join(HERE, "peer_worker.py"), os.path.join(work, "job.json")],
                                 capture_output=True, text=True, timeout=limit)
            if out.returncode != 0:
                err = f"peer_worker exit {out.returncode}: {out.stderr.strip()[-1500:]}"
        except subprocess.TimeoutExpired:
            err = f"timed out after {limit:.0f} s"
        results = {}
        for s in specs:
            if not os.path.exists(s["out_json"]):
                results[s["name"]] = (None, dict(error=err or "no output", seconds=None))
                continue
            with open(s["out_json"]) as fh:
                info = json.load(fh)
            frame = None
            if not info.get("error") and os.path.exists(s["out_csv"]):
                frame = _read(s["out_csv"], categorical)
            results[s["name"]] = (frame, info)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def integer_columns(frame: pd.DataFrame, numeric) -> list[str]:
    """Numeric columns whose observed values are all integers."""
    out = []
    for c in numeric:
        v = pd.to_numeric(frame[c], errors="coerce").dropna().to_numpy(float)
        if len(v) and np.all(v == np.round(v)):
            out.append(c)
    return out
