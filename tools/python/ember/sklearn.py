"""scikit-learn, imbalanced-learn and PyOD-style estimators over Ember models.

* :class:`EnergyClassifier` — ``fit(X, y)``, ``predict``, ``predict_proba``, ``classes_``.
* :class:`EnergyDetector` — PyOD conventions: ``fit(X, y=None)``, ``decision_function`` (higher =
  more anomalous), ``predict`` (0 inlier / 1 outlier), ``predict_proba``, ``threshold_``,
  ``decision_scores_``, ``labels_``.
* :class:`EnergyAugmenter` — imbalanced-learn conventions: ``fit_resample(X, y)`` with
  ``sampling_strategy`` and ``random_state``; a step of an ``imblearn.pipeline.Pipeline``.

Their hyper-parameters are the trainer's options, generated from its declaration (never restated
here): ``hidden``, ``epochs``, ``lr``, ``weight_decay``, ``seed``, ``objective``, ``activation``,
``min_class_rows``, … with the trainer's defaults, except ``min_class_rows=1`` (an estimator keeps
every class it is given). ``hidden`` takes ``(64, 64)`` or ``"64,64"``; ``GridSearchCV`` tunes
any of them. ``X`` is a DataFrame (columns of any kind: strings are categories, NaN is missing)
or a numeric array (NaN allowed; columns named x0, x1, …). Fitting trains in process through the
C API; predictions go through the Swift runtime.
"""
from __future__ import annotations

import keyword
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _capi
from ._train import train

__all__ = ["EnergyClassifier", "EnergyDetector", "EnergyAugmenter", "TRAINING_PARAMETERS"]

#: Trainer options that are not estimator hyper-parameters: the label column is the estimator's
#: business, and extending a model file (add-to) is not a fit.
_EXCLUDED = {"target", "add_to"}
#: Estimator defaults that differ from the CLI's, and why: a classifier must keep every class.
_DEFAULTS = {"min_class_rows": 1}


def _default(option: dict):
    if option["flag"]:
        return False
    text = option["default"]
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _training_parameters() -> dict:
    params = {}
    for o in _capi.train_options():
        name = o["name"].replace("-", "_")
        if name in _EXCLUDED or keyword.iskeyword(name):
            continue
        params[name] = (_DEFAULTS.get(name, _default(o)), o["help"])
    return params


#: name → (default, help) of every training hyper-parameter, from the trainer's declaration.
TRAINING_PARAMETERS = _training_parameters()


def _with_init(cls, own: dict):
    """Gives ``cls`` an ``__init__`` with keyword-only parameters ``own`` (name → default) then every
    training hyper-parameter, storing each as an attribute (scikit-learn's convention), and
    appends their descriptions to the class docstring."""
    params = dict(own)
    params.update({k: v for k, (v, _) in TRAINING_PARAMETERS.items() if k not in own})
    signature = ", ".join(f"{k}={k}__default" for k in params)
    body = "\n".join(f"    self.{k} = {k}" for k in params) or "    pass"
    namespace = {f"{k}__default": v for k, v in params.items()}
    exec(f"def __init__(self, *, {signature}):\n{body}\n", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__name__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    lines = [f"    {k} (default {v!r}): {h}" for k, (v, h) in TRAINING_PARAMETERS.items()]
    cls.__doc__ = (cls.__doc__ or "") + "\n    Training hyper-parameters (the trainer's options):\n\n" + "\n".join(lines) + "\n"
    return cls


def _seed(random_state) -> int:
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral):
        return int(random_state) & (2**64 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int64).max))
    raise ValueError(f"random_state must be None, an int or a numpy random state, not {random_state!r}")


