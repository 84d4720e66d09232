"""ember.train: in process, from a DataFrame (NaN and strings), arrays or a CSV path, with the
trainer's own options — and the same model as `ember train` on the same table."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import ember
from conftest import DATA, read_csv_text

FAST = dict(epochs=30, hidden=[16, 16])


@pytest.fixture(scope="module")
def penguins():
    return pd.read_csv(os.path.join(DATA, "penguins.csv"))  # strings, NaN, integers


def test_trains_from_a_frame_with_missing_values_and_strings(penguins):
    assert penguins.isna().any().any() and penguins["island"].dtype != np.float64
    m = ember.train(penguins, target="species", seed=3, **FAST)
    assert m.classes == ["Adelie", "Chinstrap", "Gentoo"]
    kinds = dict(zip(m.features, m.feature_kinds))
    # Whole numbers written as 181.0 (pandas' integer columns holding NaN) are integer features.
    assert kinds == {"island": "categorical", "bill_length_mm": "numeric", "bill_depth_mm": "numeric",
                     "flipper_length_mm": "integer", "body_mass_g": "integer", "sex": "categorical",
                     "year": "integer"}
    assert m.summary["balanced_accuracy"] > 0.9 and m.summary["source_rows"] == 344
    assert any("missing value(s) imputed" in w for w in m.summary["warnings"])
    assert "held-out" in m.summary_text
    # Rows with missing cells are scored (imputed), not refused.
    s = m.score(penguins)
    assert np.isfinite(s).all() and len(s) == 344
    assert (m.predict(penguins) == penguins["species"].to_numpy()).mean() > 0.9
    sample = m.sample(30, seed=1)
    assert list(sample.columns) == list(penguins.columns)
    assert sample["year"].dtype == np.int64 and sample["body_mass_g"].dtype == np.int64
    assert sample["bill_length_mm"].dtype == np.float64 and set(sample["sex"]) <= {"female", "male"}


def test_equals_the_cli_on_the_same_table(penguins, cli, tmp_path):
    """Same table, options and seed → the same model: scores, probabilities and samples equal the
    CLI's (≤ 1e-5)."""
    path = os.path.join(DATA, "penguins.csv")
    m = ember.train(penguins, target="species", seed=7, **FAST)
    cli("train", path, "--target", "species", "--seed", 7, "--epochs", 30, "--hidden", "16,16",
        "--output", tmp_path / "cli.ember", "--quiet")
    theirs = ember.load(tmp_path / "cli.ember")
    np.testing.assert_array_equal(m.energies(penguins), theirs.energies(penguins))
    mine = tmp_path / "py.ember"
    m.save(mine)
    out = read_csv_text(cli("score", mine, path))
    np.testing.assert_allclose(out["score"], m.score(penguins), rtol=1e-5, atol=1e-5)
    out = read_csv_text(cli("classify", mine, path))
    cols = [f"p_{c}" for c in m.classes]
    np.testing.assert_allclose(out[cols].to_numpy(), m.predict_proba(penguins), rtol=1e-5, atol=1e-6)
    out = read_csv_text(cli("sample", mine, "--count", 40, "--seed", 11))
    s = m.sample(40, seed=11)
    num = [f for f, k in zip(m.features, m.feature_kinds) if k != "categorical"]
    np.testing.assert_allclose(out[num].to_numpy(), s[num].to_numpy(), rtol=1e-5, atol=1e-5)
    assert (out[["island", "sex", "species"]].astype(str).to_numpy() == s[["island", "sex", "species"]].to_numpy()).all()


def test_trains_from_arrays_and_from_a_csv_path():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 3)), rng.normal(3, 1, (60, 3))])
    y = np.array(["a"] * 60 + ["b"] * 60)
    m = ember.train(X, target=y, **FAST)
    assert m.features == ["x0", "x1", "x2"] and m.classes == ["a", "b"]
    assert (m.predict(X) == y).mean() > 0.95
    named = ember.train(X, target=y, feature_names=["u", "v", "w"], **FAST)
    assert named.features == ["u", "v", "w"]
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    np.testing.assert_array_equal(named.score(frame), named.score(X))
    by_path = ember.train(os.path.join(DATA, "iris.csv"), target="species", seed=1, **FAST)
    by_frame = ember.train(pd.read_csv(os.path.join(DATA, "iris.csv")), target="species", seed=1, **FAST)
    iris = pd.read_csv(os.path.join(DATA, "iris.csv"))
    np.testing.assert_array_equal(by_path.energies(iris), by_frame.energies(iris))


