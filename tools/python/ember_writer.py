"""Pure-Python `.ember` writer (test fixtures and benchmark models).

Builds the nested ``Model`` payload and the ``ModelFile`` envelope (identifier ``EMBR``, format
version, CRC-32 of the payload) with the committed ``flatc --python`` code and the PyPI
``flatbuffers`` 2.0.7 builder. Weight, bias, mean, precision and starting-row vectors and the
payload itself are 64-byte aligned (``Prep(64, nbytes)`` before ``CreateNumpyVector``: the
generated ``Start…Vector`` ignores ``force_align``), so the Swift runtime reads them in place.

The input is the reader's own dataclasses (:class:`ember_reader.Model` and friends), so
``write_model(read_model(path))`` round-trips. :func:`random_model` makes a random-weight model.
"""
from __future__ import annotations

import zlib
from typing import Sequence

import flatbuffers
import numpy as np

import ember_reader as er
from ember.fb import (Calibration as FCal, ClassModel as FClass, DenseLayer as FLayer,
                      EnergyNetwork as FNet, Feature as FFeat, GaussianBase as FBase,
                      KeyValue as FKV, Model as FModel, ModelFile as FFile, Provenance as FProv,
                      SamplerDefaults as FSamp, Version as FVer)

ALIGN = 64


def _aligned(b: flatbuffers.Builder, a: np.ndarray, dtype) -> int:
    """A numpy vector whose first element is 64-byte aligned in the finished buffer."""
    a = np.ascontiguousarray(np.asarray(a, dtype=dtype).reshape(-1))
    b.Prep(ALIGN, a.nbytes)
    return b.CreateNumpyVector(a)


def _vector(b: flatbuffers.Builder, a, dtype) -> int:
    return b.CreateNumpyVector(np.ascontiguousarray(np.asarray(a, dtype=dtype).reshape(-1)))


def _offsets(b: flatbuffers.Builder, offs: Sequence[int]) -> int:
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _calibration(b, c: er.Calibration | None):
    if c is None:
        return None
    lv, qv = _vector(b, c.levels, np.float32), _vector(b, c.quantiles, np.float32)
    FCal.CalibrationStart(b)
    FCal.CalibrationAddLevels(b, lv)
    FCal.CalibrationAddQuantiles(b, qv)
    FCal.CalibrationAddThreshold(b, float(c.threshold))
    FCal.CalibrationAddRows(b, int(c.rows))
    return FCal.CalibrationEnd(b)


def _layer(b, l: er.Layer) -> int:
    if l.weight_type == "float16":
        w = _aligned(b, np.asarray(l.weights, np.float32).astype(np.float16).view(np.uint16), np.uint16)
    else:
        w = _aligned(b, l.weights, np.float32)
    bias = _aligned(b, l.bias, np.float32)
    FLayer.DenseLayerStart(b)
    FLayer.DenseLayerAddInputs(b, l.inputs)
    FLayer.DenseLayerAddOutputs(b, l.outputs)
    FLayer.DenseLayerAddActivation(b, er.ACTIVATIONS.index(l.activation))
    FLayer.DenseLayerAddWeightType(b, 1 if l.weight_type == "float16" else 0)
    if l.weight_type == "float16":
        FLayer.DenseLayerAddWeightsF16(b, w)
    else:
        FLayer.DenseLayerAddWeightsF32(b, w)
    FLayer.DenseLayerAddBias(b, bias)
    return FLayer.DenseLayerEnd(b)


