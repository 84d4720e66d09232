"""PySpark helpers: score and classify Spark DataFrames with an Ember model, and synthesise rows
across partitions with the same output as ``ember sample``.

    from ember.spark import score_dataframe, classify_dataframe, sample_dataframe
    scored = score_dataframe(df, "model.ember")        # df's columns + score, percentile, anomaly
    labelled = classify_dataframe(df, "model.ember")   # df's columns + label, p_<label>…
    synthetic = sample_dataframe(spark, "model.ember", n=1_000_000, seed=7, partitions=64)

The model file is read once on the driver and broadcast (executors need no shared file system);
each executor's Python worker opens it once (kept in a per-process cache) and scores its
partitions with ``mapInPandas`` — every row still goes through the Swift runtime. Every executor
needs the ``ember`` package installed (see docs/PYTHON.md, "Spark on a cluster").

``sample_dataframe`` splits the run into contiguous chain ranges: chain g of class c always draws
from the random stream (seed, c, g), so the rows — and, collected in partition order, their order
— are those of ``ember sample MODEL --count n --seed seed`` for any number of partitions.
"""
from __future__ import annotations

import hashlib
import os
import threading
from typing import Iterator, Optional

__all__ = ["score_dataframe", "classify_dataframe", "sample_dataframe", "spark_schema"]

_cache: dict = {}
_cache_lock = threading.Lock()
#: Models this Python process has opened (each once, whatever the number of tasks and batches).
_opens = 0


def _model(key: str, broadcast):
    """This process's copy of the broadcast model (opened once per Python worker)."""
    m = _cache.get(key)
    if m is None:
        from .model import Model

        with _cache_lock:
            m = _cache.get(key)
            if m is None:
                global _opens
                m = _cache[key] = Model.from_bytes(broadcast.value)
                _opens += 1
    return m


def _broadcast(spark, model_path):
    from .model import Model

    with open(os.fspath(model_path), "rb") as f:
        data = f.read()
    model = Model.from_bytes(data)  # verified on the driver: a bad file fails here, not in a task
    key = hashlib.sha256(data).hexdigest()
    return model, key, spark.sparkContext.broadcast(data)


def spark_schema(model, with_target: bool = True):
    """The Spark schema of the model's training columns (as :meth:`Model.sample` returns them):
    numeric → double, integer → long, categorical and the target → string."""
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    types = {"numeric": DoubleType(), "integer": LongType(), "categorical": StringType()}
    fields = [StructField(f, types[k], False) for f, k in zip(model.features, model.feature_kinds)]
    if with_target:
        fields.insert(model._target_position(), StructField(model.target or "label", StringType(), False))
    return StructType(fields)


def _added(df, names):
    clash = [n for n in names if n in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}")


def score_dataframe(df, model_path, *, details: bool = True, unknown: str = "missing"):
    """``df`` with ``score`` (float; higher = more anomalous) and, with ``details`` and a calibrated
    model, ``percentile`` (0–100) and ``anomaly`` (bool) appended. Feature columns are matched by
    name; nulls are missing values; a category never seen in training is missing and marks its
    row anomalous (``unknown="error"`` refuses it instead)."""
    from pyspark.sql.types import BooleanType, FloatType, StructField, StructType

    model, key, bc = _broadcast(df.sparkSession, model_path)
    details = details and model.threshold is not None
    names = ["score"] + (["percentile", "anomaly"] if details else [])
    _added(df, names)
    extra = [StructField("score", FloatType(), False)]
    if details:
        extra += [StructField("percentile", FloatType(), False), StructField("anomaly", BooleanType(), False)]
    schema = StructType(df.schema.fields + extra)

    def run(batches: Iterator) -> Iterator:
        m = _model(key, bc)
        for pdf in batches:
            if details:
                d = m.score(pdf, details=True, unknown=unknown)
                yield pdf.assign(score=d["score"].to_numpy(), percentile=d["percentile"].to_numpy(),
                                 anomaly=d["anomaly"].to_numpy())
            else:
                yield pdf.assign(score=m.score(pdf, unknown=unknown))

    return df.mapInPandas(run, schema)


