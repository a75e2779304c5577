"""criteria-nlp on Spark: the pipeline over a DataFrame of criteria texts.

::

    from criteria_nlp.spark import extract_frame
    documents, rules = extract_frame(df)            # df: columns id, text (see INPUT_COLUMNS)

* ``documents``: one row per input row, ``id STRING, result STRING, error STRING``: ``result`` is
  the JSON document of the output contract (the same bytes ``criteria-nlp extract --jsonl`` writes
  for the record), or its error record; ``error`` is null when the record went through.
* ``rules``: the flat rule table (:mod:`criteria_nlp.flat`, the same schema as
  ``extract --format parquet``), one row per rule, built from ``documents``.

How it runs: ``mapInPandas`` hands each Python worker Arrow batches of input rows; the worker
extracts them with :func:`criteria_nlp.batch.process_batch` (``nlp.pipe`` batches, a failing batch
retried record by record, a per-document time limit) using the pipeline of
:func:`criteria_nlp.pipeline.get_pipeline` -- a module-level cache, so each Python worker builds the
pipeline once and keeps it while Spark reuses the worker; nothing but a few option values is
pickled on the driver. spaCy's own multiprocessing is not used (``n_process`` 1): Spark supplies the
parallelism. A record that cannot be read or extracted becomes a row with ``error`` set, never a
failed task. ``rules`` is computed from ``documents`` (``mapInArrow``, no second extraction when
``documents`` is cached, which ``extract_frame`` does by default).

pyspark is the optional extra ``[spark]``; this module imports it only inside its functions.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from . import flat
from .io.records import InputRecord

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

SPARK_EXTRA_HINT = "pip install 'criteria-nlp[spark]'"

# The input frame: ``id`` and ``text`` are required, the others optional.
INPUT_COLUMNS: dict[str, str] = {
    "id": "STRING",          # the document id (NCT id)
    "text": "STRING",        # the eligibility criteria text
    "path": "STRING",        # where the record came from (source.path of the result)
    "structured": "STRING",  # JSON: registry fields (minimumAge, maximumAge, sex, healthyVolunteers)
    "error": "STRING",       # a reader's error: the row becomes an error row as it is
    "line": "BIGINT",        # line/row number in a multi-record file
}
INPUT_DDL = ", ".join(f"`{k}` {v}" for k, v in INPUT_COLUMNS.items())
DOCUMENTS_DDL = "`id` STRING, `result` STRING, `error` STRING"


class SparkUnavailableError(RuntimeError):
    """pyspark or a Java runtime is missing (message is one line for the user)."""


def require_pyspark():
    try:
        import pyspark
    except ImportError:
        raise SparkUnavailableError(f"Spark support needs pyspark, which is not installed: {SPARK_EXTRA_HINT}") from None
    return pyspark


def java_available() -> bool:
    """A Java runtime Spark can start (``$JAVA_HOME/bin/java`` or ``java`` on PATH)."""
    import shutil

    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return True
    return shutil.which("java") is not None


@dataclass(frozen=True)
class SparkOptions:
    """What each worker needs (pickled with the task: a few small values, never the pipeline)."""

    model: str | None = "default"
    max_length: int | None = None
    timeout: float | None = 120.0
    batch_size: int = 64


# --------------------------------------------------------------------------- worker side


def _cell(value: Any) -> Any:
    """A pandas cell as a Python value (NaN/NA/None -> None)."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _structured(value: Any) -> dict[str, Any]:
    """The ``structured`` cell: API v2 field names, or AACT column names (converted)."""
    if value in (None, ""):
        return {}
    fields = json.loads(value) if isinstance(value, (str, bytes)) else dict(value)
    if not isinstance(fields, dict):
        raise ValueError("structured is not a JSON object")
    if any(k in fields for k in ("minimum_age", "maximum_age", "gender", "healthy_volunteers")):
        from .io.readers import aact_structured

        return aact_structured(fields)
    return fields


def row_to_record(row: dict[str, Any]) -> InputRecord:
    """One input row -> InputRecord; a malformed row becomes an error record, never an exception."""
    doc_id = _cell(row.get("id"))
    doc_id = None if doc_id is None else str(doc_id)
    path = _cell(row.get("path"))
    line = _cell(row.get("line"))
    line = None if line is None else int(line)
    error = _cell(row.get("error"))
    if error is not None:
        return InputRecord(doc_id, None, path, error=str(error), line=line)
    try:
        structured = _structured(_cell(row.get("structured")))
    except (ValueError, TypeError) as exc:
        return InputRecord(doc_id, None, path, error=f"bad structured fields: {exc}", line=line)
    text = _cell(row.get("text"))
    if text is None:
        return InputRecord(doc_id, None, path, structured, error="criteria text is null", line=line)
    if not isinstance(text, str):
        return InputRecord(doc_id, None, path, structured,
                           error=f"criteria is a {type(text).__name__}, not text", line=line)
    return InputRecord(doc_id, text, path, structured, line=line)


