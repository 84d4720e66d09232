"""Tests of the scale benchmark's table generator (tools/bench/scale_data.py).

Run: ``tools/.venv-bench/bin/python -m pytest tools/bench -q``.
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(tmp_path, name, rows, cols, *extra):
    out = str(tmp_path / name)
    subprocess.run([sys.executable, os.path.join(HERE, "scale_data.py"), str(rows), str(cols), out, *extra], check=True)
    return out


def test_table_has_the_asked_shape_strings_missing_cells_and_three_classes(tmp_path):
    path = generate(tmp_path, "t.csv", 3000, 12)
    with open(path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert len(header) == 13 and header[-1] == "y" and "s1" in header and "s2" in header
    assert len(body) == 3000 and all(len(r) == 13 for r in body)
    labels = [r[-1] for r in body]
    shares = {c: labels.count(c) / len(labels) for c in set(labels)}
    assert set(shares) == {"alpha", "beta", "gamma"}
    assert abs(shares["alpha"] - 0.6) < 0.05 and abs(shares["gamma"] - 0.1) < 0.03
    assert any(cell == "" for r in body for cell in r), "some cells are missing"
    s1 = header.index("s1")
    assert all(r[s1].startswith("k") for r in body)


def test_same_seed_same_bytes_and_the_test_table_differs(tmp_path):
    a = generate(tmp_path, "a.csv", 500, 8, "--seed", "3", "--test-rows", "200", str(tmp_path / "a-test.csv"))
    b = generate(tmp_path, "b.csv", 500, 8, "--seed", "3")
    assert open(a, "rb").read() == open(b, "rb").read()
    test = open(tmp_path / "a-test.csv").read().splitlines()
    assert len(test) == 201 and test[1:] != open(a).read().splitlines()[1:201]
