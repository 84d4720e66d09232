"""Pure-Python reader and numpy reference implementation for `.ember` model files.

Reads a file with the committed `flatc --python` code (``tools/python/ember/fb``, the subpackage ``ember.fb``) and the PyPI
``flatbuffers`` package (2.0.7), checking what the Swift loader checks first: the ``EMBR``
identifier, the format version, the CRC-32 of the payload, then the nested ``Model`` payload and
the shape rules. Weight vectors are numpy views into the file bytes (fp16 weights are widened to
float32, which copies).

The numpy reference implementation mirrors the runtime's mathematics, in float64:

* network: dense layers ``y = act(W x + b)`` (W row-major ``[outputs][inputs]``), output term
  ``-r`` (log-odds), ``-logsumexp(outputs)`` (log-sum-exp) or ``output`` (scalar);
* base: ``E_base(x) = -logsumexp_j(logw_j - 0.5 (x-m_j)^T P (x-m_j)) + 0.5 log det S + d/2 log 2 pi``;
* class energy ``E_c(x) = network_scale * term(x) + E_base(x)`` and its analytic input gradient;
* score (free energy) ``-log sum_c pi_c exp(-E_c)`` and class posteriors
  ``softmax_c(-E_c / T + log pi_c + offset_c)``;
* encoding of raw rows per feature spec and decoding of encoded rows back to raw values.

Usage::

    from ember_reader import read_model
    m = read_model("iris.ember")
    e = m.energies(m.encode(rows))          # (n, C)
    e0, g0 = m.classes[0].energy_and_grad(x) # (n,), (n, d)
"""
from __future__ import annotations

import math
import os
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)  # the package ``ember`` (its generated subpackage ``ember.fb``)

from ember.fb.ModelFile import ModelFile  # noqa: E402
from ember.fb.Model import Model as FBModel  # noqa: E402

#: Format version this reader reads (same as the Swift ``FormatVersion.current``).
READER_VERSION = (1, 3)
FILE_IDENTIFIER = b"EMBR"

FEATURE_KINDS = ("numeric", "integer", "categorical")
ACTIVATIONS = ("identity", "silu", "relu", "tanh", "softplus", "gelu")
OUTPUT_MODES = ("logodds", "logsumexp", "scalar")
SAMPLER_KINDS = ("tabebm", "langevin", "mala")
CHAIN_INITS = ("starting_rows", "base", "interpolate")
MISSING_TOKENS = frozenset(["", "NA", "N/A", "?", "na"])
LOG_2PI = math.log(2.0 * math.pi)


class EmberFileError(Exception):
    """A file this reader refuses. ``kind`` is one of ``truncated``, ``not_a_model``,
    ``malformed``, ``unsupported_version``, ``checksum_mismatch``, ``invalid``; ``at`` names the
    model location (e.g. ``class 0 "setosa" layer 1 weights``) when known."""

    def __init__(self, kind: str, message: str, at: str | None = None):
        self.kind = kind
        self.at = at
        super().__init__(f"{message}" + (f" (at {at})" if at else ""))


# ----------------------------------------------------------------------------------------------
# Activations (float64 numpy) and their derivatives.

def _erf(x: np.ndarray) -> np.ndarray:
    """Vectorised erf (math.erf per element is slow; this uses numpy's frompyfunc-free path)."""
    try:  # scipy is not a dependency; fall back to math.erf via vectorize when absent.
        from scipy.special import erf  # type: ignore
        return erf(x)
    except Exception:  # pragma: no cover - depends on the environment
        return _ERF_VEC(x)


_ERF_VEC = np.vectorize(math.erf, otypes=[np.float64])


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """act(z) for one of :data:`ACTIVATIONS`."""
    if name == "identity":
        return z
    if name == "silu":
        return z / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "gelu":
        return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))
    raise ValueError(f"unknown activation {name!r}")


