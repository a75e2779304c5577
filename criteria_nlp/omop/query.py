"""The match query: one set-based SQL statement per trial, written once and transpiled per dialect.

The fixed part lives in ``match_core.sql``. In front of it go three CTEs built from the trial plan
-- ``rule_spec``, ``unit_factor`` and ``index_person`` -- whose values are bound parameters (``match``)
or SQL literals (``export --to sql``); no text of a record is ever spliced into the SQL. After it
goes the SELECT that pivots the evaluated rules to one row per person, applies each criterion's
logic in SQL three-valued logic (1 = holds, 0 = does not, NULL = unknown) and gives the person's
``allowed`` value (1 passes, 0 fails, NULL unknown).

Result columns: ``person_id``, ``index_date``, ``allowed``, then per rule key ``k``: ``v_k``
(1/0/NULL, the rule's threshold before negation), ``x_k`` (value in the rule's unit, or the
multiple of ULN/LLN, or the age), ``d_k`` (measurement date), ``r_k`` (reason code or NULL).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conversions import UnitFactor
from .errors import OmopError, require
from .populations import CondSpec
from .results import CriterionPlan, Logic, Threshold, TrialPlan, rule_ids, without_conditions

CORE_SQL = Path(__file__).resolve().parent / "match_core.sql"
SOURCE_DIALECT = "duckdb"
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "tsql")
CDM_TABLES = ("person", "measurement", "concept", "concept_ancestor", "condition_occurrence", "concept_synonym")

RULE_SPEC_COLUMNS = (
    ("rule_key", "INT"), ("kind", "VARCHAR"), ("loinc", "VARCHAR"), ("concept_id", "INT"), ("lo", "DOUBLE"),
    ("lo_strict", "INT"), ("hi", "DOUBLE"), ("hi_strict", "INT"), ("ratio", "VARCHAR"),
    ("unitless_ok", "INT"), ("win_lo", "INT"), ("win_hi", "INT"), ("age_unit", "VARCHAR"),
)
UNIT_FACTOR_COLUMNS = (("rule_key", "INT"), ("ucum", "VARCHAR"), ("factor", "DOUBLE"), ("shift", "DOUBLE"))
COND_SPEC_COLUMNS = (
    ("cond_key", "INT"), ("kind", "VARCHAR"), ("sex", "INT"), ("sex_partial", "INT"), ("age_low", "INT"),
    ("age_high", "INT"), ("vocabulary_id", "VARCHAR"), ("concept_code", "VARCHAR"), ("concept_id", "INT"),
)
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,2}$")


@dataclass(frozen=True)
class IndexSpec:
    """Whose index date: one date for every person in ``person``, or a table
    ``(person_id, index_date)`` naming the persons and their dates."""

    date: dt.date | None = None
    table: str | None = None

    def __post_init__(self) -> None:
        if (self.date is None) == (self.table is None):
            raise OmopError("give exactly one of --index-date and --index-table")
        if self.table is not None and not _IDENT_RE.match(self.table):
            raise OmopError(f"--index-table must be a table name such as schema.table, not {self.table[:60]!r}")


@dataclass
class BuiltQuery:
    """The AST plus the parameter values in placeholder order (empty when rendered as literals)."""

    expression: Any
    params: list[Any] = field(default_factory=list)

    def sql(self, dialect: str, pretty: bool = False) -> str:
        return self.expression.sql(dialect=dialect, pretty=pretty)


class _Values:
    """Makes value nodes: placeholders collecting parameters, or literals."""

    def __init__(self, literals: bool) -> None:
        self.literals = literals
        self.params: list[Any] = []

    def __call__(self, value: Any, sql_type: str):
        exp = require("sqlglot").exp
        if self.literals or value is None:
            node = exp.null() if value is None else exp.convert(value)
        else:
            self.params.append(value)
            node = exp.Placeholder()
        return exp.Cast(this=node, to=exp.DataType.build(sql_type))


def build_query(plan: TrialPlan, factors: list[UnitFactor], index: IndexSpec, *,
                cdm_schema: str | None = None, has_ancestor: bool = True,
                literals: bool = False, pivot: str = "group", has_conditions: bool = True,
                ordered: bool = True, criterion_columns: bool = False,
                persons: tuple[int, int | None] | None = None) -> BuiltQuery:
    """The whole match query for one trial. ``pivot`` chooses how the evaluated rules become one
    row per person: ``"join"`` (one LEFT JOIN per rule; the fastest on DuckDB) or ``"group"``
    (one GROUP BY with conditional aggregates; the better plan on row stores such as PostgreSQL).
    Both give the same rows (in ``person_id`` order unless ``ordered`` is false: a query
    wrapped by another that orders). Without ``has_conditions`` (no ``condition_occurrence`` table) the
    diagnoses of the concept map are not looked up: give a plan from :func:`without_diagnoses`.
    ``criterion_columns`` adds ``c_i``, whether the i-th of :func:`evaluated_criteria` lets the
    person through (1, 0, 0.5 unknown), for the compact outputs (:mod:`.summaries`). ``persons``
    = ``(first, last)`` limits the query to the persons with ``first <= person_id <= last``
    (``last`` None: no upper bound), one chunk of :func:`person_chunks`."""
    sqlglot = require("sqlglot")
    exp = sqlglot.exp
    if cdm_schema is not None and not _IDENT_RE.match(cdm_schema):
        raise OmopError(f"--cdm-schema must be a schema name, not {cdm_schema[:60]!r}")
    values = _Values(literals)
    executable = [t for t in plan.thresholds if t.kind is not None]

    spec_rows = [_spec_row(t) for t in executable] or [_dummy_row(RULE_SPEC_COLUMNS)]
    factor_rows = [(f.rule_key, f.source_unit, f.factor, f.offset) for f in factors] or [
        _dummy_row(UNIT_FACTOR_COLUMNS)]
    cond_rows = [_cond_row(c) for c in data_conditions(plan)] or [_dummy_row(COND_SPEC_COLUMNS)]
    core = sqlglot.parse_one(CORE_SQL.read_text(encoding="utf-8"), read=SOURCE_DIALECT)
    with_ = core.args["with"] if "with" in core.args else core.args["with_"]
    ctes = [
        _values_cte("rule_spec", RULE_SPEC_COLUMNS, spec_rows, values),
        _values_cte("unit_factor", UNIT_FACTOR_COLUMNS, factor_rows, values),
        _values_cte("cond_spec", COND_SPEC_COLUMNS, cond_rows, values),
        exp.CTE(this=_index_select(index, values, persons), alias=exp.TableAlias(this=exp.to_identifier("index_person"))),
    ]
    empty = {}  # CTEs replaced by an empty result: their tables are missing or not needed
    if not has_ancestor:
        empty["rule_descendant"] = "SELECT rule_key, concept_id FROM rule_concept WHERE 1 = 0"
        empty["cond_descendant"] = "SELECT cond_key, concept_id FROM cond_concept WHERE 1 = 0"
    if not has_conditions or not any(c.kind == "diagnosis" for c in plan.conditions):
        empty["diagnosed"] = "SELECT CAST(NULL AS INT) AS person_id, CAST(NULL AS INT) AS cond_key WHERE 1 = 0"
    for cte in with_.expressions:
        if cte.alias in empty:
            cte.set("this", sqlglot.parse_one(empty[cte.alias], read=SOURCE_DIALECT))
    with_.set("expressions", ctes + list(with_.expressions))
    final = sqlglot.parse_one(_final_select(plan, pivot, ordered, criterion_columns), read=SOURCE_DIALECT)
    final.set("with" if "with" in core.args else "with_", with_)
    return BuiltQuery(qualify(final, cdm_schema), values.params)


def person_chunks_sql(index: IndexSpec) -> str:
    """SQL (DuckDB dialect, one parameter: the chunk size N) giving the first ``person_id`` of every
    run of N persons of the index, in order."""
    source = "person" if index.table is None else index.table  # a checked identifier (IndexSpec)
    return ("SELECT person_id FROM (SELECT person_id, ROW_NUMBER() OVER (ORDER BY person_id) AS rn "
            f"FROM {source}) AS numbered WHERE (rn - 1) % ? = 0 ORDER BY person_id")


def pivot_for(dialect: str) -> str:
    """The pivot that runs best on ``dialect`` (see :func:`build_query`)."""
    return "join" if dialect == "duckdb" else "group"


def qualify(expression: Any, schema: str | None) -> Any:
    """Put the CDM tables of ``expression`` in ``schema`` (in place)."""
    if schema:
        exp = require("sqlglot").exp
        for table in expression.find_all(exp.Table):
            if table.name in CDM_TABLES and not table.args.get("db"):
                table.set("db", exp.to_identifier(schema))
    return expression


def without_diagnoses(plan: TrialPlan) -> TrialPlan:
    """The plan with its diagnosis conditions made unresolvable (a CDM without condition_occurrence)."""
    return without_conditions(plan, {c.key for c in plan.conditions if c.kind == "diagnosis"})


def _cond_row(c: CondSpec) -> tuple:
    concept = c.concept
    return (c.key, c.kind, c.sex, int(c.sex_partial), c.age_low, c.age_high,
            concept.vocabulary if concept and concept.concept_id is None else None,
            concept.code if concept and concept.concept_id is None else None,
            concept.concept_id if concept else None)


def _spec_row(t: Threshold) -> tuple:
    b = t.bounds.tolerant()
    return (t.key, t.kind, t.loinc, t.concept_id, b.low, int(b.low_strict), b.high, int(b.high_strict),
            t.relative_to, int(t.unit is None and t.relative_to is None), t.window.start_days,
            t.window.end_days, t.unit if t.kind == "age" else None)


def _dummy_row(columns) -> tuple:
    return tuple(-1 if name == "rule_key" else None for name, _ in columns)


def _values_cte(name: str, columns, rows, values: _Values):
    exp = require("sqlglot").exp
    tuples = [exp.Tuple(expressions=[values(v, typ) for v, (_, typ) in zip(row, columns)]) for row in rows]
    alias = exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier(c) for c, _ in columns])
    body = exp.select(*[exp.column(c, table="t") for c, _ in columns]).from_(
        exp.Values(expressions=tuples, alias=alias))
    return exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _index_select(index: IndexSpec, values: _Values, persons: tuple[int, int | None] | None = None):
    exp = require("sqlglot").exp
    if index.date is not None:
        date = values(index.date.isoformat(), "DATE")
        select = exp.select(exp.column("person_id"), exp.alias_(date, "index_date")).from_("person")
        person_id = exp.column("person_id")
    else:
        table = exp.to_table(index.table)
        select = exp.select(exp.column("person_id", table="ix"),
                            exp.alias_(exp.Cast(this=exp.column("index_date", table="ix"),
                                                to=exp.DataType.build("DATE")), "index_date")
                            ).from_(exp.alias_(table, "ix", table=True))
        person_id = exp.column("person_id", table="ix")
    if persons is not None:  # one chunk of the persons: first <= person_id <= last
        first, last = persons
        where = exp.GTE(this=person_id.copy(), expression=values(first, "BIGINT"))
        if last is not None:
            where = exp.and_(where, exp.LTE(this=person_id.copy(), expression=values(last, "BIGINT")))
        select = select.where(where)
    return select


# ------------------------------------------------------------------------------ logic in SQL
# Kleene's three-valued logic as numbers: 1 holds, 0 does not, 0.5 unknown; AND is LEAST, OR is
# GREATEST, NOT is 1 - x. The generated SQL below contains only rule and condition keys (integers)
# and fixed words: no record text.
UNKNOWN = "0.5"
_PIVOT_COLUMNS = (("v", "verdict"), ("x", "value"), ("d", "measurement_date"), ("r", "reason"))


def _final_select(plan: TrialPlan, pivot: str = "group", ordered: bool = True,
                  criterion_columns: bool = False) -> str:
    if pivot not in ("group", "join"):
        raise ValueError(f"pivot must be 'group' or 'join', not {pivot!r}")
    keys = [t.key for t in plan.thresholds if t.kind is not None]
    conds = [c.key for c in data_conditions(plan)]
    columns = ["ip.person_id", "ip.index_date"]
    memberships = "".join(f" LEFT JOIN membership AS m{j} ON m{j}.person_id = ip.person_id AND m{j}.cond_key = {j}"
                          for j in conds)
    if pivot == "join":  # one hash join per rule: no wide aggregate
        columns += [f"e{k}.{src} AS {col}_{k}" for k in keys for col, src in _PIVOT_COLUMNS]
        columns += [f"m{j}.member AS m_{j}" for j in conds]
        source = "index_person AS ip" + "".join(
            f" LEFT JOIN evaluated AS e{k} ON e{k}.person_id = ip.person_id AND e{k}.rule_key = {k}" for k in keys)
        body = f"SELECT {', '.join(columns)} FROM {source}{memberships}"
    else:
        columns += [f"MAX(CASE WHEN e.rule_key = {k} THEN e.{src} END) AS {col}_{k}"
                    for k in keys for col, src in _PIVOT_COLUMNS]
        columns += [f"MAX(m{j}.member) AS m_{j}" for j in conds]
        body = (f"SELECT {', '.join(columns)} FROM index_person AS ip "
                f"LEFT JOIN evaluated AS e ON e.person_id = ip.person_id{memberships} "
                "GROUP BY ip.person_id, ip.index_date")
    applies = [f"CAST(NULLIF({expr}, {UNKNOWN}) AS INT) AS a_{t.key}"
               for t in plan.thresholds if t.kind is not None and (expr := applicability_sql(t, plan)) is not None]
    allows = [_criterion_allows(c, plan) for c in evaluated_criteria(plan)]
    allowed = f"CAST(NULLIF({_and(allows)}, {UNKNOWN}) AS INT)" if allows else "1"
    if criterion_columns:
        applies += [f"{allows_sql} AS c_{i}" for i, allows_sql in enumerate(allows)]
    return (f"SELECT pv.*, {''.join(a + ', ' for a in applies)}{allowed} AS allowed FROM ({body}) AS pv "
            + ("ORDER BY pv.person_id" if ordered else ""))


def evaluated_criteria(plan: TrialPlan) -> list[CriterionPlan]:
    """Criteria with at least one rule that can be evaluated; the others are not counted."""
    return [c for c in plan.criteria
            if any(plan.threshold(r).kind is not None for r in rule_ids(c.default_logic) + rule_ids(c.population_logic))]


def data_conditions(plan: TrialPlan) -> list[CondSpec]:
    """The conditions resolved from the person's data (sex, age, diagnoses): one ``membership``
    column each. A population stated by a rule is that rule's verdict instead (:func:`_member`)."""
    return [c for c in plan.conditions if c.kind != "rule"]


