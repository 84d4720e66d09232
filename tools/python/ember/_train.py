"""``ember.train``: the trainer in process, with ``ember train``'s own options.

Keyword options map mechanically onto the trainer's option declaration (read from the library,
never restated here): ``weight_decay=1e-4`` → ``--weight-decay=0.0001``, ``hidden=[64, 64]`` →
``--hidden=64,64``, ``keep_starting_rows=True`` → ``--keep-starting-rows`` (a flag; False leaves
it out), ``None`` leaves an option at its default. The CLI's option table and scanner accept or
refuse them exactly as on the command line (:class:`OptionError` with the scanner's message).
"""
from __future__ import annotations

import ctypes as ct
import json
import os
import threading
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _capi
from ._capi import check
from .model import Model

__all__ = ["train", "train_options", "option_arguments"]


def train_options() -> list:
    """The trainer's options (from its declaration): dicts with ``name`` (Python keyword),
    ``option`` (``--long-name``), ``flag``, ``default`` (text as the CLI shows it) and ``help``."""
    return [dict(name=o["name"].replace("-", "_"), option="--" + o["name"], flag=o["flag"], default=o["default"],
                 help=o["help"]) for o in _capi.train_options()]


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return ",".join(_value_text(v) for v in items)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def option_arguments(**options) -> list:
    """CLI-style arguments for keyword ``options`` (see the module docstring)."""
    flags = {o["name"].replace("-", "_") for o in _capi.train_options() if o["flag"]}
    args = []
    for key, value in options.items():
        if value is None:
            continue
        name = "--" + key.replace("_", "-")
        if key in flags:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{key} is a flag: pass True or False, not {value!r}")
            if value:
                args.append(name)
        else:
            args.append(f"{name}={_value_text(value)}")
    return args


class _Progress:
    """Forwards the trainer's per-step reports (from its worker threads) to a Python callable."""

    def __init__(self, fn: Callable[[dict], Any]):
        self.fn = fn
        self.lock = threading.Lock()
        self.error: Optional[BaseException] = None

        def report(_ctx, label, class_index, class_count, phase, phases, step, steps, loss):
            if self.error is not None:
                return
            try:
                with self.lock:
                    self.fn({"label": label.decode(), "class_index": class_index, "class_count": class_count,
                             "phase": phase, "phases": phases, "step": step, "steps": steps, "loss": loss})
            except BaseException as e:  # reported after training; never crosses into C
                self.error = e

        self.c = _capi.PROGRESS(report)


def _frame_and_target(data, target, feature_names):
    """(DataFrame, target column name) for every accepted input form."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if isinstance(target, str):
            if target not in data.columns:
                raise _capi.DataError(_capi.E_BAD_DATA, f"<DataFrame>: column \"{target}\": no such column "
                                      f"(columns: {', '.join(map(str, data.columns))})")
            return data, target
        if target is None:
            raise TypeError("train(DataFrame) needs target= (the name of the label column, or an array of labels)")
        y = np.asarray(target)
        frame = data.copy()
        name = _unused_name(frame.columns, "target")
        frame[name] = y if len(y) == len(frame) else _length_error(len(frame), len(y))
        return frame, name
    X = np.asarray(data)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array of rows, got shape {X.shape}")
    if target is None or isinstance(target, str):
        raise TypeError("train(array) needs target= an array of labels (one per row)")
    y = np.asarray(target)
    if len(y) != X.shape[0]:
        _length_error(X.shape[0], len(y))
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(names)} names for {X.shape[1]} columns")
    frame = pd.DataFrame({name: X[:, j] for j, name in enumerate(names)})
    name = _unused_name(names, "target")
    frame[name] = y
    return frame, name


def _unused_name(columns, name: str) -> str:
    existing = set(map(str, columns))
    candidate, k = name, 1
    while candidate in existing:
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def _length_error(rows: int, labels: int):
    raise ValueError(f"target has {labels} labels for {rows} rows")


def _result(trained: ct.c_void_p) -> Model:
    L = _capi.lib()
    try:
        n = ct.c_size_t()
        p = L.ember_trained_bytes(trained, ct.byref(n))
        data = ct.string_at(p, n.value)
        summary = json.loads(L.ember_trained_summary_json(trained).decode())
        text = L.ember_trained_summary(trained).decode()
    finally:
        L.ember_trained_free(trained)
    return Model(data=data, _summary=summary, _summary_text=text)


def train(data, target=None, *, seed: Optional[int] = 0, feature_names: Optional[Sequence[str]] = None,
          progress: Optional[Callable[[dict], Any]] = None, **options) -> Model:
    """Trains a model in process, exactly as ``ember train`` would on the same table.

    ``data``: a pandas DataFrame (``target`` names its label column, or is an array of labels);
    a 2-D array with ``target`` an array of labels (columns named ``feature_names`` or
    ``x0, x1, …``); or the path of a CSV file (``target`` names its label column). A frame is
    handed to the trainer as the CSV text ``DataFrame.to_csv(index=False)`` writes, so column
    kinds are inferred as for a file: numbers → numeric (integer when every value is an integer),
    anything else → categorical; NaN/None are missing. ``seed`` seeds every random draw.
    ``options`` are the trainer's options by keyword (:func:`train_options` lists them, e.g.
    ``hidden=[64, 64]``, ``epochs=200``, ``min_class_rows=1``, ``categorical=["zip"]``).
    ``progress``: called after every training step of every class with a dict (label,
    class_index, class_count, phase, phases — one per cross-fitting fold, then the final fit —,
    step, steps — the most steps of the phase —, loss), from the trainer's threads, one call at a
    time.

    Returns a :class:`Model` whose ``summary`` holds the held-out metrics. Raises
    :class:`OptionError` (bad option), :class:`DataError` (unusable data, with file:line:column;
    for a frame, line N is row N − 2), :class:`ModelFileError` (an unreadable ``add_to`` model).
    """
    if "target" in options:
        raise TypeError("target given twice")
    L = _capi.lib()
    reporter = _Progress(progress) if progress is not None else None
    callback = reporter.c if reporter is not None else _capi.PROGRESS()
    out = ct.c_void_p()
    if isinstance(data, (str, os.PathLike)):
        if not isinstance(target, str):
            raise TypeError("train(CSV path) needs target= the name of the label column")
        args = [f"--target={target}"] + option_arguments(seed=seed, **options)
        status = L.ember_train_csv(os.fsencode(data), _capi.strings(args), len(args), callback, None, ct.byref(out))
    else:
        frame, name = _frame_and_target(data, target, feature_names)
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)  # a new frame: the caller's stays as it is
        text = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        args = [f"--target={name}"] + option_arguments(seed=seed, **options)
        status = L.ember_train_text(text, len(text), b"<DataFrame>", _capi.strings(args), len(args), callback, None,
                                    ct.byref(out))
    if reporter is not None and reporter.error is not None and status == _capi.OK:
        L.ember_trained_free(out)
        raise reporter.error
    check(status)
    return _result(out)
