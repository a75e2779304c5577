"""``criteria-nlp match`` and ``criteria-nlp export``.

Building the parsers imports nothing heavy; duckdb, sqlglot, psycopg and fhir.resources are
imported by the handlers. Exit status: 0 all records done, 1 a record or the database failed
(one-line message on stderr; the other records still run), 2 usage error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

PROG = "criteria-nlp"
FORMATS = ("circe", "sql", "fhir")

MATCH_EPILOG = """\
output (--level full, the default): one JSON line per (trial, person): trial, person_id,
index_date, verdict (passes|fails|unknown), scope, rules (rule, criterion, section, variable,
verdict, reason, value, unit, measurement_date; detail for a rule no one can be evaluated on).
--level verdicts: one line per (trial, person): trial, person_id, index_date, verdict, deciding
(ids of the rules against the person in the criteria that exclude the person), unknown (ids of
the rules without a verdict in the criteria left unknown). --level counts: one line per trial:
persons, verdicts, criteria and rules with their counts. Rule verdicts: met,
not_met, unknown, not_applicable (a population or exception condition excludes the person from
the rule; a population stated by a rule -- the condition's "rule" -- holds where that rule is
met). Only numeric threshold rules are evaluated. Diagnoses named by population/exception
conditions come from --concept-map, else from the exact name or synonym of one standard Condition
concept in the CDM's vocabulary (each look-up reported on stderr; --no-name-lookup turns it off).
exit status: 0 all records matched, 1 some record or the database failed, 2 usage error.
"""


class UsageError(Exception):
    pass


def _date(value: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value[:40]!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a valid date: {value}") from None


def _days(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value[:40]!r}") from None
    if not 0 <= n <= 36500:
        raise argparse.ArgumentTypeError(f"must be between 0 and 36500: {n}")
    return n


def _add_common(p: argparse.ArgumentParser) -> None:
    from .results import DEFAULT_LOOKBACK_DAYS

    p.add_argument("results", nargs="+", metavar="RESULT",
                   help="output of 'criteria-nlp extract': a JSON document or JSON Lines (- for stdin)")
    p.add_argument("--cdm-schema", metavar="S", help="schema of the CDM tables (default: the connection's)")
    p.add_argument("--lookback-days", type=_days, default=DEFAULT_LOOKBACK_DAYS, metavar="N",
                   help=f"window of a rule without its own time window: N days before the index date "
                        f"(default {DEFAULT_LOOKBACK_DAYS})")
    p.add_argument("--concept-map", metavar="FILE",
                   help="JSON file giving OMOP concepts to variables without a LOINC code and to diagnoses "
                        "named by population/exception conditions (see the README)")
    p.add_argument("--no-name-lookup", dest="name_lookup", action="store_false",
                   help="do not look diagnoses of population/exception conditions up by name in the CDM's "
                        "vocabulary (standard Condition concepts, exact name or synonym; see the README)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (never overwritten)")


def _add_index(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--index-date", type=_date, metavar="YYYY-MM-DD", help="one index date for every person")
    g.add_argument("--index-table", metavar="T",
                   help="table (person_id, index_date) naming the persons and their index dates")


def add_match_parser(sub) -> None:
    p = sub.add_parser(
        "match", help="evaluate numeric rules against patients in an OMOP CDM database",
        description="Evaluate the numeric threshold rules of extraction results against an OMOP CDM v5.4 "
                    "database (DuckDB file or postgresql:// DSN): one SQL query per trial, one verdict "
                    "line per person.",
        epilog=MATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(p)
    p.add_argument("--cdm", required=True, metavar="CDM", help="DuckDB database file or postgresql:// DSN")
    _add_index(p, required=True)
    _add_level(p, "full (default): every rule's verdict for every person; verdicts: one short line per "
                  "person (verdict, deciding and unknown rule ids); counts: one line per trial (persons "
                  "per verdict, per criterion and per rule), counted by the database")
    p.set_defaults(handler=run_match_command)


def _add_level(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--level", choices=("full", "verdicts", "counts"), default="full", help=help_text)


def add_export_parser(sub) -> None:
    from .query import DIALECTS

    p = sub.add_parser(
        "export", help="export rules as an OHDSI Circe cohort, SQL or a FHIR EvidenceVariable",
        description="Export the numeric threshold rules of extraction results: --to circe (OHDSI cohort "
                    "expression JSON for ATLAS), --to sql (the query 'match' runs, per dialect), --to fhir "
                    "(FHIR R5 EvidenceVariable). One result prints indented JSON (circe, fhir); several "
                    "print JSON Lines; sql prints one statement per trial.")
    _add_common(p)
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--dialect", choices=DIALECTS, default="duckdb", help="SQL dialect of --to sql (default duckdb)")
    p.add_argument("--cdm", metavar="CDM",
                   help="resolve concept ids and units from this CDM (circe, sql); without it circe leaves "
                        "CONCEPT_ID 0 and sql uses a list of common units")
    _add_index(p, required=False)
    p.add_argument("--any-measurement", action="store_true",
                   help="--to circe: a threshold holds when any measurement in the window meets it, without "
                        "the nested criteria that pick the most recent one (cheaper SQL; match uses the most "
                        "recent)")
    _add_level(p, "--to sql: the query of match --level LEVEL: full (default; one row per person with every "
                  "rule's columns), verdicts (person_id, index_date, allowed, deciding, unknown) or counts "
                  "(one row of counts)")
    p.set_defaults(handler=run_export_command)


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    target = Path(path)
    if target.exists():
        raise UsageError(f"{path} exists; nothing is overwritten (remove it or choose another name)")
    with open(target, "x", encoding="utf-8") as fh:
        yield fh


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def run_match_command(args: argparse.Namespace) -> int:
    from .errors import OmopError

    try:
        from .conceptmap import load_concept_map
        from .match import run_match
        from .query import IndexSpec

        index = IndexSpec(date=args.index_date, table=args.index_table)
        concept_map = load_concept_map(args.concept_map)
        with _output(args.output) as out:
            summary = run_match(args.results, args.cdm, index, out, cdm_schema=args.cdm_schema,
                                lookback_days=args.lookback_days, concept_map=concept_map,
                                name_lookup=args.name_lookup, level=args.level)
    except UsageError as e:
        return _fail(str(e), 2)
    except OmopError as e:
        return _fail(str(e), 1)
    what = "person(s) counted" if args.level == "counts" else "verdict line(s)"
    print(f"{PROG}: matched {summary.trials} trial(s), {summary.persons} {what}"
          + (f", {summary.failed_records} record(s) failed" if summary.failed_records else ""), file=sys.stderr)
    return 1 if summary.failed_records else 0


def run_export_command(args: argparse.Namespace) -> int:
    from .errors import OmopError

    try:
        from .export import export_all

        with _output(args.output) as out:
            failed = export_all(args, out)
    except UsageError as e:
        return _fail(str(e), 2)
    except OmopError as e:
        return _fail(str(e), 1)
    return 1 if failed else 0


def write_json(out: IO[str], document: dict, many: bool) -> None:
    if many:
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        out.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