def _class(b, c: er.ClassModel) -> int:
    label = b.CreateString(c.label)
    net = None
    if c.layers:
        layers = _offsets(b, [_layer(b, l) for l in c.layers])
        FNet.EnergyNetworkStart(b)
        FNet.EnergyNetworkAddLayers(b, layers)
        FNet.EnergyNetworkAddOutput(b, er.OUTPUT_MODES.index(c.output))
        net = FNet.EnergyNetworkEnd(b)
    base = None
    if c.base is not None:
        m = _aligned(b, c.base.means, np.float32)
        lw = _vector(b, c.base.log_weights, np.float32)
        p = _aligned(b, c.base.precision, np.float32)
        lv = _aligned(b, c.base.lattice_variance, np.float32) if np.size(c.base.lattice_variance) else None
        FBase.GaussianBaseStart(b)
        FBase.GaussianBaseAddMeans(b, m)
        FBase.GaussianBaseAddLogWeights(b, lw)
        FBase.GaussianBaseAddPrecision(b, p)
        FBase.GaussianBaseAddLogDetCovariance(b, float(c.base.log_det_covariance))
        FBase.GaussianBaseAddComponents(b, int(c.base.components))
        if lv is not None:
            FBase.GaussianBaseAddLatticeVariance(b, lv)
        base = FBase.GaussianBaseEnd(b)
    cal = _calibration(b, c.calibration)
    samp = None
    if c.sampler is not None:
        s = c.sampler
        FSamp.SamplerDefaultsStart(b)
        FSamp.SamplerDefaultsAddKind(b, er.SAMPLER_KINDS.index(s.kind))
        FSamp.SamplerDefaultsAddSteps(b, int(s.steps))
        FSamp.SamplerDefaultsAddStepSize(b, float(s.step_size))
        FSamp.SamplerDefaultsAddNoiseScale(b, float(s.noise_scale))
        FSamp.SamplerDefaultsAddTemperature(b, float(s.temperature))
        FSamp.SamplerDefaultsAddInitNoise(b, float(s.init_noise))
        FSamp.SamplerDefaultsAddGradClip(b, float(s.grad_clip))
        FSamp.SamplerDefaultsAddChainInit(b, er.CHAIN_INITS.index(s.init))
        FSamp.SamplerDefaultsAddProposals(b, int(getattr(s, "proposals", 0)))
        samp = FSamp.SamplerDefaultsEnd(b)
    starts = None
    if c.starting_rows is not None and np.size(c.starting_rows) > 0:
        starts = _aligned(b, c.starting_rows, np.float32)
    FClass.ClassModelStart(b)
    FClass.ClassModelAddLabel(b, label)
    FClass.ClassModelAddPrior(b, float(c.prior))
    FClass.ClassModelAddTrainRows(b, int(c.train_rows))
    if net is not None:
        FClass.ClassModelAddNetwork(b, net)
    if base is not None:
        FClass.ClassModelAddBase(b, base)
    FClass.ClassModelAddNetworkScale(b, float(c.network_scale))
    if cal is not None:
        FClass.ClassModelAddCalibration(b, cal)
    if samp is not None:
        FClass.ClassModelAddSampler(b, samp)
    if starts is not None:
        FClass.ClassModelAddStartingRows(b, starts)
    FClass.ClassModelAddOffset(b, float(c.offset))
    return FClass.ClassModelEnd(b)


def _feature(b, f: er.Feature) -> int:
    name = b.CreateString(f.name)
    cats = _offsets(b, [b.CreateString(s) for s in f.categories]) if f.categories else None
    FFeat.FeatureStart(b)
    FFeat.FeatureAddName(b, name)
    FFeat.FeatureAddKind(b, er.FEATURE_KINDS.index(f.kind))
    FFeat.FeatureAddImputeValue(b, float(f.impute_value))
    FFeat.FeatureAddMean(b, float(f.mean))
    FFeat.FeatureAddStd(b, float(f.std))
    FFeat.FeatureAddMin(b, float(f.min))
    FFeat.FeatureAddMax(b, float(f.max))
    if cats is not None:
        FFeat.FeatureAddCategories(b, cats)
    FFeat.FeatureAddSlotOffset(b, int(f.slot_offset))
    FFeat.FeatureAddSlotCount(b, int(f.slot_count))
    FFeat.FeatureAddMissingCount(b, int(f.missing_count))
    return FFeat.FeatureEnd(b)


