"""Tests of the ONNX export and the numpy benchmark contender (need onnx + onnxruntime).

Run: ``tools/.venv-bench/bin/python -m pytest tools/bench -q``.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import ember_reader as er  # noqa: E402
import ember_writer as ew  # noqa: E402
from numpy_energy import NumpyEnergy  # noqa: E402

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from onnx_export import build_graph  # noqa: E402
import ort_bench  # noqa: E402


def rel(a, b):
    return np.abs(np.asarray(a, np.float64) - b).max() / max(np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("act", er.ACTIVATIONS)
@pytest.mark.parametrize("output", er.OUTPUT_MODES)
@pytest.mark.parametrize("components", [1, 3])
def test_onnx_and_numpy_match_reference(act, output, components):
    m = er.read_model(ew.serialize(ew.random_model(d=5, hidden=(7, 6), classes=2, seed=9, activation=act,
                                                   output=output, components=components)))
    x = np.random.default_rng(0).normal(size=(11, 5)).astype(np.float32)
    ref_e, ref_g = m.classes[1].energy_and_grad(x.astype(np.float64))
    s_e = ort_bench.ort_session(build_graph(m, 1, False).SerializeToString())
    s_g = ort_bench.ort_session(build_graph(m, 1, True).SerializeToString())
    e, = s_e.run(None, {"x": x})
    e2, g = s_g.run(None, {"x": x})
    assert e.shape == (11,) and g.shape == (11, 5)
    assert rel(e, ref_e) < 1e-5 and rel(e2, ref_e) < 1e-5 and rel(g, ref_g) < 1e-5
    ne, ng = NumpyEnergy(m, 1).energy_and_grad(x)
    assert rel(ne, ref_e) < 1e-5 and rel(ng, ref_g) < 1e-5


def test_network_only_and_base_only_classes():
    m = ew.random_model(d=4, hidden=(5,), classes=1, seed=1, base=False)
    m2 = ew.random_model(d=4, hidden=(5,), classes=1, seed=1)
    m2.classes[0].layers, m2.classes[0].output = [], None
    for mm in (m, m2):
        r = er.read_model(ew.serialize(mm))
        x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
        ref_e, ref_g = r.classes[0].energy_and_grad(x.astype(np.float64))
        e, g = ort_bench.ort_session(build_graph(r, 0, True).SerializeToString()).run(None, {"x": x})
        assert rel(e, ref_e) < 1e-5 and rel(g, ref_g) < 1e-5 and g.shape == (3, 4)


def test_bench_end_to_end_with_ember_json(tmp_path, capsys):
    path = tmp_path / "m.ember"
    ew.write_model(ew.random_model(d=6, hidden=(16, 16), classes=2, seed=3), str(path))
    ej = tmp_path / "e.json"
    ej.write_text(json.dumps([{"batch": 1, "threads": 1, "energy_rows_per_s": 1000, "gradient_rows_per_s": 500,
                               "sgld_samples_per_s": 100, "sgld_seconds": 0.5, "sgld_chains": 50},
                              {"batch": 8, "threads": 1, "energy_rows_per_s": 8000, "gradient_rows_per_s": 4000}]))
    out_json = tmp_path / "r.json"
    rc = ort_bench.main([str(path), "--class", "class1", "--batch", "1,8", "--seconds", "0.02", "--chains", "50",
                         "--steps", "5", "--ember-json", str(ej), "--json", str(out_json), "--markdown"])
    assert rc == 0
    res = json.loads(out_json.read_text())
    assert [b["batch"] for b in res["batches"]] == [1, 8]
    assert all(v <= 1e-4 for v in res["checks"].values())
    r1 = res["ratios"][0]
    assert r1["energy_vs_ort"] == pytest.approx(1000 / res["batches"][0]["ort_energy_rows_per_s"])
    assert res["ratios"][-1]["sgld_vs_numpy"] == pytest.approx(res["sgld"]["numpy_seconds"] / 0.5)
    assert "| energy + gradient | 8 |" in capsys.readouterr().out


def test_single_object_ember_json(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps({"batch": 1, "energy_rows_per_s": 5}))
    assert ort_bench.load_ember_json(str(p)) == [{"batch": 1, "energy_rows_per_s": 5}]


def test_make_bench_model_shapes(tmp_path):
    import make_bench_model
    out = tmp_path / "b.ember"
    assert make_bench_model.main(["--d", "30", "--h", "128", "--out", str(out)]) == 0
    m = er.read_model(str(out))
    c = m.classes[0]
    assert [(l.inputs, l.outputs, l.activation) for l in c.layers] == [(30, 128, "silu"), (128, 128, "silu"),
                                                                        (128, 1, "identity")]
    assert c.base is not None and c.base.components == 1 and m.encoded_width == 30
    first = out.read_bytes()
    make_bench_model.main(["--d", "30", "--h", "128", "--out", str(out)])
    assert out.read_bytes() == first


def test_score_graph_matches_the_reference_from_raw_rows():
    from onnx_export import build_score_graph

    m = er.read_model(ew.serialize(ew.random_model(d=5, hidden=(7,), classes=3, seed=4)))
    assert all(f.kind != "categorical" for f in m.features)
    raw = np.random.default_rng(5).normal(size=(9, 5)) * 3 + 1
    ref = m.scores(m.encode([dict(zip([f.name for f in m.features], r)) for r in raw]))
    got, = ort_bench.ort_session(build_score_graph(m).SerializeToString()).run(None, {"x": raw.astype(np.float32)})
    assert got.shape == (9,) and rel(got, ref) < 1e-5