def _dumps(result: dict[str, Any]) -> str:
    from .io.writers import dumps

    return dumps(result).decode("utf-8")


def extract_records(records: list[InputRecord], options: SparkOptions) -> list[tuple[str | None, str, str | None]]:
    """``(id, result JSON, error)`` per record, in order; never raises."""
    from .batch import ExtractOptions, _describe, process_batch
    from .io.records import error_record

    opts = ExtractOptions(model=options.model, max_length=options.max_length)
    out: list[tuple[str | None, str, str | None]] = []
    for i in range(0, len(records), max(1, options.batch_size)):
        chunk = records[i:i + max(1, options.batch_size)]
        try:
            results = process_batch(chunk, options.timeout, opts)
        except Exception as exc:  # noqa: BLE001 - e.g. the pipeline cannot be built: error rows
            msg = f"extraction failed: {_describe(exc)}"
            results = [(error_record(r, msg), 0, msg) for r in chunk]
        for rec, (result, _, err) in zip(chunk, results):
            try:
                out.append((rec.id, _dumps(result), err))
            except Exception as exc:  # noqa: BLE001
                msg = f"serialisation failed: {_describe(exc)}"
                out.append((rec.id, _dumps(error_record(rec, msg)), msg))
    return out


def _extract_batches(batches: Iterable["pd.DataFrame"], options: SparkOptions) -> Iterator["pd.DataFrame"]:
    """``mapInPandas`` function: input rows -> document rows (id, result, error)."""
    import pandas as pd

    for frame in batches:
        records = [row_to_record(row) for row in frame.to_dict("records")]
        rows = extract_records(records, options)
        yield pd.DataFrame(rows, columns=["id", "result", "error"], dtype=object)


def _rule_batches(batches: Iterable["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
    """``mapInArrow`` function: document rows -> flat rule rows (:func:`criteria_nlp.flat.arrow_schema`)."""
    import pyarrow as pa

    schema = flat.arrow_schema()
    for batch in batches:
        rows: list[dict[str, Any]] = []
        for result in batch.column("result").to_pylist():
            if result:
                rows.extend(flat.rule_rows(json.loads(result)))
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


# --------------------------------------------------------------------------- driver side


def _normalise_input(df: "DataFrame", id_col: str, text_col: str) -> "DataFrame":
    """``df`` with the :data:`INPUT_COLUMNS` (missing optional ones null)."""
    from pyspark.sql import functions as F

    missing = [c for c in (id_col, text_col) if c not in df.columns]
    if missing:
        raise ValueError(f"the input frame has no column(s) {', '.join(missing)} (columns: {', '.join(df.columns)})")
    cols = []
    for name, ddl in INPUT_COLUMNS.items():
        src = {"id": id_col, "text": text_col}.get(name, name)
        col = F.col(src) if src in df.columns else F.lit(None)
        cols.append(col.cast(ddl.lower()).alias(name))
    return df.select(*cols)


def documents_frame(df: "DataFrame", *, id_col: str = "id", text_col: str = "text",
                    options: SparkOptions = SparkOptions()) -> "DataFrame":
    """The documents DataFrame (``id, result, error``) of an input frame."""
    require_pyspark()
    return _normalise_input(df, id_col, text_col).mapInPandas(partial(_extract_batches, options=options),
                                                               schema=DOCUMENTS_DDL)


def rules_frame(documents: "DataFrame") -> "DataFrame":
    """The flat rule table of a documents DataFrame (schema :func:`criteria_nlp.flat.spark_ddl`)."""
    require_pyspark()
    return documents.select("result").mapInArrow(_rule_batches, schema=flat.spark_ddl())


def extract_frame(df: "DataFrame", *, id_col: str = "id", text_col: str = "text", model: str | None = "default",
                  max_length: int | None = None, timeout: float | None = 120.0, batch_size: int = 64,
                  cache: bool = True) -> tuple["DataFrame", "DataFrame"]:
    """``(documents, rules)`` of a DataFrame of criteria texts (see the module docstring).

    ``df`` needs ``id_col`` and ``text_col``; optional columns ``path``, ``structured`` (JSON of the
    registry fields, API v2 or AACT names), ``error`` and ``line`` are used when present. With
    ``cache`` the documents frame is persisted, so ``rules`` reuses it instead of extracting again.
    """
    from pyspark import StorageLevel

    options = SparkOptions(model=model, max_length=max_length, timeout=timeout or None, batch_size=batch_size)
    documents = documents_frame(df, id_col=id_col, text_col=text_col, options=options)
    if cache:
        documents = documents.persist(StorageLevel.MEMORY_AND_DISK)
    return documents, rules_frame(documents)


def session(master: str | None = "local[2]", app_name: str = "criteria-nlp",
            config: dict[str, str] | None = None) -> "SparkSession":
    """A SparkSession set up for the pipeline (Arrow on, UI off, Python workers reused)."""
    require_pyspark()
    if not java_available():
        raise SparkUnavailableError("Spark needs a Java runtime (java not found; set JAVA_HOME or install "
                                    "Debian's default-jre-headless, see .ci/install-java.sh)")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.python.worker.reuse": "true",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.session.timeZone": "UTC",
    }
    settings.update(config or {})
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# --------------------------------------------------------------------------- inputs


INPUT_BATCH = 5_000  # records per Parquet row group of the staged input


def _input_table(records: list[InputRecord]) -> "pa.Table":
    import pyarrow as pa

    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("path", pa.string()),
                        ("structured", pa.string()), ("error", pa.string()), ("line", pa.int64())])
    cols = {
        "id": [r.id for r in records],
        "text": [_utf8_or_none(r.text) for r in records],
        "path": [r.path for r in records],
        "structured": [json.dumps(r.structured, ensure_ascii=False) if r.structured else None for r in records],
        "error": [_error_of(r) for r in records],
        "line": [r.line for r in records],
    }
    return pa.table(cols, schema=schema)


