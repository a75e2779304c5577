"""Rows of the match query -> verdict lines (one JSON line per trial and person).

The fields are defined in the README ("criteria-nlp match"). :func:`rule_fields` decides what a
rule reports; :class:`VerdictWriter` writes the line, with the parts that are the same for every
person (trial, rule ids, variables, rules that cannot be evaluated) serialised once per trial.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .results import Threshold, TrialPlan

SCOPE = "numeric threshold rules only"
PERSON_VERDICTS = {1: "passes", 0: "fails", None: "unknown"}
RULE_VERDICTS = {1: "met", 0: "not_met", None: "unknown"}


def rule_fields(t: Threshold, verdict: Any, value: Any, date: Any, reason: str | None
                ) -> tuple[str, str | None, float | None, str | None, str | None]:
    """(verdict, reason, value, unit, measurement_date) of one rule for one person, from the
    rule's query columns ``v_k, x_k, d_k, r_k``."""
    if t.kind is None:
        return RULE_VERDICTS[None], t.not_executable, None, None, None
    verdict = None if verdict is None else int(verdict)
    if verdict is not None and t.negated:
        verdict = 1 - verdict
    if reason is None and verdict is None and t.kind == "measurement" and value is None:
        reason = "no_measurement_in_window"
    if reason is None and t.population:
        reason = "population_not_checked"
    elif reason is None and t.exception:
        reason = "exception_not_checked"
    value = None if value is None else float(f"{float(value):.10g}")
    unit = None if t.relative_to or value is None else t.unit
    return RULE_VERDICTS[verdict], reason, value, unit, _iso(date)


class VerdictWriter:
    """Turns query rows (tuples, columns named by ``columns``) of one trial into JSON lines."""

    def __init__(self, plan: TrialPlan, columns: list[str]) -> None:
        self.plan = plan
        index = {name: i for i, name in enumerate(columns)}
        self.person, self.index_date, self.allowed = index["person_id"], index["index_date"], index["allowed"]
        self.head = '{"trial": ' + json.dumps(plan.trial, ensure_ascii=False) + ', "person_id": '
        self.scope = ', "scope": ' + json.dumps(SCOPE)
        self.rules: list[tuple[Threshold, str, tuple[int, int, int, int] | None]] = []
        for t in plan.thresholds:
            static = {"rule": t.rule_id, "criterion": t.criterion_id, "section": t.section,
                      "variable": {"name": t.variable_name, "code": t.loinc}}
            prefix = json.dumps(static, ensure_ascii=False)[:-1] + ", "
            if t.kind is None:  # the same for every person: serialised once
                self.rules.append((t, prefix + _dynamic(*rule_fields(t, None, None, None, None)), None))
            else:
                k = t.key
                self.rules.append((t, prefix, (index[f"v_{k}"], index[f"x_{k}"], index[f"d_{k}"], index[f"r_{k}"])))

    def line(self, row: tuple) -> str:
        allowed = row[self.allowed]
        parts = [self.head, str(int(row[self.person])), ', "index_date": ', _json(_iso(row[self.index_date])),
                 ', "verdict": "', PERSON_VERDICTS[None if allowed is None else int(allowed)], '"',
                 self.scope, ', "rules": [']
        for i, (t, prefix, cols) in enumerate(self.rules):
            if i:
                parts.append(", ")
            if cols is None:
                parts.append(prefix)
            else:
                parts += [prefix, _dynamic(*rule_fields(t, row[cols[0]], row[cols[1]], row[cols[2]], row[cols[3]]))]
        parts.append("]}\n")
        return "".join(parts)


def _dynamic(verdict: str, reason: str | None, value: float | None, unit: str | None, date: str | None) -> str:
    return (f'"verdict": "{verdict}", "reason": {_json(reason)}, "value": '
            f'{"null" if value is None else repr(value)}, "unit": {_json(unit)}, '
            f'"measurement_date": {_json(date)}}}')


_JSON_CACHE: dict[str, str] = {}


def _json(s: str | None) -> str:
    if s is None:
        return "null"
    try:
        return _JSON_CACHE[s]
    except KeyError:
        if len(_JSON_CACHE) > 100_000:
            _JSON_CACHE.clear()
        out = _JSON_CACHE[s] = json.dumps(s, ensure_ascii=False)
        return out


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]