def classify_dataframe(df, model_path, *, probabilities: bool = True, unknown: str = "missing"):
    """``df`` with ``label`` (the most probable class) and, with ``probabilities``, one
    ``p_<label>`` column per class appended (as ``ember classify`` prints them)."""
    from pyspark.sql.types import FloatType, StringType, StructField, StructType

    model, key, bc = _broadcast(df.sparkSession, model_path)
    names = ["label"] + ([f"p_{c}" for c in model.classes] if probabilities else [])
    _added(df, names)
    extra = [StructField("label", StringType(), False)]
    extra += [StructField(n, FloatType(), False) for n in names[1:]]
    schema = StructType(df.schema.fields + extra)

    def run(batches: Iterator) -> Iterator:
        m = _model(key, bc)
        for pdf in batches:
            c = m.classify(pdf, unknown=unknown)
            yield pdf.assign(**{n: c[n].to_numpy() for n in names})

    return df.mapInPandas(run, schema)


def _pieces(counts, partitions: int):
    """Splits the rows of one run (classes in model order, chains in order) into ``partitions``
    contiguous ranges: for each, a list of (class index, first chain, count)."""
    total = sum(counts)
    bounds = [total * p // partitions for p in range(partitions + 1)]
    pieces = []
    for p in range(partitions):
        lo, hi = bounds[p], bounds[p + 1]
        work, start = [], 0
        for c, k in enumerate(counts):
            a, b = max(lo, start), min(hi, start + k)
            if a < b:
                work.append((c, a - start, b - a))
            start += k
        pieces.append(work)
    return pieces


def sample_dataframe(spark, model_path, n: int, seed: int = 0, partitions: Optional[int] = None, *, cls=None,
                     **sampler):
    """``n`` synthetic rows as a Spark DataFrame with the training columns (target included),
    generated across ``partitions`` partitions (default: the context's default parallelism).
    ``cls``: one class label, or None for every class in proportion to the priors. The rows equal
    ``ember sample MODEL --count n --seed seed [--class cls]`` (≤ float rounding of the text), in
    the same order when collected, whatever ``partitions`` is. ``sampler``: overrides as in
    :meth:`Model.sample`."""
    if int(n) < 0:
        raise ValueError("n must be ≥ 0")
    model, key, bc = _broadcast(spark, model_path)
    if cls is None:
        counts = model.sample_counts(int(n))
    else:
        counts = [0] * len(model.classes)
        counts[model.class_index(cls)] = int(n)
    partitions = int(partitions or spark.sparkContext.defaultParallelism)
    if partitions < 1:
        raise ValueError("partitions must be ≥ 1")
    pieces = _pieces(counts, partitions)
    schema = spark_schema(model)
    seed = int(seed)

    def run(batches: Iterator) -> Iterator:
        import numpy as np
        import pandas as pd

        m = _model(key, bc)
        for pdf in batches:
            for p in pdf["piece"]:
                frames = []
                for c, first, count in pieces[int(p)]:
                    rows, _ = m.sample_encoded(count, c, seed, first_chain=first, **sampler) if first else \
                        m.sample_encoded(count, c, seed, **sampler)
                    frames.append(m.decode(rows, np.full(count, c, dtype=np.int32)))
                if frames:
                    out = pd.concat(frames, ignore_index=True)
                    # Text as plain object columns (Arrow-backed pandas strings trip mapInPandas).
                    yield out.astype({f.name: object for f in schema.fields if f.dataType.typeName() == "string"})

    index = spark.sparkContext.parallelize([(p,) for p in range(partitions)], partitions).toDF(["piece"])
    return index.mapInPandas(run, schema)