def test_keyword_options_map_onto_the_trainer_option_table():
    names = {o["name"]: o for o in ember.train_options()}
    assert {"hidden", "epochs", "weight_decay", "min_class_rows", "keep_starting_rows", "no_starting_rows"} <= set(names)
    assert names["weight_decay"]["option"] == "--weight-decay" and names["keep_starting_rows"]["flag"]
    assert names["hidden"]["default"] is None, "the trainer sizes the network by class size"
    from ember._train import option_arguments

    assert option_arguments(hidden=[64, 32], weight_decay=1e-4, keep_starting_rows=True, refit=False, lr=None) == [
        "--hidden=64,32", "--weight-decay=0.0001", "--keep-starting-rows"]
    iris = pd.read_csv(os.path.join(DATA, "iris.csv"))
    m = ember.train(iris, target="species", hidden=(8, 4), epochs=5, activation="tanh")
    meta = m.inspect()["metadata"]
    assert meta["trainer.hidden"] == "8,4" and meta["trainer.epochs"] == "5" and meta["trainer.activation"] == "tanh"
    assert all(c.get("starting_rows", 0) in (0, None) for c in m.inspect()["classes"]), "no training rows by default"
    kept = ember.train(iris, target="species", hidden=(8, 4), epochs=5, keep_starting_rows=True)
    assert all(c["starting_rows"] > 0 for c in kept.inspect()["classes"])
    sized = ember.train(iris, target="species", epochs=5).inspect()["metadata"]["trainer.hidden"]
    assert sized == ember.train(iris, target="species", epochs=5, hidden=None).inspect()["metadata"]["trainer.hidden"]


def test_bad_options_and_data_are_refused_with_the_trainers_message():
    iris = pd.read_csv(os.path.join(DATA, "iris.csv"))
    with pytest.raises(ember.OptionError, match="Unknown option '--hiden'"):
        ember.train(iris, target="species", hiden=[8])
    with pytest.raises(ember.OptionError, match=r"'-1' is invalid for '--epochs <epochs>': expected an integer in 1"):
        ember.train(iris, target="species", epochs=-1)
    with pytest.raises(ember.OptionError, match="--activation <activation>': expected one of 'silu'"):
        ember.train(iris, target="species", activation="sigmoid")
    with pytest.raises(ember.OptionError, match="'8,,8' is invalid for '--hidden"):
        ember.train(iris, target="species", hidden="8,,8")
    with pytest.raises(TypeError, match="flag"):
        ember.train(iris, target="species", refit="yes")
    with pytest.raises(ember.DataError, match="no such column"):
        ember.train(iris, target="kind")
    with pytest.raises(ember.DataError, match="(?i)no such file"):
        ember.train("/nonexistent/data.csv", target="y")
    bad = iris.assign(**{"sepal width (cm)": iris["sepal width (cm)"].astype(object)})
    bad.loc[3, "sepal width (cm)"] = "oops"
    with pytest.raises(ember.DataError, match=r"<DataFrame>:5: column \"sepal width \(cm\)\""):
        ember.train(bad, target="species", numeric=["sepal width (cm)"], **FAST)


def test_progress_reports_every_step_of_every_class():
    iris = pd.read_csv(os.path.join(DATA, "iris.csv"))
    seen = []
    ember.train(iris, target="species", epochs=7, hidden=[8], progress=seen.append)
    assert {p["label"] for p in seen} == {"setosa", "versicolor", "virginica"}
    for label in ("setosa", "versicolor", "virginica"):
        mine = [p for p in seen if p["label"] == label]
        phases = mine[0]["phases"]
        ran = max(p["phase"] for p in mine)  # the final refit runs only when the network is kept
        assert phases > 1 and ran >= phases - 1 and {p["phase"] for p in mine} == set(range(1, ran + 1))
        for phase in range(1, ran + 1):
            steps = [p["step"] for p in mine if p["phase"] == phase]
            assert steps == list(range(1, len(steps) + 1))
    assert all(np.isfinite(p["loss"]) and 1 <= p["step"] <= p["steps"] <= 7 and p["class_count"] == 3 for p in seen)

    def boom(_):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        ember.train(iris, target="species", epochs=2, hidden=[8], progress=boom)