def _error_of(record: InputRecord) -> str | None:
    if record.error is not None:
        return record.error
    if record.text is not None and _utf8_or_none(record.text) is None:
        return "text is not valid UTF-8 (a lone surrogate escape)"  # Arrow strings are UTF-8
    return None


def _utf8_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def stage_records(records: Iterable[InputRecord], directory: str) -> int:
    """Write the records to ``directory/part-0.parquet`` (input columns) in bounded memory; the count."""
    os.makedirs(directory, exist_ok=True)
    writer = None
    n = 0
    chunk: list[InputRecord] = []
    try:
        for rec in records:
            chunk.append(rec)
            if len(chunk) >= INPUT_BATCH:
                writer = _write_chunk(writer, chunk, directory)
                n += len(chunk)
                chunk = []
        if chunk or writer is None:
            writer = _write_chunk(writer, chunk, directory)
            n += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return n


def _write_chunk(writer, chunk: list[InputRecord], directory: str):
    import pyarrow.parquet as pq

    table = _input_table(chunk)
    if writer is None:
        writer = pq.ParquetWriter(os.path.join(directory, "part-0.parquet"), table.schema)
    writer.write_table(table)
    return writer


JDBC_DRIVERS = {"jdbc:postgresql:": "org.postgresql.Driver"}


def jdbc_frame(spark: "SparkSession", url: str, table: str, properties: dict[str, str] | None = None) -> "DataFrame":
    """An AACT ``eligibilities`` table over JDBC as an input frame (``nct_id`` -> id, ``criteria`` ->
    text, the age/sex/healthy-volunteer columns -> structured). The JDBC driver jar must be on
    Spark's class path (``--jars``, e.g. Debian's ``/usr/share/java/postgresql.jar``)."""
    from pyspark.sql import functions as F

    properties = dict(properties or {})
    for prefix, driver in JDBC_DRIVERS.items():
        if url.startswith(prefix):
            properties.setdefault("driver", driver)  # else DriverManager may not see a --jars driver
    reader = spark.read.format("jdbc").option("url", url).option("dbtable", table)
    for k, v in properties.items():
        reader = reader.option(k, v)
    df = reader.load()
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("nct_id", "criteria") if c not in cols]
    if missing:
        raise ValueError(f"{table} has no column(s) {', '.join(missing)}")
    aact = [c for c in ("minimum_age", "maximum_age", "gender", "healthy_volunteers") if c in cols]
    structured = (F.to_json(F.struct(*[F.col(cols[c]).cast("string").alias(c) for c in aact]))
                  if aact else F.lit(None).cast("string"))
    return df.select(F.col(cols["nct_id"]).cast("string").alias("id"), F.col(cols["criteria"]).alias("text"),
                     structured.alias("structured"))