def activate_grad(name: str, z: np.ndarray) -> np.ndarray:
    """d act / dz at z."""
    if name == "identity":
        return np.ones_like(z)
    if name == "silu":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 + z * (1.0 - s))
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        t = np.tanh(z)
        return 1.0 - t * t
    if name == "softplus":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "gelu":
        return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    raise ValueError(f"unknown activation {name!r}")


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable log-sum-exp along ``axis``."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable softmax along ``axis``."""
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ----------------------------------------------------------------------------------------------
# Decoded model.

@dataclass
class Feature:
    """One raw input column (see ``table Feature`` in ``schema/ember.fbs``)."""
    name: str
    kind: str
    impute_value: float
    mean: float
    std: float
    min: float
    max: float
    categories: list[str]
    slot_offset: int
    slot_count: int
    missing_count: int


@dataclass
class Layer:
    """A dense layer ``y = act(W x + b)``; ``weights`` is float32 ``[outputs, inputs]``."""
    inputs: int
    outputs: int
    activation: str
    weight_type: str
    weights: np.ndarray
    bias: np.ndarray


@dataclass
class GaussianBase:
    """Shared-covariance Gaussian mixture base term."""
    means: np.ndarray          # (k, d)
    log_weights: np.ndarray    # (k,)
    precision: np.ndarray      # (d, d)
    log_det_covariance: float
    components: int
    #: (d,) lattice variance h²/12 carried on the covariance's diagonal (format 1.3; empty when
    #: absent). Scoring ignores it; conditioning on exact values takes it out of the covariance.
    lattice_variance: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def energy_and_grad(self, x: np.ndarray, want_grad: bool = True):
        """E_base(x) (n,) and its gradient (n, d), float64."""
        x = np.asarray(x, dtype=np.float64)
        d = x.shape[1]
        m = self.means.astype(np.float64)
        p = self.precision.astype(np.float64)
        diff = x[:, None, :] - m[None, :, :]                     # (n, k, d)
        pd = diff @ p.T                                           # (n, k, d): P (x - m)
        quad = np.einsum("nkd,nkd->nk", diff, pd)
        a = self.log_weights.astype(np.float64)[None, :] - 0.5 * quad
        lse = logsumexp(a, axis=1)
        e = -lse + 0.5 * self.log_det_covariance + 0.5 * d * LOG_2PI
        if not want_grad:
            return e, None
        r = softmax(a, axis=1)                                    # responsibilities
        g = np.einsum("nk,nkd->nd", r, pd)
        return e, g


@dataclass
class Calibration:
    """Energy/score quantiles on held-out rows and the anomaly threshold."""
    levels: np.ndarray
    quantiles: np.ndarray
    threshold: float
    rows: int


@dataclass
class SamplerDefaults:
    """Per-class default sampler settings."""
    kind: str
    steps: int
    step_size: float
    noise_scale: float
    temperature: float
    init_noise: float
    grad_clip: float
    init: str
    proposals: int = 0


