"""Ember: energy-based models of tabular data — train, score, classify and synthesise rows.

    import ember
    model = ember.train(df, target="species", seed=1, hidden=[64, 64])   # in process
    model.score(df)             # anomaly scores (higher = more anomalous)
    model.classify(df)          # label and p_<label> per row (a DataFrame)
    model.sample(500, seed=7)   # synthetic rows with the training columns (a DataFrame)
    model.save("iris.ember"); ember.load("iris.ember")

Everything runs in the Swift runtime and trainer through their C API (``libCEmberTrainer.so``,
bundled with the package). Submodules: :mod:`ember.sklearn` (scikit-learn, imbalanced-learn and
PyOD-style estimators), :mod:`ember.spark` (PySpark), :mod:`ember.fb` (generated FlatBuffers
accessors of the file format). Importing :mod:`ember` itself loads nothing: the library is
loaded on first use.
"""
from __future__ import annotations

__all__ = ["train", "train_options", "load", "Model", "EmberError", "OptionError", "DataError", "ModelFileError",
           "LibraryNotFound", "version"]

_LAZY = {
    "train": ("ember._train", "train"),
    "train_options": ("ember._train", "train_options"),
    "load": ("ember.model", "load"),
    "Model": ("ember.model", "Model"),
    "EmberError": ("ember._capi", "EmberError"),
    "OptionError": ("ember._capi", "OptionError"),
    "DataError": ("ember._capi", "DataError"),
    "ModelFileError": ("ember._capi", "ModelFileError"),
    "LibraryNotFound": ("ember._capi", "LibraryNotFound"),
    "version": ("ember._capi", "version"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
