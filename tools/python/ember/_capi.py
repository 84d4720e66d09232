"""The C library (``libCEmberTrainer.so``: ``ember.h`` + ``ember_train.h``) loaded with ctypes.

Private: the public API is :mod:`ember`. Every function's signature is declared once here;
every call goes through :func:`check`, which turns a non-zero ``ember_status`` into the matching
:class:`EmberError` subclass carrying the library's message.

The library is found without environment variables: ``ember/_lib/`` inside the installed package
(``make python`` puts it there), else the repository's ``.build/release`` or ``.build/debug``
(running from a source checkout). ``$EMBER_LIB`` (a file or a directory) overrides both.
"""
from __future__ import annotations

import ctypes as ct
import json
import os
import threading
from typing import Optional

LIBNAME = "libCEmberTrainer.so"
_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, "..", "..", ".."))

# ember_status values (ember.h).
OK = 0
E_INVALID_ARGUMENT = 1
E_IO = 2
E_TRUNCATED = 3
E_NOT_A_MODEL = 4
E_MALFORMED = 5
E_UNSUPPORTED_VERSION = 6
E_CHECKSUM = 7
E_INVALID_MODEL = 8
E_UNUSABLE_MODEL = 9
E_MISSING_COLUMNS = 10
E_BAD_VALUE = 11
E_UNKNOWN_CATEGORY = 12
E_UNKNOWN_CLASS = 13
E_BAD_REQUEST = 14
E_BUFFER_TOO_SMALL = 15
E_NO_CALIBRATION = 16
E_BAD_OPTION = 17
E_BAD_DATA = 18
E_INTERNAL = 99

# Encoder flags and row flags (ember.h).
ENCODE_STRICT_CATEGORIES = 4
ROW_UNKNOWN_CATEGORY = 1
COLUMN_NUMBERS = 0
COLUMN_CODES = 1


class LibraryNotFound(ImportError):
    """The shared library is neither in the package nor in a build directory."""


class EmberError(RuntimeError):
    """A failed call into the Ember library. ``status`` is the ``ember_status`` code,
    ``message`` the library's one-line message (it names the function, and where it applies the
    file, line, row, column or class)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class OptionError(EmberError, ValueError):
    """A training option the trainer's option declaration refuses (unknown name, bad value)."""


class DataError(EmberError, ValueError):
    """Input data the runtime or the trainer cannot use: a missing column, a value that is not a
    number, an unknown category, too few rows (the message says where)."""


class ModelFileError(EmberError):
    """A model file that cannot be read, fails verification or cannot be prepared."""


_ERRORS = {
    E_BAD_OPTION: OptionError,
    E_BAD_DATA: DataError,
    E_MISSING_COLUMNS: DataError,
    E_BAD_VALUE: DataError,
    E_UNKNOWN_CATEGORY: DataError,
    E_IO: ModelFileError,
    E_TRUNCATED: ModelFileError,
    E_NOT_A_MODEL: ModelFileError,
    E_MALFORMED: ModelFileError,
    E_UNSUPPORTED_VERSION: ModelFileError,
    E_CHECKSUM: ModelFileError,
    E_INVALID_MODEL: ModelFileError,
    E_UNUSABLE_MODEL: ModelFileError,
}


class SamplerOptions(ct.Structure):
    """``ember_sampler_options`` (all fields 4 bytes; the library checks ``struct_size``)."""

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
        ("class_filter", ct.c_int32),
    ]


class SampleStats(ct.Structure):
    """``ember_sample_stats``."""

    _fields_ = [("chains", ct.c_uint64), ("restarts", ct.c_uint64), ("proposals", ct.c_uint64),
                ("accepted", ct.c_uint64)]


#: ``ember_train_progress``: (context, label, class_index, class_count, phase, phases, step, steps, loss).
PROGRESS = ct.CFUNCTYPE(None, ct.c_void_p, ct.c_char_p, ct.c_int32, ct.c_int32, ct.c_int32, ct.c_int32, ct.c_int32,
                        ct.c_int32, ct.c_double)


def library_path() -> str:
    """Path of the library :func:`lib` loads (raises :class:`LibraryNotFound`)."""
    env = os.environ.get("EMBER_LIB")
    if env:
        p = os.path.join(env, LIBNAME) if os.path.isdir(env) else env
        if not os.path.isfile(p):
            raise LibraryNotFound(f"EMBER_LIB={env}: no {LIBNAME} there")
        return p
    tried = [os.path.join(_HERE, "_lib", LIBNAME)]
    tried += [os.path.join(_REPO, ".build", config, LIBNAME) for config in ("release", "debug")]
    for p in tried:
        if os.path.isfile(p):
            return p
    raise LibraryNotFound(f"{LIBNAME} not found (tried {', '.join(tried)}); install the package with "
                          "`make python` or build it with `swift build -c release --product CEmberTrainer`")


_lib: Optional[ct.CDLL] = None
_lock = threading.Lock()


