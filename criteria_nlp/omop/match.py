"""The ``match`` runner: for each trial, one query against the CDM, one verdict line per person."""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import IO

from .conceptmap import ConceptMap
from .conversions import unit_factors
from .database import Cdm, connect, known_concepts, measured_units
from .errors import OmopError
from .populations import ConceptNames
from .query import BuiltQuery, IndexSpec, build_query, person_chunks_sql, pivot_for, without_diagnoses
from .results import TrialPlan, read_plans, unevaluable_stated_populations, without_conditions
from .summaries import LEVELS, CountsWriter, PersonVerdictWriter
from .verdicts import SqlRulesWriter, VerdictWriter


#: Databases that write the rules' JSON text themselves (:class:`SqlRulesWriter`); the others
#: return the rule columns and Python writes the lines (:class:`VerdictWriter`).
SQL_WRITER_DIALECTS = ("duckdb",)
#: Embedded databases, whose memory is this process's: their persons are matched in chunks.
CHUNKED_DIALECTS = ("duckdb",)
#: Persons per query on those (about 0.3 GB of DuckDB memory for the reference record's rules).
CHUNK_PERSONS = 100_000


@dataclass
class MatchSummary:
    trials: int = 0
    persons: int = 0
    failed_records: int = 0


def prepare(db: Cdm, plan: TrialPlan, warn=None) -> TrialPlan:
    """The plan as this CDM can evaluate it: a rule whose concept is not in the CDM's ``concept``
    table cannot be evaluated (reason ``concept_not_in_cdm``), nor can the population it states,
    and diagnoses are not looked up without a ``condition_occurrence`` table."""
    sources = sorted({t.source_key for t in plan.thresholds if t.kind == "measurement" and t.source_key})
    known = known_concepts(db, sources) if sources else set()
    missing = [s for s in sources if s not in known]
    if missing:
        if warn is not None:
            warn(f"{plan.trial}: {', '.join(_describe(s) for s in missing)} not in the CDM's concept table; "
                 "the rules are unknown (concept_not_in_cdm)")
        plan = replace(plan, thresholds=tuple(
            replace(t, kind=None, not_executable="concept_not_in_cdm",
                    detail=f"{_describe(t.source_key)} is not in the CDM's concept table")
            if t.kind == "measurement" and t.source_key in missing else t for t in plan.thresholds))
    plan = without_conditions(plan, unevaluable_stated_populations(plan))  # a stating rule not in the CDM
    if any(c.kind == "diagnosis" for c in plan.conditions) and not db.has_table("condition_occurrence"):
        if warn is not None:
            warn(f"{plan.trial}: the CDM has no condition_occurrence table; diagnoses of the concept map "
                 "are not resolved")
        plan = without_diagnoses(plan)
    return plan


def _describe(source: str | None) -> str:
    if source is None:
        return "no concept"
    return f"concept_id {source[1:]}" if source.startswith("#") else f"LOINC {source}"


def match_trial(db: Cdm, plan: TrialPlan, index: IndexSpec, out: IO[str], warn=None, level: str = "full",
                chunk_persons: int | None = CHUNK_PERSONS) -> int:
    """Write the output of one trial at ``level`` (:data:`LEVELS`): ``full`` and ``verdicts``
    one line per person, ``counts`` one line for the trial. Returns the number of persons.

    The rows are read in batches and each batch is written at once. On DuckDB (whose memory is
    this process's) the persons are also taken ``chunk_persons`` at a time, one query per chunk
    in ``person_id`` order (None: one query for all), so that the database's window and sort do
    not grow with the number of persons either; the counts of the chunks are added up."""
    if level not in LEVELS:
        raise OmopError(f"output level must be one of {', '.join(LEVELS)}, not {level!r}")
    has_ancestor = db.has_table("concept_ancestor")
    plan = prepare(db, plan, warn)
    sources = sorted({t.source_key for t in plan.thresholds if t.kind == "measurement" and t.source_key})
    factors = unit_factors(plan.thresholds, measured_units(db, sources, has_ancestor))

    def query(persons) -> BuiltQuery:
        return build_query(plan, factors, index, cdm_schema=db.schema, has_ancestor=has_ancestor,
                           pivot=pivot_for(db.dialect), ordered=level == "full", criterion_columns=level != "full",
                           persons=persons)

    chunks = person_chunks(db, index, chunk_persons)
    if level == "counts":
        writer = CountsWriter(plan, index.date.isoformat() if index.date else None, index.table)
        columns, row = _summed(db.execute(writer.query(query(persons))) for persons in chunks)
        out.write(writer.line(columns, row))
        out.flush()
        return writer.record(columns, row)["persons"]
    n = 0
    for persons in chunks:
        for lines, batch in _line_batches(db, plan, level, query(persons)):
            out.write(lines(batch))
            n += len(batch)
    out.flush()
    return n


