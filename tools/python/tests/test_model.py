"""ember.Model on the demo model (examples/c/demo.ember) and the committed models: columns in,
answers out through the runtime, and the same answers as the CLI."""
from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pandas as pd
import pytest

import ember
from conftest import DATA, DEMO, ROOT, read_csv_text

NORMAL = {"temperature": 60, "vibration": 0.5, "load": 50, "mode": "run"}
FAULT = {"temperature": 85, "vibration": 1.1, "load": 70, "mode": "boost"}
OUTLIER = {"temperature": 99, "vibration": 0.01, "load": 0, "mode": "idle"}


@pytest.fixture(scope="module")
def model():
    with ember.load(DEMO) as m:
        yield m


def test_describes_the_model(model):
    assert model.classes == ["normal", "fault"]
    assert model.features == ["temperature", "vibration", "load", "mode"]
    assert model.feature_kinds == ["numeric", "numeric", "integer", "categorical"]
    assert model.target == "state"
    assert model.width == 6
    np.testing.assert_allclose(model.priors, [0.7, 0.3], atol=1e-12)
    assert model.threshold == pytest.approx(8.5)
    info = model.inspect()
    assert info["features"][3]["categories"] == ["idle", "run", "boost"]
    assert ember.version().count(".") == 2


def test_the_library_is_found_without_environment_variables():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "EMBER_LIB"}
    out = subprocess.run([sys.executable, "-c", "import ember, ember._capi as c; ember.version(); print(c.library_path())"],
                         capture_output=True, text=True, env=env, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("libCEmberTrainer.so")


def test_open_errors(tmp_path):
    with pytest.raises(ember.ModelFileError) as e:
        ember.load(tmp_path / "missing.ember")
    assert e.value.status == 2 and "missing.ember" in e.value.message
    data = bytearray(open(DEMO, "rb").read())
    data[len(data) // 2] ^= 0x10
    with pytest.raises(ember.ModelFileError):
        ember.Model.from_bytes(bytes(data))


def test_encode_standardises_imputes_and_one_hot_encodes(model):
    X = pd.DataFrame([{"temperature": 70, "vibration": 0.9, "load": 10, "mode": "boost", "extra": "ignored"},
                      {"temperature": None, "vibration": np.nan, "load": None, "mode": None}])
    np.testing.assert_allclose(model.encode(X), [[1.0, 2.0, -2.0, 0, 0, 1], [0, 0, 0, 0, 1, 0]], atol=1e-6)
    # Text columns are read by the runtime, as CSV cells are: numbers parsed, "NA" missing.
    T = pd.DataFrame({"temperature": ["70", "NA"], "vibration": [" 0.9 ", ""], "load": ["10", "?"],
                      "mode": ["boost", "N/A"]})
    np.testing.assert_allclose(model.encode(T), model.encode(X), atol=1e-6)
    # Pandas categoricals, nullable integers and a mapping of one row.
    C = X.astype({"mode": "category", "load": "Int64"})
    np.testing.assert_array_equal(model.encode(C), model.encode(X))
    np.testing.assert_array_equal(model.encode(NORMAL), model.encode(pd.DataFrame([NORMAL])))


def test_missing_values_are_missing_by_default_as_in_training(model):
    """NaN (float and numpy), None, pandas' NA and the missing tokens are imputed, no flag needed."""
    imputed = model.encode({**NORMAL, "temperature": None})
    for v in (float("nan"), np.float32("nan"), pd.NA, "NaN", "nan", "NA", "na", "N/A", "?", ""):
        frame = pd.DataFrame({**{k: [v] for k, v in NORMAL.items()}, "temperature": pd.Series([v], dtype=object)})
        np.testing.assert_array_equal(model.encode(frame), imputed, err_msg=repr(v))
    frame = pd.DataFrame([{**NORMAL, "temperature": np.nan}, {**NORMAL, "load": pd.NA}])
    X = model.encode(frame.astype({"load": "Int64"}))
    assert X[0, 0] == imputed[0, 0] and X[1, 2] == 0


def test_unseen_categories_are_missing_and_their_rows_anomalous(model):
    """As `ember score`: an unseen category is read as missing and flags its row anomalous;
    unknown="error" keeps the strict mode (the row and the column named)."""
    rows = pd.DataFrame([NORMAL, NORMAL, {**NORMAL, "mode": "turbo"}])
    X, flags = model.encode(rows, return_flags=True)
    assert X[2, 4] == 1 and list(flags) == [0, 0, 1]  # imputed with the training mode, flagged
    np.testing.assert_array_equal(X[2], model.encode(pd.DataFrame([{**NORMAL, "mode": None}]))[0])
    d = model.score(rows, details=True)
    assert list(d["anomaly"]) == [False, False, True]
    assert d["score"][2] == model.score(pd.DataFrame([{**NORMAL, "mode": None}]))[0]
    assert list(model.predict(rows)) == ["normal"] * 3
    with pytest.raises(ember.DataError) as e:
        model.score(rows, unknown="error")
    assert e.value.status == 12 and "mode" in e.value.message and "row 2" in e.value.message
    with pytest.raises(ValueError, match="unknown"):
        model.score(rows, unknown="ignore")


def test_bad_values_name_the_row_and_column(model):
    with pytest.raises(ember.DataError) as e:
        model.score(pd.DataFrame([NORMAL, {**NORMAL, "temperature": "hot"}]))
    assert e.value.status == 11 and "temperature" in e.value.message and "row 1" in e.value.message
    with pytest.raises(ember.DataError) as e:
        model.score(pd.DataFrame([{**NORMAL, "vibration": np.inf}]))
    assert "vibration" in e.value.message and "row 0" in e.value.message
    with pytest.raises(ember.DataError) as e:
        model.score(pd.DataFrame([{**NORMAL, "temperature": 1e39}]))
    assert "float range" in e.value.message
    for bad in ("1e39", "0x10", "inf"):  # text is read as a CSV cell is
        with pytest.raises(ember.DataError) as e:
            model.score(pd.DataFrame([{**NORMAL, "temperature": bad}]))
        assert e.value.status == 11 and "temperature" in e.value.message, bad
    with pytest.raises(ember.DataError, match="appears twice"):
        model.score(pd.DataFrame([[60, 0.5, 50, "run", 61]], columns=["temperature", "vibration", "load", "mode",
                                                                      "temperature"]))
    with pytest.raises(ember.DataError) as e:
        model.score(pd.DataFrame({"temperature": [1.0], "mode": ["run"]}))
    assert e.value.status == 10 and '"vibration", "load"' in e.value.message


def test_arrays_are_features_in_model_order(model):
    X = np.array([[60, 0.5, 50, "run"], [85, 1.1, 70, "boost"]], dtype=object)
    frame = pd.DataFrame([NORMAL, FAULT])
    np.testing.assert_array_equal(model.score(X), model.score(frame))
    with pytest.raises(ValueError, match="3 columns"):
        model.score(np.zeros((2, 3)))


def test_score_is_the_free_energy_of_the_energies(model):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"temperature": rng.normal(60, 20, 400), "vibration": rng.normal(0.5, 0.4, 400),
                      "load": rng.integers(0, 100, 400), "mode": rng.choice(["idle", "run", "boost"], 400)})
    E = model.energies(X).astype(np.float64)
    logits = np.log(model.priors)[None, :] - E
    m = logits.max(axis=1)
    ref = -(m + np.log(np.exp(logits - m[:, None]).sum(axis=1)))
    np.testing.assert_allclose(model.score(X), ref, rtol=1e-5, atol=1e-4)
    d = model.score(X, details=True)
    assert list(d.columns) == ["score", "percentile", "anomaly"]
    np.testing.assert_array_equal(d["anomaly"], d["score"] > model.threshold)
    order = np.argsort(d["score"].to_numpy())
    assert np.all(np.diff(d["percentile"].to_numpy()[order]) >= -1e-7)
    p = d["percentile"]
    assert p.min() >= 0 and p.max() <= 100 and p.max() > 1, "percentiles are 0–100, as on the CLI and in C"


