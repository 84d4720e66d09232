"""ctypes binding of the Ember C API (``Sources/EmberC/include/ember.h``) with numpy in and out.

    from ember_ctypes import Model
    with Model("examples/c/demo.ember") as m:
        X = m.encode([{"temperature": 61, "vibration": 0.4, "load": 50, "mode": "run"}])
        m.score(X), m.classify(X), m.predict_labels(X)
        X, flags = m.encode(rows, return_flags=True)   # flags: rows with unseen categories
        s, pct, anomaly = m.score(X, details=True, flags=flags)   # percentiles 0–100, as the CLI
        S = m.sample(5, seed=42)            # encoded rows, classes in prior proportion
        m.decode(S)                         # raw values as strings

The shared library is found through ``$EMBER_LIB`` (a path to ``libCEmber.so`` or the directory
holding it), then the package's build directories (``.build/release``, ``.build/debug``,
``.build-capi/...``). Build it with ``swift build -c release --product CEmber``.

Errors raise :class:`EmberError` carrying the C status code and the library's message. A
:class:`Model` may be used from several threads at once (the C handle is immutable); ctypes
releases the GIL during calls.
"""
from __future__ import annotations

import ctypes as ct
import math
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ["EmberError", "Model", "LibraryNotFound", "load_library", "library_path", "version"]

_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
_LIBNAME = "libCEmber.so"

# Status codes (ember.h).
OK = 0
E_INVALID_ARGUMENT = 1
E_IO = 2
E_CHECKSUM = 7
E_MISSING_COLUMNS = 10
E_BAD_VALUE = 11
E_UNKNOWN_CATEGORY = 12
E_UNKNOWN_CLASS = 13
E_BUFFER_TOO_SMALL = 15
E_NO_CALIBRATION = 16

# Encoder flags and row flags (ember.h).
ENCODE_STRICT_CATEGORIES = 4
ROW_UNKNOWN_CATEGORY = 1

_FEATURE_KINDS = {0: "numeric", 1: "integer", 2: "categorical"}
_SAMPLERS = {"tabebm": 0, "langevin": 1, "mala": 2}
_INITS = {"starting_rows": 0, "starting-rows": 0, "base": 1, "interpolate": 2}


class LibraryNotFound(RuntimeError):
    """libCEmber.so is not where $EMBER_LIB or the build directories say."""