def _line_batches(db: Cdm, plan: TrialPlan, level: str, built: BuiltQuery):
    """(writer of lines, batch of rows) for each batch of the query's rows at ``level``."""
    if level == "verdicts":
        writer = PersonVerdictWriter(plan)
        _, batches = db.execute(writer.query(built))
        lines = writer.lines
    elif db.dialect in SQL_WRITER_DIALECTS:  # the database writes the rules' JSON (same text, faster)
        writer = SqlRulesWriter(plan)
        keys = {t.key for t in plan.thresholds if t.kind is not None and t.conditional}
        _, batches = db.execute_sql(*writer.wrap(built.sql(db.dialect), built.params, keys))
        lines = writer.lines
    else:
        columns, batches = db.execute(built)
        lines = VerdictWriter(plan, columns).lines
    for batch in batches:
        yield lines, batch


def _summed(results) -> tuple[list[str], tuple]:
    """The column names and the column-wise sum of the one-row results of the chunks."""
    columns, total = [], None
    for columns, batches in results:
        (row,) = [row for batch in batches for row in batch]
        total = row if total is None else tuple((a or 0) + (b or 0) for a, b in zip(total, row))
    return columns, total


def person_chunks(db: Cdm, index: IndexSpec, size: int | None) -> list[tuple[int, int | None] | None]:
    """The ``(first, last)`` person_id ranges of ``size`` persons each on an embedded database
    (``[None]``: one query for every person: a server database, ``size`` None, or few persons)."""
    if size is None or db.dialect not in CHUNKED_DIALECTS:
        return [None]
    if size < 1:
        raise OmopError(f"chunk_persons must be at least 1, not {size}")
    starts = [int(row[0]) for row in db.select(person_chunks_sql(index), [size])]
    if len(starts) <= 1:
        return [None]
    return [(first, following - 1) for first, following in zip(starts, starts[1:])] + [(starts[-1], None)]


def run_match(paths: list[str], cdm: str, index: IndexSpec, out: IO[str], *,
              cdm_schema: str | None = None, lookback_days: int = 90,
              concept_map: ConceptMap | None = None, name_lookup: bool = True,
              level: str = "full") -> MatchSummary:
    """Match every result in ``paths``; a bad record is reported on stderr and the others go on.
    ``level``: ``full`` (every rule's verdict for every person), ``verdicts`` (one short line per
    person) or ``counts`` (one line per trial); see :func:`match_trial`.
    ``name_lookup``: diagnoses the concept map does not name are looked up by name in the CDM's
    vocabulary (:class:`ConceptNames`); what each name resolved to is said on stderr."""
    summary = MatchSummary()

    def warn(message: str) -> None:
        print(f"criteria-nlp: warning: {message}", file=sys.stderr)

    with connect(cdm, cdm_schema) as db:
        names = name_lookup_for(db) if name_lookup else None
        for plan in read_plans(paths, lookback_days, concept_map, names):
            if isinstance(plan, OmopError):
                print(f"criteria-nlp: {plan}", file=sys.stderr)
                summary.failed_records += 1
                continue
            summary.persons += match_trial(db, plan, index, out, warn, level)
            summary.trials += 1
        for note in names.notes() if names is not None else []:
            print(f"criteria-nlp: name look-up: {note}", file=sys.stderr)
    return summary


def name_lookup_for(db: Cdm) -> ConceptNames | None:
    """The diagnosis look-up by name for this CDM; None without ``condition_occurrence`` (a
    diagnosis could not be checked anyway)."""
    return ConceptNames(db) if db.has_table("condition_occurrence") else None
