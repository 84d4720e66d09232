"""Baseline generators of synthetic rows in the baseline-encoded space (z-scored numeric +
one-hot): SMOTE, Gaussian jitter of real rows, per-class multivariate Gaussian.

Every generator takes encoded training rows ``x``, string labels ``y``, the number of rows to
make per class ``counts`` and a seed, and returns ``(x_syn, y_syn)``. Same seed → same rows.
"""
from __future__ import annotations

import numpy as np

JITTER_SIGMA = 0.1


def class_counts(y: np.ndarray, total: int = 500) -> dict[str, int]:
    """``total`` rows split over the classes of ``y`` in proportion to their counts
    (largest remainder)."""
    classes, counts = np.unique(y, return_counts=True)
    want = counts / counts.sum() * total
    take = np.floor(want).astype(int)
    for i in np.argsort(-(want - take))[: total - int(take.sum())]:
        take[i] += 1
    return {str(c): int(k) for c, k in zip(classes, take)}


def smote_k(n_class: int) -> int:
    """SMOTE neighbours: 5, else 3, else 1 as the class size allows (0 = cannot interpolate)."""
    for k in (5, 3, 1):
        if n_class > k:
            return k
    return 0


def smote(x: np.ndarray, y: np.ndarray, counts: dict[str, int], seed: int):
    """imbalanced-learn SMOTE, run per class (class c against the rest, asking only for class
    c's extra rows) so each class gets its own k = 5/3/1. Classes of one row are copied."""
    from imblearn.over_sampling import SMOTE
    xs, ys = [], []
    for i, (c, n) in enumerate(sorted(counts.items())):
        if n <= 0:
            continue
        mask = y == c
        k = smote_k(int(mask.sum()))
        if k == 0:
            xs.append(np.repeat(x[mask], n, axis=0)[:n])
        else:
            lab = np.where(mask, "__c__", "__rest__")
            if mask.all():  # SMOTE needs two classes: add a far-away dummy row
                xx = np.vstack([x, np.full((1, x.shape[1]), 1e6)])
                lab = np.append(lab, "__rest__")
            else:
                xx = x
            sm = SMOTE(sampling_strategy={"__c__": int(mask.sum()) + n}, k_neighbors=k, random_state=seed + i)
            xr, _ = sm.fit_resample(xx, lab)
            xs.append(xr[len(xx):])
        ys.extend([c] * n)
    return np.vstack(xs), np.array(ys, dtype=object)


def jitter(x: np.ndarray, y: np.ndarray, counts: dict[str, int], seed: int, sigma: float = JITTER_SIGMA):
    """Random real rows of the class plus N(0, sigma²) noise on every encoded column."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c, n in sorted(counts.items()):
        rows = x[y == c]
        pick = rows[rng.integers(0, len(rows), n)]
        xs.append(pick + sigma * rng.standard_normal(pick.shape))
        ys.extend([c] * n)
    return np.vstack(xs), np.array(ys, dtype=object)


def gaussian(x: np.ndarray, y: np.ndarray, counts: dict[str, int], seed: int):
    """Per-class multivariate Gaussian: class mean, Ledoit–Wolf covariance + 1e-3·I."""
    from sklearn.covariance import LedoitWolf
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c, n in sorted(counts.items()):
        rows = x[y == c]
        mu = rows.mean(axis=0)
        cov = LedoitWolf().fit(rows).covariance_ if len(rows) > 1 else np.zeros((x.shape[1], x.shape[1]))
        cov = cov + 1e-3 * np.eye(x.shape[1])
        xs.append(rng.multivariate_normal(mu, cov, size=n, method="cholesky"))
        ys.extend([c] * n)
    return np.vstack(xs), np.array(ys, dtype=object)


#: Encoded-space generators (``smote-enc``: SMOTE on the z-scored + one-hot rows, the form the
#: team compared against before SMOTENC; kept beside it because it is the stronger on some data).
BASELINES = {"smote-enc": smote, "jitter": jitter, "gaussian": gaussian}


def smote_frame(frame, numeric: list[str], categorical: list[str], counts: dict[str, int], seed: int):
    """SMOTE on raw rows, per class (SMOTENC when there are categorical columns): numeric
    columns mean-imputed and z-scored for the neighbour search, categories mode-imputed; returns
    a raw frame (features + ``target``). Classes of one row are copied."""
    import pandas as pd
    from imblearn.over_sampling import SMOTE, SMOTENC
    num = frame[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    mean = num.mean().fillna(0.0)
    num = num.fillna(mean)
    std = num.std(ddof=0).fillna(1.0)
    std = std.where(std > 1e-12, 1.0)
    cols, codes = [((num - mean) / std).to_numpy()], {}
    for c in categorical:
        v = frame[c].astype(object)
        mode = v.dropna().astype(str).mode()
        v = v.where(v.notna(), mode.iloc[0] if len(mode) else "?").astype(str)
        codes[c] = sorted(v.unique())
        cols.append(v.map({k: i for i, k in enumerate(codes[c])}).to_numpy(float)[:, None])
    x = np.hstack(cols)
    y = frame["target"].astype(str).to_numpy()
    cat_idx = list(range(len(numeric), x.shape[1]))
    parts, ys = [], []
    for i, (c, n) in enumerate(sorted(counts.items())):
        if n <= 0:
            continue
        mask = y == c
        if not mask.any():
            continue
        k = smote_k(int(mask.sum()))
        if k == 0:
            parts.append(np.repeat(x[mask], n, axis=0)[:n])
        else:
            lab = np.where(mask, "__c__", "__rest__")
            xx = x
            if mask.all():  # SMOTE needs two classes: add a far-away dummy row
                dummy = x[:1].copy()
                dummy[0, : len(numeric)] = 1e6
                xx, lab = np.vstack([x, dummy]), np.append(lab, "__rest__")
            strategy = {"__c__": int(mask.sum()) + n}
            sm = (SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy, k_neighbors=k, random_state=seed + i)
                  if cat_idx and numeric else SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed + i))
            xr, _ = sm.fit_resample(xx, lab)
            parts.append(xr[len(xx):])
        ys.extend([c] * n)
    xs = np.vstack(parts)
    out = pd.DataFrame(xs[:, : len(numeric)] * std.to_numpy() + mean.to_numpy(), columns=numeric)
    for j, c in enumerate(categorical):
        k = np.clip(np.round(xs[:, len(numeric) + j]).astype(int), 0, len(codes[c]) - 1)
        out[c] = [codes[c][t] for t in k]
    out["target"] = ys
    return out
