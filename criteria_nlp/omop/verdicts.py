"""Rows of the match query -> verdict records (one per trial and person).

Pure functions: the record's fields are defined in the README ("criteria-nlp match").
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from .results import Threshold, TrialPlan

SCOPE = "numeric threshold rules only"
PERSON_VERDICTS = {1: "passes", 0: "fails", None: "unknown"}
RULE_VERDICTS = {1: "met", 0: "not_met", None: "unknown"}


def person_record(plan: TrialPlan, row: dict[str, Any]) -> dict[str, Any]:
    allowed = row.get("allowed")
    return {
        "trial": plan.trial,
        "person_id": int(row["person_id"]),
        "index_date": _iso(row.get("index_date")),
        "verdict": PERSON_VERDICTS[None if allowed is None else int(allowed)],
        "scope": SCOPE,
        "rules": [rule_record(t, row) for t in plan.thresholds],
    }


def rule_record(t: Threshold, row: dict[str, Any]) -> dict[str, Any]:
    if t.kind is None:
        verdict, value, date, reason = None, None, None, t.not_executable
    else:
        k = t.key
        verdict = row.get(f"v_{k}")
        verdict = None if verdict is None else int(verdict)
        if verdict is not None and t.negated:
            verdict = 1 - verdict
        value, date, reason = row.get(f"x_{k}"), row.get(f"d_{k}"), row.get(f"r_{k}")
        if reason is None and verdict is None and t.kind == "measurement" and value is None:
            reason = "no_measurement_in_window"
        if reason is None and t.population:
            reason = "population_not_checked"
        elif reason is None and t.exception:
            reason = "exception_not_checked"
    return {
        "rule": t.rule_id,
        "criterion": t.criterion_id,
        "section": t.section,
        "variable": {"name": t.variable_name, "code": t.loinc},
        "verdict": RULE_VERDICTS[verdict],
        "reason": reason,
        "value": None if value is None else float(f"{float(value):.10g}"),
        "unit": None if t.relative_to or value is None else t.unit,
        "measurement_date": _iso(date),
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]