def test_outliers_score_high_and_classes_are_recovered(model):
    X = pd.DataFrame([NORMAL, FAULT, OUTLIER], index=["a", "b", "c"])
    d = model.score(X, details=True)
    assert list(d.index) == ["a", "b", "c"] and list(d["anomaly"]) == [False, False, True]
    c = model.classify(X)
    assert list(c.columns) == ["label", "p_normal", "p_fault"] and list(c.index) == ["a", "b", "c"]
    assert list(c["label"][:2]) == ["normal", "fault"] == list(model.predict(X[:2]))
    P = model.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(model.predict_index(X), P.argmax(axis=1))


def test_batches_and_layouts_do_not_change_results(model):
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"temperature": rng.normal(60, 20, 130), "vibration": rng.normal(0.5, 0.4, 130),
                      "load": rng.integers(0, 100, 130).astype(float), "mode": rng.choice(["idle", "run"], 130)})
    whole = model.energies(X)
    parts = np.concatenate([model.energies(X.iloc[i:i + 7]) for i in range(0, len(X), 7)])
    np.testing.assert_array_equal(whole, parts)
    # Reordered and extra columns, a Fortran-ordered numeric block: same rows, same answers.
    shuffled = X[["mode", "load", "vibration", "temperature"]].assign(extra=1)
    np.testing.assert_array_equal(model.energies(shuffled), whole)
    assert model.energies(X.iloc[:0]).shape == (0, 2)