@dataclass
class ClassModel:
    """One class's energy model and the numpy reference for its energy."""
    label: str
    prior: float
    train_rows: int
    layers: list[Layer]
    output: str | None
    base: GaussianBase | None
    network_scale: float
    calibration: Calibration | None
    sampler: SamplerDefaults | None
    starting_rows: np.ndarray  # (n, d), possibly (0, d)
    offset: float

    def network_term(self, x: np.ndarray, want_grad: bool = False):
        """term(x) (n,) and, when asked, d term / dx (n, d); float64."""
        h = np.asarray(x, dtype=np.float64)
        pre: list[np.ndarray] = []
        for layer in self.layers:
            z = h @ layer.weights.T.astype(np.float64) + layer.bias.astype(np.float64)
            pre.append(z)
            h = activate(layer.activation, z)
        if self.output == "logsumexp":
            term = -logsumexp(h, axis=1)
            dh = -softmax(h, axis=1)
        elif self.output == "logodds":
            term = -h[:, 0]
            dh = -np.ones_like(h)
        else:
            term = h[:, 0].copy()
            dh = np.ones_like(h)
        if not want_grad:
            return term, None
        g = dh
        for layer, z in zip(reversed(self.layers), reversed(pre)):
            g = (g * activate_grad(layer.activation, z)) @ layer.weights.astype(np.float64)
        return term, g

    def energy_and_grad(self, x: np.ndarray, want_grad: bool = True):
        """E_c(x) (n,) and ∇ₓE_c (n, d) (or None), float64."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        e = np.zeros(x.shape[0])
        g = np.zeros_like(x) if want_grad else None
        if self.output is not None and self.layers:
            t, gt = self.network_term(x, want_grad)
            e += self.network_scale * t
            if want_grad:
                g += self.network_scale * gt
        if self.base is not None:
            eb, gb = self.base.energy_and_grad(x, want_grad)
            e += eb
            if want_grad:
                g += gb
        return e, g

    def energy(self, x: np.ndarray) -> np.ndarray:
        """E_c(x) (n,), float64."""
        return self.energy_and_grad(x, want_grad=False)[0]


@dataclass
class Model:
    """A decoded `.ember` model."""
    format_version: tuple[int, int]
    min_reader_version: tuple[int, int]
    payload_crc32: int
    provenance: dict[str, Any]
    target: str
    features: list[Feature]
    encoded_width: int
    classes: list[ClassModel]
    temperature: float
    score_calibration: Calibration | None
    metadata: dict[str, str]
    raw: Any = field(repr=False, default=b"")
    #: Optional stacked read-out (format 1.1): (C, C) weights and (C,) biases, and (format
    #: 1.2) optional (C, d) weights on the encoded row.
    readout_weights: np.ndarray | None = None
    readout_bias: np.ndarray | None = None
    readout_input_weights: np.ndarray | None = None

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.classes]

    def class_index(self, label_or_index: str | int) -> int:
        """Index of a class given its label or index."""
        if isinstance(label_or_index, int):
            return label_or_index
        labels = self.labels
        if label_or_index in labels:
            return labels.index(label_or_index)
        if str(label_or_index).isdigit() and int(label_or_index) < len(labels):
            return int(label_or_index)
        raise KeyError(f"no class {label_or_index!r} (classes: {', '.join(labels)})")

    def energies(self, x: np.ndarray) -> np.ndarray:
        """(n, C) energies of encoded rows."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return np.stack([c.energy(x) for c in self.classes], axis=1)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Free-energy anomaly score −log Σ_c π_c e^{−E_c(x)} (higher = more anomalous)."""
        e = self.energies(x)
        logp = np.log(np.array([c.prior for c in self.classes]))
        return -logsumexp(logp[None, :] - e, axis=1)

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        """(n, C) class probabilities softmax(−E_c/T + log π_c + offset_c), or, with a stacked
        read-out, softmax(−E·Wᵀ + x·Vᵀ + b)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        e = self.energies(x)
        if self.readout_weights is not None:
            logits = -e @ self.readout_weights.T + self.readout_bias[None, :]
            if self.readout_input_weights is not None:
                logits = logits + x @ self.readout_input_weights.T
            return softmax(logits, axis=1)
        logits = (-e / self.temperature + np.log([c.prior for c in self.classes])[None, :]
                  + np.array([c.offset for c in self.classes])[None, :])
        return softmax(logits, axis=1)

    def classify(self, x: np.ndarray) -> list[str]:
        """Most probable label per encoded row."""
        return [self.classes[i].label for i in np.argmax(self.posteriors(x), axis=1)]

    # -- preprocessing --------------------------------------------------------------------------

    def encode(self, rows: Sequence[dict[str, Any]] | Sequence[Sequence[Any]],
               header: Sequence[str] | None = None) -> np.ndarray:
        """Encodes raw rows (dicts by column name, or sequences with ``header``) into (n, d)
        float64: numeric/integer ``(raw - mean) / std`` with missing → ``impute_value``,
        categoricals one-hot (missing → category ``impute_value``). Raises ``ValueError`` naming
        the row and column for bad cells or unknown categories."""
        pos = None if header is None else {name: i for i, name in reversed(list(enumerate(header)))}
        out = np.zeros((len(rows), self.encoded_width))
        for r, row in enumerate(rows):
            for f in self.features:
                if pos is None:
                    cell = row.get(f.name) if isinstance(row, dict) else None
                else:
                    if f.name not in pos:
                        raise ValueError(f"missing column {f.name!r}")
                    cell = row[pos[f.name]]
                missing = cell is None or (isinstance(cell, float) and math.isnan(cell)) or (
                    isinstance(cell, str) and cell.strip() in MISSING_TOKENS)
                if f.kind == "categorical":
                    if missing:
                        k = int(f.impute_value)
                    else:
                        text = str(cell).strip()
                        if text not in f.categories:
                            raise ValueError(f"row {r + 1} column {f.name!r}: unknown category {text!r}")
                        k = f.categories.index(text)
                    out[r, f.slot_offset + k] = 1.0
                else:
                    if missing:
                        v = f.impute_value
                    else:
                        try:
                            v = float(cell)
                        except (TypeError, ValueError):
                            raise ValueError(f"row {r + 1} column {f.name!r}: {cell!r} is not a number") from None
                        if not math.isfinite(v):
                            raise ValueError(f"row {r + 1} column {f.name!r}: {cell!r} is not finite")
                    out[r, f.slot_offset] = (v - f.mean) / f.std
        return out

    def decode(self, x: np.ndarray) -> list[dict[str, Any]]:
        """Decodes encoded rows back to raw values: numeric clipped to [min, max], integers
        clipped and rounded, categoricals the arg-max slot's category."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows = []
        for v in x:
            row: dict[str, Any] = {}
            for f in self.features:
                if f.kind == "categorical":
                    row[f.name] = f.categories[int(np.argmax(v[f.slot_offset:f.slot_offset + f.slot_count]))]
                else:
                    raw = min(max(v[f.slot_offset] * f.std + f.mean, f.min), f.max)
                    row[f.name] = int(round(raw)) if f.kind == "integer" else raw
            rows.append(row)
        return rows