def lib() -> ct.CDLL:
    """The loaded library with every signature declared (loaded once per process)."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        L = ct.CDLL(library_path())
        P, PP = ct.c_void_p, ct.POINTER(ct.c_void_p)
        F, D = ct.POINTER(ct.c_float), ct.POINTER(ct.c_double)
        I32, PI32 = ct.c_int32, ct.POINTER(ct.c_int32)
        S, PS = ct.c_size_t, ct.POINTER(ct.c_size_t)
        CS, CSS = ct.c_char_p, ct.POINTER(ct.c_char_p)
        U8 = ct.POINTER(ct.c_uint8)
        sigs = {
            "ember_version": (CS, []),
            "ember_last_error": (CS, []),
            "ember_error_message": (CS, [I32]),
            "ember_open_path": (I32, [CS, PP]),
            "ember_open_bytes": (I32, [ct.c_char_p, S, PP]),
            "ember_close": (None, [P]),
            "ember_class_count": (S, [P]),
            "ember_class_label": (CS, [P, S]),
            "ember_class_prior": (ct.c_double, [P, S]),
            "ember_target_name": (CS, [P]),
            "ember_feature_count": (S, [P]),
            "ember_feature_name": (CS, [P, S]),
            "ember_feature_kind": (I32, [P, S]),
            "ember_encoded_width": (S, [P]),
            "ember_score_threshold": (I32, [P, F]),
            "ember_energies": (I32, [P, F, S, F]),
            "ember_score": (I32, [P, F, S, F, F, U8]),
            "ember_classify": (I32, [P, F, S, PI32, F]),
            "ember_explain": (I32, [P, F, S, S, F, PI32, F]),
            "ember_sampler_options_init": (None, [ct.POINTER(SamplerOptions)]),
            "ember_sampler_options_size": (S, []),
            "ember_sample": (I32, [P, I32, S, ct.c_uint64, ct.POINTER(SamplerOptions), F, PI32,
                                   ct.POINTER(SampleStats)]),
            "ember_columns_new": (I32, [P, S, CSS, PI32, ct.POINTER(ct.c_int64), ct.POINTER(CSS), PS, ct.c_uint32, PP]),
            "ember_columns_free": (None, [P]),
            "ember_columns_encode": (I32, [P, PP, S, F, ct.POINTER(ct.c_uint32)]),
            "ember_columns_energies": (I32, [P, PP, S, F]),
            "ember_columns_score": (I32, [P, PP, S, F, F, U8]),
            "ember_columns_classify": (I32, [P, PP, S, PI32, F]),
            "ember_decode_column": (I32, [P, F, S, S, D, PI32]),
            "ember_sample_counts": (I32, [P, S, PS]),
            "ember_sample_chains": (I32, [P, I32, ct.c_uint64, S, ct.c_uint64, ct.POINTER(SamplerOptions), F,
                                          ct.POINTER(SampleStats)]),
            "ember_train_csv": (I32, [CS, CSS, S, PROGRESS, P, PP]),
            "ember_train_text": (I32, [ct.c_char_p, S, CS, CSS, S, PROGRESS, P, PP]),
            "ember_trained_bytes": (ct.c_void_p, [P, PS]),
            "ember_trained_summary": (CS, [P]),
            "ember_trained_summary_json": (CS, [P]),
            "ember_trained_free": (None, [P]),
            "ember_train_options_json": (CS, []),
            "ember_inspect_json": (I32, [P, CS, ct.c_char_p, S, PS]),
        }
        for name, (res, args) in sigs.items():
            fn = getattr(L, name)
            fn.restype = res
            fn.argtypes = args
        if L.ember_sampler_options_size() != ct.sizeof(SamplerOptions):
            raise LibraryNotFound(f"{library_path()}: ember_sampler_options is {L.ember_sampler_options_size()} "
                                  f"bytes, this package expects {ct.sizeof(SamplerOptions)}: versions differ")
        _lib = L
        return L


_raw: Optional[ct.CDLL] = None


def raw() -> ct.CDLL:
    """The columnar calls again, declared with plain addresses (``c_void_p``) for every pointer: the
    hot paths pass integers, which ctypes converts fastest."""
    global _raw
    if _raw is None:
        R = ct.CDLL(library_path())
        P, S = ct.c_void_p, ct.c_size_t
        for name, args in {"ember_columns_encode": [P, P, S, P, P], "ember_columns_energies": [P, P, S, P],
                           "ember_columns_score": [P, P, S, P, P, P], "ember_columns_classify": [P, P, S, P, P]}.items():
            fn = getattr(R, name)
            fn.restype = ct.c_int32
            fn.argtypes = args
        _raw = R
    return _raw


def check(status: int) -> None:
    """Raises the :class:`EmberError` subclass for a non-zero ``status`` with this thread's message."""
    if status != OK:
        message = lib().ember_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, EmberError)(status, message)


def strings(values) -> "ct.Array":
    """A ``const char *const *`` array of UTF-8 strings (None stays NULL)."""
    encoded = [None if v is None else (v if isinstance(v, bytes) else str(v).encode()) for v in values]
    return (ct.c_char_p * max(len(encoded), 1))(*encoded)


def version() -> str:
    """The library's version string."""
    return lib().ember_version().decode()


_options: Optional[list] = None


def train_options() -> list:
    """The training options as the trainer's option table declares them
    (``ember_train_options_json``): a list of dicts with ``name`` (long name, e.g.
    ``weight-decay``), ``flag`` (bool), ``required``, ``default`` (text, or None when the trainer
    picks the value itself), ``help`` and, for options taking one of a list of words,
    ``choices``."""
    global _options
    if _options is None:
        _options = json.loads(lib().ember_train_options_json().decode())["options"]
    return _options
