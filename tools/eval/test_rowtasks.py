"""Tests of the explain / impute / conditional tasks (``rowtasks.py``) and their report, with a
fake ``ember`` that honours the command lines: it 'explains' by the largest marginal |z|,
imputes column means / modes, and samples training rows ignoring conditions (so the
``satisfied`` check has something to catch).

Run: ``tools/.venv-eval/bin/python -m pytest tools/eval/test_rowtasks.py -q``.
"""
from __future__ import annotations

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
import report_rowtasks as RT  # noqa: E402
import rowtasks as RW  # noqa: E402

FAKE = textwrap.dedent('''\
    #!{python}
    import os, sys, shutil, pandas as pd, numpy as np
    a = sys.argv[1:]
    def opt(name, default=None):
        return a[a.index(name) + 1] if name in a else default
    verb = a[0]
    if verb == "train":
        shutil.copy(a[1], opt("--output"))
    elif verb == "score":
        df = pd.read_csv(a[1]); x = pd.read_csv(a[2])
        num = [c for c in x.columns if c in df.columns and df[c].dtype.kind in "fi"]
        z = ((x[num] - df[num].mean()) / df[num].std(ddof=0)).abs().fillna(0).to_numpy()
        pd.DataFrame({{"score": z.max(1), "why_1": np.array(num)[z.argmax(1)], "why_1_share": 1.0}}).to_csv(
            opt("--output"), index=False)
    elif verb == "impute":
        df = pd.read_csv(a[1]); x = pd.read_csv(a[2])
        for c in x.columns:
            fill = df[c].mean() if df[c].dtype.kind in "fi" else df[c].mode().iloc[0]
            x[c] = x[c].fillna(fill)
        if "--draws" in a:
            k = int(opt("--draws"))
            x = x.loc[np.repeat(np.arange(len(x)), k)].reset_index(drop=True)
            x["draw"] = np.tile(np.arange(1, k + 1), len(x) // k)
        x.to_csv(opt("--output"), index=False)
    elif verb == "sample":
        if os.environ.get("FAKE_SAMPLE_FAILS"):
            sys.exit("ember: error: no row of any class meets the conditions")
        df = pd.read_csv(a[1]).drop(columns=["target"])
        df.sample(n=int(opt("--count")), replace=True, random_state=int(opt("--seed"))).to_csv(opt("--output"), index=False)
    else:
        sys.exit(64)
''')


@pytest.fixture()
def fake_ember(tmp_path):
    p = tmp_path / "ember"
    p.write_text(FAKE.format(python=sys.executable))
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def test_mask_cells_masks_about_the_share_and_keeps_a_cell_per_row():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(400, 3)), columns=list("abc"))
    frame.iloc[::7, 1] = np.nan
    m = RW.mask_cells(frame, list("abc"), 0.2, np.random.default_rng(1))
    observed = frame.notna().to_numpy()
    assert not (m & ~observed).any(), "only observed cells are masked"
    assert ((observed & ~m).sum(1) >= 1).all(), "every row keeps an observed cell"
    assert 0.15 < m.sum() / observed.sum() < 0.25


def _same(a, b) -> bool:
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def test_corrupt_changes_exactly_one_cell_per_row():
    ds = D.load("penguins")
    rng = np.random.default_rng(0)
    frame = ds.frame[ds.features].iloc[:60].reset_index(drop=True)
    y = ds.frame[D.TARGET].astype(str).to_numpy()[:60]
    train = ds.frame.iloc[60:]
    for kind in ("shift", "category"):
        rows, cols = RW.corrupt(ds, frame, y, train, kind, rng)
        assert len(rows) == len(cols) == 60
        for i, c in enumerate(cols):
            diff = [f for f in ds.features if not _same(rows.at[i, f], frame.at[i, f])]
            assert diff == [c], (kind, i, diff)


def test_gaussian_conditional_z_finds_a_broken_correlation_the_marginal_z_misses():
    ds = D.load("iris")
    train = ds.frame.iloc[::2]
    num = ds.numeric
    row = train[ds.features].iloc[[0]].copy().reset_index(drop=True)
    # Petal length moved to its mean: marginally typical, but off its line with petal width.
    pl = [c for c in num if "petal" in c and "length" in c][0]
    row.loc[0, pl] = train[pl].mean()
    zm = RW._marginal_z(ds, train, row)[0]
    zc = RW._conditional_z(ds, train, row)[0]
    j = ds.features.index(pl)
    assert zm[j] < 0.5 < zc[j] and int(np.argmax(zc)) == j


def test_rowtask_runs_every_task_and_the_report_shows_them(fake_ember):
    recs = RW.rowtask(dict(dataset="penguins", repeat=0, ember=fake_ember, tasks=list(RW.TASKS)))
    errors = [r for r in recs if r["kind"] == "error"]
    assert not errors, errors
    ex = {(r["corruption"], r["method"]): r["top1"] for r in recs if r["kind"] == "explain"}
    assert {k for k, _ in ex} == {"shift", "swap", "category"}
    # The fake explains by the marginal z-score: it matches the z-score baseline on numeric shifts.
    assert ex[("shift", "ember")] == pytest.approx(ex[("shift", "zscore")])
    assert ex[("category", "ember")] == 0.0  # the fake never names a categorical column
    imp = {r["method"]: r for r in recs if r["kind"] == "impute"}
    assert set(imp) == set(RT.IMPUTE_METHODS)
    # The fake imputes means / modes: the same numbers as the mean/mode baseline.
    assert imp["ember"]["rmse"] == pytest.approx(imp["mean/mode"]["rmse"], rel=1e-6)
    assert imp["ember"]["cat_acc"] == pytest.approx(imp["mean/mode"]["cat_acc"])
    assert imp["ember-draws"]["rmse"] == pytest.approx(imp["mean/mode"]["rmse"], rel=1e-6)
    assert imp["knn"]["rmse"] < imp["mean/mode"]["rmse"]
    cond = [r for r in recs if r["kind"] == "conditional" and r["method"] == "ember"]
    assert len(cond) == 4 and all(0.0 <= r["satisfied"] < 0.5 for r in cond), "conditions ignored → caught"
    md = RT.section(recs, "tune")
    for needle in ("### Explanations", "### Imputation", "### Conditional synthesis", "| penguins |"):
        assert needle in md, needle
    targets = {t[1]: t[3] for t in RT.targets(recs, "tune")}
    assert targets["Conditions: 100 % of rows satisfy them"] == "not met"
    assert targets["Impute: RMSE ≤ IterativeImputer's and ≤ KNNImputer's"] == "not met"


def test_a_failed_conditional_sample_is_recorded_and_reported_not_fatal(fake_ember, monkeypatch):
    monkeypatch.setenv("FAKE_SAMPLE_FAILS", "1")
    recs = RW.rowtask(dict(dataset="iris", repeat=0, ember=fake_ember, tasks=["conditional"]))
    cond = [r for r in recs if r["kind"] == "conditional"]
    assert len(cond) == 4 and all(r["satisfied"] == 0.0 and "no row" in r["message"] for r in cond)
    assert all("error" not in r for r in cond), "the message stays out of the numeric error column"
    assert "### Conditional synthesis" in RT.section(recs, "tune")
    targets = {t[1]: t[3] for t in RT.targets(recs, "tune")}
    assert targets["Conditions: 100 % of rows satisfy them"] == "not met"
