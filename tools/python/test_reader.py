"""Tests of the pure-Python `.ember` reader, writer and numpy reference implementation.

Run: ``tools/.venv/bin/python -m pytest tools/python/test_reader.py -q``. With ``EMBER_BIN`` set to a built
``ember`` executable, the Python-written files are also checked by ``ember verify``.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ember_reader as er  # noqa: E402
import ember_writer as ew  # noqa: E402


def numeric_grad(cls: er.ClassModel, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    g = np.zeros_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        g[:, j] = (cls.energy(x + e) - cls.energy(x - e)) / (2 * h)
    return g


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return ew.serialize(ew.random_model(d=6, hidden=(8, 8), classes=3, seed=7, categorical=True, components=2))


def test_round_trip_is_byte_identical_and_aligned(model_bytes):
    m = er.read_model(model_bytes)
    assert m.format_version == er.READER_VERSION
    assert m.payload_crc32 == zlib.crc32(ew.serialize_payload(m))
    assert len(model_bytes) % 64 == 0
    assert ew.serialize(m) == model_bytes
    c = m.classes[1]
    for arr in (c.layers[0].weights, c.layers[0].bias, c.base.means, c.base.precision, c.starting_rows):
        assert arr.ctypes.data % 64 == 0, "weight vectors must be 64-byte aligned"
        assert not arr.flags.owndata, "float32 vectors are read in place"
    assert [f.name for f in m.features] == ["x0", "x1", "x2", "color"]
    assert m.features[3].categories == ["red", "green", "blue"]
    assert m.classes[2].sampler.kind == "langevin" and m.classes[2].sampler.init == "starting_rows"
    assert m.metadata == {"generator": "random_model"}


def test_same_seed_same_bytes():
    a = ew.serialize(ew.random_model(seed=3))
    b = ew.serialize(ew.random_model(seed=3))
    c = ew.serialize(ew.random_model(seed=4))
    assert a == b and a != c


def test_rejects_bad_identifier(model_bytes):
    bad = bytearray(model_bytes)
    bad[4:8] = b"XXXX"
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(bytes(bad))
    assert e.value.kind == "not_a_model"


def test_rejects_truncated():
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(b"\x00" * 8)
    assert e.value.kind == "truncated"


def test_detects_corrupted_weight(model_bytes):
    m = er.read_model(model_bytes)
    # Flip one bit inside the first layer's weights of class 0.
    w = m.classes[0].layers[0].weights
    base = np.frombuffer(m.raw, dtype=np.uint8).ctypes.data
    pos = w.ctypes.data - base + 5
    bad = bytearray(model_bytes)
    bad[pos] ^= 0x10
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(bytes(bad))
    assert e.value.kind == "checksum_mismatch"
    assert "checksum" in str(e.value)


def test_mutations_and_truncations_raise_typed_errors(model_bytes):
    """Random byte flips (envelope and payload) and truncations: a typed error or a valid model,
    never another exception."""
    rng = np.random.default_rng(0)
    kinds = set()
    for trial in range(300):
        bad = bytearray(model_bytes)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, 96)) if trial % 2 else int(rng.integers(0, len(bad)))
            bad[pos] = int(rng.integers(0, 256))
        try:
            er.read_model(bytes(bad))
        except er.EmberFileError as exc:
            kinds.add(exc.kind)
    for cut in range(0, len(model_bytes), 97):
        with pytest.raises(er.EmberFileError):
            er.read_model(model_bytes[:cut])
    assert "checksum_mismatch" in kinds


def test_rejects_newer_major_and_min_reader():
    payload = ew.serialize_payload(ew.random_model())
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(ew.wrap_payload(payload, version=(2, 0)))
    assert e.value.kind == "unsupported_version"
    with pytest.raises(er.EmberFileError) as e:
        major, minor = er.READER_VERSION
        er.read_model(ew.wrap_payload(payload, version=(major, minor + 2), min_reader=(major, minor + 1)))
    assert e.value.kind == "unsupported_version"
    assert er.read_model(ew.wrap_payload(payload, version=(1, 9), min_reader=(1, 0))).format_version == (1, 9)


def test_semantic_validation_names_location():
    m = ew.random_model(d=4, hidden=(5,), classes=2)
    m.classes[1].layers[1] = er.Layer(4, 1, "identity", "float32", np.zeros((1, 4), np.float32),
                                      np.zeros(1, np.float32))
    payload = ew.serialize_payload(m)
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(ew.wrap_payload(payload))
    assert e.value.kind == "invalid"
    assert 'class 1 "class1" layer 1 inputs' in str(e.value)


@pytest.mark.parametrize("act", er.ACTIVATIONS)
@pytest.mark.parametrize("output", er.OUTPUT_MODES)
def test_gradient_matches_finite_differences(act, output):
    m = er.read_model(ew.serialize(ew.random_model(d=5, hidden=(7, 6), classes=1, seed=11, activation=act,
                                                   output=output, components=3)))
    x = np.random.default_rng(1).normal(size=(6, 5))
    c = m.classes[0]
    e, g = c.energy_and_grad(x)
    assert e.shape == (6,) and g.shape == (6, 5)
    ng = numeric_grad(c, x)
    # relu kinks are measure-zero; random points are away from them at this h.
    np.testing.assert_allclose(g, ng, rtol=1e-5, atol=1e-6)


def test_energy_matches_hand_computation():
    """One-hidden-unit network and a 1-D Gaussian base, computed by hand."""
    feat = er.Feature("a", "numeric", 0.0, 0.0, 1.0, -10, 10, [], 0, 1, 0)
    l1 = er.Layer(1, 1, "tanh", "float32", np.array([[2.0]], np.float32), np.array([0.5], np.float32))
    l2 = er.Layer(1, 1, "identity", "float32", np.array([[-3.0]], np.float32), np.array([1.0], np.float32))
    base = er.GaussianBase(np.array([[1.0]], np.float32), np.array([0.0], np.float32),
                           np.array([[0.25]], np.float32), math.log(4.0), 1)
    c = er.ClassModel("k", 1.0, 1, [l1, l2], "logodds", base, 0.5, None, None, np.zeros((0, 1), np.float32), 0.0)
    m = er.Model((1, 0), (1, 0), 0, {}, "y", [feat], 1, [c], 1.0, None, {})
    m2 = er.read_model(ew.serialize(m))
    x = 0.3
    r = -3.0 * math.tanh(2 * x + 0.5) + 1.0
    eb = 0.5 * 0.25 * (x - 1) ** 2 + 0.5 * math.log(4.0) + 0.5 * math.log(2 * math.pi)
    expected = 0.5 * (-r) + eb
    assert m2.classes[0].energy(np.array([[x]]))[0] == pytest.approx(expected, rel=1e-6)
    # and the free-energy score of a single class with prior 1 equals its energy
    assert m2.scores(np.array([[x]]))[0] == pytest.approx(expected, rel=1e-6)


def test_gelu_is_exact_erf_form():
    z = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in z]
    np.testing.assert_allclose(er.activate("gelu", z), expected, rtol=1e-12)


def test_float16_weights_are_widened():
    m = ew.random_model(d=4, hidden=(6,), weight_type="float16", seed=5)
    r = er.read_model(ew.serialize(m))
    layer = r.classes[0].layers[0]
    assert layer.weight_type == "float16" and layer.weights.dtype == np.float32
    np.testing.assert_array_equal(layer.weights, m.classes[0].layers[0].weights)


def test_encode_decode(model_bytes):
    m = er.read_model(model_bytes)
    f0, f1 = m.features[0], m.features[1]
    rows = [{"x0": "3", "x1": "NA", "x2": 0.5, "color": "green"},
            {"x0": None, "x1": 1.25, "x2": "", "color": ""}]
    x = m.encode(rows)
    assert x.shape == (2, 6)
    assert x[0, 0] == pytest.approx((3 - f0.mean) / f0.std)
    assert x[0, 1] == pytest.approx((f1.impute_value - f1.mean) / f1.std)
    np.testing.assert_array_equal(x[0, 3:], [0, 1, 0])
    np.testing.assert_array_equal(x[1, 3:], [0, 1, 0])  # missing → impute category index 1
    back = m.decode(x)
    assert back[0]["color"] == "green" and back[0]["x0"] == 3 and isinstance(back[0]["x0"], int)
    assert back[1]["x1"] == pytest.approx(1.25)
    # out-of-range values are clipped to the observed range on decode
    far = x.copy()
    far[0, 2] = 1e6
    assert m.decode(far)[0]["x2"] == pytest.approx(m.features[2].max)
    with pytest.raises(ValueError, match="unknown category 'purple'"):
        m.encode([{"x0": 1, "x1": 1, "x2": 1, "color": "purple"}])
    with pytest.raises(ValueError, match="row 1 column 'x1'"):
        m.encode([{"x0": 1, "x1": "abc", "x2": 1, "color": "red"}])
    # header + list rows
    y = m.encode([["red", "1", "2", "3", "extra"]], header=["color", "x0", "x1", "x2", "junk"])
    np.testing.assert_array_equal(y[0, 3:], [1, 0, 0])


def test_posteriors_and_classify(model_bytes):
    m = er.read_model(model_bytes)
    x = np.random.default_rng(3).normal(size=(10, m.encoded_width))
    p = m.posteriors(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    e = m.energies(x)
    assert m.classify(x) == [m.labels[i] for i in np.argmin(e, axis=1)]  # equal priors, T=1, offsets 0


def ember_bin() -> str | None:
    path = os.environ.get("EMBER_BIN")
    return path if path and os.path.exists(path) else None


@pytest.mark.skipif(ember_bin() is None, reason="EMBER_BIN not set (path to a built ember executable)")
def test_swift_cli_agrees_with_numpy_reference(tmp_path, model_bytes):
    """The Swift loader accepts the Python-written file, and its scores/labels match numpy."""
    path = tmp_path / "py.ember"
    path.write_bytes(model_bytes)
    csv_path = tmp_path / "in.csv"
    rows = [["1", "2", "0.5", "red"], ["-3", "NA", "1.5", "blue"], ["0", "0", "0", "green"], ["4", "-1", "2", "red"]]
    csv_path.write_text("x0,x1,x2,color\n" + "".join(",".join(r) + "\n" for r in rows))
    m = er.read_model(model_bytes)
    x = m.encode(rows, header=["x0", "x1", "x2", "color"])
    out = subprocess.run([ember_bin(), "score", str(path), str(csv_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    col = lines[0].split(",").index("score")
    swift = np.array([float(l.split(",")[col]) for l in lines[1:]])
    np.testing.assert_allclose(swift, m.scores(x), rtol=1e-4)
    out = subprocess.run([ember_bin(), "classify", str(path), str(csv_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    col = lines[0].split(",").index("label")
    assert [l.split(",")[col] for l in lines[1:]] == m.classify(x)
    # a corrupted copy is refused
    bad = bytearray(model_bytes)
    bad[len(bad) // 2] ^= 0x01
    path.write_bytes(bytes(bad))
    out = subprocess.run([ember_bin(), "score", str(path), str(csv_path)], capture_output=True, text=True)
    assert out.returncode != 0


@pytest.mark.skipif(ember_bin() is None, reason="EMBER_BIN not set (path to a built ember executable)")
def test_swift_verify_accepts_python_written_file(tmp_path, model_bytes):
    path = tmp_path / "py.ember"
    path.write_bytes(model_bytes)
    out = subprocess.run([ember_bin(), "verify", str(path)], capture_output=True, text=True)
    if "Unexpected argument" in out.stderr:
        pytest.skip("this ember build has no verify verb yet")
    assert out.returncode == 0, out.stdout + out.stderr
    bad = bytearray(model_bytes)
    bad[len(bad) // 2] ^= 0x01
    path.write_bytes(bytes(bad))
    out = subprocess.run([ember_bin(), "verify", str(path)], capture_output=True, text=True)
    assert out.returncode != 0


MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
SHIPPED = sorted(f[:-6] for f in os.listdir(MODELS_DIR) if f.endswith(".ember")) if os.path.isdir(MODELS_DIR) else []


@pytest.mark.skipif(ember_bin() is None, reason="EMBER_BIN not set (path to a built ember executable)")
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_energies_match_swift(name, tmp_path):
    """Trainer-written models: the numpy reference energies and scores equal `ember score --energies`."""
    import csv
    model_path = os.path.join(MODELS_DIR, f"{name}.ember")
    data_path = os.path.join(MODELS_DIR, "data", f"{name}.csv")
    if not os.path.exists(data_path):
        pytest.skip(f"no models/data/{name}.csv")
    with open(data_path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    body = body[:: max(1, len(body) // 40)][:40]
    sub = tmp_path / "rows.csv"
    with open(sub, "w", newline="") as fh:
        csv.writer(fh).writerows([header] + body)
    m = er.read_model(model_path)
    x = m.encode(body, header=header)
    out = subprocess.run([ember_bin(), "score", model_path, str(sub), "--energies"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = list(csv.reader(out.stdout.strip().splitlines()))
    cols = lines[0]
    got = np.array([[float(r[cols.index(f"energy_{c.label}")]) for c in m.classes] for r in lines[1:]])
    np.testing.assert_allclose(got, m.energies(x), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose([float(r[cols.index("score")]) for r in lines[1:]], m.scores(x), rtol=1e-4, atol=1e-4)
    out = subprocess.run([ember_bin(), "classify", model_path, str(sub)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = list(csv.reader(out.stdout.strip().splitlines()))
    assert [r[lines[0].index("label")] for r in lines[1:]] == m.classify(x)


@pytest.mark.skipif(ember_bin() is None, reason="EMBER_BIN not set (path to a built ember executable)")
@pytest.mark.parametrize("act,output,weight_type,components", [
    ("silu", "logodds", "float32", 1), ("relu", "logodds", "float32", 2), ("tanh", "logsumexp", "float32", 1),
    ("softplus", "scalar", "float32", 3), ("gelu", "logodds", "float16", 1), ("silu", "logsumexp", "float16", 4),
])
def test_swift_energies_and_input_gradients_match_numpy(tmp_path, act, output, weight_type, components):
    """`ember energy --gradient` (the runtime's batched forward + input gradient) against the
    float64 numpy reference: relative error ≤ 1e-4 for energies and gradients."""
    model = ew.random_model(d=7, hidden=(24, 16), classes=2, seed=11, activation=act, output=output,
                            weight_type=weight_type, components=components, categorical=True)
    path = tmp_path / "m.ember"
    ew.write_model(model, str(path))
    m = er.read_model(str(path))
    rng = np.random.default_rng(5)
    names = [f.name for f in m.features]
    rows = []
    for _ in range(25):
        row = []
        for f in m.features:
            if f.kind == "categorical":
                row.append(f.categories[int(rng.integers(len(f.categories)))])
            else:
                row.append(repr(float(f.mean + f.std * rng.normal())))
        rows.append(row)
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    out = subprocess.run([ember_bin(), "energy", str(path), str(csv_path), "--gradient"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    cols = lines[0].split(",")
    vals = np.array([[float(v) for v in l.split(",")] for l in lines[1:]])
    d = m.encoded_width
    x = vals[:, [cols.index(f"enc_{i}") for i in range(d)]]
    np.testing.assert_allclose(x, m.encode(rows, header=names), rtol=1e-6, atol=1e-6)
    for c in m.classes:
        e_ref, g_ref = c.energy_and_grad(x)
        e = vals[:, cols.index(f"E_{c.label}")]
        g = vals[:, [cols.index(f"dE_{c.label}_{i}") for i in range(d)]]
        np.testing.assert_allclose(e, e_ref, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(e_ref).max())))
        scale = max(1.0, float(np.abs(g_ref).max()))
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4 * scale)


def test_lattice_variance_round_trips_and_swift_fixture_reads():
    m = ew.random_model(d=5, classes=2, seed=3, categorical=True)
    lattice = np.array([0, 0, 1 / 12, 1 / 12, 1 / 12], dtype=np.float32)
    m.classes[0].base.lattice_variance = lattice
    back = er.read_model(ew.serialize(m))
    assert np.array_equal(back.classes[0].base.lattice_variance, lattice)
    assert back.classes[1].base.lattice_variance.size == 0
    m.classes[0].base.lattice_variance = lattice[:3]
    with pytest.raises(er.EmberFileError) as e:
        er.read_model(ew.serialize(m))
    assert e.value.kind == "invalid" and "lattice_variance" in e.value.at
    fixture = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EmberFormatTests", "Fixtures", "mixture.ember")
    with open(fixture, "rb") as f:
        swift = er.read_model(f.read())
    assert [list(np.round(c.base.lattice_variance * 12, 5)) for c in swift.classes] == [[0, 1, 1, 1, 1, 1]] * 2
