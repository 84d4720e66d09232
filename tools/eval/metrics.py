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


# ---------------------------------------------------------------------------------------------
# Fidelity (encoded space: z-scored numeric columns, one-hot categories).

def c2st_auc(x_real: np.ndarray, y_real: np.ndarray, x_syn: np.ndarray, y_syn: np.ndarray, seed: int,
             max_rows: int = 500, folds: int = 3) -> float:
    """Classifier two-sample test: cross-validated AUROC of a gradient-boosting classifier
    (scikit-learn HistGradientBoosting, 100 iterations) telling real held-out rows from synthetic
    rows of the same classes; the class label (one-hot) is a feature, so label-conditional
    differences count. Both sides are subsampled to the same size (≤ ``max_rows``).
    0.5 = indistinguishable, 1.0 = fully separable."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    classes = sorted(set(np.unique(y_syn).tolist()) & set(np.unique(y_real).tolist()))
    keep_r, keep_s = np.isin(y_real, classes), np.isin(y_syn, classes)
    xr, yr, xs, ys = x_real[keep_r], y_real[keep_r], x_syn[keep_s], y_syn[keep_s]
    m = min(len(xr), len(xs), max_rows)
    if m < 2 * folds:
        return float("nan")
    rng = np.random.default_rng(seed)
    ir, is_ = rng.choice(len(xr), m, replace=False), rng.choice(len(xs), m, replace=False)
    lab = np.concatenate([yr[ir], ys[is_]])
    onehot = (lab[:, None] == np.array(classes)[None, :]).astype(float)
    x = np.hstack([np.vstack([xr[ir], xs[is_]]), onehot])
    t = np.r_[np.zeros(m), np.ones(m)]
    clf = HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=seed)
    p = cross_val_predict(clf, x, t, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                          method="predict_proba")[:, 1]
    return auroc(p, t.astype(bool))


def correlation_error(x_real: np.ndarray, x_syn: np.ndarray, numeric: np.ndarray) -> dict:
    """Mean |corr_real − corr_syn| over numeric column pairs (Pearson, rows of all classes),
    and the pair with the largest |corr_real|: its real and synthetic correlation."""
    idx = np.flatnonzero(numeric)
    if len(idx) < 2 or len(x_real) < 3 or len(x_syn) < 3:
        return dict(corr_err=float("nan"), top_real=float("nan"), top_syn=float("nan"))
    with np.errstate(invalid="ignore", divide="ignore"):
        cr = np.nan_to_num(np.corrcoef(x_real[:, idx], rowvar=False))
        cs = np.nan_to_num(np.corrcoef(x_syn[:, idx], rowvar=False))
    iu = np.triu_indices(len(idx), 1)
    diff = np.abs(cr[iu] - cs[iu])
    top = int(np.argmax(np.abs(cr[iu])))
    return dict(corr_err=float(diff.mean()), top_real=float(cr[iu][top]), top_syn=float(cs[iu][top]))


def wasserstein_mean(x_real: np.ndarray, x_syn: np.ndarray, numeric: np.ndarray) -> float:
    """Mean over numeric columns of the 1-Wasserstein distance (z-scored units)."""
    from scipy.stats import wasserstein_distance
    idx = np.flatnonzero(numeric)
    if len(idx) == 0 or len(x_syn) == 0:
        return float("nan")
    return float(np.mean([wasserstein_distance(x_real[:, j], x_syn[:, j]) for j in idx]))


def nearest_distance(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of ``x`` to its closest row of ``ref``."""
    from sklearn.neighbors import NearestNeighbors
    if len(x) == 0:
        return np.zeros(0)
    return NearestNeighbors(n_neighbors=1).fit(ref).kneighbors(x)[0][:, 0]


def exact_copy_rate(x_syn: np.ndarray, x_train: np.ndarray, tol: float = 1e-6) -> float:
    """Share of synthetic rows identical (within ``tol`` per encoded value) to a training row."""
    if len(x_syn) == 0:
        return float("nan")
    return float(np.mean(nearest_distance(x_syn, x_train) <= tol * np.sqrt(x_syn.shape[1])))


# ---------------------------------------------------------------------------------------------
# Classification baselines.

