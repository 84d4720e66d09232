"""``ember.Model``: a loaded, verified ``.ember`` model — score, classify and sample from data frames.

Every answer comes from the Swift runtime through the C API: raw columns are handed over as they
are (numbers as float64, everything else as codes into its distinct values as text) and encoded
by the runtime, so a row gets the same score here as from ``ember score``.
"""
from __future__ import annotations

import ctypes as ct
import json
import os
import tempfile
import threading
from collections import OrderedDict
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _capi, _frames
from ._capi import EmberError, check

try:
    import pandas as _pd
except ImportError:  # pragma: no cover - pandas is a dependency
    _pd = None

__all__ = ["Model", "load"]

_KINDS = {0: "numeric", 1: "integer", 2: "categorical"}
_SAMPLERS = {"tabebm": 0, "langevin": 1, "mala": 2}
_INITS = {"stored": 0, "starting_rows": 0, "base": 1, "interpolate": 2}
_CLASS_FILTERS = {"off": 0, "balanced": 1, "readout": 2}
_SAMPLER_FIELDS = {"steps", "step_size", "noise_scale", "temperature", "init_noise", "grad_clip", "threads",
                   "divergence_limit"}


def _buffer(shape, ctype, dtype):
    """A new numpy array of ``shape`` backed by ctypes memory, and its address (cheaper per call
    than ``ndarray.ctypes``)."""
    count = 1
    for k in shape:
        count *= k
    memory = (ctype * max(count, 1))()
    return np.frombuffer(memory, dtype, count).reshape(shape), ct.addressof(memory)


def _address(a: np.ndarray) -> int:
    """Address of a contiguous array's first element (the cheapest way ctypes offers)."""
    if a.flags.writeable and a.flags.c_contiguous and a.size:
        return ct.addressof(ct.c_char.from_buffer(a))
    return a.ctypes.data


def load(path: Union[str, os.PathLike]) -> "Model":
    """Opens the model file at ``path`` (memory-mapped, verified). Same as ``Model(path)``."""
    return Model(path)