class EmberError(RuntimeError):
    """A failed C API call: ``status`` is the ``ember_status`` code, ``message`` the library's text."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{message} (status {status})")
        self.status = status
        self.message = message


class _Options(ct.Structure):
    _fields_ = [
        ("struct_size", ct.c_uint32),
        ("kind", ct.c_int32),
        ("steps", ct.c_int32),
        ("step_size", ct.c_float),
        ("noise_scale", ct.c_float),
        ("temperature", ct.c_float),
        ("init_noise", ct.c_float),
        ("grad_clip", ct.c_float),
        ("init", ct.c_int32),
        ("threads", ct.c_int32),
        ("divergence_limit", ct.c_float),
    ]


class _Stats(ct.Structure):
    _fields_ = [("chains", ct.c_uint64), ("restarts", ct.c_uint64), ("proposals", ct.c_uint64), ("accepted", ct.c_uint64)]


def library_path() -> str:
    """Path of the shared library this module would load (raises :class:`LibraryNotFound`)."""
    env = os.environ.get("EMBER_LIB")
    if env:
        p = os.path.join(env, _LIBNAME) if os.path.isdir(env) else env
        if not os.path.isfile(p):
            raise LibraryNotFound(f"EMBER_LIB={env}: no {_LIBNAME} there")
        return p
    tried = []
    for scratch in (".build", ".build-capi"):
        for config in ("release", "debug"):
            p = os.path.join(_ROOT, scratch, config, _LIBNAME)
            tried.append(p)
            if os.path.isfile(p):
                return p
    raise LibraryNotFound(f"{_LIBNAME} not found (set EMBER_LIB; tried {', '.join(tried)}); "
                          "build it with: swift build -c release --product CEmber")


_lib: Optional[ct.CDLL] = None


def load_library() -> ct.CDLL:
    """Loads libCEmber once and declares every function's signature."""
    global _lib
    if _lib is not None:
        return _lib
    lib = ct.CDLL(library_path())
    P = ct.c_void_p
    F = ct.POINTER(ct.c_float)
    S = ct.c_size_t
    CS = ct.c_char_p
    CSS = ct.POINTER(ct.c_char_p)
    I32 = ct.c_int32
    sigs = {
        "ember_version": (CS, []),
        "ember_error_message": (CS, [I32]),
        "ember_last_error": (CS, []),
        "ember_open_path": (I32, [CS, ct.POINTER(P)]),
        "ember_open_bytes": (I32, [ct.c_char_p, S, ct.POINTER(P)]),
        "ember_close": (None, [P]),
        "ember_class_count": (S, [P]),
        "ember_class_label": (CS, [P, S]),
        "ember_class_prior": (ct.c_double, [P, S]),
        "ember_class_index": (I32, [P, CS, ct.POINTER(I32)]),
        "ember_target_name": (CS, [P]),
        "ember_feature_count": (S, [P]),
        "ember_feature_name": (CS, [P, S]),
        "ember_feature_kind": (I32, [P, S]),
        "ember_encoded_width": (S, [P]),
        "ember_score_threshold": (I32, [P, F]),
        "ember_encode": (I32, [P, CSS, CSS, S, ct.c_uint32, F]),
        "ember_encoder_new": (I32, [P, CSS, S, ct.c_uint32, ct.POINTER(P)]),
        "ember_encoder_encode": (I32, [P, CSS, F]),
        "ember_encoder_encode_row": (I32, [P, CSS, F, ct.POINTER(ct.c_uint32)]),
        "ember_encoder_free": (None, [P]),
        "ember_decode_field": (I32, [P, F, S, ct.c_char_p, S, ct.POINTER(S)]),
        "ember_energies": (I32, [P, F, S, F]),
        "ember_score": (I32, [P, F, S, F, F, ct.POINTER(ct.c_uint8)]),
        "ember_score_flagged": (I32, [P, F, ct.POINTER(ct.c_uint32), S, F, F, ct.POINTER(ct.c_uint8)]),
        "ember_classify": (I32, [P, F, S, ct.POINTER(I32), F]),
        "ember_sampler_options_init": (None, [ct.POINTER(_Options)]),
        "ember_sampler_options_size": (S, []),
        "ember_sample": (I32, [P, I32, S, ct.c_uint64, ct.POINTER(_Options), F, ct.POINTER(I32), ct.POINTER(_Stats)]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    if lib.ember_sampler_options_size() != ct.sizeof(_Options):
        raise LibraryNotFound(f"{library_path()}: ember_sampler_options is {lib.ember_sampler_options_size()} bytes, "
                              f"this binding expects {ct.sizeof(_Options)}: library and binding versions differ")
    _lib = lib
    return lib


def version() -> str:
    """The C library's version string."""
    return load_library().ember_version().decode()


def _check(status: int) -> None:
    if status != OK:
        raise EmberError(status, load_library().ember_last_error().decode("utf-8", "replace"))


def _fptr(a: np.ndarray):
    return a.ctypes.data_as(ct.POINTER(ct.c_float))


def _text(v: Any) -> Optional[bytes]:
    """A raw cell as the C API wants it: None, NaN (float, numpy) and pandas' NA/NaT → missing
    (the library reads them as missing, as training does); floats without repr quirks."""
    if v is None:
        return None
    if isinstance(v, bytes):
        return v
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return None
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(v, (bool, np.bool_)):
        return b"1" if v else b"0"
    return str(v).encode()


class Model:
    """A loaded, verified ``.ember`` model (wraps an ``ember_model *``)."""

    def __init__(self, path: Union[str, os.PathLike, None] = None, *, data: Optional[bytes] = None):
        """Opens ``path`` (memory-mapped) or, with ``data=``, a model held in bytes (copied)."""
        lib = load_library()
        self._lib = lib
        self._h = ct.c_void_p()
        if (path is None) == (data is None):
            raise ValueError("pass exactly one of path or data=")
        if data is not None:
            _check(lib.ember_open_bytes(bytes(data), len(data), ct.byref(self._h)))
        else:
            _check(lib.ember_open_path(os.fsencode(path), ct.byref(self._h)))
        h = self._h
        C = lib.ember_class_count(h)
        nf = lib.ember_feature_count(h)
        #: Class labels in model order.
        self.labels = [lib.ember_class_label(h, i).decode() for i in range(C)]
        #: Class priors π_c.
        self.priors = np.array([lib.ember_class_prior(h, i) for i in range(C)])
        #: Raw feature (CSV column) names.
        self.features = [lib.ember_feature_name(h, i).decode() for i in range(nf)]
        #: Feature kinds: "numeric", "integer" or "categorical".
        self.feature_kinds = [_FEATURE_KINDS[lib.ember_feature_kind(h, i)] for i in range(nf)]
        #: Name of the label column.
        self.target = lib.ember_target_name(h).decode()
        #: Encoded width d.
        self.width = int(lib.ember_encoded_width(h))
        t = ct.c_float()
        #: Calibrated anomaly threshold on the score scale, or None.
        self.threshold = float(t.value) if lib.ember_score_threshold(h, ct.byref(t)) == OK else None
        #: Counts of the last :meth:`sample` call (chains, restarts, proposals, accepted).
        self.last_sample_stats: dict = {}

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the C handle (idempotent)."""
        if getattr(self, "_h", None) is not None and self._h.value:
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

    def _handle(self) -> ct.c_void_p:
        if not self._h.value:
            raise ValueError("the model is closed")
        return self._h

    # -- rows ------------------------------------------------------------------------------

    def _rows(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.width:
            raise ValueError(f"expected encoded rows of width {self.width}, got shape {X.shape}")
        return X

    def encode(self, rows: Union[Mapping[str, Any], Iterable[Mapping[str, Any]]], *, unknown_category: str = "missing",
               return_flags: bool = False, unknown_as_missing: Optional[bool] = None,
               nan_as_missing: Optional[bool] = None) -> Any:
        """Encodes raw rows (a dict or an iterable of dicts, column name → value) into an (n, d)
        float32 array. Extra keys are ignored. Missing (imputed, as in training): None, a
        missing key, NaN, pandas NA, and the cells "", "NA", "N/A", "na", "?", "NaN", "nan".
        A category never seen in training is read as missing (``unknown_category="missing"``)
        or raises E_UNKNOWN_CATEGORY (``"error"``). With ``return_flags=True`` returns
        ``(X, flags)``, flags (n,) uint32 with ROW_UNKNOWN_CATEGORY set on such rows: pass them
        to :meth:`score` to flag those rows anomalous, as ``ember score`` does.
        ``unknown_as_missing`` and ``nan_as_missing`` are accepted for compatibility (both are
        now the default)."""
        if unknown_category not in ("missing", "error"):
            raise ValueError("unknown_category must be 'missing' or 'error'")
        if isinstance(rows, Mapping):
            rows = [rows]
        rows = list(rows)
        flags = ENCODE_STRICT_CATEGORIES if unknown_category == "error" else 0
        out = np.zeros((len(rows), self.width), dtype=np.float32)
        row_flags = np.zeros(len(rows), dtype=np.uint32)
        names_arr = (ct.c_char_p * len(self.features))(*[f.encode() for f in self.features])
        enc = ct.c_void_p()
        _check(self._lib.ember_encoder_new(self._handle(), names_arr, len(self.features), flags, ct.byref(enc)))
        try:
            for i, row in enumerate(rows):
                vals = (ct.c_char_p * len(self.features))(*[_text(row.get(f)) for f in self.features])
                fl = ct.c_uint32()
                _check(self._lib.ember_encoder_encode_row(enc, vals, _fptr(out[i]), ct.byref(fl)))
                row_flags[i] = fl.value
        finally:
            self._lib.ember_encoder_free(enc)
        return (out, row_flags) if return_flags else out

    def decode(self, X) -> list:
        """Raw values (strings, in feature order) of encoded rows: a list of lists."""
        X = self._rows(X)
        buf = ct.create_string_buffer(256)
        need = ct.c_size_t()
        out = []
        for i in range(X.shape[0]):
            row = X[i]
            fields = []
            for f in range(len(self.features)):
                st = self._lib.ember_decode_field(self._handle(), _fptr(row), f, buf, len(buf), ct.byref(need))
                if st == E_BUFFER_TOO_SMALL:
                    buf = ct.create_string_buffer(need.value)
                    st = self._lib.ember_decode_field(self._handle(), _fptr(row), f, buf, len(buf), None)
                _check(st)
                fields.append(buf.value.decode())
            out.append(fields)
        return out

    # -- computation -----------------------------------------------------------------------

    def energies(self, X) -> np.ndarray:
        """Per-class energies E_c(x) of encoded rows: (n, C) float32."""
        X = self._rows(X)
        out = np.empty((X.shape[0], len(self.labels)), dtype=np.float32)
        _check(self._lib.ember_energies(self._handle(), _fptr(X), X.shape[0], _fptr(out)))
        return out

    def score(self, X, *, details: bool = False, flags=None):
        """Anomaly scores (free energy, higher = more anomalous): (n,) float32. With
        ``details=True`` returns ``(scores, percentiles, anomalies)`` from the model's
        calibration — percentiles in [0, 100], the unit of ``ember score`` — (raises
        :class:`EmberError` E_NO_CALIBRATION when it has none). ``flags`` (from
        ``encode(..., return_flags=True)``) marks rows with unseen categories anomalous."""
        X = self._rows(X)
        n = X.shape[0]
        s = np.empty(n, dtype=np.float32)
        if not details:
            _check(self._lib.ember_score(self._handle(), _fptr(X), n, _fptr(s), None, None))
            return s
        p = np.empty(n, dtype=np.float32)
        a = np.empty(n, dtype=np.uint8)
        f = None
        if flags is not None:
            f = np.ascontiguousarray(flags, dtype=np.uint32)
            if f.shape != (n,):
                raise ValueError(f"flags must have shape ({n},), got {f.shape}")
        _check(self._lib.ember_score_flagged(self._handle(), _fptr(X),
                                             f.ctypes.data_as(ct.POINTER(ct.c_uint32)) if f is not None else None, n,
                                             _fptr(s), _fptr(p), a.ctypes.data_as(ct.POINTER(ct.c_uint8))))
        return s, p, a.astype(bool)

    def classify(self, X, *, probs: bool = False):
        """Most probable class indices (n,) int32; with ``probs=True`` also p(c|x) (n, C)."""
        X = self._rows(X)
        n = X.shape[0]
        lab = np.empty(n, dtype=np.int32)
        P = np.empty((n, len(self.labels)), dtype=np.float32) if probs else None
        _check(self._lib.ember_classify(self._handle(), _fptr(X), n, lab.ctypes.data_as(ct.POINTER(ct.c_int32)),
                                        _fptr(P) if P is not None else None))
        return (lab, P) if probs else lab

    def predict_labels(self, X) -> list:
        """Most probable class labels (strings)."""
        return [self.labels[i] for i in self.classify(X)]

    def class_index(self, cls: Union[int, str, None]) -> int:
        """Index of a class given by label or index (-1 for None: proportional sampling)."""
        if cls is None:
            return -1
        if isinstance(cls, (int, np.integer)):
            if not 0 <= int(cls) < len(self.labels):
                raise EmberError(E_UNKNOWN_CLASS, f"class index {cls} out of range (0..{len(self.labels) - 1})")
            return int(cls)
        i = ct.c_int32()
        _check(self._lib.ember_class_index(self._handle(), str(cls).encode(), ct.byref(i)))
        return i.value

    def sample(self, n: int, cls: Union[int, str, None] = None, seed: int = 0, *, return_classes: bool = False,
               **opts) -> Any:
        """Draws ``n`` encoded synthetic rows ((n, d) float32). ``cls``: a label or index, or
        None for every class in prior proportion. Options override the file's sampler
        defaults: ``kind`` ("tabebm", "langevin", "mala"), ``steps``, ``step_size``,
        ``noise_scale``, ``temperature``, ``init_noise``, ``grad_clip``, ``init``
        ("starting_rows", "base", "interpolate"), ``threads``, ``divergence_limit``. Same arguments → same
        array. With ``return_classes=True`` returns ``(rows, class_indices)``."""
        if n < 0:
            raise ValueError("n must be >= 0")
        o = _Options()
        self._lib.ember_sampler_options_init(ct.byref(o))
        for key, value in opts.items():
            if value is None:
                continue
            if key == "kind":
                value = _SAMPLERS[value] if isinstance(value, str) else int(value)
            elif key == "init":
                value = _INITS[value] if isinstance(value, str) else int(value)
            elif key not in {f for f, _ in _Options._fields_} or key == "struct_size":
                raise TypeError(f"unknown sampler option {key!r}")
            setattr(o, key, value)
        out = np.empty((n, self.width), dtype=np.float32)
        classes = np.empty(n, dtype=np.int32)
        st = _Stats()
        _check(self._lib.ember_sample(self._handle(), self.class_index(cls), n, int(seed) & (2**64 - 1), ct.byref(o),
                                      _fptr(out), classes.ctypes.data_as(ct.POINTER(ct.c_int32)), ct.byref(st)))
        self.last_sample_stats = {k: int(getattr(st, k)) for k, _ in _Stats._fields_}
        return (out, classes) if return_classes else out

    def __repr__(self) -> str:
        return f"Model(classes={self.labels}, features={self.features}, width={self.width})"