def serialize_payload(m: er.Model) -> bytes:
    """The nested ``Model`` FlatBuffer (size a multiple of 64)."""
    b = flatbuffers.Builder(1 << 16)
    classes = _offsets(b, [_class(b, c) for c in m.classes])
    features = _offsets(b, [_feature(b, f) for f in m.features])
    target = b.CreateString(m.target)
    score_cal = _calibration(b, m.score_calibration)
    kvs = []
    for k in sorted(m.metadata):  # `key` field: the vector is sorted for binary search
        ko, vo = b.CreateString(k), b.CreateString(m.metadata[k] or "")
        FKV.KeyValueStart(b)
        FKV.KeyValueAddKey(b, ko)
        FKV.KeyValueAddValue(b, vo)
        kvs.append(FKV.KeyValueEnd(b))
    meta = _offsets(b, kvs) if kvs else None
    p = m.provenance or {}
    strs = {k: b.CreateString(str(p[k])) for k in ("producer", "producer_version", "source", "objective", "command")
            if p.get(k) is not None}
    FProv.ProvenanceStart(b)
    for k, add in (("producer", FProv.ProvenanceAddProducer), ("producer_version", FProv.ProvenanceAddProducerVersion),
                   ("source", FProv.ProvenanceAddSource), ("objective", FProv.ProvenanceAddObjective),
                   ("command", FProv.ProvenanceAddCommand)):
        if k in strs:
            add(b, strs[k])
    FProv.ProvenanceAddSourceRows(b, int(p.get("source_rows", 0) or 0))
    FProv.ProvenanceAddSeed(b, int(p.get("seed", 0) or 0))
    FProv.ProvenanceAddCreated(b, int(p.get("created", 0) or 0))
    FProv.ProvenanceAddTrainSeconds(b, float(p.get("train_seconds", 0.0) or 0.0))
    FProv.ProvenanceAddHeldoutBalancedAccuracy(b, float(p.get("heldout_balanced_accuracy", float("nan"))))
    FProv.ProvenanceAddHeldoutOodAuroc(b, float(p.get("heldout_ood_auroc", float("nan"))))
    prov = FProv.ProvenanceEnd(b)
    rw = rb = rv = None
    if getattr(m, "readout_weights", None) is not None:
        rw = _aligned(b, m.readout_weights, np.float32)
        rb = _aligned(b, m.readout_bias, np.float32)
        if getattr(m, "readout_input_weights", None) is not None:
            rv = _aligned(b, m.readout_input_weights, np.float32)
    FModel.ModelStart(b)
    FModel.ModelAddProvenance(b, prov)
    FModel.ModelAddTarget(b, target)
    FModel.ModelAddFeatures(b, features)
    FModel.ModelAddEncodedWidth(b, int(m.encoded_width))
    FModel.ModelAddClasses(b, classes)
    FModel.ModelAddTemperature(b, float(m.temperature))
    if score_cal is not None:
        FModel.ModelAddScoreCalibration(b, score_cal)
    if meta is not None:
        FModel.ModelAddMetadata(b, meta)
    if rw is not None:
        FModel.ModelAddReadoutWeights(b, rw)
        FModel.ModelAddReadoutBias(b, rb)
        if rv is not None:
            FModel.ModelAddReadoutInputWeights(b, rv)
    root = FModel.ModelEnd(b)
    b.Prep(ALIGN, 0)
    b.Finish(root, file_identifier=er.FILE_IDENTIFIER)
    return bytes(b.Output())


def wrap_payload(payload: bytes, version=er.READER_VERSION, min_reader=None, crc: int | None = None) -> bytes:
    """The ``ModelFile`` envelope around a payload (CRC-32 computed unless given)."""
    b = flatbuffers.Builder(len(payload) + 256)
    data = np.frombuffer(payload, dtype=np.uint8)
    b.Prep(ALIGN, data.nbytes)
    vec = b.CreateNumpyVector(data)
    FFile.ModelFileStart(b)
    FFile.ModelFileAddFormatVersion(b, FVer.CreateVersion(b, *version))
    FFile.ModelFileAddMinReaderVersion(b, FVer.CreateVersion(b, *(min_reader or (version[0], 0))))
    FFile.ModelFileAddPayloadCrc32(b, zlib.crc32(payload) & 0xFFFFFFFF if crc is None else crc)
    FFile.ModelFileAddPayload(b, vec)
    root = FFile.ModelFileEnd(b)
    b.Finish(root, file_identifier=er.FILE_IDENTIFIER)
    return bytes(b.Output())


