"""Tests of the ctypes binding (ember_ctypes) on the demo model examples/c/demo.ember.

Skips the whole module when libCEmber.so is not built (see ember_ctypes.library_path).
Run: tools/.venv-capi/bin/python -m pytest tools/python/test_ctypes.py
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import ember_ctypes as ec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "examples", "c", "demo.ember")

try:
    ec.load_library()
except ec.LibraryNotFound as e:  # pragma: no cover - depends on the build
    pytest.skip(f"C library not built: {e}", allow_module_level=True)

NORMAL = {"temperature": 60, "vibration": 0.5, "load": 50, "mode": "run"}
FAULT = {"temperature": 85, "vibration": 1.1, "load": 70, "mode": "boost"}
OUTLIER = {"temperature": 99, "vibration": 0.01, "load": 0, "mode": "idle"}


@pytest.fixture(scope="module")
def model():
    with ec.Model(DEMO) as m:
        yield m


def test_describes_the_model(model):
    assert model.labels == ["normal", "fault"]
    assert model.features == ["temperature", "vibration", "load", "mode"]
    assert model.feature_kinds == ["numeric", "numeric", "integer", "categorical"]
    assert model.target == "state"
    assert model.width == 6
    np.testing.assert_allclose(model.priors, [0.7, 0.3], atol=1e-12)
    assert model.threshold == pytest.approx(8.5)
    assert ec.version().count(".") == 2


def test_open_bytes_matches_open_path(model):
    with open(DEMO, "rb") as f:
        other = ec.Model(data=f.read())
    X = np.random.default_rng(0).normal(size=(50, model.width)).astype(np.float32)
    np.testing.assert_array_equal(other.energies(X), model.energies(X))
    other.close()
    other.close()  # idempotent
    with pytest.raises(ValueError):
        other.energies(X)


def test_open_errors_carry_status_and_location(tmp_path):
    missing = tmp_path / "missing.ember"
    with pytest.raises(ec.EmberError) as e:
        ec.Model(missing)
    assert e.value.status == ec.E_IO and str(missing) in e.value.message
    data = bytearray(open(DEMO, "rb").read())
    data[len(data) // 2] ^= 0x10
    with pytest.raises(ec.EmberError) as e:
        ec.Model(data=bytes(data))
    assert e.value.status in (5, ec.E_CHECKSUM, 8)


def test_encode_standardises_and_one_hot_encodes(model):
    X = model.encode([{"temperature": 70, "vibration": 0.9, "load": 10, "mode": "boost", "extra": "ignored"},
                      {"temperature": None, "vibration": "NA", "mode": "idle"}])
    np.testing.assert_allclose(X[0], [1.0, 2.0, -2.0, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(X[1], [0, 0, 0, 1, 0, 0], atol=1e-6)  # missing → training values


def test_encode_errors(model):
    with pytest.raises(ec.EmberError) as e:
        model.encode({**NORMAL, "mode": "turbo"}, unknown_category="error")
    assert e.value.status == ec.E_UNKNOWN_CATEGORY and "mode" in e.value.message
    X, flags = model.encode([NORMAL, {**NORMAL, "mode": "turbo"}], return_flags=True)
    assert X[1, 4] == 1 and list(flags) == [0, ec.ROW_UNKNOWN_CATEGORY]
    with pytest.raises(ec.EmberError) as e:
        model.encode({**NORMAL, "temperature": "hot"})
    assert e.value.status == ec.E_BAD_VALUE and "temperature" in e.value.message
    for bad in ("1e39", "0x10", "inf"):
        with pytest.raises(ec.EmberError) as e:
            model.encode({**NORMAL, "temperature": bad})
        assert e.value.status == ec.E_BAD_VALUE, bad


def test_missing_values_are_missing_by_default_as_in_training(model):
    """pandas' NaN / NA, numpy NaN, None and the missing tokens are imputed (no flag needed)."""
    imputed = model.encode({**NORMAL, "temperature": None})
    for v in (float("nan"), np.float32("nan"), "NaN", "nan", "NA", ""):
        np.testing.assert_array_equal(model.encode({**NORMAL, "temperature": v}), imputed, err_msg=repr(v))
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([{**NORMAL, "temperature": np.nan}, {**NORMAL, "load": pd.NA}])
    X = model.encode(frame.to_dict("records"))
    assert X[0, 0] == imputed[0, 0] and X[1, 2] == 0


def test_unseen_category_rows_are_flagged_anomalous(model):
    X, flags = model.encode([NORMAL, {**NORMAL, "mode": "turbo"}], return_flags=True)
    s, p, a = model.score(X, details=True, flags=flags)
    assert list(a) == [False, True]
    _, _, plain = model.score(X, details=True)
    assert not plain[0]


def test_score_is_the_free_energy_of_the_energies(model):
    X = np.random.default_rng(1).normal(scale=2, size=(400, model.width)).astype(np.float32)
    E = model.energies(X).astype(np.float64)
    logits = np.log(model.priors)[None, :] - E
    m = logits.max(axis=1)
    ref = -(m + np.log(np.exp(logits - m[:, None]).sum(axis=1)))
    np.testing.assert_allclose(model.score(X), ref, rtol=1e-5, atol=1e-4)
    s, p, a = model.score(X, details=True)
    np.testing.assert_array_equal(a, s > model.threshold)
    order = np.argsort(s)
    assert np.all(np.diff(p[order]) >= -1e-7), "percentiles must not decrease with the score"
    assert p.min() >= 0 and p.max() <= 100 and p.max() > 1, "percentiles are 0–100, as on the CLI"


