"""``criteria-nlp spark-extract``: the pipeline on Spark, Parquet out.

::

    criteria-nlp spark-extract --input studies.jsonl|eligibilities.txt --output DIR [--master local[2]]
    criteria-nlp spark-extract --jdbc-url jdbc:postgresql://... [--jdbc-table ctgov.eligibilities] --output DIR

writes ``DIR/documents/`` (``id, result, error``: the JSON document of each record) and
``DIR/rules/`` (the flat rule table, :mod:`criteria_nlp.flat`) as Parquet. File inputs are read by
the project's readers (the same records as ``criteria-nlp extract``) and staged as Parquet in
``DIR/_input/`` (removed at the end); a JDBC table is read by Spark itself. The documents are
written first and the rules computed from the written documents, so each record is extracted once.

Exit status: 0 all records fine, 1 some record failed (its error row is in ``documents``),
2 usage error (existing output, missing input, no pyspark or Java).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

from .io.command import positive_int

PROG = "criteria-nlp spark-extract"


class UsageError(Exception):
    pass


def add_spark_parser(sub) -> None:
    p = sub.add_parser(
        "spark-extract",
        help="extract threshold rules with Spark: Parquet documents and flat rules",
        description="Run the pipeline on Spark (pyspark, the [spark] extra) over ClinicalTrials.gov API v2 "
                    "JSON/JSONL, an AACT eligibilities file or a JDBC table; write DIR/documents/ and "
                    "DIR/rules/ as Parquet.",
    )
    p.add_argument("--input", metavar="PATH", help="API v2 .json/.jsonl, AACT eligibilities.txt, or a directory of them")
    p.add_argument("--format", choices=("ctgov-json", "ctgov-jsonl", "aact", "text"), default=None,
                   help="input format (default: detected)")
    p.add_argument("--jdbc-url", metavar="URL", help="read an AACT eligibilities table over JDBC instead of --input")
    p.add_argument("--jdbc-table", default="ctgov.eligibilities", metavar="SCHEMA.TABLE",
                   help="the table of --jdbc-url (default ctgov.eligibilities)")
    p.add_argument("--jdbc-user", default=None, metavar="USER")
    p.add_argument("--jdbc-password-env", default=None, metavar="VAR",
                   help="name of the environment variable holding the JDBC password")
    p.add_argument("--jars", default=None, metavar="JAR[,JAR]",
                   help="extra jars for Spark (e.g. the JDBC driver, /usr/share/java/postgresql.jar)")
    p.add_argument("--output", required=True, metavar="DIR", help="output directory (documents/ and rules/)")
    p.add_argument("--master", default=None, metavar="URL",
                   help="Spark master (default: local[2], or the one spark-submit gives)")
    p.add_argument("--partitions", type=positive_int, default=None, metavar="N",
                   help="input partitions (default: 4 per core of the master)")
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N", help="documents per nlp.pipe batch")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="per-document time limit (default 120, 0 = none)")
    p.add_argument("--model", default="default", metavar="PATH|none", help="learned linker model (default: packaged)")
    p.add_argument("--max-length", type=positive_int, default=None, metavar="CHARS",
                   help="longest criteria text accepted; a longer record becomes an error row")
    p.add_argument("--limit", type=positive_int, default=None, metavar="N", help="process at most N records (file inputs)")
    p.add_argument("--force", action="store_true", help="replace DIR/documents and DIR/rules of an earlier run")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(handler=run_spark_extract)


def run_spark_extract(args) -> int:
    from .spark import SparkUnavailableError

    try:
        return _run(args)
    except (UsageError, SparkUnavailableError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (Py4J errors are long)
        msg = " ".join(str(exc).split())
        first = msg.split(" at ", 1)[0][:400]
        print(f"{PROG}: error: {type(exc).__name__}: {first}", file=sys.stderr, flush=True)
        return 1


def _check(args) -> None:
    if bool(args.input) == bool(args.jdbc_url):
        raise UsageError("give one of --input PATH or --jdbc-url URL")
    if args.input and not os.path.exists(args.input):
        raise UsageError(f"--input {args.input}: no such file or directory")
    out = args.output
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--output {out}: exists and is not a directory")
    if os.path.isdir(out) and os.listdir(out) and not args.force:
        raise UsageError(f"--output {out}: the directory is not empty; add --force to replace its documents/ and rules/")
    if args.force and os.path.isdir(out):
        foreign = sorted(set(os.listdir(out)) - {"documents", "rules", "_input"})
        if foreign:
            raise UsageError(f"--output {out}: holds other files ({', '.join(foreign[:3])}); --force replaces only "
                             "documents/ and rules/ of an earlier run: choose another directory")
    from .learning.model import ModelNotFoundError, model_path

    try:
        model_path(args.model)
    except ModelNotFoundError as exc:
        raise UsageError(f"--model: {exc}") from None


def _input_frame(spark, args, stage: str):
    if args.jdbc_url:
        from .spark import jdbc_frame

        props = {}
        if args.jdbc_user:
            props["user"] = args.jdbc_user
        if args.jdbc_password_env:
            props["password"] = os.environ.get(args.jdbc_password_env, "")
        return jdbc_frame(spark, args.jdbc_url, args.jdbc_table, props), None
    import itertools

    from .io.readers import iter_inputs
    from .spark import stage_records

    records = iter_inputs([args.input], args.format)
    if args.limit:
        records = itertools.islice(records, args.limit)
    n = stage_records(records, stage)
    return spark.read.parquet(stage), n


def _run(args) -> int:
    _check(args)
    from . import spark as cs

    cs.require_pyspark()
    config = {"spark.ui.showConsoleProgress": "false"}
    if args.jars:
        config["spark.jars"] = args.jars
    master = args.master or (None if os.environ.get("SPARK_ENV_LOADED") else "local[2]")
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None  # a caller's session (a notebook, tests) is left running
    session = cs.session(master, config=config)
    out = args.output
    stage = os.path.join(out, "_input")
    try:
        os.makedirs(out, exist_ok=True)
        shutil.rmtree(stage, ignore_errors=True)
        df, _ = _input_frame(session, args, stage)
        parts = args.partitions or 4 * session.sparkContext.defaultParallelism
        if df.rdd.getNumPartitions() < parts:
            df = df.repartition(parts)
        options = cs.SparkOptions(model=args.model, max_length=args.max_length,
                                  timeout=args.timeout if args.timeout and args.timeout > 0 else None,
                                  batch_size=args.batch_size)
        docs_dir, rules_dir = os.path.join(out, "documents"), os.path.join(out, "rules")
        cs.documents_frame(df, options=options).write.mode("overwrite").parquet(docs_dir)
        documents = session.read.parquet(docs_dir)
        cs.rules_frame(documents).write.mode("overwrite").parquet(rules_dir)
        n_docs = documents.count()
        errors = documents.filter(documents.error.isNotNull())
        n_failed = errors.count()
        for row in errors.select("id", "error").limit(20).collect():
            print(f"{PROG}: {row['id'] or '<no id>'}: {row['error']}", file=sys.stderr)
        n_rules = session.read.parquet(rules_dir).count()
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if owned:
            session.stop()
    if not args.quiet:
        print(f"{PROG}: done: {n_docs:,} documents ({n_failed:,} failed), {n_rules:,} rules -> "
              f"{out}/documents, {out}/rules", file=sys.stderr)
    return 1 if n_failed else 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - spark-submit entry
    parser = argparse.ArgumentParser(prog=PROG)
    sub = parser.add_subparsers(dest="command")
    add_spark_parser(sub)
    args = parser.parse_args(["spark-extract", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
