"""Rows of the match query -> verdict records (one JSON line per trial and person).

The fields are defined in the README ("criteria-nlp match"). :func:`rule_fields` decides what a
rule reports; :class:`VerdictWriter` writes the line. Everything that is the same for every person
(trial, rule ids, variables, rules that cannot be evaluated) is serialised once per trial, and the
per-rule JSON around a value is cached by the few things it depends on (verdict, reason,
applicability, whether there is a value), so that a line costs a handful of string operations per
rule: writing the lines is a Python loop over persons, the only one of ``match``.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .results import Threshold, TrialPlan

SCOPE = "numeric threshold rules only"
PERSON_VERDICTS = {1: "passes", 0: "fails", None: "unknown"}
RULE_VERDICTS = {1: "met", 0: "not_met", None: "unknown"}
NOT_APPLICABLE = "not_applicable"


def rule_fields(t: Threshold, verdict: Any, value: Any, date: Any, reason: str | None, applies: Any = 1
                ) -> tuple[str, str | None, float | None, str | None, str | None]:
    """(verdict, reason, value, unit, measurement_date) of one rule for one person, from the
    rule's query columns ``v_k, x_k, d_k, r_k`` and ``a_k`` (does the rule apply to the person:
    1 yes, 0 no, None unknown; see :func:`criteria_nlp.omop.query.applicability_sql`)."""
    status, reason, has_unit = _status(t, verdict, value is None, reason, applies)
    value = None if value is None else _number(value)
    return status, reason, value, t.unit if has_unit else None, _iso(date)


def _status(t: Threshold, verdict: Any, no_value: bool, reason: str | None, applies: Any
            ) -> tuple[str, str | None, bool]:
    """(verdict, reason, whether the value carries the rule's unit)."""
    if t.kind is None:
        return RULE_VERDICTS[None], t.not_executable, False
    has_unit = not (t.relative_to or no_value)
    if applies is not None and int(applies) == 0:
        return NOT_APPLICABLE, t.not_applicable_reason, has_unit
    verdict = None if verdict is None else int(verdict)
    if verdict is not None and t.negated:
        verdict = 1 - verdict
    if reason is None and verdict is None and t.kind == "measurement" and no_value:
        reason = "no_measurement_in_window"
    if reason is None and applies is None:
        reason = t.unresolved_reason
    return RULE_VERDICTS[verdict], reason, has_unit


def _number(value: Any) -> float | None:
    """The value rounded to 10 significant digits (a converted 11.500000000000002 is 11.5); None
    when it is not finite."""
    x = float(f"{value:.10g}")
    return x if x == x and x not in (float("inf"), float("-inf")) else None


class VerdictWriter:
    """Turns query rows (tuples, columns named by ``columns``) of one trial into JSON lines."""

    def __init__(self, plan: TrialPlan, columns: list[str]) -> None:
        self.plan = plan
        index = {name: i for i, name in enumerate(columns)}
        self.person, self.index_date, self.allowed = index["person_id"], index["index_date"], index["allowed"]
        self.head = '{"trial": ' + json.dumps(plan.trial, ensure_ascii=False) + ', "person_id": '
        self.scope = ', "scope": ' + json.dumps(SCOPE)
        self.static: list[str | None] = []  # the whole rule object, when it is the same for everyone
        self.slots: list[tuple[Threshold, str, int, int, int, int, int | None, dict]] = []
        for t in plan.thresholds:
            static = {"rule": t.rule_id, "criterion": t.criterion_id, "section": t.section,
                      "variable": {"name": t.variable_name, "code": t.loinc, "concept_id": t.concept_id}}
            prefix = json.dumps(static, ensure_ascii=False)[:-1] + ", "
            if t.kind is None:  # unknown for everyone, with the reason in words
                self.static.append(prefix + _dynamic(*rule_fields(t, None, None, None, None))[:-1]
                                   + f", \"detail\": {_json(t.detail)}}}")
            else:
                k = t.key
                self.static.append(None)
                self.slots.append((t, prefix, index[f"v_{k}"], index[f"x_{k}"], index[f"d_{k}"], index[f"r_{k}"],
                                   index.get(f"a_{k}"), {}))
        self._dates: dict[Any, str] = {None: "null"}

    def line(self, row: tuple) -> str:
        allowed = row[self.allowed]
        parts = [self.head, str(int(row[self.person])), ', "index_date": ', self._date(row[self.index_date]),
                 ', "verdict": "', PERSON_VERDICTS[None if allowed is None else int(allowed)], '"',
                 self.scope, ', "rules": [']
        append = parts.append
        slots = iter(self.slots)
        dates = self._dates
        sep = ""
        for static in self.static:
            if static is not None:
                append(sep + static)
                sep = ", "
                continue
            t, prefix, vi, xi, di, ri, ai, cache = next(slots)
            x = row[xi]
            key = (row[vi], x is None, row[ri], 1 if ai is None else row[ai])
            around = cache.get(key)
            if around is None:
                around = cache[key] = _around(t, sep + prefix, *key)
            date = dates.get(row[di])
            if date is None:
                date = self._date(row[di])
            if x is None:
                append(f"{around[0]}null{around[1]}{date}}}")
            else:
                value = f"{x:.10g}"  # shortest text of 10 significant digits: 80, 0.7272727273, 1e-05
                append(f"{around[0]}{value if value[-1].isdigit() else 'null'}{around[1]}{date}}}")
            sep = ", "
        append("]}\n")
        return "".join(parts)

    def _date(self, value: Any) -> str:
        try:
            return self._dates[value]
        except KeyError:
            out = self._dates[value] = _json(_iso(value))
            return out
        except TypeError:  # unhashable: never from the drivers, but be safe
            return _json(_iso(value))


def _around(t: Threshold, prefix: str, verdict: Any, no_value: bool, reason: Any, applies: Any) -> tuple[str, str]:
    """The JSON of a rule before its value and between its value and its date."""
    status, reason, has_unit = _status(t, verdict, no_value, reason, applies)
    return (f'{prefix}"verdict": "{status}", "reason": {_json(reason)}, "value": ',
            f', "unit": {_json(t.unit if has_unit else None)}, "measurement_date": ')


def _dynamic(verdict: str, reason: str | None, value: float | None, unit: str | None, date: str | None) -> str:
    return (f'"verdict": "{verdict}", "reason": {_json(reason)}, "value": '
            f'{"null" if value is None else repr(value)}, "unit": {_json(unit)}, '
            f'"measurement_date": {_json(date)}}}')


def _json(s: str | None) -> str:
    return "null" if s is None else json.dumps(s, ensure_ascii=False)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]
