"""Held-out log-likelihood per class in Ember's encoded space (z-scored numbers, one-hot
categories, as the model file encodes rows).

* Ember: the energy is normalised by importance sampling with the file's own Gaussian (mixture)
  base as the proposal: ``log Z_c = log mean_{x~base_c} exp(E_base,c(x) − E_c(x))`` and
  ``LL(x) = −E_c(x) − log Z_c``. ``E_base`` is the base's negative log density (normalised), so
  for a zero network ``log Z_c = 0`` exactly. Energies of the proposal draws (encoded rows) come
  from the numpy reference reader of the file (``tools/python/ember_reader.py``, float64), which
  the harness cross-checks on real rows against ``ember energy``. The effective sample size
  ``(Σw)² / Σw²`` of the importance weights is reported.
* base: ``−E_base,c(x)`` (the file's base alone).
* gmm: scikit-learn GaussianMixture (full covariance, k ≤ 5 chosen by BIC, reg_covar 1e-2)
* kde: Gaussian KernelDensity, bandwidth by cross-validated likelihood over a log grid;
  both fitted on the class's Ember-encoded training rows.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

DRAWS = 20_000
GMM_MAX_K = 5
GMM_REG = 1e-2


def read_model(path: str):
    import ember_reader
    return ember_reader.read_model(path)


def logmeanexp(a: np.ndarray) -> float:
    m = float(np.max(a))
    return m + math.log(float(np.mean(np.exp(a - m))))


def base_draws(base, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from a shared-covariance Gaussian mixture base (means (k, d), precision P)."""
    means = np.asarray(base.means, np.float64).reshape(-1, np.asarray(base.precision).shape[0])
    w = np.exp(np.asarray(base.log_weights, np.float64))
    w = w / w.sum()
    cov = np.linalg.inv(np.asarray(base.precision, np.float64))
    cov = 0.5 * (cov + cov.T)
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)))
    comp = rng.choice(len(w), size=n, p=w)
    return means[comp] + rng.standard_normal((n, len(cov))) @ chol.T


def ember_class_ll(cls, x_test: np.ndarray, draws: int = DRAWS, seed: int = 0) -> dict:
    """Importance-sampled held-out LL of one class model (an ``ember_reader`` ClassModel) on
    encoded rows: mean LL per row, the base's mean LL, log Z and the ESS."""
    if cls.base is None:
        raise ValueError(f"class {cls.label!r} has no base term: no proposal for importance sampling")
    rng = np.random.default_rng(seed)
    xs = base_draws(cls.base, draws, rng)
    e_base_s, _ = cls.base.energy_and_grad(xs, want_grad=False)
    e_s = cls.energy(xs)
    logw = e_base_s - e_s
    log_z = logmeanexp(logw)
    w = np.exp(logw - logw.max())
    ess = float(w.sum() ** 2 / np.sum(w ** 2))
    e_test = cls.energy(x_test)
    e_base_test, _ = cls.base.energy_and_grad(x_test, want_grad=False)
    return dict(ll=float(np.mean(-e_test - log_z)), base_ll=float(np.mean(-e_base_test)), log_z=log_z, ess=ess,
                ess_share=ess / draws)


def gmm_ll(x_train: np.ndarray, x_test: np.ndarray, seed: int = 0) -> tuple[float, int]:
    """(mean held-out LL, chosen k) of a BIC-chosen full-covariance GaussianMixture."""
    from sklearn.mixture import GaussianMixture
    best, best_bic = None, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, GMM_MAX_K + 1):
            if k > len(x_train):
                break
            g = GaussianMixture(k, covariance_type="full", reg_covar=GMM_REG, random_state=seed, n_init=1).fit(x_train)
            bic = g.bic(x_train)
            if bic < best_bic:
                best, best_bic = g, bic
    return float(np.mean(best.score_samples(x_test))), int(best.n_components)


def kde_ll(x_train: np.ndarray, x_test: np.ndarray) -> tuple[float, float]:
    """(mean held-out LL, bandwidth) of a Gaussian KDE whose bandwidth maximises the
    cross-validated (≤ 5 folds, leave-one-out below 5 rows) likelihood of the training rows."""
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neighbors import KernelDensity
    grid = np.logspace(-1.5, 1.0, 16)
    n = len(x_train)
    if n < 2:
        bw = 1.0
    else:
        cv = KFold(min(5, n), shuffle=True, random_state=0)
        gs = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": grid}, cv=cv).fit(x_train)
        bw = float(gs.best_params_["bandwidth"])
    kde = KernelDensity(kernel="gaussian", bandwidth=bw).fit(x_train)
    return float(np.mean(kde.score_samples(x_test))), bw