# ----------------------------------------------------------------------------------------------
# Reading.

def _s(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8")


def _vec(obj, name: str, dtype=np.float32) -> np.ndarray:
    """A vector field as a numpy view (empty array when absent)."""
    if getattr(obj, name + "IsNone")():
        return np.zeros(0, dtype=dtype)
    a = getattr(obj, name + "AsNumpy")()
    return a if isinstance(a, np.ndarray) else np.zeros(0, dtype=dtype)


def _enum(values: Sequence[str], v: int, at: str) -> str:
    if not 0 <= v < len(values):
        raise EmberFileError("invalid", f"unknown enum value {v}", at)
    return values[v]


def _calibration(c) -> Calibration | None:
    if c is None:
        return None
    return Calibration(_vec(c, "Levels"), _vec(c, "Quantiles"), float(c.Threshold()), int(c.Rows()))


def read_model(source: str | os.PathLike | bytes | bytearray | memoryview) -> Model:
    """Reads and checks a `.ember` model from a path or bytes. Raises :class:`EmberFileError`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        where = "<bytes>"
    else:
        where = os.fspath(source)
        with open(where, "rb") as fh:
            data = fh.read()
    try:
        return _read(_aligned_copy(data))
    except EmberFileError:
        raise
    except Exception as exc:  # the flatbuffers package raises struct/index errors on garbage
        raise EmberFileError("malformed", f"{where}: cannot decode the model ({type(exc).__name__}: {exc})") from exc


def _aligned_copy(data: bytes) -> memoryview:
    """The file bytes in a 64-byte-aligned buffer, so in-place weight views are aligned in memory
    as they are in the file."""
    raw = np.empty(len(data) + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64
    buf = raw[start:start + len(data)]
    buf[:] = np.frombuffer(data, dtype=np.uint8)
    return memoryview(buf).toreadonly()


def _read(data) -> Model:
    if len(data) < 16:
        raise EmberFileError("truncated", f"too short to be an .ember model ({len(data)} bytes)")
    if bytes(data[4:8]) != FILE_IDENTIFIER:
        raise EmberFileError("not_a_model", "missing the EMBR file identifier: not an .ember model")
    root = int.from_bytes(bytes(data[0:4]), "little")
    if root + 4 > len(data):
        raise EmberFileError("malformed", "root offset points outside the file")
    env = ModelFile.GetRootAs(data, 0)
    ver = env.FormatVersion()
    if ver is None:
        raise EmberFileError("malformed", "the envelope has no format version", "format_version")
    version = (ver.Major(), ver.Minor())
    mr = env.MinReaderVersion()
    min_reader = (mr.Major(), mr.Minor()) if mr is not None else version
    if version[0] != READER_VERSION[0]:
        raise EmberFileError("unsupported_version",
                             f"file format {version[0]}.{version[1]} has major version {version[0]}; "
                             f"this reader reads {READER_VERSION[0]}.{READER_VERSION[1]}", "format_version")
    if min_reader > READER_VERSION:
        raise EmberFileError("unsupported_version",
                             f"file needs a reader of at least {min_reader[0]}.{min_reader[1]}", "min_reader_version")
    if env.PayloadIsNone() or env.PayloadLength() == 0:
        raise EmberFileError("truncated", "the envelope has no payload", "payload")
    # The payload vector's first byte sits at `vec_pos` inside `data` (field 3 → vtable slot 10).
    vec_pos = env._tab.Vector(env._tab.Offset(10))
    n_payload = env.PayloadLength()
    if vec_pos + n_payload > len(data):
        raise EmberFileError("truncated", "the payload runs past the end of the file", "payload")
    crc = zlib.crc32(memoryview(data)[vec_pos:vec_pos + n_payload]) & 0xFFFFFFFF
    stored = env.PayloadCrc32()
    if crc != stored:
        raise EmberFileError("checksum_mismatch",
                             f"payload checksum {crc:#010x} does not match the stored {stored:#010x}: "
                             "the file was modified or corrupted", "payload")
    # Zero-copy: decode the nested root in place.
    if vec_pos % 64 != 0:
        raise EmberFileError("malformed", f"payload is not 64-byte aligned (offset {vec_pos})", "payload")
    m = FBModel.GetRootAs(data, vec_pos)
    model = _decode_model(m, data)
    model.format_version, model.min_reader_version, model.payload_crc32 = version, min_reader, stored
    validate(model)
    return model


def _decode_model(m, data: bytes) -> Model:
    features = []
    for i in range(m.FeaturesLength()):
        f = m.Features(i)
        features.append(Feature(
            name=_s(f.Name()) or "", kind=_enum(FEATURE_KINDS, f.Kind(), f"feature {i} kind"),
            impute_value=f.ImputeValue(), mean=f.Mean(), std=f.Std(), min=f.Min(), max=f.Max(),
            categories=[_s(f.Categories(j)) for j in range(f.CategoriesLength())],
            slot_offset=f.SlotOffset(), slot_count=f.SlotCount(), missing_count=f.MissingCount()))
    d = m.EncodedWidth()
    classes = []
    for i in range(m.ClassesLength()):
        c = m.Classes(i)
        label = _s(c.Label()) or ""
        at = f'class {i} "{label}"'
        layers, output = [], None
        net = c.Network()
        if net is not None and net.LayersLength() > 0:
            output = _enum(OUTPUT_MODES, net.Output(), f"{at} network output")
            for j in range(net.LayersLength()):
                l = net.Layers(j)
                wt = _enum(("float32", "float16"), l.WeightType(), f"{at} layer {j} weight_type")
                if wt == "float32":
                    w = _vec(l, "WeightsF32")
                else:
                    w = _vec(l, "WeightsF16", np.uint16).view(np.float16).astype(np.float32)
                n_in, n_out = l.Inputs(), l.Outputs()
                if w.size != n_in * n_out:
                    raise EmberFileError("invalid", f"{w.size} weights, expected {n_in}×{n_out}", f"{at} layer {j} weights")
                layers.append(Layer(n_in, n_out, _enum(ACTIVATIONS, l.Activation(), f"{at} layer {j} activation"),
                                    wt, w.reshape(n_out, n_in), _vec(l, "Bias")))
        base = None
        b = c.Base()
        if b is not None:
            k = b.Components()
            means = _vec(b, "Means")
            prec = _vec(b, "Precision")
            if means.size != k * d or prec.size != d * d:
                raise EmberFileError("invalid", f"base shapes: {means.size} means, {prec.size} precision values "
                                     f"for k={k}, d={d}", f"{at} base")
            lattice = _vec(b, "LatticeVariance")
            if lattice.size not in (0, d):
                raise EmberFileError("invalid", f"{lattice.size} lattice variances, expected {d} (or none)",
                                     f"{at} base lattice_variance")
            base = GaussianBase(means.reshape(k, d), _vec(b, "LogWeights"), prec.reshape(d, d),
                                b.LogDetCovariance(), k, lattice)
        s = c.Sampler()
        sampler = None if s is None else SamplerDefaults(
            _enum(SAMPLER_KINDS, s.Kind(), f"{at} sampler kind"), s.Steps(), s.StepSize(), s.NoiseScale(),
            s.Temperature(), s.InitNoise(), s.GradClip(), _enum(CHAIN_INITS, s.ChainInit(), f"{at} sampler init"),
            s.Proposals())
        starts = _vec(c, "StartingRows")
        if d and starts.size % d:
            raise EmberFileError("invalid", f"{starts.size} starting values are not a multiple of {d}", f"{at} starting_rows")
        classes.append(ClassModel(
            label=label, prior=c.Prior(), train_rows=c.TrainRows(), layers=layers, output=output, base=base,
            network_scale=c.NetworkScale(), calibration=_calibration(c.Calibration()), sampler=sampler,
            starting_rows=starts.reshape(-1, d) if d else starts.reshape(0, 0), offset=c.Offset()))
    p = m.Provenance()
    prov: dict[str, Any] = {}
    if p is not None:
        prov = dict(producer=_s(p.Producer()), producer_version=_s(p.ProducerVersion()), source=_s(p.Source()),
                    source_rows=p.SourceRows(), seed=p.Seed(), objective=_s(p.Objective()), command=_s(p.Command()),
                    created=p.Created(), train_seconds=p.TrainSeconds(),
                    heldout_balanced_accuracy=p.HeldoutBalancedAccuracy(), heldout_ood_auroc=p.HeldoutOodAuroc())
    meta = {}
    for i in range(m.MetadataLength()):
        kv = m.Metadata(i)
        meta[_s(kv.Key())] = _s(kv.Value())
    model = Model((0, 0), (0, 0), 0, prov, _s(m.Target()) or "", features, d, classes, m.Temperature(),
                  _calibration(m.ScoreCalibration()), meta, raw=data)
    if not m.ReadoutWeightsIsNone() or not m.ReadoutBiasIsNone():
        c = len(classes)
        w, b = _vec(m, "ReadoutWeights"), _vec(m, "ReadoutBias")
        if w.size != c * c or b.size != c:
            raise EmberFileError("invalid", f"{w.size} weights and {b.size} biases, expected {c}×{c} and {c}", "readout")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise EmberFileError("invalid", "a read-out value is not finite", "readout")
        model.readout_weights, model.readout_bias = w.reshape(c, c), b
        if not m.ReadoutInputWeightsIsNone():
            v = _vec(m, "ReadoutInputWeights")
            if v.size != c * d:
                raise EmberFileError("invalid", f"{v.size} input weights, expected {c}×{d}", "readout_input_weights")
            if not np.all(np.isfinite(v)):
                raise EmberFileError("invalid", "a read-out input weight is not finite", "readout_input_weights")
            model.readout_input_weights = v.reshape(c, d)
    return model


def validate(model: Model) -> None:
    """The semantic rules (a subset of the Swift ``ModelValidator``): contiguous slots, finite
    values, chained layer shapes, output widths, base shapes, priors. Raises :class:`EmberFileError`."""
    def bad(msg: str, at: str):
        raise EmberFileError("invalid", msg, at)

    if not model.features:
        bad("the model has no features", "features")
    if not model.classes:
        bad("the model has no classes", "classes")
    slot = 0
    for i, f in enumerate(model.features):
        at = f'feature {i} "{f.name}"'
        if f.slot_offset != slot:
            bad(f"slot offset {f.slot_offset}, expected {slot}", f"{at} slot_offset")
        if not all(math.isfinite(v) for v in (f.mean, f.std, f.min, f.max, f.impute_value)):
            bad("non-finite value", at)
        if f.std <= 0:
            bad(f"std must be > 0, found {f.std}", f"{at} std")
        if f.kind == "categorical" and f.slot_count != len(f.categories):
            bad(f"slot count {f.slot_count} differs from {len(f.categories)} categories", f"{at} slot_count")
        if f.kind != "categorical" and f.slot_count != 1:
            bad(f"a {f.kind} feature has 1 slot, found {f.slot_count}", f"{at} slot_count")
        slot += f.slot_count
    if slot != model.encoded_width:
        bad(f"encoded width {model.encoded_width} differs from the features' {slot} slots", "encoded_width")
    for i, c in enumerate(model.classes):
        at = f'class {i} "{c.label}"'
        if not (0 < c.prior <= 1):
            bad(f"prior {c.prior} is not in (0, 1]", f"{at} prior")
        if c.output is None and c.base is None:
            bad("a class needs a network, a base term, or both", at)
        width = model.encoded_width
        for j, l in enumerate(c.layers):
            if l.inputs != width:
                bad(f"layer takes {l.inputs} inputs, expected {width}", f"{at} layer {j} inputs")
            if l.bias.size != l.outputs:
                bad(f"{l.bias.size} biases, expected {l.outputs}", f"{at} layer {j} bias")
            if not np.all(np.isfinite(l.weights)):
                bad("weight is not finite", f"{at} layer {j} weights")
            if not np.all(np.isfinite(l.bias)):
                bad("bias is not finite", f"{at} layer {j} bias")
            width = l.outputs
        if c.output in ("logodds", "scalar") and width != 1:
            bad(f"output mode {c.output} needs 1 output, the last layer has {width}", f"{at} network output")
        if c.base is not None:
            b = c.base
            if b.log_weights.size != b.components:
                bad(f"{b.log_weights.size} log weights for {b.components} components", f"{at} base log_weights")
            for name, arr in (("means", b.means), ("precision", b.precision), ("log_weights", b.log_weights)):
                if not np.all(np.isfinite(arr)):
                    bad(f"{name} not finite", f"{at} base {name}")


def load_csv_rows(path: str) -> tuple[list[str], list[list[str]]]:
    """Minimal CSV reader (header + rows of strings) for command-line use."""
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def main(argv: Iterable[str] | None = None) -> int:
    """``python ember_reader.py MODEL.ember [INPUT.csv]``: prints a summary, and with a CSV the
    reference energies, score and label of each row."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("csv", nargs="?")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        m = read_model(args.model)
    except (EmberFileError, OSError) as exc:
        print(f"error: {args.model}: {exc}", file=sys.stderr)
        return 1
    print(f"format {m.format_version[0]}.{m.format_version[1]}, crc {m.payload_crc32:#010x}, "
          f"target {m.target!r}, d={m.encoded_width}, {len(m.features)} features")
    for c in m.classes:
        net = " → ".join([str(m.encoded_width)] + [f"{l.outputs}:{l.activation}" for l in c.layers])
        print(f"  class {c.label!r}: prior {c.prior:.3f}, net {net or '-'} ({c.output}), "
              f"base k={c.base.components if c.base else 0}, starts {c.starting_rows.shape[0]}")
    if args.csv:
        header, rows = load_csv_rows(args.csv)
        x = m.encode(rows, header)
        e = m.energies(x)
        s = m.scores(x)
        labels = m.classify(x)
        print(",".join([f"energy_{c.label}" for c in m.classes] + ["score", "label"]))
        for i in range(len(rows)):
            print(",".join([f"{v:.6g}" for v in e[i]] + [f"{s[i]:.6g}", labels[i]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
