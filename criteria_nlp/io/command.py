"""``criteria-nlp extract``: one file, many files, registry dumps or an AACT database.

::

    criteria-nlp extract PATH... [-o DIR | -o FILE.jsonl] [--jsonl] [--format F]
    criteria-nlp extract PATH... --format parquet|csv [-o FILE.parquet | -o FILE.csv]
                         [--workers N] [--batch-size N] [--resume] [--limit N] [-q]
    criteria-nlp extract --dsn postgresql://... [--table ctgov.eligibilities] [--write-db] [...]
    criteria-nlp extract PATH... --dsn postgresql://... --write-db

Output: one text input with neither ``-o`` nor ``--jsonl`` is printed as indented JSON on
stdout; anything else (several files, registry/AACT/database records) goes to stdout as JSON
Lines. ``-o DIR``
writes ``DIR/<input stem>.json`` per text file (``DIR/<NCT id>.json`` per registry record);
``-o FILE.json`` writes the one record of one input as indented JSON;
``-o FILE.jsonl`` (or ``-o FILE --jsonl``) writes one line per record, flushed per record.
``--format parquet|csv`` (or ``-o FILE.parquet`` / ``-o FILE.csv``) writes the flat rule table
instead (:mod:`criteria_nlp.flat`: one row per rule); CSV may go to stdout, Parquet needs ``-o``.
An existing output (a file, or ``.json`` files in DIR) is refused unless ``--resume`` continues
it or ``--force`` replaces it.
``--write-db`` upserts every result into the table ``criteria_nlp_rules`` of ``--dsn`` and its
rules into the flat table ``criteria_nlp_rule`` (then stdout gets nothing unless ``--jsonl`` asks
for it).

Exit status: 0 all records fine, 1 some record failed (its error record is in the output and
a one-line message on stderr), 2 usage error.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

from .readers import DEFAULT_TABLE, FORMATS, InputError, detect_format, expand_paths, require_psycopg

TABLE_FORMATS = ("parquet", "csv")  # output formats of --format: the flat rule table
from .writers import OutputError

PROG = "criteria-nlp"
MAX_ERROR_LINES = 50


EPILOG = """\
output:
  one text PATH, no -o/--jsonl   indented JSON on stdout
  otherwise, no -o               JSON Lines on stdout (one record per line)
  -o DIR                         DIR/<input stem>.json per text file, DIR/<NCT id>.json per study
  -o FILE.json                   the one record of one input, indented JSON
  -o FILE.jsonl (or -o F --jsonl)  JSON Lines, flushed per record; --resume continues it
  --format parquet -o FILE.parquet  the flat rule table (one row per rule), also -o FILE.parquet alone
  --format csv [-o FILE.csv]     the flat rule table as CSV (stdout without -o)
  an existing output is refused unless --resume continues it or --force replaces it
  --write-db                     upsert into criteria_nlp_rules and criteria_nlp_rule (nothing on
                                 stdout unless --jsonl)
A record that cannot be read or processed becomes {"schema_version", "source", "error"} in the
output and a one-line message on stderr; the run goes on.

