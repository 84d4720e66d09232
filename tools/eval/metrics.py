"""Downstream models, utility, fidelity, privacy and OOD metrics of the evaluation."""
from __future__ import annotations

import warnings

import numpy as np

DOWNSTREAM = ("lr", "knn", "mlp", "rf", "xgb")


def make_model(name: str, seed: int):
    """A downstream classifier at library defaults (n_jobs = 1). LR gets max_iter = 1000 (the
    default 100 stops before convergence on several datasets); everything else is default."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    if name == "lr":
        return LogisticRegression(max_iter=1000)
    if name == "knn":
        return KNeighborsClassifier(n_jobs=1)
    if name == "mlp":
        return MLPClassifier(random_state=seed)
    if name == "rf":
        return RandomForestClassifier(n_jobs=1, random_state=seed)
    if name == "xgb":
        from xgboost import XGBClassifier
        return XGBClassifier(n_jobs=1, random_state=seed, verbosity=0)
    raise ValueError(name)


def fit_score(name: str, x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, y_te: np.ndarray, seed: int) -> float:
    """Balanced accuracy on the test rows of ``name`` trained on (x_tr, y_tr). Labels are
    strings; XGBoost gets them re-coded 0..K−1 over the training labels. kNN with fewer rows
    than its 5 neighbours uses as many as there are."""
    from sklearn.metrics import balanced_accuracy_score
    classes = np.unique(y_tr)
    if len(classes) == 1:
        pred = np.full(len(y_te), classes[0], dtype=object)
        return float(balanced_accuracy_score(y_te, pred))
    model = make_model(name, seed)
    if name == "knn" and len(y_tr) < 5:
        model.set_params(n_neighbors=len(y_tr))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "xgb":
            code = {c: i for i, c in enumerate(classes)}
            model.fit(x_tr, np.array([code[v] for v in y_tr]))
            pred = classes[model.predict(x_te).astype(int)]
        else:
            model.fit(x_tr, y_tr)
            pred = model.predict(x_te)
        return float(balanced_accuracy_score(y_te.astype(str), np.asarray(pred).astype(str)))


def ks_per_column(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-sample Kolmogorov–Smirnov statistic per column."""
    from scipy.stats import ks_2samp
    return np.array([ks_2samp(a[:, j], b[:, j]).statistic for j in range(a.shape[1])])


def inverse_kl_per_column(real: np.ndarray, syn: np.ndarray, numeric: np.ndarray, bins: int = 10) -> np.ndarray:
    """1 / (1 + KL(real ‖ synthetic)) per column on histograms (numeric: ``bins`` equal-width
    bins over the real rows' range, outside values clipped in; one-hot: the 0/1 frequencies),
    with add-one smoothing. 1 = identical marginals, → 0 as they diverge."""
    out = []
    for j in range(real.shape[1]):
        r, s = real[:, j], syn[:, j]
        if numeric[j]:
            lo, hi = float(np.min(r)), float(np.max(r))
            if hi <= lo:
                hi = lo + 1e-9
            edges = np.linspace(lo, hi, bins + 1)
            pr = np.histogram(np.clip(r, lo, hi), edges)[0]
            ps = np.histogram(np.clip(s, lo, hi), edges)[0]
        else:
            pr = np.array([np.sum(r < 0.5), np.sum(r >= 0.5)])
            ps = np.array([np.sum(s < 0.5), np.sum(s >= 0.5)])
        p = (pr + 1) / (pr.sum() + len(pr))
        q = (ps + 1) / (ps.sum() + len(ps))
        out.append(1.0 / (1.0 + float(np.sum(p * np.log(p / q)))))
    return np.array(out)


def fidelity(x_syn, y_syn, x_real, y_real, numeric) -> dict[str, float]:
    """Mean per-column KS and inverse KL of the synthetic rows of each class against held-out
    real rows of the same class, averaged over classes weighted by synthetic row count."""
    ks, ikl, w = [], [], []
    for c in np.unique(y_syn):
        s, r = x_syn[y_syn == c], x_real[y_real == c]
        if len(s) == 0 or len(r) < 2:
            continue
        ks.append(ks_per_column(r, s).mean())
        ikl.append(inverse_kl_per_column(r, s, numeric).mean())
        w.append(len(s))
    if not w:
        return {"ks": float("nan"), "inv_kl": float("nan")}
    return {"ks": float(np.average(ks, weights=w)), "inv_kl": float(np.average(ikl, weights=w))}


def class_fidelity(judge, x_syn: np.ndarray, y_syn: np.ndarray) -> float:
    """Share of synthetic rows that ``judge`` (an RF fitted on the full data) assigns to the
    class they were made for."""
    if len(y_syn) == 0:
        return float("nan")
    return float(np.mean(judge.predict(x_syn).astype(str) == y_syn.astype(str)))


def median_dcr(x_syn: np.ndarray, x_train: np.ndarray) -> float:
    """Median over synthetic rows of the Euclidean distance to the closest real training row
    (encoded space: z-scored numeric, one-hot categorical)."""
    if len(x_syn) == 0:
        return float("nan")
    d2 = (np.sum(x_syn ** 2, 1)[:, None] + np.sum(x_train ** 2, 1)[None, :] - 2 * x_syn @ x_train.T)
    return float(np.median(np.sqrt(np.maximum(d2.min(axis=1), 0.0))))


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """AUROC of ``scores`` (higher = more anomalous) for ``positive`` rows vs the rest."""
    from sklearn.metrics import roc_auc_score
    if positive.all() or not positive.any():
        return float("nan")
    return float(roc_auc_score(positive.astype(int), scores))


def ood_baselines(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Anomaly scores (higher = more anomalous) of IsolationForest, LOF (novelty) and a
    per-class Gaussian (−log Σ_c π_c N(x; μ_c, Σ_c), Ledoit–Wolf + 1e-3·I) fitted on the
    training rows."""
    from scipy.stats import multivariate_normal
    from sklearn.covariance import LedoitWolf
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor
    out = {}
    out["isolation_forest"] = -IsolationForest(random_state=seed, n_jobs=1).fit(x_train).score_samples(x_test)
    lof = LocalOutlierFactor(novelty=True, n_neighbors=min(20, len(x_train) - 1)).fit(x_train)
    out["lof"] = -lof.score_samples(x_test)
    logs = []
    classes, counts = np.unique(y_train, return_counts=True)
    for c, n in zip(classes, counts):
        rows = x_train[y_train == c]
        cov = LedoitWolf().fit(rows).covariance_ + 1e-3 * np.eye(x_train.shape[1])
        logs.append(np.log(n / counts.sum()) + multivariate_normal(rows.mean(0), cov, allow_singular=True).logpdf(x_test))
    logs = np.vstack(logs)
    top = logs.max(axis=0)
    out["gaussian"] = -(top + np.log(np.exp(logs - top).sum(axis=0)))
    return out
