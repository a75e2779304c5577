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

from .errors import OmopError
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
            prefix = _prefix(t)
            if t.kind is None:  # unknown for everyone, with the reason in words
                self.static.append(_static_rule(t))
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

    def lines(self, batch: list[tuple]) -> str:
        """The lines of a batch of rows."""
        return "".join(map(self.line, batch))

    def _date(self, value: Any) -> str:
        try:
            return self._dates[value]
        except KeyError:
            out = self._dates[value] = _json(_iso(value))
            return out
        except TypeError:  # unhashable: never from the drivers, but be safe
            return _json(_iso(value))


def _prefix(t: Threshold) -> str:
    """The JSON of a rule's fixed fields, open for the rest."""
    static = {"rule": t.rule_id, "criterion": t.criterion_id, "section": t.section,
              "variable": {"name": t.variable_name, "code": t.loinc, "concept_id": t.concept_id}}
    return json.dumps(static, ensure_ascii=False)[:-1] + ", "


def _static_rule(t: Threshold) -> str:
    """The whole JSON of a rule no one can be evaluated on (with ``detail``)."""
    return _prefix(t) + _dynamic(*rule_fields(t, None, None, None, None))[:-1] + f", \"detail\": {_json(t.detail)}}}"


class SqlRulesWriter:
    """The same lines as :class:`VerdictWriter`, with the ``rules`` array written by the database
    (DuckDB) instead of Python: :meth:`wrap` puts a SELECT around the match query that turns each
    person's rule columns into the JSON text of their rules (one ``concat`` per rule, one
    ``concat_ws`` per person, record text only as bound parameters), and :meth:`line` adds the
    person's fields. The two writers give byte-identical lines (tested: PostgreSQL uses the
    Python writer, DuckDB this one)."""

    def __init__(self, plan: TrialPlan) -> None:
        self.plan = plan
        self.head = '{"trial": ' + json.dumps(plan.trial, ensure_ascii=False) + ', "person_id": '
        self.tail = '"' + ', "scope": ' + json.dumps(SCOPE) + ', "rules": ['
        self._dates: dict[Any, str] = {None: "null"}
        self._last = None  # the last person_id written (order check)

    def wrap(self, sql: str, params: list[Any], applicability: set[int]) -> tuple[str, list[Any]]:
        """(SQL, parameters) giving ``person_id, index_date, allowed`` and the JSON text of each run
        of consecutive evaluable rules; ``applicability`` = the rule keys that have an ``a_k``
        column. The rules no one can be evaluated on are the same for everyone: :meth:`line`
        puts them between the runs.

        ``sql`` must give its rows in ``person_id`` order (``build_query(ordered=True)``): the
        JSON is written by a projection over those ordered rows, which keeps their order
        (DuckDB's ``preserve_insertion_order``), so the sort moves narrow numeric rows rather
        than 10 KB of text per person -- about a second less per 100,000 persons.
        :meth:`lines` checks the order as it writes."""
        runs: list[list[str]] = []
        self.pieces: list[str | int] = []  # static JSON text, or the column of a run
        mine: list[Any] = []  # parameters, in the order of their placeholders
        previous = None
        for t in self.plan.thresholds:
            if t.kind is None:
                self.pieces.append(("" if previous is None else ", ") + _static_rule(t))
                previous = "static"
                continue
            if previous != "run":
                if previous is not None:
                    self.pieces.append(", ")
                runs.append([])
                self.pieces.append(3 + len(runs) - 1)
            previous = "run"
            runs[-1].append(self._rule_sql(t, t.key in applicability, mine))
        columns = "".join(f", concat_ws(', ', {', '.join(run)}) AS run_{i}" for i, run in enumerate(runs))
        self._last = None
        return (f"SELECT q.person_id, q.index_date, q.allowed{columns} FROM ({sql}) AS q", mine + list(params))

    @staticmethod
    def _rule_sql(t: Threshold, has_applicability: bool, params: list[Any]) -> str:
        """The JSON text of one evaluable rule, as SQL (mirrors :func:`_status`)."""
        k = t.key
        a = f"q.a_{k}" if has_applicability else None
        v, x, d, r = f"q.v_{k}", f"q.x_{k}", f"q.d_{k}", f"q.r_{k}"
        params.append(_prefix(t) + '"verdict": "')
        verdict = f"CASE WHEN {v} IS NULL THEN 'unknown' WHEN {v} = {0 if t.negated else 1} THEN 'met' ELSE 'not_met' END"
        reason = []
        if a is not None:
            verdict = f"CASE WHEN {a} = 0 THEN 'not_applicable' ELSE {verdict} END"
            reason.append(f"WHEN {a} = 0 THEN CAST(? AS VARCHAR)")
            params.append(_json(t.not_applicable_reason))
        reason.append(f"WHEN {r} IS NOT NULL THEN concat('\"', {r}, '\"')")
        if t.kind == "measurement":
            reason.append(f"WHEN {v} IS NULL AND {x} IS NULL THEN '\"no_measurement_in_window\"'")
        if a is not None:
            reason.append(f"WHEN {a} IS NULL THEN CAST(? AS VARCHAR)")
            params.append(_json(t.unresolved_reason))
        value = (f"CASE WHEN {x} IS NULL OR NOT isfinite(CAST({x} AS DOUBLE)) THEN 'null' "
                 f"ELSE printf('%.10g', CAST({x} AS DOUBLE)) END")
        unit = "'null'"
        if not t.relative_to:
            unit = f"CASE WHEN {x} IS NULL THEN 'null' ELSE CAST(? AS VARCHAR) END"
            params.append(_json(t.unit))
        date = f"CASE WHEN {d} IS NULL THEN 'null' ELSE concat('\"', strftime({d}, '%Y-%m-%d'), '\"') END"
        return (f"concat(CAST(? AS VARCHAR), {verdict}, '\", \"reason\": ', CASE {' '.join(reason)} ELSE 'null' END, "
                f"', \"value\": ', {value}, ', \"unit\": ', {unit}, ', \"measurement_date\": ', {date}, '}}')")

    def line(self, row: tuple) -> str:
        index_date, allowed = row[1], row[2]
        date = self._dates.get(index_date)
        if date is None:
            date = self._dates[index_date] = _json(_iso(index_date))
        return "".join([self.head, str(int(row[0])), ', "index_date": ', date, ', "verdict": "',
                        PERSON_VERDICTS[None if allowed is None else int(allowed)], self.tail,
                        *[row[p] if isinstance(p, int) else p for p in self.pieces], "]}\n"])

    def lines(self, batch: list[tuple]) -> str:
        """The lines of a batch of rows, as :meth:`line` writes them, built in one list and joined
        once (a line is about 10 KB for a trial of 40 rules: one copy of the text, not two, and
        the pieces' kinds are known in advance)."""
        parts: list[str] = []
        extend, append = parts.extend, parts.append
        head, tail, dates = self.head, self.tail, self._dates
        template = [(p, True) if isinstance(p, int) else (p, False) for p in self.pieces]
        if batch:
            ids = [row[0] for row in batch]
            if (self._last is not None and ids[0] < self._last) or any(a > b for a, b in zip(ids, ids[1:])):
                raise OmopError("the database returned the verdicts out of person_id order (please report this)")
            self._last = ids[-1]
        for row in batch:
            index_date, allowed = row[1], row[2]
            date = dates.get(index_date)
            if date is None:
                date = dates[index_date] = _json(_iso(index_date))
            extend((head, str(int(row[0])), ', "index_date": ', date, ', "verdict": "',
                    PERSON_VERDICTS[None if allowed is None else int(allowed)], tail))
            for piece, is_column in template:
                append(row[piece] if is_column else piece)
            append("]}\n")
        return "".join(parts)


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