def _member(key: int | None, plan: TrialPlan, seen: frozenset[str] = frozenset()) -> str:
    """Membership of condition ``key`` (1, 0, 0.5 unknown). A population stated by a rule: the
    rule is met for the person (negation applied) and applies to them; a stating rule that is met
    unknown, or whose own applicability is unknown, leaves membership unknown."""
    spec = plan.condition(key)
    if spec is None:
        return UNKNOWN
    if spec.kind != "rule":
        return f"COALESCE(pv.m_{key}, {UNKNOWN})"
    stating = plan.threshold(spec.rule_id)
    if stating.rule_id in seen:  # a population stated, through others, by a rule of itself
        return UNKNOWN
    met = _rule_value(stating)
    applies = applicability_sql(stating, plan, seen | {stating.rule_id})
    return met if applies is None else _and([applies, met])


def _neutral(section: str) -> str:
    """The value of a rule or criterion that does not apply: it lets the person through."""
    return "1" if section == "inclusion" else "0"


def _agree(a: str, b: str) -> str:
    """a if a = b, else unknown (a person who may be in either case)."""
    if b == "1":
        return f"GREATEST({a}, {UNKNOWN})" if a != "1" else "1"
    if b == "0":
        return f"LEAST({a}, {UNKNOWN})" if a != "0" else "0"
    return f"GREATEST(LEAST({a}, {b}), LEAST({UNKNOWN}, GREATEST({a}, {b})))"


