"""Data in and out: data frames and arrays as the C API's columns, encoded rows back to frames.

Private. Nothing here encodes values: numbers go to the runtime as float64 (NaN = missing) and
every other column as codes into its distinct values written as text (``pandas.factorize``), which
the runtime reads once each with the same rules as a CSV cell. The text of a value is :func:`text`,
the same spelling the trainer sees when a frame is trained on (``DataFrame.to_csv``).
"""
from __future__ import annotations

import ctypes as ct
import math
from typing import Any, List, Sequence

import numpy as np

from . import _capi

_NAN = np.array([np.nan])


def text(v: Any) -> str:
    """A raw value as text, spelled as ``DataFrame.to_csv`` writes it (missing → "")."""
    if v is None:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return ""
    if isinstance(v, np.generic):
        v = v.item()
    return str(v)


def _is_numeric(dtype) -> bool:
    """Whether a column of this dtype can be handed over as float64 numbers."""
    kind = getattr(dtype, "kind", "O")
    return kind in "biuf"


class Columns:
    """A batch of ``n`` rows as the C API's columns (names, kinds, strides, levels, pointers); keeps
    every buffer alive while it exists."""

    def __init__(self, names: List[str], n: int):
        self.n = n
        self.names: List[str] = []
        self.kinds: List[int] = []
        self.strides: List[int] = []
        self.levels: List[Sequence[str] | None] = []
        self.pointers: List[int] = []
        self._keep: list = []

    def numbers(self, name: str, values: np.ndarray) -> None:
        """A float64 column (any stride)."""
        assert values.dtype == np.float64 and values.ndim == 1
        self.names.append(name)
        self.kinds.append(_capi.COLUMN_NUMBERS)
        self.strides.append(values.strides[0] if len(values) > 1 else 8)
        self.levels.append(None)
        self.pointers.append(values.ctypes.data)
        self._keep.append(values)

    def codes(self, name: str, codes: np.ndarray, levels: Sequence[str]) -> None:
        """An int32 code column (−1 = missing) and its levels as text."""
        codes = np.ascontiguousarray(codes, dtype=np.int32)
        self.names.append(name)
        self.kinds.append(_capi.COLUMN_CODES)
        self.strides.append(4)
        self.levels.append(levels)
        self.pointers.append(codes.ctypes.data)
        self._keep.append(codes)

    def ignored(self, name: str) -> None:
        """A column the model does not use (named only, for error messages)."""
        self.names.append(name)
        self.kinds.append(_capi.COLUMN_NUMBERS)
        self.strides.append(0)
        self.levels.append(None)
        self.pointers.append(_NAN.ctypes.data)

    def key(self):
        """What identifies the layout of a level-free batch (for reusing its ``ember_columns``)."""
        if any(lv is not None for lv in self.levels):
            return None
        return (tuple(self.names), tuple(self.kinds), tuple(self.strides))

    def data(self):
        """The ``const void *const *data`` argument."""
        return (ct.c_void_p * max(len(self.pointers), 1))(*self.pointers)


def series_column(cols: Columns, name: str, s, categorical: bool) -> None:
    """Adds pandas Series ``s`` for a feature (categorical or not) to ``cols``."""
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cols.codes(name, s.cat.codes.to_numpy(dtype=np.int32), [text(v) for v in s.cat.categories])
    elif not categorical and _is_numeric(dtype):  # numpy and nullable (Int64, Float64, boolean)
        cols.numbers(name, s.to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        cols.codes(name, codes, [text(v) for v in uniques])


def array_column(cols: Columns, name: str, a: np.ndarray, categorical: bool) -> None:
    """Adds 1-D numpy array ``a`` (a column of a 2-D array) to ``cols``."""
    if not categorical and a.dtype == np.float64:
        cols.numbers(name, a)
    elif not categorical and a.dtype.kind in "biuf":
        cols.numbers(name, a.astype(np.float64))
    else:
        import pandas as pd

        codes, uniques = pd.factorize(a, use_na_sentinel=True)
        cols.codes(name, codes, [text(v) for v in uniques])


def columns(X, features: Sequence[str], categorical: Sequence[bool]) -> Columns:
    """``X`` (a DataFrame, a mapping of columns, a 2-D array with the features in model order, or
    one row as a 1-D array / mapping) as :class:`Columns` for a model with ``features``."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(X, pd.Series):
        X = X.to_frame().T
    if pd is not None and isinstance(X, pd.DataFrame):
        return frame_columns(X, features, categorical)
    if isinstance(X, dict):
        if pd is None:  # pragma: no cover
            raise TypeError("a mapping of columns needs pandas")
        values = list(X.values())
        if values and all(np.ndim(v) == 0 for v in values):
            X = {k: [v] for k, v in X.items()}
        return frame_columns(pd.DataFrame(X), features, categorical)
    a = np.asarray(X)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D array (rows × features), got shape {a.shape}")
    if a.shape[1] != len(features):
        raise ValueError(f"X has {a.shape[1]} columns, the model has {len(features)} features "
                         f"({', '.join(features)}); pass a DataFrame to match columns by name")
    cols = Columns(list(features), a.shape[0])
    if a.dtype.kind in "iub":
        a = a.astype(np.float64)
    for j, name in enumerate(features):
        array_column(cols, name, a[:, j], categorical[j])
    return cols


def frame_columns(df, features: Sequence[str], categorical: Sequence[bool]) -> Columns:
    """The columns of DataFrame ``df`` the model uses (matched by name); the others named only."""
    wanted = dict(zip(features, categorical))
    cols = Columns([], len(df))
    seen = set()
    for j, name in enumerate(df.columns):
        name_text = str(name)
        if name_text in wanted and name_text not in seen:
            seen.add(name_text)
            series_column(cols, name_text, df.iloc[:, j], wanted[name_text])
        else:
            cols.ignored(name_text)
    return cols
