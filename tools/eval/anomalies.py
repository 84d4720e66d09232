"""Synthetic anomalies of ADBench's four types, generated from held-out real rows in raw units
(so Ember scores them through its CSV path like any other row).

Numeric columns (missing cells mean-imputed first):

* ``local``: per class, N(μ_c, α·Σ_c) with α = 5 (ADBench's local anomalies);
* ``global``: uniform in the box 1.1× the data range of each column;
* ``dependency``: every column permuted independently (column-shuffled rows: the marginals are
  kept, the dependence between columns is broken);
* ``clustered``: per class, N(μ_c + κ·σ_c ⊙ u, Σ_c / 4) with κ = 3 and u a random unit vector
  (a tight cluster shifted away from the class; ADBench scales the mean instead, which is not
  meaningful for z-scored or signed data).

Categorical columns: ``local``/``clustered`` copy those of a random real row of the class;
``global`` draws categories uniformly; ``dependency`` permutes them like the rest. Columns
whose observed values are all integers are rounded. Same seed → same rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("local", "global", "dependency", "clustered")
LOCAL_ALPHA = 5.0
CLUSTER_SHIFT = 3.0


def _class_gaussian(z: np.ndarray):
    mu = z.mean(0)
    cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]) if len(z) > 1 else np.zeros((z.shape[1],) * 2)
    return mu, cov + 1e-6 * np.eye(z.shape[1])


def generate(frame: pd.DataFrame, numeric: list[str], categorical: list[str], kind: str, n: int,
             seed: int, target: str = "target") -> pd.DataFrame:
    """``n`` anomalies of ``kind`` from the real rows ``frame`` (features + ``target``);
    returns raw rows (features only)."""
    if kind not in KINDS:
        raise ValueError(f"unknown anomaly kind {kind!r} (known: {', '.join(KINDS)})")
    rng = np.random.default_rng(seed)
    num = frame[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    num = num.fillna(num.mean()).fillna(0.0)
    x = num.to_numpy()
    y = frame[target].astype(str).to_numpy()
    cats = {c: frame[c].astype(object).where(frame[c].notna(), None) for c in categorical}
    if kind == "global":
        lo, hi = x.min(0), x.max(0)
        pad = 0.05 * (hi - lo)
        xs = rng.uniform(lo - pad, hi + pad, size=(n, x.shape[1]))
        out_cats = {}
        for c, v in cats.items():
            levels = sorted(set(v.dropna().astype(str)))
            out_cats[c] = rng.choice(levels, n) if levels else np.full(n, None)
    elif kind == "dependency":
        pick = lambda: rng.integers(0, len(x), n)  # noqa: E731
        xs = np.column_stack([x[pick(), j] for j in range(x.shape[1])]) if x.shape[1] else np.zeros((n, 0))
        out_cats = {c: v.to_numpy(dtype=object)[pick()] for c, v in cats.items()}
    else:
        classes, counts = np.unique(y, return_counts=True)
        share = rng.multinomial(n, counts / counts.sum())
        rows, picks = [], []
        for c, k in zip(classes, share):
            if k == 0:
                continue
            idx = np.flatnonzero(y == c)
            mu, cov = _class_gaussian(x[idx])
            if kind == "local":
                cov = LOCAL_ALPHA * cov
            else:
                u = rng.standard_normal(x.shape[1])
                u /= max(np.linalg.norm(u), 1e-12)
                mu = mu + CLUSTER_SHIFT * np.sqrt(np.diag(cov)) * u
                cov = cov / 4.0
            rows.append(rng.multivariate_normal(mu, cov, size=k, method="eigh"))
            picks.append(rng.choice(idx, k))
        xs = np.vstack(rows)
        pick = np.concatenate(picks)
        out_cats = {c: v.to_numpy(dtype=object)[pick] for c, v in cats.items()}
    out = pd.DataFrame(xs, columns=numeric)
    for j, c in enumerate(numeric):
        v = num[c].to_numpy()
        if len(v) and np.all(v == np.round(v)):
            out[c] = np.round(out[c].to_numpy())
    for c in categorical:
        out[c] = out_cats[c]
    return out[numeric + categorical]