def serialize(m: er.Model) -> bytes:
    """A complete `.ember` file's bytes."""
    er.validate(m)
    return wrap_payload(serialize_payload(m))


def write_model(m: er.Model, path: str) -> None:
    """Writes ``m`` to ``path`` atomically (temporary file + rename)."""
    import os
    data = serialize(m)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def random_model(d: int = 4, hidden: Sequence[int] = (16, 16), classes: int = 2, seed: int = 0,
                 activation: str = "silu", output: str = "logodds", base: bool = True, components: int = 1,
                 weight_type: str = "float32", starting_rows: int = 8, categorical: bool = False,
                 weight_scale: float = 1.0) -> er.Model:
    """A random-weight model over ``d`` numeric features (or d-3 numeric + one 3-category
    categorical when ``categorical``), ``classes`` classes, hidden layers ``hidden`` with
    ``activation``, a Gaussian (mixture) base when ``base``. Same seed → same model."""
    rng = np.random.default_rng(seed)
    feats: list[er.Feature] = []
    n_num = d - 3 if categorical else d
    for i in range(n_num):
        kind = "integer" if categorical and i == 0 else "numeric"
        mean, std = float(rng.normal(0, 3)), float(rng.uniform(0.5, 2.0))
        feats.append(er.Feature(f"x{i}", kind, round(mean), mean, std, mean - 4 * std, mean + 4 * std, [], i, 1,
                                0))
    if categorical:
        feats.append(er.Feature("color", "categorical", 1.0, 0.0, 1.0, 0.0, 2.0, ["red", "green", "blue"], n_num, 3,
                                0))
    cls = []
    for c in range(classes):
        widths = [d, *hidden, (2 if output == "logsumexp" else 1)]
        layers = []
        for j in range(len(widths) - 1):
            n_in, n_out = widths[j], widths[j + 1]
            w = (rng.normal(0, weight_scale / np.sqrt(n_in), (n_out, n_in))).astype(np.float32)
            if weight_type == "float16":
                w = w.astype(np.float16).astype(np.float32)
            bias = rng.normal(0, 0.1, n_out).astype(np.float32)
            act = activation if j < len(widths) - 2 else "identity"
            layers.append(er.Layer(n_in, n_out, act, weight_type, w, bias))
        g = None
        if base:
            a = rng.normal(0, 0.3, (d, d))
            cov = a @ a.T / d + np.eye(d)
            prec = np.linalg.inv(cov)
            prec = 0.5 * (prec + prec.T)
            lw = rng.normal(0, 0.5, components)
            lw = lw - er.logsumexp(lw[None, :], axis=1)[0]
            g = er.GaussianBase(rng.normal(0, 1, (components, d)).astype(np.float32), lw.astype(np.float32),
                                prec.astype(np.float32), float(np.linalg.slogdet(cov)[1]), components)
        starts = rng.normal(0, 1, (starting_rows, d)).astype(np.float32)
        cls.append(er.ClassModel(
            label=f"class{c}", prior=1.0 / classes, train_rows=100, layers=layers, output=output, base=g,
            network_scale=1.0,
            calibration=er.Calibration(np.array([0.5, 0.9, 0.99], np.float32), np.array([1.0, 2.0, 3.0], np.float32),
                                       2.5, 100),
            sampler=er.SamplerDefaults("langevin", 200, 0.01, -1.0, 1.0, 0.01, 0.0, "starting_rows"),
            starting_rows=starts, offset=0.0))
    return er.Model((1, 0), (1, 0), 0, {"producer": "ember_writer.py", "seed": seed, "objective": "random"}, "y",
                    feats, d, cls, 1.0, None, {"generator": "random_model"})
