"""ember.sklearn: scikit-learn's estimator checks, GridSearchCV, PyOD conventions for the
detector and imbalanced-learn conventions (fit_resample, pipelines) for the augmenter."""
from __future__ import annotations

import inspect
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import check_estimator

import ember
from conftest import DATA
from ember.sklearn import TRAINING_PARAMETERS, EnergyAugmenter, EnergyClassifier, EnergyDetector

SMALL = dict(hidden=(16,), epochs=30)
#: Checks that cannot apply, with the reason (none is skipped by us; scikit-learn skips this one
#: itself unless SCIPY_ARRAY_API=1 — the estimators take numpy arrays and DataFrames, not array-API
#: namespaces).
NOT_APPLICABLE = {"check_array_api_input"}


@pytest.mark.parametrize("estimator", [EnergyClassifier(**SMALL), EnergyDetector(**SMALL), EnergyAugmenter(**SMALL)],
                         ids=lambda e: type(e).__name__)
def test_passes_check_estimator(estimator):
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed" or (r["status"] == "skipped" and r["check_name"] not in NOT_APPLICABLE)]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 35


def test_augmenter_passes_imbalanced_learn_checks():
    from imblearn.utils.estimator_checks import _yield_all_checks

    est = EnergyAugmenter(**SMALL)
    names = []
    for check in _yield_all_checks(est):
        names.append(getattr(check, "__name__", None) or check.func.__name__)
        check(type(est).__name__, est)
    assert {"check_samplers_fit_resample", "check_samplers_sampling_strategy_fit_resample", "check_samplers_pandas",
            "check_samplers_preserve_dtype", "check_samplers_multiclass_ova"} <= set(names)


def test_hyper_parameters_come_from_the_trainer_declaration():
    names = {o["name"] for o in ember.train_options()} - {"target", "add_to"}
    assert set(TRAINING_PARAMETERS) == names
    sig = inspect.signature(EnergyClassifier.__init__).parameters
    # hidden has no declared default: the trainer picks the widths by class size.
    assert sig["hidden"].default is None and sig["epochs"].default == 400 and sig["min_class_rows"].default == 1
    assert set(inspect.signature(EnergyAugmenter.__init__).parameters) >= {"sampling_strategy", "random_state", "seed"}
    assert EnergyDetector().contamination == 0.1


def test_classifier_on_a_frame_with_strings_and_missing_values():
    df = pd.read_csv(os.path.join(DATA, "penguins.csv"))
    X, y = df.drop(columns="species"), df["species"]
    clf = EnergyClassifier(**SMALL, seed=2).fit(X, y)
    assert list(clf.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    assert list(clf.feature_names_in_) == list(X.columns)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-6)
    assert clf.score(X, y) > 0.9
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])
    # Integer labels come back as integers, in the order of classes_.
    codes = y.map({"Adelie": 2, "Chinstrap": 0, "Gentoo": 1}).to_numpy()
    clf2 = EnergyClassifier(**SMALL, seed=2).fit(X, codes)
    assert list(clf2.classes_) == [0, 1, 2] and clf2.predict(X).dtype.kind == "i"
    np.testing.assert_array_equal(clf2.predict(X), clf2.classes_[clf2.predict_proba(X).argmax(axis=1)])
    assert (clf2.predict(X) == codes).mean() > 0.9