class RegularizedQDA:
    """Per-class Gaussian classifier with covariance (1 − λ)·S_c + λ·S_pooled + 1e-6·I
    (Friedman's regularised discriminant analysis between QDA, λ = 0, and LDA, λ = 1); priors
    from class counts; works with one-row classes. :meth:`fit` picks λ from :data:`LAMBDAS` by
    3-fold stratified cross-validated balanced accuracy when every class has ≥ 3 rows, else
    uses λ = 0.5."""
    LAMBDAS = (0.05, 0.2, 0.5, 0.8, 0.95)

    def __init__(self, lam: float | None = None):
        self.lam = lam

    def _fit(self, x, y, lam):
        self.classes_ = np.unique(y)
        d = x.shape[1]
        means, covs, counts = [], [], []
        for c in self.classes_:
            r = x[y == c]
            means.append(r.mean(0))
            covs.append(np.cov(r, rowvar=False, bias=True).reshape(d, d) if len(r) > 1 else np.zeros((d, d)))
            counts.append(len(r))
        counts = np.array(counts, float)
        pooled = sum(n * s for n, s in zip(counts, covs)) / counts.sum()
        self.params_ = []
        for m, s, n in zip(means, covs, counts):
            cov = (1 - lam) * s + lam * pooled + 1e-6 * np.eye(d)
            sign, logdet = np.linalg.slogdet(cov)
            if sign <= 0:
                cov, logdet = cov + 1e-3 * np.eye(d), np.linalg.slogdet(cov + 1e-3 * np.eye(d))[1]
            self.params_.append((m, np.linalg.inv(cov), logdet, np.log(n / counts.sum())))
        return self

    def fit(self, x, y):
        y = np.asarray(y).astype(str)
        lam = self.lam
        if lam is None:
            _, counts = np.unique(y, return_counts=True)
            lam = 0.5
            if counts.min() >= 3:
                from sklearn.metrics import balanced_accuracy_score
                from sklearn.model_selection import StratifiedKFold
                best = -1.0
                for cand in self.LAMBDAS:
                    scores = []
                    for tr, va in StratifiedKFold(3, shuffle=True, random_state=0).split(x, y):
                        pred = RegularizedQDA(cand)._fit(x[tr], y[tr], cand).predict(x[va])
                        scores.append(balanced_accuracy_score(y[va], pred))
                    if np.mean(scores) > best + 1e-12:
                        best, lam = float(np.mean(scores)), cand
        self.lam_ = lam
        return self._fit(x, y, lam)

    def log_joint(self, x):
        out = []
        for m, p, logdet, logprior in self.params_:
            dd = x - m
            out.append(logprior - 0.5 * np.einsum("nd,de,ne->n", dd, p, dd) - 0.5 * logdet)
        return np.column_stack(out)

    def predict(self, x):
        return self.classes_[np.argmax(self.log_joint(x), axis=1)]


CLASSIFIERS = ("lr", "lda", "qda", "rf")


def classify_score(name: str, x_tr, y_tr, x_te, y_te, seed: int) -> float:
    """Balanced accuracy of a classification baseline: LR (max_iter 1000), LDA (lsqr solver,
    automatic shrinkage), regularised QDA (:class:`RegularizedQDA`), RF (100 trees)."""
    from sklearn.metrics import balanced_accuracy_score
    if name in ("lr", "rf"):
        return fit_score(name, x_tr, y_tr, x_te, y_te, seed)
    y_tr, y_te = np.asarray(y_tr).astype(str), np.asarray(y_te).astype(str)
    if len(np.unique(y_tr)) == 1:
        return float(balanced_accuracy_score(y_te, np.full(len(y_te), y_tr[0])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "lda":
            from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
            model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x_tr, y_tr)
        elif name == "qda":
            model = RegularizedQDA().fit(x_tr, y_tr)
        else:
            raise ValueError(name)
        return float(balanced_accuracy_score(y_te, model.predict(x_te)))


# ---------------------------------------------------------------------------------------------
# OOD detectors (higher score = more anomalous).

OOD_BASELINES = ("knn", "gaussian", "mahalanobis", "isolation_forest", "lof")


def ood_scores(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """kNN distance (distance to the 5th nearest training row), per-class Gaussian
    (Ledoit–Wolf + 1e-3·I: ``gaussian`` = −max_c log N(x; μ_c, Σ_c), ``mahalanobis`` = min_c
    Mahalanobis distance), IsolationForest and LOF (novelty, 20 neighbours)."""
    from scipy.stats import multivariate_normal
    from sklearn.covariance import LedoitWolf
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
    out = {}
    k = min(5, len(x_train))
    out["knn"] = NearestNeighbors(n_neighbors=k).fit(x_train).kneighbors(x_test)[0][:, -1]
    logs, mahas = [], []
    y_train = np.asarray(y_train)
    for c in np.unique(y_train):
        rows = x_train[y_train == c]
        cov = (LedoitWolf().fit(rows).covariance_ if len(rows) > 1 else np.zeros((rows.shape[1],) * 2))
        cov = cov + 1e-3 * np.eye(x_train.shape[1])
        mu = rows.mean(0)
        logs.append(multivariate_normal(mu, cov, allow_singular=True).logpdf(x_test))
        p = np.linalg.inv(cov)
        dd = x_test - mu
        mahas.append(np.sqrt(np.maximum(np.einsum("nd,de,ne->n", dd, p, dd), 0)))
    out["gaussian"] = -np.max(np.vstack(logs), axis=0)
    out["mahalanobis"] = np.min(np.vstack(mahas), axis=0)
    out["isolation_forest"] = -IsolationForest(random_state=seed, n_jobs=1).fit(x_train).score_samples(x_test)
    lof = LocalOutlierFactor(novelty=True, n_neighbors=min(20, len(x_train) - 1)).fit(x_train)
    out["lof"] = -lof.score_samples(x_test)
    return out