def test_sample_is_seeded_and_decodes_into_the_training_range(model):
    a = model.sample(300, seed=11)
    b = model.sample(300, seed=11, threads=2)
    c = model.sample(300, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert list(a.columns) == ["temperature", "vibration", "load", "mode", "state"]
    assert (a["state"] == "normal").sum() == 210 and (a["state"] == "fault").sum() == 90
    assert model.sample_counts(300) == [210, 90]
    assert a["load"].dtype == np.int64 and a["temperature"].dtype == np.float64
    assert a["temperature"].between(20, 100).all() and a["vibration"].between(0, 2).all()
    assert set(a["mode"]) <= {"idle", "run", "boost"}
    assert model.last_sample_stats["chains"] == 300


def test_chain_ranges_reassemble_a_run(model):
    whole, _ = model.sample_encoded(700, "normal", seed=5)
    parts = [model.sample_encoded(n, "normal", seed=5, first_chain=f)[0] for f, n in ((0, 1), (1, 299), (300, 400))]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_sample_options(model):
    S, _ = model.sample_encoded(40, "normal", seed=3, steps=0, init_noise=0.0, init="stored")
    np.testing.assert_array_equal(S[:, 3:], np.tile([0, 1, 0], (40, 1)))
    model.sample(20, cls=1, seed=3, sampler="mala", steps=5)
    assert model.last_sample_stats["proposals"] == 100
    with pytest.raises(ValueError):
        model.sample(5, cls="nope")
    with pytest.raises(ember.EmberError) as e:
        model.sample(5, step_size=-1.0)
    assert e.value.status == 1
    with pytest.raises(TypeError):
        model.sample(5, bogus=1)


def test_class_filter_option(model):
    default, _ = model.sample_encoded(300, seed=9)
    balanced, _ = model.sample_encoded(300, seed=9, class_filter="balanced")
    off, _ = model.sample_encoded(300, seed=9, class_filter="off")
    readout, _ = model.sample_encoded(300, seed=9, class_filter="readout")
    np.testing.assert_array_equal(default, readout)
    # Rows the filter accepted at their first run are the unfiltered rows; the others differ.
    same = (off == balanced).all(axis=1)
    assert same.sum() > 150
    readout2, _ = model.sample_encoded(300, seed=9, class_filter="readout", threads=2)
    np.testing.assert_array_equal(readout, readout2)
    assert np.isfinite(readout).all() and (off == readout).all(axis=1).sum() > 150
    with pytest.raises(ValueError):
        model.sample(5, class_filter="strict")


def test_threads_share_one_model(model):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"temperature": rng.normal(60, 20, 500), "vibration": rng.normal(0.5, 0.4, 500),
                      "load": rng.integers(0, 100, 500), "mode": rng.choice(["idle", "run"], 500)})
    ref = model.score(X)
    results = [None] * 4

    def work(i):
        for _ in range(10):
            results[i] = model.score(X)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, ref)


def test_save_load_and_pickle(model, tmp_path):
    path = tmp_path / "copy.ember"
    model.save(path)
    assert open(path, "rb").read() == open(DEMO, "rb").read()
    assert ember.Model.load(path).to_bytes() == model.to_bytes()
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]
    clone = pickle.loads(pickle.dumps(model))
    X = pd.DataFrame([NORMAL, FAULT, OUTLIER])
    np.testing.assert_array_equal(clone.score(X), model.score(X))
    clone.close()
    clone.close()
    with pytest.raises(ValueError, match="closed"):
        clone.score(X)


