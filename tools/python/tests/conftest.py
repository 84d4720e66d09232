"""Shared fixtures of the package tests: the repository's models and data, the `ember` CLI."""
from __future__ import annotations

import csv
import io
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEMO = os.path.join(ROOT, "examples", "c", "demo.ember")
DATA = os.path.join(ROOT, "models", "data")


def cli_path():
    """The `ember` CLI to compare with: $EMBER_BIN, else a build directory's."""
    env = os.environ.get("EMBER_BIN")
    cands = [env] if env else [os.path.join(ROOT, p) for p in (".build/release/ember", ".build/debug/ember")]
    return next((c for c in cands if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="session")
def cli():
    """Runs the CLI and returns its stdout (fails the test on a non-zero exit)."""
    exe = cli_path()
    if exe is None:
        pytest.skip("needs a built ember CLI ($EMBER_BIN or .build/*/ember)")

    def run(*args):
        p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout

    return run


def read_csv_text(text):
    import pandas as pd

    return pd.read_csv(io.StringIO(text))
