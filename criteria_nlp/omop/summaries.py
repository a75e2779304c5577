"""The compact outputs of ``match``, computed in the database: ``verdicts`` (one short line per
trial and person) and ``counts`` (one line per trial).

Both put a SELECT around the match query (:func:`criteria_nlp.omop.query.build_query` with
``criterion_columns``): ``verdicts`` turns each person's rule and criterion columns into two lists
of rule ids (``concat_ws`` of ``CASE`` expressions, the ids bound as parameters), ``counts``
aggregates every person into one row (``SUM(CASE ...)`` per verdict, criterion and rule). The
wrapper is written in the DuckDB dialect and transpiled with the query, so it runs on every
database ``match`` reads. What each field means is in the README ("Output levels").
"""
from __future__ import annotations

import json
from typing import Any

from .errors import require
from .query import SOURCE_DIALECT, UNKNOWN, BuiltQuery, evaluated_criteria
from .results import Threshold, TrialPlan
from .verdicts import PERSON_VERDICTS, SCOPE, _iso, _json

LEVELS = ("full", "verdicts", "counts")
#: PostgreSQL calls take at most 100 arguments: longer lists are nested.
CONCAT_ARGS = 90


def wrapped(built: BuiltQuery, select: str, params: list[Any], tail: str = "") -> BuiltQuery:
    """``SELECT <select> FROM (<built>) AS q <tail>`` as one query: ``params`` are those of the
    placeholders of ``select``, which come before the query's own."""
    sqlglot = require("sqlglot")
    outer = sqlglot.parse_one(f"SELECT {select} FROM (SELECT 1) AS q {tail}", read=SOURCE_DIALECT)
    outer.find(sqlglot.exp.Subquery).set("this", built.expression)
    return BuiltQuery(outer, list(params) + list(built.params))


def criterion_index(plan: TrialPlan) -> dict[str, int]:
    """criterion id -> the ``i`` of its ``c_i`` column (criteria that are evaluated only)."""
    return {c.id: i for i, c in enumerate(evaluated_criteria(plan))}


def _applies(t: Threshold) -> str:
    """SQL: the rule applies to the person, or the data cannot tell (``a_k`` unknown)."""
    return f"COALESCE(q.a_{t.key}, 1) = 1" if t.conditional else "1 = 1"


def _holds(t: Threshold, holds: bool) -> str:
    """SQL: the rule's threshold holds (``holds``) or not, negation applied; false when unknown."""
    return f"q.v_{t.key} = {int(holds != t.negated)}"


def _against(t: Threshold) -> str:
    """SQL: the rule's own verdict goes against the person (an inclusion rule not met, an
    exclusion rule met)."""
    return f"{_applies(t)} AND {_holds(t, t.section == 'exclusion')}"


def _open(t: Threshold) -> str:
    """SQL: the rule leaves the person open (no verdict, or applicability unknown)."""
    if t.kind is None:
        return "1 = 1"
    unknown = f"q.v_{t.key} IS NULL" + (f" OR q.a_{t.key} IS NULL" if t.conditional else "")
    return f"{_applies(t)} AND ({unknown})"


def _id_list(cases: list[str]) -> str:
    """SQL: the non-NULL ``cases`` joined by spaces (nested: PostgreSQL's 100-argument limit)."""
    if not cases:
        return "''"
    if len(cases) <= CONCAT_ARGS:
        return f"concat_ws(' ', {', '.join(cases)})"
    return _id_list([_id_list(cases[i:i + CONCAT_ARGS]) for i in range(0, len(cases), CONCAT_ARGS)])


