"""docs/PYTHON.md runs: every Python cell of the walkthrough, in order, in one namespace (the
Spark cells are left to test_spark.py, which starts its own session)."""
from __future__ import annotations

import os
import re

from conftest import ROOT


def cells():
    text = open(os.path.join(ROOT, "docs", "PYTHON.md"), encoding="utf-8").read()
    return [c for c in re.findall(r"```python\n(.*?)```", text, re.S) if "spark" not in c.lower()]


def test_the_walkthrough_runs(tmp_path, monkeypatch):
    found = cells()
    assert len(found) >= 15
    os.symlink(os.path.join(ROOT, "models"), tmp_path / "models")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(found):
        try:
            exec(compile(code, f"docs/PYTHON.md cell {i + 1}", "exec"), namespace)
        except Exception as e:  # pragma: no cover - the message says which cell
            raise AssertionError(f"cell {i + 1} failed: {e!r}\n{code}") from e
    assert (tmp_path / "penguins.ember").exists()