@pytest.mark.parametrize("name", ["iris", "penguins"])
def test_matches_the_cli_on_the_committed_models(name, cli, tmp_path):
    """Scores, percentiles, probabilities and samples equal `ember score / classify / sample`."""
    path = os.path.join(ROOT, "models", f"{name}.ember")
    data = os.path.join(DATA, f"{name}.csv")
    m = ember.load(path)
    frame = pd.read_csv(data)  # NaN where the CSV has empty cells
    d = m.score(frame, details=True)
    out = read_csv_text(cli("score", path, data))
    np.testing.assert_allclose(out["score"], d["score"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["percentile"], d["percentile"], atol=1e-3)
    assert list(out["anomaly"] == 1) == list(d["anomaly"])
    c = m.classify(frame)
    out = read_csv_text(cli("classify", path, data))
    assert list(out["label"].astype(str)) == list(c["label"])
    cols = [f"p_{k}" for k in m.classes]
    np.testing.assert_allclose(out[cols].to_numpy(), c[cols].to_numpy(), rtol=1e-4, atol=1e-6)
    s = m.sample(50, seed=5)
    out = read_csv_text(cli("sample", path, "--count", 50, "--seed", 5))
    assert list(out.columns) == list(s.columns)
    for f, kind in zip(m.features, m.feature_kinds):
        if kind == "categorical":
            assert list(out[f].astype(str)) == list(s[f])
        else:
            np.testing.assert_allclose(out[f], s[f], rtol=1e-5, atol=1e-5)
    assert list(out[m.target].astype(str)) == list(s[m.target])


def test_unseen_categories_score_as_on_the_cli(cli, tmp_path):
    """A row with an island never seen in training: the same score, percentile and anomaly flag as
    `ember score` (which also reads it as missing and flags the row)."""
    path = os.path.join(ROOT, "models", "penguins.ember")
    frame = pd.read_csv(os.path.join(DATA, "penguins.csv")).head(20)
    frame.loc[[3, 7], "island"] = "Atlantis"
    data = tmp_path / "rows.csv"
    frame.to_csv(data, index=False)
    m = ember.load(path)
    d = m.score(frame, details=True)
    out = read_csv_text(cli("score", path, data))
    np.testing.assert_allclose(out["score"], d["score"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["percentile"], d["percentile"], atol=1e-3)
    assert list(out["anomaly"] == 1) == list(d["anomaly"])
    assert d["anomaly"][3] and d["anomaly"][7]


@pytest.mark.parametrize("name", ["iris", "penguins"])
def test_explain_names_the_columns_and_shares_the_cli_prints(name, cli):
    """Model.explain(X, k) equals `ember score --explain k` (column names exactly, shares within
    1e-5) on every row of a committed model's data (penguins: missing cells, text categories)."""
    path = os.path.join(ROOT, "models", f"{name}.ember")
    data = os.path.join(DATA, f"{name}.csv")
    m = ember.load(path)
    frame = pd.read_csv(data)
    k = 3
    got, a = m.explain(frame, k, attributions=True)
    out = read_csv_text(cli("score", path, data, "--explain", k))
    assert list(got.columns) == [c for j in range(1, k + 1) for c in (f"why_{j}", f"why_{j}_share")]
    assert list(got.index) == list(frame.index)
    for j in range(1, k + 1):
        assert list(got[f"why_{j}"]) == list(out[f"why_{j}"].astype(str))
        np.testing.assert_allclose(got[f"why_{j}_share"], out[f"why_{j}_share"], atol=1e-5, rtol=0)
    # The attributions behind them: one column per feature; the top one is the largest.
    assert a.shape == (len(frame), len(m.features)) and np.isfinite(a).all()
    first = np.asarray(m.features, dtype=object)[np.argmax(a, axis=1)]
    assert list(first) == list(got["why_1"])
    pos = np.maximum(a, 0)
    total = pos.sum(1)
    has = total > 0
    np.testing.assert_allclose(got["why_1_share"][has], (pos.max(1) / np.where(has, total, 1))[has], atol=1e-6)


def test_explain_takes_what_score_takes_and_checks_k(model):
    """Dicts, arrays and frames with None / NaN give the same explanation; a wild cell is named
    first; k outside 0…F is a ValueError, k = 0 gives no columns but the attributions."""
    rows = [NORMAL, dict(NORMAL, temperature=200.0), dict(FAULT, vibration=None)]
    frame = pd.DataFrame(rows)
    e = model.explain(frame, 2)
    assert e["why_1"][1] == "temperature"
    assert ((e["why_1_share"] >= 0) & (e["why_1_share"] <= 1)).all()
    by_dict = model.explain({c: [r[c] for r in rows] for c in model.features}, 2)
    pd.testing.assert_frame_equal(by_dict.reset_index(drop=True), e.reset_index(drop=True))
    one = model.explain(dict(NORMAL, temperature=200.0), 1)
    assert list(one["why_1"]) == ["temperature"]
    empty, a = model.explain(frame, 0, attributions=True)
    assert list(empty.columns) == [] and a.shape == (3, 4)
    for bad in (-1, 5, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            model.explain(frame, bad)
