"""Checks of the score-form diagnostics (tools/eval/score_forms.py)."""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import metrics as M  # noqa: E402
import score_forms as S  # noqa: E402


def _job(E: np.ndarray, logpri: np.ndarray, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n, c = E.shape
    labels = np.array([f"c{i}" for i in range(c)])
    q = np.sort(rng.normal(size=(c, 101)) + 3, axis=1)
    x_tr = rng.normal(size=(40, 3))
    k = "held-out class"
    z = {"labels": labels, "logpri": logpri, "cal_q": q, "xe_tr": x_tr, "y_tr": labels[np.arange(40) % c],
         f"E_{k}": E, f"Eb_{k}": E + 0.1, f"xe_{k}": rng.normal(size=(n, 3)), f"score_{k}": np.zeros(n)}
    for p in ("gaussian", "knn", "mahalanobis"):
        z[f"peer_{p}_{k}"] = np.zeros(n)
    return z


def test_prior_mixture_is_the_runtime_formula():
    E = np.array([[1.0, 3.0], [5.0, 0.5], [2.0, 2.0]])
    lp = np.log([0.25, 0.75])
    got = S.forms(_job(E, lp), "held-out class")["prior mixture −log Σ π_c e^−E_c (today)"]
    want = -np.log((np.exp(lp)[None] * np.exp(-E)).sum(1))
    assert np.allclose(got, want)


def test_one_training_class_makes_every_energy_form_rank_alike():
    # With one class the energy-only forms are increasing functions of E, so their AUROCs agree:
    # on a held-out-class job of a two-class dataset the read-out cannot matter. (The tail share
    # is only non-decreasing — every energy below its table reads 0 — so it is left out.)
    rng = np.random.default_rng(3)
    E = rng.normal(size=(200, 1)) * 4
    lab = rng.random(200) < 0.4
    E[lab] += 1.5
    f = S.forms(_job(E, np.zeros(1)), "held-out class")
    energy_forms = [k for k in f if not k.startswith(("base only", "single", "Ledoit", "peer", "ember score", "min_c tail"))]
    aurocs = {k: M.auroc(f[k], lab) for k in energy_forms}
    assert len(set(np.round(list(aurocs.values()), 12))) == 1, aurocs
    assert aurocs[energy_forms[0]] > 0.6


def test_tail_share_is_increasing_beyond_the_table():
    q = np.linspace(0, 1, 101)[None] * 10
    e = np.array([[-1.0], [5.0], [10.0], [12.0], [20.0]])
    t = S._tail(e, q)[:, 0]
    assert np.all(np.diff(t) > 0) or np.all(np.diff(t[1:]) > 0)
    assert t[0] == 0 and abs(t[1] - 0.5) < 1e-9 and t[-1] > 1