def _select(key: int | None, plan: TrialPlan, member: str, other: str) -> str:
    """``member`` for members of condition ``key``, ``other`` for the others; their agreement
    when membership is unknown (or cannot be resolved: ``key`` None)."""
    agree = _agree(other, member) if member in ("0", "1") else _agree(member, other)
    if key is None:
        return agree
    m = _member(key, plan)
    return f"(CASE WHEN {m} = 1 THEN {member} WHEN {m} = 0 THEN {other} ELSE {agree} END)"


def _criterion_allows(c: CriterionPlan, plan: TrialPlan) -> str:
    """1 when the criterion lets the person through. A member of a population gets the
    population's rules (the first population of the text the person is in), the others the
    default rules (none: the criterion does not concern them)."""
    holds = _logic_sql(c.default_logic, plan) if c.default_logic is not None else _neutral(c.section)
    for group in reversed(c.groups):
        holds = _select(group.key, plan, _logic_sql(group.logic, plan), holds)
    return holds if c.section == "inclusion" else f"(1 - {holds})"


def applicability_sql(t: Threshold, plan: TrialPlan, seen: frozenset[str] = frozenset()) -> str | None:
    """Whether rule ``t`` applies to the person (1, 0, 0.5 unknown); None when it always does.
    A population rule applies to members of its population (and not of an earlier one of the
    criterion); a default rule to persons in none of the criterion's populations; a rule with an
    exception to persons outside the exception."""
    if not t.conditional:
        return None
    parts = []
    criterion = next((c for c in plan.criteria if c.id == t.criterion_id), None)
    groups = criterion.groups if criterion else ()
    if t.states_population and t.population:  # in no criterion's logic: its own population only
        parts.append(_member(t.population_key, plan, seen))
    elif t.population or t.replaced:
        for group in groups:
            mine = t.population and t.rule_id in rule_ids(group.logic)
            member = _member(group.key, plan, seen)
            parts.append(member if mine else f"(1 - {member})")
            if mine:
                break
    if t.exception:
        parts.append(f"(1 - {_member(t.exception_key, plan, seen)})")
    return _and(parts) if parts else None


