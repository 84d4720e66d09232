"""Drives the built `ember` executable exactly as a user would: CSV files in, CSV files out.

    ember train DATA.csv --target y --output M.ember --seed S --quiet [extra train args]
    ember sample M.ember --count N --seed S --output OUT.csv [--sampler K] [--class LABEL]
    ember score M.ember IN.csv --output OUT.csv --unknown-as-missing   (`score`: higher = more anomalous)
    ember classify M.ember IN.csv --output OUT.csv --unknown-as-missing  (`label`)

``--unknown-as-missing``: a test row may hold a category the training split never showed (e.g.
penguins' island Torgersen when Adelie is held out); it is imputed, as the baselines' one-hot
encoder maps it to all zeros.
"""
from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pandas as pd

from data import TARGET


class EmberError(RuntimeError):
    """An `ember` command failed; the message carries the command and its stderr."""


class EmberCLI:
    """One `ember` executable plus the options the harness adds to every call."""

    def __init__(self, path: str, train_args: list[str] | None = None, threads: int | None = 1,
                 timeout: float = 900.0):
        self.path = path
        self.train_args = list(train_args or [])
        self.threads = threads
        self.timeout = timeout

    def available(self) -> bool:
        return bool(self.path) and os.path.isfile(self.path) and os.access(self.path, os.X_OK)

    def _run(self, args: list[str]) -> float:
        cmd = [self.path] + args
        start = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise EmberError(f"timed out after {self.timeout:.0f} s: {' '.join(cmd)}") from None
        if out.returncode != 0:
            raise EmberError(f"exit {out.returncode}: {' '.join(cmd)}\n{out.stderr.strip()[-2000:]}")
        return time.perf_counter() - start

    def _threads(self) -> list[str]:
        return ["--threads", str(self.threads)] if self.threads else []

    def train(self, frame: pd.DataFrame, workdir: str, seed: int, name: str = "model",
              extra: list[str] | tuple[str, ...] = ()) -> tuple[str, float]:
        """Writes ``frame`` (features + target) to CSV and trains; returns (model path, seconds)."""
        csv = os.path.join(workdir, f"{name}-train.csv")
        write_csv(frame, csv)
        model = os.path.join(workdir, f"{name}.ember")
        secs = self._run(["train", csv, "--target", TARGET, "--output", model, "--seed", str(seed), "--quiet"]
                         + self._threads() + self.train_args + list(extra))
        return model, secs

    def sample(self, model: str, count: int, seed: int, workdir: str, sampler: str | None = None,
               label: str | None = None, extra: list[str] | tuple[str, ...] = (),
               tag: str = "default") -> tuple[pd.DataFrame, float]:
        """``count`` synthetic rows (class-proportional unless ``label``); returns (rows, seconds)."""
        out = os.path.join(workdir, f"sample-{sampler or tag}-{seed}.csv")
        args = ["sample", model, "--count", str(count), "--seed", str(seed), "--output", out, "--quiet"]
        if sampler:
            args += ["--sampler", sampler]
        if label is not None:
            args += ["--class", label]
        secs = self._run(args + self._threads() + list(extra))
        return read_csv(out), secs

    def sample_classes(self, model: str, counts: dict[str, int], seed: int, workdir: str,
                       extra: list[str] | tuple[str, ...] = (), tag: str = "default") -> tuple[pd.DataFrame, float]:
        """Exactly ``counts[label]`` rows of every class (one ``sample --class`` call each);
        returns (rows, seconds summed over the calls)."""
        parts, secs = [], 0.0
        for i, (label, n) in enumerate(sorted(counts.items())):
            if n <= 0:
                continue
            rows, s = self.sample(model, n, seed + i, workdir, label=label, extra=extra, tag=f"{tag}-{i}")
            parts.append(rows)
            secs += s
        return pd.concat(parts, ignore_index=True), secs

    def energy(self, model: str, frame: pd.DataFrame, workdir: str) -> tuple[np.ndarray, pd.DataFrame]:
        """(encoded rows ``enc_*`` (n, d), per-class energies ``E_<label>`` as a frame)."""
        inp, out = os.path.join(workdir, "energy-in.csv"), os.path.join(workdir, "energy-out.csv")
        write_csv(frame, inp)
        self._run(["energy", model, inp, "--output", out, "--unknown-as-missing"] + self._threads())
        df = pd.read_csv(out)
        enc = df[[c for c in df.columns if c.startswith("enc_")]].to_numpy(dtype=float)
        return enc, df[[c for c in df.columns if c.startswith("E_")]]

    def score(self, model: str, frame: pd.DataFrame, workdir: str) -> np.ndarray:
        """Anomaly score per row (higher = more anomalous)."""
        inp, out = os.path.join(workdir, "score-in.csv"), os.path.join(workdir, "score-out.csv")
        write_csv(frame, inp)
        self._run(["score", model, inp, "--output", out, "--unknown-as-missing"] + self._threads())
        return pd.read_csv(out)["score"].to_numpy(dtype=float)

    def classify(self, model: str, frame: pd.DataFrame, workdir: str) -> np.ndarray:
        """Predicted label per row (strings)."""
        inp, out = os.path.join(workdir, "classify-in.csv"), os.path.join(workdir, "classify-out.csv")
        write_csv(frame, inp)
        self._run(["classify", model, inp, "--output", out, "--unknown-as-missing"] + self._threads())
        return pd.read_csv(out, dtype={"label": str}, keep_default_na=False)["label"].to_numpy(dtype=object)


def write_csv(frame: pd.DataFrame, path: str) -> None:
    """CSV with a header; missing cells as empty fields."""
    frame.to_csv(path, index=False, na_rep="")


def read_csv(path: str) -> pd.DataFrame:
    """Reads an `ember sample` CSV, keeping the target as strings."""
    df = pd.read_csv(path, dtype={TARGET: str}, keep_default_na=True)
    return df