def test_outlier_scores_high_and_classes_are_recovered(model):
    X = model.encode([NORMAL, FAULT, OUTLIER])
    s, _, a = model.score(X, details=True)
    assert list(a) == [False, False, True]
    assert s[2] - s[0] > 10
    labels, P = model.classify(X, probs=True)
    assert model.predict_labels(X[:2]) == ["normal", "fault"]
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(labels, P.argmax(axis=1))


def test_batching_does_not_change_results(model):
    X = np.random.default_rng(2).normal(size=(130, model.width)).astype(np.float32)
    whole = model.energies(X)
    parts = np.concatenate([model.energies(X[i:i + 7]) for i in range(0, len(X), 7)])
    np.testing.assert_array_equal(whole, parts)
    np.testing.assert_array_equal(model.energies(X[5]), whole[5:6])
    assert model.energies(np.zeros((0, model.width))).shape == (0, 2)
    with pytest.raises(ValueError):
        model.energies(np.zeros((3, model.width + 1)))


def test_sample_is_seeded_and_decodes_into_the_training_range(model):
    a, ca = model.sample(300, seed=11, return_classes=True)
    b = model.sample(300, seed=11, threads=2)
    c = model.sample(300, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (ca == 0).sum() == 210 and (ca == 1).sum() == 90
    assert model.last_sample_stats["chains"] == 300
    rows = model.decode(a[:50])
    for t, v, load, mode in rows:
        assert 20 <= float(t) <= 100 and 0 <= float(v) <= 2
        assert str(int(load)) == load and 0 <= int(load) <= 100
        assert mode in ("idle", "run", "boost")


def test_sample_options(model):
    # Zero steps and no initial noise return stored starting rows of "normal" exactly.
    S = model.sample(40, cls="normal", seed=3, steps=0, init_noise=0.0, init="starting_rows")
    np.testing.assert_array_equal(S[:, 1], -S[:, 0])
    np.testing.assert_array_equal(S[:, 3:], np.tile([0, 1, 0], (40, 1)))
    model.sample(20, cls=1, seed=3, kind="mala", steps=5)
    st = model.last_sample_stats
    assert st["proposals"] == 100 and 0 <= st["accepted"] <= 100
    with pytest.raises(ec.EmberError) as e:
        model.sample(5, cls="nope")
    assert e.value.status == ec.E_UNKNOWN_CLASS
    with pytest.raises(ec.EmberError) as e:
        model.sample(5, step_size=-1.0)
    assert e.value.status == ec.E_INVALID_ARGUMENT
    with pytest.raises(TypeError):
        model.sample(5, bogus=1)


def test_threads_share_one_model(model):
    X = np.random.default_rng(3).normal(size=(500, model.width)).astype(np.float32)
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


def _cli():
    env = os.environ.get("EMBER_BIN")
    cands = [env] if env else [os.path.join(ROOT, p) for p in
                               ("dist/ember", ".build/release/ember", ".build/debug/ember")]
    return next((c for c in cands if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)


@pytest.mark.parametrize("name", ["iris", "penguins"])
def test_matches_the_cli_on_trained_models(name, tmp_path):
    """The C API and `ember score / classify / sample` agree on the committed models."""
    import csv
    import subprocess

    exe = _cli()
    path = os.path.join(ROOT, "models", f"{name}.ember")
    data = os.path.join(ROOT, "models", "data", f"{name}.csv")
    if exe is None or not (os.path.isfile(path) and os.path.isfile(data)):
        pytest.skip("needs a built ember CLI (EMBER_BIN) and models/<name>.ember with models/data/<name>.csv")

    def run(*args):
        out = subprocess.run([exe, *args], check=True, capture_output=True, text=True).stdout
        return list(csv.DictReader(out.splitlines()))

    m = ec.Model(path)
    rows = list(csv.DictReader(open(data, newline="")))
    X, flags = m.encode(rows, return_flags=True)
    s, p, a = m.score(X, details=True, flags=flags)
    cli = run("score", path, data)
    np.testing.assert_allclose([float(r["score"]) for r in cli], s, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose([float(r["percentile"]) for r in cli], p, atol=1e-3)
    assert [r["anomaly"] == "1" for r in cli] == list(a)
    labels, P = m.classify(X, probs=True)
    cli = run("classify", path, data)
    assert [r["label"] for r in cli] == [m.labels[i] for i in labels]
    np.testing.assert_allclose([[float(r[f"p_{c}"]) for c in m.labels] for r in cli], P, rtol=1e-4, atol=1e-6)
    S, cls = m.sample(9, seed=5, return_classes=True)
    cli = run("sample", path, "--count", "9", "--seed", "5")
    assert [[r[f] for f in m.features] for r in cli] == m.decode(S)
    assert [r[m.target] for r in cli] == [m.labels[i] for i in cls]
