"""The ``match`` runner: for each trial, one query against the CDM, one verdict line per person."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO

from .conversions import unit_factors
from .database import Cdm, concepts_by_code, connect, measured_units
from .errors import OmopError
from .query import IndexSpec, build_query, pivot_for
from .results import TrialPlan, read_plans
from .verdicts import VerdictWriter


@dataclass
class MatchSummary:
    trials: int = 0
    persons: int = 0
    failed_records: int = 0


def match_trial(db: Cdm, plan: TrialPlan, index: IndexSpec, out: IO[str], warn=None) -> int:
    """Write the verdict lines of one trial; returns the number of persons."""
    has_ancestor = db.has_table("concept_ancestor")
    loincs = sorted({t.loinc for t in plan.thresholds if t.kind == "measurement" and t.loinc})
    if warn is not None and loincs:
        known = concepts_by_code(db, "LOINC", loincs)
        for code in loincs:
            if code not in known:
                warn(f"{plan.trial}: LOINC {code} is not in the CDM's concept table; its rules are unknown")
    factors = unit_factors(plan.thresholds, measured_units(db, loincs, has_ancestor))
    built = build_query(plan, factors, index, cdm_schema=db.schema, has_ancestor=has_ancestor,
                        pivot=pivot_for(db.dialect))
    columns, rows = db.execute(built)
    writer = VerdictWriter(plan, columns)
    n = 0
    for batch in rows:
        out.write("".join(map(writer.line, batch)))
        n += len(batch)
    out.flush()
    return n


def run_match(paths: list[str], cdm: str, index: IndexSpec, out: IO[str], *,
              cdm_schema: str | None = None, lookback_days: int = 90) -> MatchSummary:
    """Match every result in ``paths``; a bad record is reported on stderr and the others go on."""
    summary = MatchSummary()

    def warn(message: str) -> None:
        print(f"criteria-nlp: warning: {message}", file=sys.stderr)

    with connect(cdm, cdm_schema) as db:
        for plan in read_plans(paths, lookback_days):
            if isinstance(plan, OmopError):
                print(f"criteria-nlp: {plan}", file=sys.stderr)
                summary.failed_records += 1
                continue
            summary.persons += match_trial(db, plan, index, out, warn)
            summary.trials += 1
    return summary
