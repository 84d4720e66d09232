"""ember.spark in PySpark local mode: Spark DataFrames scored and classified through the runtime,
and synthetic rows equal to `ember sample` for any number of partitions."""
from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

import ember
from conftest import DATA, ROOT, read_csv_text

pyspark = pytest.importorskip("pyspark")
MODEL = os.path.join(ROOT, "models", "penguins.ember")
CSV = os.path.join(DATA, "penguins.csv")


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors run this interpreter (ember installed)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("ember-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def frame(spark):
    from pyspark.sql.functions import monotonically_increasing_id

    rows = spark.read.csv(CSV, header=True, inferSchema=True, nullValue="NA")
    assert rows.rdd.getNumPartitions() == 1  # so that "row" numbers the CSV's rows in order
    return rows.withColumn("row", monotonically_increasing_id()).repartition(3)


def test_scores_and_classifies_a_spark_dataframe(spark, frame, cli):
    from ember.spark import classify_dataframe, score_dataframe

    scored = score_dataframe(frame, MODEL).toPandas().sort_values("row")
    assert list(scored.columns) == frame.columns + ["score", "percentile", "anomaly"] and len(scored) == 344
    assert list(scored["row"]) == list(range(344))
    model = ember.load(MODEL)
    np.testing.assert_array_equal(scored["score"].to_numpy(), model.score(scored[frame.columns]))
    # The same numbers as the CLI, row for row.
    out = read_csv_text(cli("score", MODEL, CSV))
    np.testing.assert_allclose(scored["score"], out["score"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scored["percentile"], out["percentile"], atol=1e-3)  # both 0-100
    assert list(scored["anomaly"]) == list(out["anomaly"] == 1)
    labelled = classify_dataframe(frame, MODEL).toPandas()
    assert list(labelled.columns[-4:]) == ["label", "p_Adelie", "p_Chinstrap", "p_Gentoo"]
    np.testing.assert_allclose(labelled[["p_Adelie", "p_Chinstrap", "p_Gentoo"]].to_numpy(),
                               model.predict_proba(labelled[frame.columns]), atol=1e-7)
    assert (labelled["label"] == labelled["species"]).mean() > 0.95
    with pytest.raises(ValueError, match="already has"):
        score_dataframe(spark.createDataFrame(scored.drop(columns=["percentile", "anomaly"])), MODEL)


@pytest.mark.parametrize("partitions", [1, 4])
def test_sample_equals_the_cli_for_any_partition_count(spark, cli, partitions):
    from ember.spark import sample_dataframe

    rows = sample_dataframe(spark, MODEL, 250, seed=9, partitions=partitions)
    assert rows.rdd.getNumPartitions() == partitions
    got = rows.toPandas()
    ref = read_csv_text(cli("sample", MODEL, "--count", 250, "--seed", 9))
    assert list(got.columns) == list(ref.columns) and len(got) == 250
    for col in ref.columns:
        if got[col].dtype == object:
            assert list(got[col]) == list(ref[col].astype(str)), col
        else:
            np.testing.assert_allclose(got[col], ref[col], rtol=1e-5, atol=1e-5, err_msg=col)
    pd.testing.assert_frame_equal(got, ember.load(MODEL).sample(250, seed=9))


def test_sample_one_class(spark, cli):
    from ember.spark import sample_dataframe

    got = sample_dataframe(spark, MODEL, 40, seed=2, partitions=4, cls="Gentoo").toPandas()
    ref = read_csv_text(cli("sample", MODEL, "--count", 40, "--seed", 2, "--class", "Gentoo"))
    assert set(got["species"]) == {"Gentoo"}
    np.testing.assert_allclose(got["bill_length_mm"], ref["bill_length_mm"], rtol=1e-5)


def test_each_python_worker_opens_the_model_once(spark, frame):
    """After scoring, classifying and sampling with one model over many partitions and jobs, no
    executor process has opened it more than once."""
    from ember.spark import classify_dataframe, score_dataframe

    score_dataframe(frame.repartition(6), MODEL).count()  # 6 tasks on 2 workers, then another job
    classify_dataframe(frame.repartition(6), MODEL).count()

    def probe(batches):  # runs in the same kind of (Arrow) Python workers as the scoring
        import ember.spark as es

        for b in batches:
            yield pd.DataFrame({"pid": [os.getpid()] * len(b), "opens": [es._opens] * len(b)})

    rows = spark.range(16).repartition(8).mapInPandas(probe, "pid long, opens long").toPandas()
    opens = rows.groupby("pid")["opens"].max()
    assert opens.max() == 1, opens.to_dict()
