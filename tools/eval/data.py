"""Datasets, splits and the baseline preprocessing of the evaluation protocol.

Datasets: scikit-learn's bundled iris, wine, breast_cancer, digits and the palmerpenguins table
(rows with a missing target dropped; the categorical columns ``island`` and ``sex`` and the
missing cells are kept, so Ember sees them raw; the baselines get mean/mode imputation and
one-hot encoding from :class:`Encoder`). Targets are strings (class names) everywhere.

Protocol (per dataset):

* a fixed stratified test set of ``min(n // 2, 500)`` rows (seed 0, the same in every repeat);
* the rest is the pool; a repeat draws ``N_real`` rows from it (stratified, seeded) and splits
  them 4:1 per class into train and validation (the validation rows are not used by the
  default-hyperparameter models; they are reported for completeness);
* ``N_real`` ∈ {20, 50, 100, 200, 500} where the pool holds that many rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TARGET = "target"
DATASETS = ("iris", "wine", "breast_cancer", "digits", "penguins")
N_REAL = (20, 50, 100, 200, 500)


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


def load(name: str) -> Dataset:
    """Loads one of :data:`DATASETS` (offline: files shipped in the packages)."""
    if name == "penguins":
        import palmerpenguins
        df = palmerpenguins.load_penguins()
        df = df[df["species"].notna()].reset_index(drop=True)
        frame = df.drop(columns=["species"]).copy()
        frame[TARGET] = df["species"].astype(str).to_numpy()
        for c in ("island", "sex"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
        numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
        return Dataset(name, frame[numeric + ["island", "sex", TARGET]], numeric, ["island", "sex"])
    from sklearn import datasets as skd
    loader = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer,
              "digits": skd.load_digits}.get(name)
    if loader is None:
        raise ValueError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    b = loader()
    names = [str(n) for n in (b.feature_names if hasattr(b, "feature_names") else range(b.data.shape[1]))]
    names = [n.replace(",", " ") for n in names]
    frame = pd.DataFrame(b.data, columns=names)
    target_names = [str(t) for t in b.target_names]
    frame[TARGET] = [target_names[int(t)] for t in b.target]
    return Dataset(name, frame, names, [])


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


def real_split(ds: Dataset, pool: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: ``n`` stratified rows from ``pool``, split 4:1 (round(n/5)
    validation rows spread over the classes by share, every class keeping ≥ 1 training row)."""
    rng = np.random.default_rng(seed)
    y = ds.frame[TARGET].to_numpy()
    chosen = pool[stratified_take(y[pool], n, rng)]
    classes, counts = np.unique(y[chosen], return_counts=True)
    # round(n/5) validation rows, per class in proportion (largest remainder), never a class's last row.
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