class _EmberEstimator(BaseEstimator):
    """What the three estimators share: input checks and the training call."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _frame(self, X, reset: bool):
        """``X`` as a DataFrame the trainer and runtime take (checks n_features_in_ and
        feature_names_in_ as scikit-learn does)."""
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
            numeric = X.select_dtypes(include="number")
            if numeric.shape[1] and np.isinf(numeric.to_numpy(dtype=np.float64, na_value=np.nan)).any():
                raise ValueError("Input X contains infinity.")
            frame = X.copy(deep=False)
            frame.columns = [str(c) for c in X.columns]
            return frame
        X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=[np.float64, np.float32])
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])], copy=False)

    def _train_kwargs(self) -> dict:
        return {k: getattr(self, k) for k in TRAINING_PARAMETERS}

    def _fit_model(self, frame, labels):
        kwargs = self._train_kwargs()
        seed = kwargs.pop("seed")
        return train(frame, target=np.asarray(labels, dtype=object), seed=0 if seed is None else seed, **kwargs)


class EnergyClassifier(ClassifierMixin, _EmberEstimator):
    """A classifier over per-class energies: p(c|x) ∝ exp(−E_c(x)/T + log π_c + offset_c).

    Attributes after ``fit``: ``classes_`` (the labels of ``y``, sorted), ``model_`` (the
    :class:`ember.Model`), ``n_features_in_``, ``feature_names_in_`` (DataFrames).
    """

    def fit(self, X, y):
        """Trains one energy model per class of ``y`` on the rows of ``X``."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        frame = self._frame(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != len(frame):
            raise ValueError(f"Found input variables with inconsistent numbers of samples: [{len(frame)}, {len(y)}]")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        texts = [str(c).strip() for c in self.classes_]
        if len(set(texts)) != len(texts):
            raise ValueError("distinct labels of y read as the same text: " + ", ".join(texts))
        model = self._fit_model(frame, [str(v).strip() for v in y])
        position = {label: c for c, label in enumerate(model.classes)}
        missing = [t for t in texts if t not in position]
        if missing:
            raise ValueError(f"the trainer left out class(es) {', '.join(missing)} (fewer rows than "
                             f"min_class_rows={self.min_class_rows})")
        self.model_ = model
        self._columns = np.array([position[t] for t in texts])
        return self

    def predict_proba(self, X):
        """p(c|x) for every class: (n, len(classes_)) float64, columns in ``classes_`` order."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        return self.model_.predict_proba(frame)[:, self._columns].astype(np.float64)

    def predict_log_proba(self, X):
        """log p(c|x)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class (the runtime's arg-max) of every row."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        index = self.model_.predict_index(frame)
        back = np.empty(len(self.model_.classes), dtype=np.int64)
        back[self._columns] = np.arange(len(self.classes_))
        return self.classes_[back[index]]


class EnergyDetector(_EmberEstimator):
    """An outlier detector with PyOD's conventions over one energy model of all training rows.

    ``decision_function(X)`` is the energy score (higher = more anomalous). ``predict`` flags rows
    above ``threshold_``: the ``(1 − contamination)`` quantile of the training scores, as in PyOD,
    or with ``contamination=None`` the model's calibrated threshold (the 99th percentile of
    held-out training rows' scores). Attributes after ``fit``: ``decision_scores_``,
    ``threshold_``, ``labels_`` (0/1 of the training rows), ``model_``.

    Not a scikit-learn ``OutlierMixin``: scikit-learn's outlier convention (+1 inlier / −1 outlier,
    higher decision = more normal) is the opposite of PyOD's, which this class follows.
    """

    def fit(self, X, y=None):
        """Trains on every row of ``X`` (``y`` is ignored, as in PyOD)."""
        if self.contamination is not None and not (0 < float(self.contamination) <= 0.5):
            raise ValueError(f"contamination must be in (0, 0.5], got {self.contamination!r}")
        frame = self._frame(X, reset=True)
        model = self._fit_model(frame, ["inlier"] * len(frame))
        self.model_ = model
        self.decision_scores_ = model.score(frame).astype(np.float64)
        if self.contamination is None:
            if model.threshold is None:
                raise ValueError("the model has no calibrated threshold (too few rows held out); set contamination")
            self.threshold_ = float(model.threshold)
        else:
            self.threshold_ = float(np.percentile(self.decision_scores_, 100 * (1 - float(self.contamination))))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def decision_function(self, X):
        """Anomaly scores: the free energy of each row (higher = more anomalous)."""
        check_is_fitted(self)
        return self.model_.score(self._frame(X, reset=False)).astype(np.float64)

    def predict(self, X):
        """0 for inliers, 1 for outliers: score above ``threshold_``, or a category never seen in
        training (out of distribution by definition, as ``ember score`` flags it)."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        scores = self.model_.score(frame)
        _, flags = self.model_.encode(frame, return_flags=True)
        return ((scores > self.threshold_) | (flags & _capi.ROW_UNKNOWN_CATEGORY != 0)).astype(int)

    def fit_predict(self, X, y=None):
        """``fit(X)`` then the training rows' labels."""
        return self.fit(X, y).labels_

    def predict_proba(self, X, method: str = "linear"):
        """(n, 2) probabilities of [inlier, outlier]. ``method``: ``"linear"`` (PyOD's default:
        scores min-max scaled over the training scores, clipped to [0, 1]), ``"unify"`` (PyOD's:
        erf of the standardised score), or ``"percentile"`` (the model's calibration: the share of
        held-out in-distribution rows scoring lower)."""
        scores = self.decision_function(X)
        train_scores = self.decision_scores_
        if method == "linear":
            lo, hi = train_scores.min(), train_scores.max()
            p = np.clip((scores - lo) / (hi - lo) if hi > lo else np.zeros_like(scores), 0, 1)
        elif method == "unify":
            from math import erf, sqrt

            mu, sd = train_scores.mean(), train_scores.std()
            p = np.clip([erf((s - mu) / (sd * sqrt(2))) if sd > 0 else 0.0 for s in scores], 0, 1)
        elif method == "percentile":
            percentiles = self.model_.score(self._frame(X, reset=False), details=True)["percentile"]
            p = percentiles.to_numpy(np.float64) / 100
        else:
            raise ValueError(f"method must be 'linear', 'unify' or 'percentile', not {method!r}")
        p = np.asarray(p, dtype=np.float64)
        return np.column_stack([1 - p, p])


try:
    from imblearn.base import BaseSampler as _BaseSampler
except ImportError:  # pragma: no cover - imbalanced-learn is optional
    _BaseSampler = None

if _BaseSampler is not None:

    class EnergyAugmenter(_BaseSampler, _EmberEstimator):
        """Over-sampling with synthetic rows drawn from per-class energy models (imbalanced-learn's
        ``fit_resample``).

        ``sampling_strategy`` as in imbalanced-learn: ``"auto"`` (= ``"not majority"``: every class
        grows to the majority's size), ``"all"``, ``"minority"``, ``"not minority"``, a float (binary
        problems: minority / majority after resampling) or a dict (class → rows wanted).
        ``random_state`` seeds the sampler (None = 0: Ember is seeded everywhere); the training
        hyper-parameter ``seed`` seeds training. Returns the input rows followed by the synthetic
        ones; a DataFrame stays a DataFrame with its columns and dtypes. Attributes after
        ``fit_resample``: ``sampling_strategy_``, ``model_``.
        """

        _sampling_type = "over-sampling"
        _parameter_constraints: dict = {}

        def _check_X_y(self, X, y, accept_sparse=None):
            from imblearn.utils import check_target_type

            y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
            frame = self._frame(X, reset=True)
            y = np.asarray(y)
            if len(y) != len(frame):
                raise ValueError(f"Found input variables with inconsistent numbers of samples: [{len(frame)}, {len(y)}]")
            import pandas as pd

            return (X if isinstance(X, pd.DataFrame) else frame.to_numpy()), y, binarize_y

        def _fit_resample(self, X, y):
            import pandas as pd

            frame = self._frame(X, reset=False) if isinstance(X, pd.DataFrame) else pd.DataFrame(
                X, columns=[f"x{j}" for j in range(X.shape[1])])
            texts = {c: str(c).strip() for c in np.unique(y)}
            self.model_ = self._fit_model(frame, [texts[v] for v in y])
            seed = _seed(self.random_state)
            parts, labels = [], []
            for cls, n in self.sampling_strategy_.items():
                if n <= 0:
                    continue
                rows = self.model_.sample(int(n), cls=texts[cls], seed=seed)
                parts.append(rows.reindex(columns=frame.columns))
                labels.append(np.full(int(n), cls, dtype=np.asarray(y).dtype))
            if not parts:
                return X, y
            synthetic = pd.concat(parts, ignore_index=True)
            y_out = np.concatenate([np.asarray(y)] + labels)
            if isinstance(X, pd.DataFrame):
                synthetic.columns = X.columns
                return pd.concat([X, synthetic.astype(X.dtypes.to_dict(), errors="ignore")], ignore_index=True), y_out
            return np.vstack([X, synthetic.to_numpy(dtype=X.dtype)]), y_out

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.allow_nan = True
            tags.input_tags.sparse = False  # rows go to the trainer as a table
            return tags

    _with_init(EnergyAugmenter, {"sampling_strategy": "auto", "random_state": None})
else:  # pragma: no cover

    class EnergyAugmenter:  # type: ignore[no-redef]
        """Needs imbalanced-learn (``pip install imbalanced-learn``)."""

        def __init__(self, *args, **kwargs):
            raise ImportError("EnergyAugmenter needs imbalanced-learn: pip install imbalanced-learn")


_with_init(EnergyClassifier, {})
_with_init(EnergyDetector, {"contamination": 0.1})
