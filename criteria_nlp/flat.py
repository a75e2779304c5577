"""Flat rule tables: one row per rule, typed columns, ONE schema for every table output.

:data:`COLUMNS` is the only definition of the table. Everything else is generated from it:

* :func:`arrow_schema` -- the pyarrow schema (``extract --format parquet|csv``, Spark's rules
  DataFrame, :func:`to_frame`);
* :func:`spark_ddl` -- the same schema as a Spark DDL string;
* :func:`postgres_ddl` -- the ``criteria_nlp_rule`` table of ``--write-db``;
* :func:`to_frame` -- a pandas DataFrame (nullable dtypes) from extraction results.

:func:`rule_rows` turns one result dict (the JSON output contract) into rows; an error record
has no rules and gives no row. ``window_*`` repeats the rule's first temporal condition (its
own or an inherited one) so the usual "within N days before X" query needs no unnesting;
``conditions`` keeps them all as a list of structs (a JSON string in CSV).

pyarrow and pandas are optional (``pip install 'criteria-nlp[table]'``) and imported only by the
functions that need them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

TABLE_EXTRA_HINT = "pip install 'criteria-nlp[table]'"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "string" | "int64" | "float64" | "bool" | "conditions"
    doc: str


# The fields of one element of ``conditions`` (the same in Arrow, Spark and PostgreSQL jsonb).
CONDITION_FIELDS: tuple[Column, ...] = (
    Column("kind", "string", "temporal, population, exception or qualifier"),
    Column("text", "string", "the condition as written"),
    Column("start", "int64", "offset of the condition in the input"),
    Column("end", "int64", "end offset of the condition in the input"),
    Column("relation", "string", "temporal: before, after, within, duration or at"),
    Column("comparator", "string", "temporal: comparator of the time value, if any"),
    Column("value", "float64", "temporal: the time value"),
    Column("value_high", "float64", "temporal: upper bound of a time range"),
    Column("unit", "string", "temporal: UCUM unit of the time value"),
    Column("anchor", "string", "temporal: the event the window is relative to"),
    Column("description", "string", "population / exception / qualifier: what it says"),
    Column("inherited_from", "string", "the ancestor criterion the condition comes from"),
    Column("extra", "string", "any other field of the condition, as a JSON object (null if none)"),
)

COLUMNS: tuple[Column, ...] = (
    Column("source_id", "string", "the document id (NCT id, file stem)"),
    Column("criterion_id", "string", "hierarchical criterion id (`inc-8.1`)"),
    Column("criterion_parent", "string", "the parent criterion's id"),
    Column("section", "string", "inclusion, exclusion or null"),
    Column("rule_id", "string", "rule id, unique within the document (`inc-8.1.r1`)"),
    Column("rule_text", "string", "the rule as written (`input[rule_start:rule_end]`)"),
    Column("rule_start", "int64", "offset of the rule in the input"),
    Column("rule_end", "int64", "end offset of the rule in the input"),
    Column("variable_name", "string", "normalised variable name (`hemoglobin`)"),
    Column("variable_text", "string", "the variable as written"),
    Column("variable_start", "int64", "offset of the variable in the input"),
    Column("variable_end", "int64", "end offset of the variable in the input"),
    Column("category", "string", "variable category (lab, vital, demographic, score, ...)"),
    Column("code_system", "string", "code system URI (`http://loinc.org`)"),
    Column("code", "string", "the variable's code in that system (`718-7`)"),
    Column("code_display", "string", "the code's display name"),
    Column("comparator", "string", ">, >=, <, <=, = or between"),
    Column("value", "float64", "the threshold (the low bound of `between`)"),
    Column("value_high", "float64", "the high bound of `between`"),
    Column("inclusive_low", "bool", "between: the low bound is included (null otherwise)"),
    Column("inclusive_high", "bool", "between: the high bound is included (null otherwise)"),
    Column("unit", "string", "UCUM unit"),
    Column("unit_text", "string", "the unit as written"),
    Column("unit_inferred", "bool", "the unit was not written but implied by the value's size"),
    Column("relative_to", "string", "ULN or LLN for multiples of a reference limit"),
    Column("normalized_value", "float64", "the value in the variable's canonical unit"),
    Column("normalized_value_high", "float64", "value_high in the canonical unit"),
    Column("normalized_unit", "string", "the canonical UCUM unit"),
    Column("negated", "bool", "the text asserts the threshold state is absent or forbidden"),
    Column("hypothetical", "bool", "ConText: hypothetical"),
    Column("confidence", "float64", "the learned filter's probability (null with rules only)"),
    Column("window_relation", "string", "first temporal condition: relation"),
    Column("window_value", "float64", "first temporal condition: value"),
    Column("window_unit", "string", "first temporal condition: UCUM unit"),
    Column("window_anchor", "string", "first temporal condition: anchor"),
    Column("conditions", "conditions", "every condition of the rule (list of structs; JSON in CSV)"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
_CONDITION_KEYS = frozenset(c.name for c in CONDITION_FIELDS if c.name != "extra")


# --------------------------------------------------------------------------- rows


def _float(v: Any) -> float | None:
    return None if v is None or isinstance(v, bool) else float(v)


def _int(v: Any) -> int | None:
    return None if v is None or isinstance(v, bool) else int(v)


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def condition_row(cond: Mapping[str, Any]) -> dict[str, Any]:
    """One element of ``conditions``: the known fields typed, any other field in ``extra``."""
    extra = {k: v for k, v in cond.items() if k not in _CONDITION_KEYS}
    return {
        "kind": _str(cond.get("kind")), "text": _str(cond.get("text")),
        "start": _int(cond.get("start")), "end": _int(cond.get("end")),
        "relation": _str(cond.get("relation")), "comparator": _str(cond.get("comparator")),
        "value": _float(cond.get("value")), "value_high": _float(cond.get("value_high")),
        "unit": _str(cond.get("unit")), "anchor": _str(cond.get("anchor")),
        "description": _str(cond.get("description")), "inherited_from": _str(cond.get("inherited_from")),
        "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None,
    }


def _window(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    for c in conditions:
        if c.get("kind") == "temporal":
            return {"window_relation": _str(c.get("relation")), "window_value": _float(c.get("value")),
                    "window_unit": _str(c.get("unit")), "window_anchor": _str(c.get("anchor"))}
    return {"window_relation": None, "window_value": None, "window_unit": None, "window_anchor": None}


def rule_row(source_id: str | None, criterion: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    """The row of one rule (keys in :data:`COLUMN_NAMES` order)."""
    var = rule.get("variable") or {}
    code = var.get("code") or {}
    incl = rule.get("inclusive") or {}
    norm = rule.get("normalized") or {}
    conditions = list(rule.get("conditions") or [])
    row = {
        "source_id": _str(source_id),
        "criterion_id": _str(criterion.get("id")), "criterion_parent": _str(criterion.get("parent")),
        "section": _str(criterion.get("section")),
        "rule_id": _str(rule.get("id")), "rule_text": _str(rule.get("text")),
        "rule_start": _int(rule.get("start")), "rule_end": _int(rule.get("end")),
        "variable_name": _str(var.get("name")), "variable_text": _str(var.get("text")),
        "variable_start": _int(var.get("start")), "variable_end": _int(var.get("end")),
        "category": _str(var.get("category")),
        "code_system": _str(code.get("system")), "code": _str(code.get("code")),
        "code_display": _str(code.get("display")),
        "comparator": _str(rule.get("comparator")),
        "value": _float(rule.get("value")), "value_high": _float(rule.get("value_high")),
        "inclusive_low": incl.get("low"), "inclusive_high": incl.get("high"),
        "unit": _str(rule.get("unit")), "unit_text": _str(rule.get("unit_text")),
        "unit_inferred": bool(rule.get("unit_inferred", False)),
        "relative_to": _str(rule.get("relative_to")),
        "normalized_value": _float(norm.get("value")), "normalized_value_high": _float(norm.get("value_high")),
        "normalized_unit": _str(norm.get("unit")),
        "negated": bool(rule.get("negated", False)), "hypothetical": bool(rule.get("hypothetical", False)),
        "confidence": _float(rule.get("confidence")),
    }
    row.update(_window(conditions))
    row["conditions"] = [condition_row(c) for c in conditions]
    return row


def rule_rows(result: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows of one result dict (none for an error record)."""
    source_id = (result.get("source") or {}).get("id")
    for criterion in result.get("criteria") or ():
        for rule in criterion.get("rules") or ():
            yield rule_row(source_id, criterion, rule)