class PersonVerdictWriter:
    """``--level verdicts``: one line per person, ``{"trial", "person_id", "index_date",
    "verdict", "deciding": [rule ids], "unknown": [rule ids]}``."""

    def __init__(self, plan: TrialPlan) -> None:
        self.plan = plan
        self.head = '{"trial": ' + json.dumps(plan.trial, ensure_ascii=False) + ', "person_id": '
        self._dates: dict[Any, str] = {None: "null"}
        self._lists: dict[str, str] = {"": "[]"}

    def query(self, built: BuiltQuery) -> BuiltQuery:
        """The person's verdict and two lists of rule ids, in ``person_id`` order. ``deciding``:
        the rules whose own verdict goes against the person, in the criteria that exclude the
        person; ``unknown``: the rules without a verdict (or whose applicability is unknown) in the
        criteria whose verdict is unknown."""
        index = criterion_index(self.plan)
        deciding, unknown, params_deciding, params_unknown = [], [], [], []
        for t in self.plan.thresholds:
            i = index.get(t.criterion_id)
            if i is None or t.states_population:
                continue  # a criterion none of whose rules can be evaluated is not counted; a rule
                # stating a population is no requirement (the rules it conditions are listed)
            if t.kind is not None:
                deciding.append(f"CASE WHEN q.c_{i} = 0 AND {_against(t)} THEN CAST(? AS VARCHAR) END")
                params_deciding.append(t.rule_id)
            unknown.append(f"CASE WHEN q.c_{i} = {UNKNOWN} AND {_open(t)} THEN CAST(? AS VARCHAR) END")
            params_unknown.append(t.rule_id)
        select = (f"q.person_id, q.index_date, q.allowed, {_id_list(deciding)} AS deciding, "
                  f"{_id_list(unknown)} AS unknown")
        return wrapped(built, select, params_deciding + params_unknown, "ORDER BY q.person_id")

    def lines(self, batch: list[tuple]) -> str:
        parts: list[str] = []
        append = parts.append
        for person_id, index_date, allowed, deciding, unknown in batch:
            date = self._dates.get(index_date)
            if date is None:
                date = self._dates[index_date] = _json(_iso(index_date))
            append(f'{self.head}{int(person_id)}, "index_date": {date}, "verdict": '
                   f'"{PERSON_VERDICTS[None if allowed is None else int(allowed)]}", '
                   f'"deciding": {self._list(deciding)}, "unknown": {self._list(unknown)}}}\n')
        return "".join(parts)

    def _list(self, ids: str | None) -> str:
        ids = ids or ""
        out = self._lists.get(ids)
        if out is None:
            out = self._lists[ids] = json.dumps(ids.split(), ensure_ascii=False)
        return out


class CountsWriter:
    """``--level counts``: one line per trial with the number of persons, of each person verdict,
    of each criterion's verdicts and of each rule's verdicts (the same verdicts as the full
    output's, aggregated by the database)."""

    def __init__(self, plan: TrialPlan, index_date: str | None, index_table: str | None) -> None:
        self.plan = plan
        self.index = {"index_date": index_date} if index_table is None else {"index_table": index_table}
        self.criteria = evaluated_criteria(plan)
        self.rules = [t for t in plan.thresholds if t.kind is not None]

    def query(self, built: BuiltQuery) -> BuiltQuery:
        def count(condition: str, name: str) -> str:
            return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {name}"

        columns = ["COUNT(*) AS persons", count("q.allowed = 1", "passes"), count("q.allowed = 0", "fails")]
        for i, _ in enumerate(self.criteria):
            columns += [count(f"q.c_{i} = 1", f"allows_{i}"), count(f"q.c_{i} = 0", f"excludes_{i}")]
        for t in self.rules:
            applies = f"COALESCE(q.a_{t.key}, 1) <> 0" if t.conditional else "1 = 1"
            columns += [count(f"{applies} AND {_holds(t, True)}", f"met_{t.key}"),
                        count(f"{applies} AND {_holds(t, False)}", f"not_met_{t.key}")]
            if t.conditional:
                columns.append(count(f"q.a_{t.key} = 0", f"not_applicable_{t.key}"))
        return wrapped(built, ", ".join(columns), [])

    def record(self, columns: list[str], row: tuple) -> dict[str, Any]:
        """The trial's counts from the query's one row."""
        value = {name: int(v or 0) for name, v in zip(columns, row)}
        persons = value["persons"]
        rules = []
        for t in self.plan.thresholds:
            counts = {"met": 0, "not_met": 0, "not_applicable": 0}
            if t.kind is not None:
                counts = {verdict: value.get(f"{verdict}_{t.key}", 0) for verdict in counts}
            rules.append({"rule": t.rule_id, "criterion": t.criterion_id, "section": t.section,
                          "variable": t.variable_name, **counts,
                          "unknown": persons - sum(counts.values()),
                          "reason": None if t.kind is not None else t.not_executable})
        criteria = [{"criterion": c.id, "section": c.section, "allows": value[f"allows_{i}"],
                     "excludes": value[f"excludes_{i}"],
                     "unknown": persons - value[f"allows_{i}"] - value[f"excludes_{i}"]}
                    for i, c in enumerate(self.criteria)]
        return {"trial": self.plan.trial, **self.index, "scope": SCOPE, "persons": persons,
                "verdicts": {"passes": value["passes"], "fails": value["fails"],
                             "unknown": persons - value["passes"] - value["fails"]},
                "criteria": criteria, "rules": rules}

    def line(self, columns: list[str], row: tuple) -> str:
        return json.dumps(self.record(columns, row), ensure_ascii=False) + "\n"