exit status: 0 all records fine, 1 some record failed, 2 usage error.
"""


class UsageError(Exception):
    pass


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return n


def add_extract_parser(sub) -> None:
    p = sub.add_parser(
        "extract",
        help="extract threshold rules from criteria texts, registry records or an AACT database",
        description="Extract numeric threshold rules from eligibility criteria: text files, "
                    "ClinicalTrials.gov API v2 studies (.json/.jsonl), AACT eligibilities.txt, or an AACT "
                    "PostgreSQL database (--dsn).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="text file (- for stdin), ClinicalTrials.gov .json/.jsonl, AACT eligibilities.txt, "
                        "or a directory of such files")
    p.add_argument("-o", "--output", metavar="DIR|FILE.json|FILE.jsonl",
                   help="a directory (one JSON file per input/record), a .json file (one input, one "
                        "record) or a .jsonl file")
    p.add_argument("--jsonl", action="store_true",
                   help="JSON Lines: one record per line (on stdout, or into the -o file)")
    p.add_argument("--format", choices=FORMATS + TABLE_FORMATS, default=None,
                   help="input format of every PATH (default: detected from the extension/content), "
                        "or parquet/csv: write the flat rule table (one row per rule) instead of JSON")
    p.add_argument("--input-format", choices=FORMATS, default=None, dest="input_format",
                   help="input format of every PATH when --format names the output format")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="worker processes (each builds the pipeline once; default 1)")
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="documents per nlp.pipe batch (default 64)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="per-document time limit; a document over it becomes an error record (default 120, 0 = none)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: skip the records already in the -o output")
    p.add_argument("--force", action="store_true",
                   help="replace an existing -o output (without it, an existing output is refused)")
    p.add_argument("--limit", type=positive_int, default=None, metavar="N",
                   help="process at most N records")
    p.add_argument("--dsn", metavar="DSN",
                   help="PostgreSQL connection string: without PATH, read AACT's eligibilities table")
    p.add_argument("--table", default=DEFAULT_TABLE, metavar="SCHEMA.TABLE",
                   help=f"AACT eligibilities table to read with --dsn (default {DEFAULT_TABLE})")
    p.add_argument("--write-db", action="store_true",
                   help="upsert each result into the table criteria_nlp_rules of --dsn")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    p.add_argument("--model", default="default", metavar="PATH|none",
                   help="learned linker model: a .skops file, or none for rules only (default: the packaged model)")
    p.add_argument("--max-length", type=positive_int, default=None, metavar="CHARS",
                   help="longest criteria text accepted (default 10,000,000); a longer record becomes an error record")
    p.add_argument("--part-length", type=positive_int, default=None, metavar="CHARS",
                   help="a longer text is read in parts of at most CHARS characters cut between criteria, "
                        "with the same result (default spaCy's nlp.max_length, 1,000,000)")
    p.set_defaults(handler=run_extract)


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def run_extract(args) -> int:
    collecting = gc.isenabled()
    gc.disable()  # start-up makes long-lived objects only; see _build_pipeline_first
    try:
        return _run(args)
    except UsageError as exc:
        print(f"{PROG} extract: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except InputError as exc:
        _err(str(exc))
        return 1
    except OutputError as exc:
        print(f"{PROG} extract: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except (BrokenPipeError, KeyboardInterrupt):
        raise  # the CLI's exit statuses: 141 (closed output pipe), 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        msg = " ".join(str(exc).split())
        _err(f"unexpected error: {type(exc).__name__}: {msg}" if msg else f"unexpected error: {type(exc).__name__}")
        return 1
    finally:
        (gc.enable if collecting else gc.disable)()


def _check_usage(args) -> tuple[list[str], str | None]:
    """Validate the option combination; the expanded input paths and the output mode."""
    _split_format(args)
    paths = list(expand_paths(args.paths))
    if args.paths and not paths:
        raise UsageError("the given directories contain no .txt/.json/.jsonl files")
    if not args.paths and not args.dsn:
        raise UsageError("give at least one PATH, or --dsn to read the AACT eligibilities table")
    if args.dsn:
        try:
            require_psycopg()
        except InputError as exc:
            raise UsageError(str(exc)) from None
    if args.write_db and not args.dsn:
        raise UsageError("--write-db needs --dsn")
    if args.dsn and args.paths and not args.write_db:
        raise UsageError("with PATH inputs, --dsn is only the --write-db target: add --write-db, "
                         "or drop the PATHs to read the database")
    if args.paths.count("-") > 1:
        raise UsageError("standard input (-) can be given only once")
    if args.resume and args.force:
        raise UsageError("--resume continues an output and --force replaces it: give one of them")
    mode = _output_mode(args)
    if args.table_format and args.resume:
        raise UsageError(f"--resume continues JSON outputs; a {args.table_format} table is written whole "
                         "(use --force to replace it)")
    if args.resume and mode not in ("jsonl-file", "dir"):
        raise UsageError("--resume needs -o DIR or -o FILE.jsonl (the output to continue)")
    if mode == "json-file" and (len(paths) != 1 or args.dsn and not args.write_db):
        raise UsageError(f"-o {args.output}: a .json file holds one record of one input "
                         "(use -o DIR or -o FILE.jsonl for more)")
    if mode == "dir":
        _check_unique_names(paths, args.format)
    if not (args.resume or args.force):
        _refuse_existing(args.output, mode)
    if mode is None:
        if args.table_format == "csv":
            mode = "csv-stdout"
        elif args.table_format == "parquet":
            raise UsageError("--format parquet needs -o FILE.parquet (Parquet is not written to stdout)")
        elif args.write_db:
            mode = "none"
        elif len(paths) == 1 and (args.format or detect_format(paths[0])) == "text":
            mode = "pretty"
        else:
            mode = "jsonl-stdout"
    return paths, mode


def _split_format(args) -> None:
    """``--format`` names the input format, or (parquet/csv) the output's: set ``args.format`` to the
    input format and ``args.table_format`` to the table format (None: JSON output)."""
    table = args.format if args.format in TABLE_FORMATS else None
    if table is None and args.input_format:
        if args.format and args.format != args.input_format:
            raise UsageError(f"--format {args.format} and --input-format {args.input_format} disagree")
    suffix = Path(args.output).suffix.lower().lstrip(".") if args.output and args.output != "-" else ""
    if table and suffix in TABLE_FORMATS + ("json", "jsonl", "ndjson") and suffix != table:
        raise UsageError(f"--format {table} and -o {args.output} disagree: name the file .{table}")
    if table is None and suffix in TABLE_FORMATS:
        table = suffix
    args.table_format = table
    args.format = args.input_format or (None if args.format in TABLE_FORMATS else args.format)


def _table_mode(args) -> str:
    out = args.output
    if args.jsonl:
        raise UsageError(f"--jsonl and --format {args.table_format} ask for two outputs: give one")
    if out is None or out == "-":
        if args.table_format == "parquet":
            raise UsageError("--format parquet needs -o FILE.parquet (Parquet is not written to stdout)")
        return "csv-stdout"
    if os.path.isdir(out):
        raise UsageError(f"-o {out}: is a directory, expected a .{args.table_format} file")
    return f"{args.table_format}-file"


def _output_mode(args) -> str | None:
    """``jsonl-file``, ``json-file``, ``dir``, ``jsonl-stdout``, ``parquet-file``, ``csv-file`` or
    ``csv-stdout`` from ``-o``/``--jsonl``/``--format`` (None: neither)."""
    out = args.output
    if getattr(args, "table_format", None):
        return _table_mode(args)
    if out and out != "-":
        lower = out.lower()
        if args.jsonl or lower.endswith((".jsonl", ".ndjson")):
            if os.path.isdir(out):
                raise UsageError(f"-o {out}: is a directory, expected a .jsonl file")
            return "jsonl-file"
        if lower.endswith(".json") and not os.path.isdir(out):
            return "json-file"
        if os.path.exists(out) and not os.path.isdir(out):
            raise UsageError(f"-o {out}: exists and is not a directory (use a .json/.jsonl name, or --jsonl)")
        return "dir"
    if out == "-" or args.jsonl:
        return "jsonl-stdout"
    return None


def _refuse_existing(output: str | None, mode: str | None) -> None:
    """An output that already holds results is not replaced without ``--force``."""
    if mode in ("jsonl-file", "json-file") and os.path.exists(output) and os.path.getsize(output) > 0:
        raise UsageError(f"-o {output}: exists; add --resume to continue it or --force to replace it")
    if mode in ("parquet-file", "csv-file") and os.path.exists(output):
        raise UsageError(f"-o {output}: exists; add --force to replace it")
    if mode == "dir" and os.path.isdir(output):
        with os.scandir(output) as entries:
            if any(e.name.endswith(".json") and e.is_file() for e in entries):
                raise UsageError(f"-o {output}: the directory already holds .json results; add --resume "
                                 "to skip those or --force to replace them")


def _check_unique_names(paths: list[str], fmt: str | None) -> None:
    """Two text inputs that would write the same ``DIR/<stem>.json``: fail before writing anything."""
    from .records import InputRecord
    from .writers import output_name

    first: dict[str, str] = {}
    for p in paths:
        if (fmt or detect_format(p)) != "text":
            continue  # registry records are named by NCT id (see DirWriter for repeats)
        name = output_name(InputRecord(None if p == "-" else Path(p).stem, None, None if p == "-" else p))
        if name in first:
            raise UsageError(f"{first[name]} and {p} would both be written to {name} in -o DIR: "
                             "rename one, or use -o FILE.jsonl")
        first[name] = p


def _count_lines(path: str) -> int | None:
    try:
        n = 0
        last = b"\n"
        with open(path, "rb") as fh:
            while True:
                chunk = fh.read(1 << 24)
                if not chunk:
                    break
                n += chunk.count(b"\n")
                last = chunk[-1:]
        return n + (last != b"\n")
    except OSError:
        return None


def _estimate_total(paths: list[str], fmt: str | None, args) -> int | None:
    """Number of records when cheap to know (for the progress ETA), else None."""
    if not paths:
        from .readers import count_postgres

        n = count_postgres(args.dsn, args.table)
        return min(n, args.limit) if n is not None and args.limit else n
    total = 0
    for p in paths:
        f = fmt or detect_format(p)
        if f == "text":
            total += 1
        elif f == "ctgov-jsonl" and p != "-" and os.path.isfile(p):
            n = _count_lines(p)
            if n is None:
                return None
            total += n
        else:
            return None
    return min(total, args.limit) if args.limit else total


def _extract_options(args):
    """The model and length limit of ``--model``/``--max-length``; a missing model fails here, at once."""
    from ..batch import ExtractOptions
    from ..learning.model import ModelNotFoundError, model_path

    try:
        model_path(args.model)
    except ModelNotFoundError as exc:
        raise UsageError(f"--model: {exc}") from None
    return ExtractOptions(model=args.model, max_length=args.max_length, part_length=args.part_length)


def _build_pipeline_first(options) -> None:
    """Build the pipeline before the first record, then turn the cyclic garbage collector back on
    with every object made so far frozen (``gc.freeze``).

    Start-up (spaCy, the components and their rules, lexicon and model) makes some 160,000
    long-lived objects and little garbage; the collector's passes over them cost about a tenth of
    a one-file run's CPU. Frozen, they are skipped by later collections, and a forked worker does
    not touch (copy) the pages it shares with the parent. Garbage from the records is collected as
    usual.
    """
    from ..pipeline import get_pipeline

    try:
        get_pipeline(options.model)
    finally:
        gc.freeze()
        gc.enable()


def _records(paths: list[str], args) -> Iterator:
    if paths:
        from .readers import iter_path

        for p in paths:
            yield from iter_path(p, args.format)
    else:
        from .readers import iter_postgres

        yield from iter_postgres(args.dsn, args.table, itersize=max(1000, args.batch_size * 4))


def _skip_done(records: Iterable, done, writer_dir=None, counter: list[int] | None = None) -> Iterator:
    for rec in records:
        if done is not None:
            k = rec.key
            if done.get(k, 0) > 0:
                done[k] -= 1
                if counter is not None:
                    counter[0] += 1
                continue
        elif writer_dir is not None and writer_dir.path_for(rec).exists():
            if counter is not None:
                counter[0] += 1
            continue
        yield rec


def _limited(records: Iterable, limit: int | None) -> Iterator:
    if limit is None:
        yield from records
        return
    for i, rec in enumerate(records):
        if i >= limit:
            return
        yield rec


def _run(args) -> int:
    from ..batch import process_records
    from .progress import Progress
    from .writers import DbWriter, DirWriter, JsonFileWriter, JsonlWriter, PrettyWriter, scan_completed

    paths, mode = _check_usage(args)
    options = _extract_options(args)

    done = None
    skipped = [0]
    writers: list[Any] = []
    dir_writer = None
    if mode == "jsonl-file":
        if args.resume:
            done = scan_completed(args.output)
        writers.append(JsonlWriter(args.output, append=args.resume))
    elif mode == "json-file":
        writers.append(JsonFileWriter(args.output))
    elif mode == "dir":
        dir_writer = DirWriter(args.output)
        writers.append(dir_writer)
    elif mode == "jsonl-stdout":
        writers.append(JsonlWriter(None))
    elif mode == "pretty":
        writers.append(PrettyWriter())
    elif mode in ("parquet-file", "csv-file", "csv-stdout"):
        from .tables import CsvWriter, ParquetWriter

        writers.append(ParquetWriter(args.output) if mode == "parquet-file" else
                       CsvWriter(args.output if mode == "csv-file" else None))
    db_writer = DbWriter(args.dsn, batch_size=args.batch_size) if args.write_db else None

    records = _records(paths, args)
    if args.resume:
        records = _skip_done(records, done, dir_writer if done is None else None, skipped)
    records = _limited(records, args.limit)

    total = None
    show = not args.quiet
    if show:
        total = _estimate_total(paths, args.format, args)
        if total is not None and args.resume and done is not None:
            total = max(0, total - sum(done.values()))
    single = mode in ("pretty", "json-file") and len(paths) == 1
    progress = Progress(total, enabled=show and not single)
    shown_errors = 0
    _build_pipeline_first(options)
    outcomes = process_records(records, workers=args.workers, batch_size=args.batch_size,
                               timeout=args.timeout if args.timeout and args.timeout > 0 else None,
                               options=options)
    try:
        for outcome in outcomes:
            for w in writers:
                if hasattr(w, "write_outcome"):
                    w.write_outcome(outcome)  # bytes as the worker serialised them
                else:
                    w.write(outcome.result, outcome.record)
            if db_writer is not None:
                db_writer.write(outcome.result, outcome.record, outcome.rules, outcome.error)
            progress.update(outcome.rules, failed=not outcome.ok)
            if not outcome.ok:
                shown_errors += 1
                if shown_errors <= MAX_ERROR_LINES:
                    progress.log(f"{outcome.record.where()}: {outcome.error}")
                elif shown_errors == MAX_ERROR_LINES + 1:
                    progress.log("further record errors are not shown (see the error records in the output)")
        if db_writer is not None:
            db_writer.flush()
    finally:
        outcomes.close()  # stops the worker pool at once if we are leaving early
        progress.close(summary=False)
        for w in writers:
            w.close()
        if db_writer is not None:
            try:
                db_writer.close()
            except Exception:  # noqa: BLE001
                pass

    failed = progress.failed
    if db_writer is not None:
        for msg in db_writer.failed[:MAX_ERROR_LINES]:
            _err(f"database write failed: {msg}")
        failed += len(db_writer.failed)
        if db_writer.skipped_no_id:
            _err(f"{db_writer.skipped_no_id} record(s) without an id were not written to the database")
    if show and not single:
        extra = f", {skipped[0]:,} already done (resumed)" if args.resume else ""
        if db_writer is not None:
            extra += f", {db_writer.written:,} rows upserted"
        if dir_writer is not None and dir_writer.renamed:
            extra += f", {dir_writer.renamed} repeated name(s) written as <name>-N.json"
        _err(
            f"done: {progress.docs:,} documents ({progress.failed:,} failed), {progress.rules:,} rules in "
            f"{_elapsed(progress):.1f} s ({progress.rate():,.1f} docs/s){extra}"
        )
    return 1 if failed else 0


def _elapsed(progress) -> float:
    import time

    return time.monotonic() - progress.start
