"""Tests of the evaluation harness (no Swift build needed: Ember's CLI is stood in for by a tiny
fake script that honours the same command lines).

Run: ``tools/.venv-eval/bin/python -m pytest tools/eval -q``.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import generators as G  # noqa: E402
import metrics as M  # noqa: E402
import report as R  # noqa: E402
import run_eval  # noqa: E402
import tasks as T  # noqa: E402


def test_stratified_take_keeps_shares_and_every_class():
    y = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    idx = D.stratified_take(y, 20, np.random.default_rng(0))
    assert len(idx) == 20 and len(set(idx)) == 20
    vals, counts = np.unique(y[idx], return_counts=True)
    assert dict(zip(vals, counts)) == {"a": 10, "b": 6, "c": 4}
    idx = D.stratified_take(np.array(["a"] * 98 + ["b"] * 2), 10, np.random.default_rng(0))
    assert (np.array(["a"] * 98 + ["b"] * 2)[idx] == "b").sum() >= 1


@pytest.mark.parametrize("name,n_test,sizes", [("iris", 75, [20, 50]), ("wine", 89, [20, 50]),
                                                ("breast_cancer", 284, [20, 50, 100, 200]),
                                                ("digits", 500, [20, 50, 100, 200, 500]),
                                                ("penguins", 172, [20, 50, 100])])
def test_datasets_and_splits(name, n_test, sizes):
    ds = D.load(name)
    pool, test = D.holdout_split(ds)
    assert len(test) == n_test and len(np.intersect1d(pool, test)) == 0
    assert len(pool) + len(test) == len(ds.frame)
    again, _ = D.holdout_split(ds)
    assert (again == pool).all()  # fixed test set
    assert D.n_real_sizes(ds) == sizes
    tr, va = D.real_split(ds, pool, 20, seed=3)
    assert len(tr) + len(va) == 20 and len(np.intersect1d(tr, test)) == 0
    assert 3 <= len(va) <= 6
    assert set(ds.frame[D.TARGET].iloc[tr]) <= set(ds.classes)


def test_penguins_keeps_categoricals_and_missing():
    ds = D.load("penguins")
    assert ds.categorical == ["island", "sex"]
    assert ds.frame["sex"].isna().sum() > 0 and ds.frame["bill_length_mm"].isna().sum() > 0
    enc = D.Encoder().fit(ds, ds.frame)
    x = enc.transform(ds.frame)
    assert np.isfinite(x).all() and x.shape[1] == 5 + 3 + 2
    onehot = x[:, 5:8]
    np.testing.assert_array_equal(onehot.sum(axis=1), 1.0)
    unknown = ds.frame.iloc[:1].copy()
    unknown["island"] = "Atlantis"
    assert enc.transform(unknown)[0, 5:8].sum() == 0.0


def test_class_counts_and_smote_k():
    y = np.array(["a"] * 7 + ["b"] * 3 + ["c"] * 2)
    c = G.class_counts(y, 500)
    assert sum(c.values()) == 500 and c["a"] == 292 and c["b"] == 125 and c["c"] == 83
    assert [G.smote_k(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [0, 1, 1, 3, 3, 5, 5]


@pytest.mark.parametrize("method", sorted(G.BASELINES))
def test_baselines_make_requested_rows_deterministically(method):
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (8, 3)), rng.normal(5, 1, (3, 3)), rng.normal(-5, 1, (1, 3))])
    y = np.array(["a"] * 8 + ["b"] * 3 + ["c"])
    counts = {"a": 20, "b": 10, "c": 5}
    xs, ys = G.BASELINES[method](x, y, counts, 5)
    xs2, _ = G.BASELINES[method](x, y, counts, 5)
    assert xs.shape == (35, 3) and list(np.unique(ys, return_counts=True)[1]) == [20, 10, 5]
    np.testing.assert_array_equal(xs, xs2)
    if method == "smote":  # interpolations stay inside each class's bounding box
        for c in "ab":
            real = x[y == c]
            syn = xs[ys == c]
            assert (syn >= real.min(0) - 1e-9).all() and (syn <= real.max(0) + 1e-9).all()
        np.testing.assert_allclose(xs[ys == "c"], np.repeat(x[y == "c"], 5, axis=0))


def test_fidelity_metrics_order_good_and_bad_samples():
    rng = np.random.default_rng(1)
    real = rng.normal(0, 1, (300, 2))
    y = np.array(["a"] * 300)
    good = rng.normal(0, 1, (300, 2))
    bad = rng.normal(2, 1, (300, 2))
    num = np.array([True, True])
    fg, fb = M.fidelity(good, y, real, y, num), M.fidelity(bad, y, real, y, num)
    assert fg["ks"] < 0.15 < fb["ks"] and fg["inv_kl"] > 0.9 > fb["inv_kl"]
    assert M.median_dcr(real[:10], real) == 0.0
    assert M.median_dcr(real[:10] + 3.0, real) > 0.5


def test_auroc_and_ood_baselines():
    rng = np.random.default_rng(2)
    x_tr = rng.normal(0, 1, (200, 3))
    y_tr = np.array(["a", "b"] * 100)
    x_te = np.vstack([rng.normal(0, 1, (50, 3)), rng.normal(6, 1, (50, 3))])
    pos = np.array([False] * 50 + [True] * 50)
    assert M.auroc(np.arange(100.0), pos) == 1.0
    for name, s in M.ood_baselines(x_tr, y_tr, x_te, 0).items():
        assert M.auroc(s, pos) > 0.95, name


def test_downstream_models_fit_and_score():
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(4, 1, (30, 2))])
    y = np.array(["0"] * 30 + ["1"] * 30, dtype=object)
    for name in M.DOWNSTREAM:
        assert M.fit_score(name, x, y, x, y, 0) > 0.9, name
    # XGBoost with string labels that are not 0..K-1 and a class missing from training
    y3 = np.array(["x"] * 30 + ["z"] * 30, dtype=object)
    ba = M.fit_score("xgb", x, y3, x, np.concatenate([y3[:59], ["q"]]), 0)
    assert 0.5 < ba < 1.0


FAKE_EMBER = textwrap.dedent('''\
    #!{python}
    """Stand-in for the ember CLI: 'trains' by copying the CSV; samples training rows; scores by
    distance to the class means; classifies by the nearest class mean."""
    import sys, shutil, pandas as pd, numpy as np
    a = sys.argv[1:]
    def opt(name, default=None):
        return a[a.index(name) + 1] if name in a else default
    verb = a[0]
    if verb == "train":
        assert opt("--target") == "target" and "--quiet" in a and opt("--min-class-rows") == "2"
        shutil.copy(a[1], opt("--output"))
    elif verb == "sample":
        df = pd.read_csv(a[1])
        n, seed = int(opt("--count")), int(opt("--seed"))
        assert opt("--sampler") in ("tabebm", "langevin", "mala")
        df.sample(n=n, replace=True, random_state=seed).to_csv(opt("--output"), index=False)
    elif verb in ("score", "classify"):
        assert "--unknown-as-missing" in a
        df = pd.read_csv(a[1]); x = pd.read_csv(a[2])
        num = [c for c in x.columns if c in df.columns and df[c].dtype.kind in "fi"]
        means = df.groupby("target")[num].mean()
        d = ((x[num].fillna(0).to_numpy()[:, None, :] - means.to_numpy()[None]) ** 2).sum(-1)
        col = pd.DataFrame({{"score": d.min(1)}}) if verb == "score" else pd.DataFrame({{"label": means.index[d.argmin(1)]}})
        col.to_csv(opt("--output"), index=False)
    else:
        sys.exit(64)
''')


@pytest.fixture()
def fake_ember(tmp_path):
    p = tmp_path / "ember"
    p.write_text(FAKE_EMBER.format(python=sys.executable))
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def test_augmentation_task_with_fake_ember(fake_ember):
    job = dict(dataset="iris", n=20, repeat=0, methods=["real", "smote", "ember"], downstream=["lr", "knn"],
               ember=fake_ember, ember_train_args=["--min-class-rows", "2"], ember_threads=1, synthetic=60)
    recs = T.augmentation_task(job)
    assert not [r for r in recs if r["kind"] == "error"], recs
    util = [r for r in recs if r["kind"] == "utility"]
    assert {r["method"] for r in util} == {"real", "smote", "ember-tabebm", "ember-langevin", "ember-mala"}
    assert all(r["delta"] == 0.0 for r in util if r["method"] == "real")
    fid = {r["method"]: r for r in recs if r["kind"] == "fidelity"}
    assert fid["ember-langevin"]["dcr"] == 0.0  # the fake samples copies of training rows
    assert fid["ember-langevin"]["class_fidelity"] > 0.9
    assert any(r["kind"] == "classify" and r["method"] == "ember" for r in recs)
    assert any(r["kind"] == "timing" and r["method"] == "ember-train" for r in recs)


def test_ember_failure_is_recorded_not_fatal(tmp_path):
    bad = tmp_path / "ember"
    bad.write_text("#!/bin/sh\necho 'ember: error: boom' >&2\nexit 1\n")
    bad.chmod(0o755)
    job = dict(dataset="iris", n=20, repeat=0, methods=["real", "ember-mala"], downstream=["lr"], ember=str(bad),
               ember_train_args=[], synthetic=30)
    recs = T.augmentation_task(job)
    errs = [r for r in recs if r["kind"] == "error"]
    assert len(errs) == 1 and "boom" in errs[0]["message"] and errs[0]["method"] == "ember-mala"
    assert any(r["kind"] == "utility" and r["method"] == "real" for r in recs)


def test_ood_task_with_fake_ember(fake_ember):
    recs = T.ood_task(dict(dataset="penguins", holdout="Adelie", repeat=0, ember=fake_ember,
                           ember_train_args=["--min-class-rows", "2"]))
    got = {r["method"]: r["auroc"] for r in recs if r["kind"] == "ood"}
    assert set(got) == {"ember", "isolation_forest", "lof", "gaussian"}
    assert all(0.0 <= v <= 1.0 for v in got.values())


def test_run_eval_end_to_end_writes_markdown_and_plots(tmp_path, fake_ember):
    out = tmp_path / "EVAL.md"
    rc = run_eval.main(["--datasets", "iris", "--methods", "real,smote,jitter,gaussian,ember-langevin",
                        "--downstream", "lr,knn", "--repeats", "2", "--sizes", "20", "--ood-classes", "1",
                        "--ood-repeats", "1", "--synthetic", "40", "--jobs", "1", "--ember", fake_ember,
                        "--output", str(out), "--img-dir", str(tmp_path / "img"),
                        "--records", str(tmp_path / "rec.json")])
    assert rc == 0
    md = out.read_text()
    for needle in ("## Augmentation utility", "| iris | 20 |", "ember-langevin", "## OOD detection",
                   "isolation_forest", "## Classification", "## Timing per method", "Commit: `"):
        assert needle in md, needle
    assert (tmp_path / "img" / "eval-delta-ba.png").stat().st_size > 1000
    assert (tmp_path / "img" / "eval-ood-auroc.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "rec.json").read_text())
    recs = saved["records"]
    assert {r["repeat"] for r in recs if r["kind"] == "utility"} == {0, 1}
    assert "--repeats 2" in saved["meta"]["command"]
    # re-rendering from the records gives the same tables
    out2 = tmp_path / "EVAL2.md"
    assert run_eval.main(["--from-records", str(tmp_path / "rec.json"), "--output", str(out2),
                          "--img-dir", str(tmp_path / "img2")]) == 0
    md2 = out2.read_text()
    assert md2.split("## Augmentation utility")[1].replace("img2/", "img/") == md.split("## Augmentation utility")[1]
    assert "Paired difference to SMOTE" in md2


def test_unknown_method_is_refused():
    with pytest.raises(SystemExit):
        run_eval.build_jobs(run_eval.parse_args(["--methods", "real,ctgan", "--datasets", "iris"]))


def test_report_mean_std():
    assert R.mean_std([1.0, 3.0]) == "2.000 ± 1.414"
    assert R.mean_std([float("nan")]) == "–"
