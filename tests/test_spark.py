"""criteria_nlp.spark in Spark local[2]: the same rules as the batch/CLI path, error rows, the CLI.

Skipped when pyspark (the [spark] extra) or a Java runtime is missing. One session for the module
(starting the JVM and building the pipeline in each Python worker is most of the time).
"""
from __future__ import annotations

import itertools
import json
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("pyspark")
pq = pytest.importorskip("pyarrow.parquet")

from criteria_nlp import flat  # noqa: E402
from criteria_nlp import spark as cs  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402
from criteria_nlp.io.writers import dumps  # noqa: E402

if not cs.java_available():
    pytest.skip("no Java runtime (run .ci/install-java.sh)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"
N_SAMPLE = 500


JDBC_JAR = Path("/usr/share/java/postgresql.jar")  # Debian's libpostgresql-jdbc-java (.ci/install-java.sh)


@pytest.fixture(scope="module")
def spark():
    config = {"spark.ui.showConsoleProgress": "false"}
    if JDBC_JAR.exists():
        config["spark.jars"] = str(JDBC_JAR)  # class path: only at JVM start
    session = cs.session("local[2]", config=config)
    yield session
    session.stop()


def _rows(df) -> list[dict]:
    return [r.asDict(recursive=True) for r in df.collect()]


def _key(row: dict) -> tuple:
    return (row["source_id"] or "", row["rule_id"] or "")


def test_the_task_ships_options_not_the_pipeline():
    from pyspark import cloudpickle

    payload = cloudpickle.dumps(partial(cs._extract_batches, options=cs.SparkOptions()))
    assert len(payload) < 2_000  # a few option values; each worker builds its own pipeline


@pytest.mark.corpus
def test_rules_equal_the_batch_rules_on_500_sample_studies(spark, tmp_path):
    if not SAMPLE.exists():
        pytest.skip(f"sample corpus not found: {SAMPLE}")
    from criteria_nlp.batch import process_records
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    records = list(itertools.islice(iter_ctgov_jsonl(str(SAMPLE)), N_SAMPLE))
    assert len(records) == N_SAMPLE
    expected_docs = {o.record.id: dumps(o.result).decode("utf-8") for o in process_records(iter(records))}
    expected_rules = sorted(flat.rows_of(json.loads(d) for d in expected_docs.values()), key=_key)
    assert len(expected_rules) > 500

    assert cs.stage_records(records, str(tmp_path / "input")) == N_SAMPLE
    df = spark.read.parquet(str(tmp_path / "input")).repartition(4)
    documents, rules = cs.extract_frame(df)
    docs = _rows(documents)
    assert len(docs) == N_SAMPLE and not [d for d in docs if d["error"]]
    # each document is the CLI's JSON, byte for byte
    assert {d["id"]: d["result"] for d in docs} == expected_docs
    got = sorted(_rows(rules), key=_key)
    assert len(got) == len(expected_rules)
    assert got == expected_rules
    documents.unpersist()


def test_a_bad_record_is_an_error_row_not_a_failed_job(spark):
    good = "Inclusion Criteria:\n- Hemoglobin >= 9 g/dL\n- Platelets >= 100,000/mm3\n"
    rows = [
        ("NCT00000001", good, None, None),
        ("NCT00000002", None, None, None),                        # null criteria
        ("NCT00000003", "Age >= 18 years. " * 200, None, None),   # over max_length
        ("NCT00000004", good, "{not json", None),                 # broken structured fields
        (None, None, None, "invalid JSON on line 7"),             # a reader's error
        ("NCT00000006", good, json.dumps({"minimum_age": "18 Years", "gender": "All"}), None),  # AACT names
    ]
    df = spark.createDataFrame(rows, "id STRING, text STRING, structured STRING, error STRING")
    documents, rules = cs.extract_frame(df, max_length=1_000)
    docs = {d["id"]: d for d in _rows(documents)}
    assert len(docs) == 6
    assert docs["NCT00000001"]["error"] is None
    assert docs["NCT00000002"]["error"] == "criteria text is null"
    assert "TextTooLongError" in docs["NCT00000003"]["error"] and "1,000" in docs["NCT00000003"]["error"]
    assert docs["NCT00000004"]["error"].startswith("bad structured fields")
    assert docs[None]["error"] == "invalid JSON on line 7"
    for d in docs.values():
        result = json.loads(d["result"])
        assert result["source"]["id"] == d["id"]
        assert ("error" in result) == (d["error"] is not None)
    aact = json.loads(docs["NCT00000006"]["result"])
    assert aact["structured"]["age"][0]["value"] == 18 and aact["structured"]["sex"] == "ALL"
    got = {(r["source_id"], r["variable_name"], r["comparator"], r["value"], r["unit"]) for r in _rows(rules)}
    assert got == {(i, v, ">=", x, u) for i in ("NCT00000001", "NCT00000006")  # the error rows have none
                   for v, x, u in (("hemoglobin", 9.0, "g/dL"), ("platelet_count", 100000.0, "/mm3"))}
    documents.unpersist()


def test_spark_extract_cli(spark, tmp_path, capsys):
    src = tmp_path / "studies.jsonl"
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT12345678"},
                                 "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n- ANC >= 1500/mm3\n",
                                                       "minimumAge": "18 Years"}}}
    src.write_text(json.dumps(study) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["spark-extract", "--input", str(src), "--output", str(out), "--partitions", "2"])
    err = capsys.readouterr().err
    assert code == 1, err  # the broken line is an error row
    assert "done: 2 documents (1 failed), 1 rules" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["documents", "rules"]  # the staged input is gone
    docs = pq.read_table(out / "documents").to_pylist()
    assert sorted((d["id"] or "", d["error"] is None) for d in docs) == [("", False), ("NCT12345678", True)]
    rules = pq.read_table(out / "rules")
    assert rules.schema.names == list(flat.COLUMN_NAMES)
    assert [(r["source_id"], r["variable_name"], r["value"]) for r in rules.to_pylist()] == [
        ("NCT12345678", "absolute_neutrophil_count", 1500.0)]

    # an existing output is refused (one line, exit 2) unless --force
    assert main(["spark-extract", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not empty; add --force" in err and len(err.strip().splitlines()) == 1
    assert main(["spark-extract", "--input", str(src), "--output", str(out), "--force", "-q"]) == 1
    assert main(["spark-extract", "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o2")]) == 2
    assert "no such file" in capsys.readouterr().err


try:  # the throw-away PostgreSQL server of test_postgres (skips there without server binaries)
    from test_postgres import pg_server  # noqa: F401
except (ImportError, pytest.skip.Exception):
    @pytest.fixture(scope="module")
    def pg_server():
        pytest.skip("psycopg is not installed")


@pytest.mark.postgres
def test_spark_extract_from_a_jdbc_table(spark, pg_server, tmp_path, capsys):
    if not JDBC_JAR.exists():
        pytest.skip(f"no PostgreSQL JDBC driver at {JDBC_JAR} (run .ci/install-java.sh)")
    import psycopg

    with psycopg.connect(pg_server["dsn"], autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS ctgov CASCADE")
        conn.execute("CREATE SCHEMA ctgov")
        conn.execute("CREATE TABLE ctgov.eligibilities (id serial PRIMARY KEY, nct_id varchar, gender varchar, "
                     "minimum_age varchar, maximum_age varchar, healthy_volunteers varchar, criteria text)")
        for nct, crit in (("NCT00000001", "Inclusion Criteria:\n- Hemoglobin >= 9 g/dL\n"), ("NCT00000002", None)):
            conn.execute("INSERT INTO ctgov.eligibilities (nct_id, gender, minimum_age, maximum_age, healthy_volunteers,"
                         " criteria) VALUES (%s, 'All', '18 Years', 'N/A', 'No', %s)", (nct, crit))
    port = pg_server["dsn"].rsplit(":", 1)[1].split("/")[0]
    out = tmp_path / "out"
    code = main(["spark-extract", "--jdbc-url", f"jdbc:postgresql://127.0.0.1:{port}/postgres",
                 "--jdbc-user", "postgres", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err  # the NULL criteria row is an error row
    assert "NCT00000002: criteria text is null" in err
    docs = {d["id"]: d for d in pq.read_table(out / "documents").to_pylist()}
    result = json.loads(docs["NCT00000001"]["result"])
    assert result["structured"]["age"][0]["value"] == 18 and result["structured"]["healthy_volunteers"] is False
    rules = pq.read_table(out / "rules").to_pylist()
    assert [(r["source_id"], r["variable_name"], r["value"], r["unit"]) for r in rules] == [
        ("NCT00000001", "hemoglobin", 9.0, "g/dL")]