def rows_of(results: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for result in results:
        yield from rule_rows(result)


# --------------------------------------------------------------------------- schemas


def require_pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise ImportError(f"flat rule tables need pyarrow, which is not installed: {TABLE_EXTRA_HINT}") from None
    return pyarrow


def _arrow_type(pa, kind: str):
    if kind == "conditions":
        return pa.list_(pa.struct([pa.field(c.name, _arrow_type(pa, c.type)) for c in CONDITION_FIELDS]))
    return {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}[kind]


def arrow_schema():
    """The pyarrow schema of the flat rule table (column docs in the field metadata)."""
    pa = require_pyarrow()
    return pa.schema([pa.field(c.name, _arrow_type(pa, c.type), metadata={"doc": c.doc}) for c in COLUMNS])


_SPARK_TYPES = {"string": "STRING", "int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}


def _spark_type(kind: str) -> str:
    if kind == "conditions":
        inner = ", ".join(f"`{c.name}`: {_spark_type(c.type)}" for c in CONDITION_FIELDS)
        return f"ARRAY<STRUCT<{inner}>>"
    return _SPARK_TYPES[kind]


def spark_ddl() -> str:
    """The flat rule table as a Spark DDL schema string."""
    return ", ".join(f"`{c.name}` {_spark_type(c.type)}" for c in COLUMNS)


_PG_TYPES = {"string": "text", "int64": "bigint", "float64": "double precision", "bool": "boolean",
             "conditions": "jsonb"}


def postgres_columns() -> list[tuple[str, str]]:
    """``(column, PostgreSQL type)`` of the ``criteria_nlp_rule`` table."""
    return [(c.name, _PG_TYPES[c.type]) for c in COLUMNS]


# --------------------------------------------------------------------------- tables


def to_table(results: Iterable[Mapping[str, Any]]):
    """A pyarrow Table of every rule of ``results`` (result dicts or JSON strings/bytes)."""
    pa = require_pyarrow()
    return pa.Table.from_pylist(list(rows_of(_as_dicts(results))), schema=arrow_schema())


def _as_dicts(results: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    for r in results:
        yield json.loads(r) if isinstance(r, (str, bytes, bytearray)) else r


def to_frame(results: Iterable[Mapping[str, Any]]):
    """A pandas DataFrame of every rule of ``results`` (the :data:`COLUMNS`, nullable dtypes).

    ``results``: result dicts (``criteria_nlp.extract`` / ``extract_many``) or their JSON.
    ``conditions`` holds a list of dicts per row.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"to_frame needs pandas, which is not installed: {TABLE_EXTRA_HINT}") from None
    pa = require_pyarrow()
    mapping = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
               pa.bool_(): pd.BooleanDtype()}
    return to_table(results).to_pandas(types_mapper=mapping.get)


def csv_value(row: Mapping[str, Any], name: str) -> Any:
    """A cell for CSV: ``conditions`` as a JSON array, the rest as is (None -> empty)."""
    v = row[name]
    if name == "conditions":
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else v