def test_grid_search_tunes_constructor_hyper_parameters():
    from sklearn.datasets import load_wine
    from sklearn.model_selection import GridSearchCV

    X, y = load_wine(return_X_y=True)
    grid = GridSearchCV(EnergyClassifier(seed=1), {"hidden": [(8,), (32, 32)], "epochs": [5, 60]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"hidden", "epochs"}
    assert len(grid.cv_results_["mean_test_score"]) == 4 and grid.best_score_ > 0.8
    assert grid.best_estimator_.model_.inspect()["metadata"]["trainer.epochs"] == str(grid.best_params_["epochs"])


def test_detector_follows_pyod_conventions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    det = EnergyDetector(**SMALL, contamination=0.1).fit(X)
    assert det.decision_scores_.shape == (400,) and det.labels_.mean() == pytest.approx(0.1, abs=0.01)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90))
    far = np.full((5, 4), 6.0)
    assert (det.decision_function(far) > det.decision_scores_.max()).all()
    assert list(det.predict(far)) == [1] * 5
    P = det.predict_proba(np.vstack([X[:5], far]))
    assert P.shape == (10, 2) and np.allclose(P.sum(axis=1), 1) and (P[5:, 1] == 1).all()
    for method in ("unify", "percentile"):
        p = det.predict_proba(far, method=method)[:, 1]
        assert (p > 0.99).all()
    calibrated = EnergyDetector(**SMALL, contamination=None).fit(X)
    assert calibrated.threshold_ == pytest.approx(calibrated.model_.threshold)
    assert 0 < calibrated.labels_.mean() < 0.1
    np.testing.assert_array_equal(det.fit_predict(X), det.labels_)


@pytest.mark.parametrize("strategy,expected", [
    ("auto", {"a": 100, "b": 100, "c": 100}),
    ("all", {"a": 100, "b": 100, "c": 100}),
    ("minority", {"a": 100, "b": 30, "c": 100}),
    ({"b": 50, "c": 40}, {"a": 100, "b": 50, "c": 40}),
])
def test_fit_resample_balances_as_asked(strategy, expected):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (100, 3)), rng.normal(3, 1, (30, 3)), rng.normal(-3, 1, (10, 3))])
    y = np.array(["a"] * 100 + ["b"] * 30 + ["c"] * 10)
    Xr, yr = EnergyAugmenter(**SMALL, sampling_strategy=strategy, random_state=4).fit_resample(X, y)
    assert dict(zip(*np.unique(yr, return_counts=True))) == expected
    np.testing.assert_array_equal(Xr[:140], X)
    new = Xr[140:]
    # Synthetic rows stay near their class (the classes are 3 σ apart).
    for label, centre in (("b", 3), ("c", -3)):
        rows = new[yr[140:] == label]
        if len(rows):
            assert abs(rows.mean() - centre) < 1
    again = EnergyAugmenter(**SMALL, sampling_strategy=strategy, random_state=4).fit_resample(X, y)
    np.testing.assert_array_equal(again[0], Xr)


def test_fit_resample_float_ratio_and_frames_keep_columns_and_dtypes():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 1, (80, 2)), rng.normal(3, 1, (20, 2))])
    y = np.array([0] * 80 + [1] * 20)
    _, yr = EnergyAugmenter(**SMALL, sampling_strategy=0.5).fit_resample(X, y)
    assert (yr == 1).sum() == 40 and (yr == 0).sum() == 80
    df = pd.read_csv(os.path.join(DATA, "penguins.csv"))
    X, y = df.drop(columns="species"), df["species"]
    Xr, yr = EnergyAugmenter(**SMALL).fit_resample(X, y)
    assert isinstance(Xr, pd.DataFrame) and list(Xr.columns) == list(X.columns)
    assert (Xr.dtypes == X.dtypes).all()
    assert yr.value_counts().nunique() == 1 and len(Xr) == 3 * 152
    synthetic = Xr.iloc[len(X):]
    assert not synthetic.isna().any().any()
    assert set(synthetic["island"]) <= set(X["island"].dropna()) and set(synthetic["sex"]) <= {"female", "male"}


def test_augmenter_in_an_imblearn_pipeline():
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (120, 4)), rng.normal(1.5, 1, (15, 4))])
    y = np.array([0] * 120 + [1] * 15)
    pipe = Pipeline([("augment", EnergyAugmenter(**SMALL, random_state=0)), ("model", LogisticRegression())])
    scores = cross_val_score(pipe, X, y, cv=3, scoring="balanced_accuracy")
    assert scores.mean() > 0.7
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (135,)