class Model:
    """A loaded, verified model (wraps an ``ember_model *``).

    ``Model(path)`` maps a file; ``Model.from_bytes(b)`` copies a model held in memory;
    :func:`ember.train` returns one. Inputs ``X`` are a pandas DataFrame (columns matched by name,
    extra columns ignored), a mapping of column name → values, or a 2-D array whose columns are
    the features in model order. NaN and None are missing (imputed as in training); text columns
    may hold ``""``, ``"NA"``, ``"N/A"``, ``"na"``, ``"?"``, ``"NaN"``, ``"nan"``. A category never
    seen in training is read as missing and its row is anomalous in :meth:`score` (as ``ember
    score`` does), or raises :class:`DataError` with ``unknown="error"``. A model may be shared by
    threads: calls release the GIL.
    """

    def __init__(self, path: Union[str, os.PathLike, None] = None, *, data: Optional[bytes] = None,
                 _summary: Optional[dict] = None, _summary_text: str = ""):
        L = _capi.lib()
        self._lib = L
        self._h = ct.c_void_p()
        if (path is None) == (data is None):
            raise ValueError("pass exactly one of path or data=")
        if data is not None:
            data = bytes(data)
            check(L.ember_open_bytes(data, len(data), ct.byref(self._h)))
            self._bytes: Optional[bytes] = data
            self.path: Optional[str] = None
        else:
            self.path = os.fspath(path)
            check(L.ember_open_path(os.fsencode(self.path), ct.byref(self._h)))
            self._bytes = None
        h = self._h
        C = L.ember_class_count(h)
        nf = L.ember_feature_count(h)
        #: Class labels, in model order.
        self.classes: list = [L.ember_class_label(h, i).decode() for i in range(C)]
        #: Class priors π_c.
        self.priors = np.array([L.ember_class_prior(h, i) for i in range(C)])
        #: Feature (column) names, in model order.
        self.features: list = [L.ember_feature_name(h, i).decode() for i in range(nf)]
        #: Feature kinds: "numeric", "integer" or "categorical".
        self.feature_kinds: list = [_KINDS[L.ember_feature_kind(h, i)] for i in range(nf)]
        #: Name of the label column.
        self.target: str = L.ember_target_name(h).decode()
        #: Encoded width d.
        self.width: int = int(L.ember_encoded_width(h))
        t = ct.c_float()
        #: The calibrated anomaly threshold on the score scale, or None.
        self.threshold: Optional[float] = float(t.value) if L.ember_score_threshold(h, ct.byref(t)) == 0 else None
        #: The training run's summary (a dict) when this model was trained in this process.
        self.summary: Optional[dict] = _summary
        #: The summary as ``ember train`` prints it.
        self.summary_text: str = _summary_text
        self._categorical = [k == "categorical" for k in self.feature_kinds]
        self._all_numeric = not any(self._categorical)
        self._identity = list(range(len(self.features)))
        self._raw = _capi.raw()
        self._fast_cache: dict = {}
        self._plans: dict = {}
        self._info: Optional[dict] = None
        self._layouts: "OrderedDict[Any, ct.c_void_p]" = OrderedDict()
        self._layouts_lock = threading.Lock()

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Model":
        """Opens the model file at ``path`` (memory-mapped, verified)."""
        return cls(path)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from the bytes of a ``.ember`` file (copied, verified)."""
        return cls(data=data)

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the C handle (idempotent); the model cannot be used afterwards."""
        if getattr(self, "_h", None) is not None and self._h.value:
            with self._layouts_lock:
                for c in self._layouts.values():
                    self._lib.ember_columns_free(c)
                self._layouts.clear()
                for entry in self._fast_cache.values():
                    self._lib.ember_columns_free(entry[0])
                self._fast_cache.clear()
            self._lib.ember_close(self._h)
            self._h = ct.c_void_p()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self):
        return {"data": self.to_bytes(), "summary": self.summary, "summary_text": self.summary_text}

    def __setstate__(self, state):
        self.__init__(data=state["data"], _summary=state.get("summary"), _summary_text=state.get("summary_text", ""))

    def _handle(self) -> ct.c_void_p:
        if not self._h.value:
            raise ValueError("the model is closed")
        return self._h

    # -- the file ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The model file's bytes."""
        if self._bytes is None:
            with open(self.path, "rb") as f:
                return f.read()
        return self._bytes

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the model file to ``path`` atomically (a temporary file in the same directory,
        then renamed over ``path``)."""
        path = os.fspath(path)
        data = self.to_bytes()
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def inspect(self) -> dict:
        """What the file holds, as ``ember inspect --json`` reports it (a dict): provenance,
        features with their statistics and categories, classes, calibration, sampler defaults,
        metadata."""
        if self._info is None:
            need = ct.c_size_t()
            buf = ct.create_string_buffer(1 << 16)
            st = self._lib.ember_inspect_json(self._handle(), (self.path or "").encode(), buf, len(buf),
                                              ct.byref(need))
            if st == _capi.E_BUFFER_TOO_SMALL:
                buf = ct.create_string_buffer(need.value)
                st = self._lib.ember_inspect_json(self._handle(), (self.path or "").encode(), buf, len(buf), None)
            check(st)
            self._info = json.loads(buf.value.decode())
        return json.loads(json.dumps(self._info))

    def _categories(self, f: int) -> list:
        return self._info_cached()["features"][f]["categories"]

    def _info_cached(self) -> dict:
        if self._info is None:
            self.inspect()
        return self._info

    # -- rows in ------------------------------------------------------------------------------

    def _layout(self, cols: _frames.Columns, flags: int, cache: bool = True) -> tuple:
        """(ember_columns handle, owned) for ``cols``; level-free layouts are cached (``cache``)."""
        key = cols.key() if cache else None
        if key is not None:
            key = (key, flags)
            with self._layouts_lock:
                c = self._layouts.get(key)
                if c is not None:
                    self._layouts.move_to_end(key)
                    return c, False
        n = len(cols.names)
        levels = [None if lv is None else _capi.strings(lv) for lv in cols.levels]
        level_ptrs = (ct.POINTER(ct.c_char_p) * max(n, 1))(
            *[ct.cast(lv, ct.POINTER(ct.c_char_p)) if lv is not None else None for lv in levels])
        nlevels = (ct.c_size_t * max(n, 1))(*[0 if lv is None else len(lv) for lv in cols.levels])
        c = ct.c_void_p()
        check(self._lib.ember_columns_new(
            self._handle(), n, _capi.strings(cols.names), (ct.c_int32 * max(n, 1))(*cols.kinds),
            (ct.c_int64 * max(n, 1))(*cols.strides), level_ptrs, nlevels, flags, ct.byref(c)))
        if key is None:
            return c, cache
        with self._layouts_lock:
            self._layouts[key] = c
            while len(self._layouts) > 16:
                _, old = self._layouts.popitem(last=False)
                self._lib.ember_columns_free(old)
        return c, False

    def _call(self, name: str, X, unknown: str, *outputs) -> None:
        """Runs columnar call ``name`` on the rows of ``X`` writing to the addresses ``outputs``
        (from :func:`_buffer`; None = not wanted). Numeric 2-D arrays and frames whose feature columns are plain numpy
        arrays take a fast path with a cached column layout; everything else goes through
        :func:`_frames.columns`."""
        if unknown == "missing":
            flags = 0
        elif unknown == "error":
            flags = _capi.ENCODE_STRICT_CATEGORIES
        else:
            raise ValueError(f"unknown must be 'missing' or 'error', not {unknown!r}")
        fast = self._fast_inputs(X, flags)
        if fast is not None:
            layout, n, addresses, _keep = fast
            owned = False
        else:
            cols = _frames.columns(X, self.features, self._categorical)
            layout, owned = self._layout(cols, flags)
            n = cols.n
            data = cols.data()
            addresses = ct.addressof(data)
        try:
            if n:
                fn = getattr(self._raw, name)
                check(fn(layout, addresses, n, *outputs))
        finally:
            if owned:
                self._lib.ember_columns_free(layout)

    def _fast_inputs(self, X, flags: int):
        """(layout, n, address of the data pointers, buffers to keep alive) for inputs that need no
        level coding, else None."""
        if type(X) is np.ndarray:
            if not self._all_numeric or X.dtype.kind not in "biuf":
                return None
            if X.ndim == 1:
                X = X.reshape(1, -1)
            if X.ndim != 2 or X.shape[1] != len(self.features):
                return None
            F, n = len(self.features), X.shape[0]
            if X.dtype == np.float64 and X.flags.f_contiguous and n > 1:
                # Column-major (e.g. a DataFrame's block): feature j contiguous at j·8n.
                entry = self._fast_cache.get(("frame", flags)) or self._fast_layout(("frame", flags), 8, flags)
                base = _address(X)
                pointers = entry[1](*range(base, base + 8 * n * F, 8 * n))
            else:
                X = np.ascontiguousarray(X, dtype=np.float64)  # row pitch 8·F: one cached layout
                entry = self._fast_cache.get(("matrix", flags)) or self._fast_layout(("matrix", flags), 8 * F, flags)
                base = _address(X)
                pointers = entry[1](*range(base, base + 8 * F, 8))
            return entry[0], n, ct.addressof(pointers), (X, pointers)
        if _pd is not None and type(X) is _pd.DataFrame:
            columns = X.columns
            plan = self._plans.get(id(columns))
            if plan is None or plan[0] is not columns:
                names = [str(c) for c in columns]
                position = {}
                for j, c in enumerate(names):
                    position.setdefault(c, j)
                if any(f not in position for f in self.features):
                    return None
                plan = (columns, [position[f] for f in self.features])
                if len(self._plans) > 64:
                    self._plans.clear()
                self._plans[id(columns)] = plan
            if self._all_numeric:
                try:  # one numeric numpy block (e.g. a frame made from an array): a single view
                    blocks = X._mgr.blocks
                    single = len(blocks) == 1 and isinstance(blocks[0].dtype, np.dtype) and blocks[0].dtype.kind in "biuf"
                except AttributeError:  # pragma: no cover - pandas without these internals
                    single = False
                if single:
                    a = X.to_numpy()
                    if plan[1] != self._identity:
                        a = a[:, plan[1]]
                    return self._fast_inputs(a, flags)
            arrays = []
            for f, j in enumerate(plan[1]):
                try:
                    a = X._get_column_array(j)
                except AttributeError:  # pragma: no cover - pandas without the accessor
                    return None
                if type(a) is not np.ndarray or a.dtype.kind not in "biuf" or self._categorical[f]:
                    return None
                arrays.append(a)
            n = len(X)
            block = np.array(arrays, dtype=np.float64)  # (F, n): feature j contiguous at j·8n
            entry = self._fast_cache.get(("frame", flags)) or self._fast_layout(("frame", flags), 8, flags)
            base = _address(block)
            pointers = entry[1](*range(base, base + 8 * n * len(arrays), 8 * n)) if n else entry[1]()
            return entry[0], n, ct.addressof(pointers), (block, pointers)
        return None

    def _fast_layout(self, key, stride: int, flags: int):
        """Creates (once per model and key) the layout of every feature as a float64 column with
        ``stride``; returns the cache entry (layout, ctypes type of its data-pointer array)."""
        cols = _frames.Columns([], 0)
        for f in self.features:
            cols.names.append(f)
            cols.kinds.append(_capi.COLUMN_NUMBERS)
            cols.strides.append(stride)
            cols.levels.append(None)
        layout, _ = self._layout(cols, flags, cache=False)
        with self._layouts_lock:
            entry = self._fast_cache.get(key)
            if entry is None:
                entry = self._fast_cache[key] = (layout, ct.c_void_p * max(len(self.features), 1))
                return entry
        self._lib.ember_columns_free(layout)  # another thread made it first
        return entry

    @staticmethod
    def _f32(a):
        return a.ctypes.data_as(ct.POINTER(ct.c_float)) if a is not None else None

    def _rows(self, X) -> int:
        try:
            import pandas as pd
            if isinstance(X, pd.DataFrame):
                return len(X)
        except ImportError:  # pragma: no cover
            pass
        if isinstance(X, dict):
            v = next(iter(X.values()), [])
            return 1 if np.ndim(v) == 0 else len(v)
        a = np.shape(X)
        return 1 if len(a) <= 1 else a[0]

    def _index(self, X):
        try:
            import pandas as pd
            if isinstance(X, pd.DataFrame):
                return X.index
        except ImportError:  # pragma: no cover
            pass
        return None

    # -- answers -------------------------------------------------------------------------------

    def encode(self, X, *, unknown: str = "missing", return_flags: bool = False):
        """Rows in the model's encoded space: (n, d) float32 (z-scored numbers, one-hot categories,
        missing values and unseen categories imputed). With ``return_flags=True`` returns
        ``(X, flags)``: flags (n,) uint32 with ``ROW_UNKNOWN_CATEGORY`` (1) set on rows that held a
        category never seen in training (the rows :meth:`score` flags anomalous)."""
        n = self._rows(X)
        out, a = _buffer((n, self.width), ct.c_float, np.float32)
        flags, fa = _buffer((n,), ct.c_uint32, np.uint32)
        self._call("ember_columns_encode", X, unknown, a, fa if return_flags else None)
        return (out, flags) if return_flags else out

    def energies(self, X, *, unknown: str = "missing") -> np.ndarray:
        """Per-class energies E_c(x): (n, C) float32, columns in :attr:`classes` order."""
        out, a = _buffer((self._rows(X), len(self.classes)), ct.c_float, np.float32)
        self._call("ember_columns_energies", X, unknown, a)
        return out

    def score(self, X, *, details: bool = False, unknown: str = "missing"):
        """Anomaly scores (the free energy −log Σ_c π_c e^{−E_c(x)}; higher = more anomalous):
        (n,) float32. With ``details=True``: a DataFrame with ``score``, ``percentile`` (the
        percentage of held-out in-distribution rows scoring at or below, 0–100, as ``ember
        score`` prints it) and ``anomaly`` (score above the calibrated threshold, or a category
        never seen in training), indexed like ``X``."""
        n = self._rows(X)
        s, sa = _buffer((n,), ct.c_float, np.float32)
        if not details:
            self._call("ember_columns_score", X, unknown, sa, None, None)
            return s
        import pandas as pd

        p, pa = _buffer((n,), ct.c_float, np.float32)
        a, aa = _buffer((n,), ct.c_uint8, np.uint8)
        self._call("ember_columns_score", X, unknown, sa, pa, aa)
        return pd.DataFrame({"score": s, "percentile": p, "anomaly": a.astype(bool)}, index=self._index(X))

    def predict_proba(self, X, *, unknown: str = "missing") -> np.ndarray:
        """Class probabilities p(c|x): (n, C) float32, columns in :attr:`classes` order."""
        n = self._rows(X)
        _, la = _buffer((n,), ct.c_int32, np.int32)
        P, pa = _buffer((n, len(self.classes)), ct.c_float, np.float32)
        self._call("ember_columns_classify", X, unknown, la, pa)
        return P

    def predict_index(self, X, *, unknown: str = "missing") -> np.ndarray:
        """Index (into :attr:`classes`) of the most probable class: (n,) int32."""
        lab, la = _buffer((self._rows(X),), ct.c_int32, np.int32)
        self._call("ember_columns_classify", X, unknown, la, None)
        return lab

    def predict(self, X, *, unknown: str = "missing") -> np.ndarray:
        """The most probable class label of every row: (n,) array of label strings."""
        return np.asarray(self.classes, dtype=object)[self.predict_index(X, unknown=unknown)]

    def classify(self, X, *, unknown: str = "missing"):
        """What ``ember classify`` prints, as a DataFrame indexed like ``X``: ``label`` and one
        ``p_<label>`` column per class."""
        import pandas as pd

        n = self._rows(X)
        lab, la = _buffer((n,), ct.c_int32, np.int32)
        P, pa = _buffer((n, len(self.classes)), ct.c_float, np.float32)
        self._call("ember_columns_classify", X, unknown, la, pa)
        cols = {"label": np.asarray(self.classes, dtype=object)[lab]}
        for c, label in enumerate(self.classes):
            cols[f"p_{label}"] = P[:, c]
        return pd.DataFrame(cols, index=self._index(X))

    def explain(self, X, k: int = 3, *, unknown: str = "missing", attributions: bool = False):
        """What ``ember score --explain k`` adds, as a DataFrame indexed like ``X``: ``why_1``,
        ``why_1_share``, …, ``why_k``, ``why_k_share`` — the k columns contributing most to each
        row's score (largest first) and their shares max(a, 0) / Σ max(a_f, 0) in [0, 1].
        Attributions a are integrated gradients of the score from the row's typical point
        (``ember_explain``; see docs/EXPLAIN.md): they sum to the score minus the typical
        point's. ``X`` is what :meth:`score` takes (NaN / None missing, text categories). With
        ``attributions=True`` returns ``(frame, a)``: ``a`` (n, F) float32, one column per
        feature in :attr:`features` order. 0 ≤ k ≤ the model's features."""
        import pandas as pd

        nf = len(self.features)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= nf:
            raise ValueError(f"k must be an integer in 0…{nf} (the model's features), not {k!r}")
        k = int(k)
        x = self.encode(X, unknown=unknown)
        n = len(x)
        a, aa = _buffer((n, nf), ct.c_float, np.float32)
        top, ta = _buffer((n, k), ct.c_int32, np.int32)
        share, sa = _buffer((n, k), ct.c_float, np.float32)
        if n:
            F, PI32 = ct.POINTER(ct.c_float), ct.POINTER(ct.c_int32)
            check(self._lib.ember_explain(self._handle(), x.ctypes.data_as(F), n, k, ct.cast(aa, F),
                                          ct.cast(ta, PI32) if k else None, ct.cast(sa, F) if k else None))
        names = np.asarray(self.features, dtype=object)
        cols = {}
        for j in range(k):
            cols[f"why_{j + 1}"] = names[top[:, j]]
            cols[f"why_{j + 1}_share"] = share[:, j]
        frame = pd.DataFrame(cols, index=self._index(X))
        return (frame, a) if attributions else frame

    # -- synthetic rows ------------------------------------------------------------------------

    def class_index(self, cls) -> int:
        """Index of class ``cls`` (a label, or an int index)."""
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
            if not 0 <= int(cls) < len(self.classes):
                raise ValueError(f"class index {cls} is out of range (0..{len(self.classes) - 1})")
            return int(cls)
        label = str(cls)
        if label not in self.classes:
            raise ValueError(f"no class {label!r} (classes: {', '.join(self.classes)})")
        return self.classes.index(label)

    def _sampler_options(self, opts: dict) -> _capi.SamplerOptions:
        o = _capi.SamplerOptions()
        self._lib.ember_sampler_options_init(ct.byref(o))
        for key, value in opts.items():
            if value is None:
                continue
            if key in ("sampler", "kind"):
                o.kind = _SAMPLERS[value] if isinstance(value, str) else int(value)
            elif key in ("init", "init_from"):
                o.init = _INITS[value] if isinstance(value, str) else int(value)
            elif key == "class_filter":
                if value not in _CLASS_FILTERS:
                    raise ValueError(f"class_filter must be one of {', '.join(_CLASS_FILTERS)}, not {value!r}")
                o.class_filter = _CLASS_FILTERS[value]
            elif key in _SAMPLER_FIELDS:
                setattr(o, key, value)
            else:
                raise TypeError(f"unknown sampler option {key!r} (sampler, steps, step_size, noise_scale, "
                                f"temperature, init_noise, grad_clip, init, threads, divergence_limit, class_filter)")
        return o

    def sample_counts(self, n: int) -> list:
        """Rows per class that :meth:`sample` draws for ``n`` rows over every class (the priors'
        proportions, largest remainders)."""
        out = (ct.c_size_t * max(len(self.classes), 1))()
        check(self._lib.ember_sample_counts(self._handle(), int(n), out))
        return [int(out[i]) for i in range(len(self.classes))]

    def sample_encoded(self, n: int, cls=None, seed: Optional[int] = None, *, first_chain: int = 0, **sampler):
        """Synthetic rows in the encoded space and their class indices: ((n, d) float32, (n,) int32).
        With ``first_chain`` (needs ``cls``) the chains ``first_chain … first_chain + n − 1``."""
        if int(n) < 0:
            raise ValueError("n must be ≥ 0")
        n = int(n)
        seed = 0 if seed is None else int(seed) & (2**64 - 1)
        o = self._sampler_options(sampler)
        out = np.empty((n, self.width), dtype=np.float32)
        classes = np.empty(n, dtype=np.int32)
        stats = _capi.SampleStats()
        if first_chain:
            if cls is None:
                raise ValueError("first_chain needs a class")
            c = self.class_index(cls)
            check(self._lib.ember_sample_chains(self._handle(), c, int(first_chain), n, seed, ct.byref(o),
                                                self._f32(out), ct.byref(stats)))
            classes[:] = c
        else:
            c = -1 if cls is None else self.class_index(cls)
            check(self._lib.ember_sample(self._handle(), c, n, seed, ct.byref(o), self._f32(out),
                                         classes.ctypes.data_as(ct.POINTER(ct.c_int32)), ct.byref(stats)))
        self.last_sample_stats = {k: int(getattr(stats, k)) for k, _ in _capi.SampleStats._fields_}
        return out, classes

    def sample(self, n: int, cls=None, seed: Optional[int] = None, **sampler):
        """``n`` synthetic rows as a DataFrame with the training columns (target included, in the
        training CSV's order): numbers as float64, integer features as int64, categories and
        labels as strings. ``cls``: a label (or index) to sample only that class, None for every
        class in proportion to the priors (rows grouped by class). ``seed`` (default 0): the same
        seed gives the same rows as ``ember sample --seed``. Sampler overrides: ``sampler``
        ("tabebm", "langevin", "mala"), ``steps``, ``step_size``, ``noise_scale``,
        ``temperature``, ``init_noise``, ``grad_clip``, ``init`` ("stored", "base",
        "interpolate"), ``threads`` (never changes the rows), ``divergence_limit``, ``class_filter``
        ("readout", the default: a row of class c is kept only where the file's classification
        read-out picks c with equal priors, as ``ember sample``; "balanced": where c has the least
        energy; "off": every chain's row)."""
        rows, classes = self.sample_encoded(n, cls, seed, **sampler)
        return self.decode(rows, classes)

    def decode(self, rows: np.ndarray, classes: Optional[np.ndarray] = None):
        """Encoded rows (n, d) back to raw values as a DataFrame (as :meth:`sample` returns them);
        with ``classes`` (class indices) the target column is included."""
        import pandas as pd

        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.width:
            raise ValueError(f"expected encoded rows of width {self.width}, got shape {rows.shape}")
        n = rows.shape[0]
        data = {}
        numbers = np.empty(n, dtype=np.float64)
        codes = np.empty(n, dtype=np.int32)
        for f, (name, kind) in enumerate(zip(self.features, self.feature_kinds)):
            if kind == "categorical":
                check(self._lib.ember_decode_column(self._handle(), self._f32(rows), n, f, None,
                                                    codes.ctypes.data_as(ct.POINTER(ct.c_int32))))
                data[name] = np.asarray(self._categories(f), dtype=object)[codes]
            else:
                check(self._lib.ember_decode_column(self._handle(), self._f32(rows), n, f,
                                                    numbers.ctypes.data_as(ct.POINTER(ct.c_double)), None))
                data[name] = numbers.astype(np.int64) if kind == "integer" else numbers.copy()
        columns = list(self.features)
        if classes is not None:
            position = self._target_position()
            columns.insert(position, self.target or "label")
            data[self.target or "label"] = np.asarray(self.classes, dtype=object)[np.asarray(classes)]
        return pd.DataFrame({c: data[c] for c in columns})

    def _target_position(self) -> int:
        p = self._info_cached().get("metadata", {}).get("target_position")
        try:
            p = int(p)
        except (TypeError, ValueError):
            return len(self.features)
        return p if 0 <= p <= len(self.features) else len(self.features)

    def __repr__(self) -> str:
        where = f"{self.path!r}, " if self.path else ""
        return (f"ember.Model({where}target={self.target!r}, classes={self.classes}, "
                f"features={len(self.features)}, width={self.width})")