def _logic_sql(logic: Logic, plan: TrialPlan) -> str:
    if isinstance(logic, str):
        return leaf_sql(plan.threshold(logic), plan)
    parts = [_logic_sql(a, plan) for a in logic.args]
    return _and(parts) if logic.op == "and" else _or(parts)


def leaf_sql(t: Threshold, plan: TrialPlan) -> str:
    """A rule's value in its criterion's logic: negation applied; a rule under an exception the
    person is in lets the person through (an unknown exception: unknown unless the rule already
    lets the person through)."""
    v = _rule_value(t)
    if t.exception:
        v = _select(t.exception_key, plan, _neutral(t.section), v)
    return v


def _rule_value(t: Threshold) -> str:
    """Whether the rule's threshold holds for the person (1, 0, 0.5 unknown), negation applied."""
    if t.kind is None:
        return UNKNOWN
    v = f"COALESCE(pv.v_{t.key}, {UNKNOWN})"
    return f"(1 - {v})" if t.negated else v


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"LEAST({', '.join(parts)})"


def _or(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"GREATEST({', '.join(parts)})"


__all__ = ["DIALECTS", "IndexSpec", "BuiltQuery", "build_query", "evaluated_criteria", "leaf_sql", "data_conditions",
           "applicability_sql", "without_diagnoses", "pivot_for"]
