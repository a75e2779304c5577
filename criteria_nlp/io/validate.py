"""Checks of a result against its input: exact offsets, and the JSON Schema."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "rules.schema.json"


def _span_problem(kind: str, ident: str, obj: Any, text: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{kind} {ident}: not an object"
    start, end, span = obj.get("start"), obj.get("end"), obj.get("text")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        return f"{kind} {ident}: start/end are not integers ({start!r}, {end!r})"
    if not 0 <= start <= end <= len(text):
        return f"{kind} {ident}: offsets [{start}, {end}) outside the input (length {len(text)})"
    if text[start:end] != span:
        return f"{kind} {ident}: text {span!r} != input[{start}:{end}] {text[start:end]!r}"
    return None


def iter_offset_problems(result: dict[str, Any], text: str) -> Iterator[str]:
    """Every place where ``text != input[start:end]`` (criteria, rules, variables, conditions)."""
    for c_i, crit in enumerate(result.get("criteria") or []):
        cid = str(crit.get("id", c_i)) if isinstance(crit, dict) else str(c_i)
        p = _span_problem("criterion", cid, crit, text)
        if p:
            yield p
        if not isinstance(crit, dict):
            continue
        for r_i, rule in enumerate(crit.get("rules") or []):
            rid = str(rule.get("id", f"{cid}/{r_i}")) if isinstance(rule, dict) else f"{cid}/{r_i}"
            p = _span_problem("rule", rid, rule, text)
            if p:
                yield p
            if not isinstance(rule, dict):
                continue
            if rule.get("variable") is not None:
                p = _span_problem("variable of rule", rid, rule["variable"], text)
                if p:
                    yield p
            for k, cond in enumerate(rule.get("conditions") or []):
                p = _span_problem(f"condition {k} of rule", rid, cond, text)
                if p:
                    yield p


def offset_problems(result: dict[str, Any], text: str) -> list[str]:
    return list(iter_offset_problems(result, text))


@lru_cache(maxsize=1)
def schema_validator():
    """A Draft 2020-12 validator of the result schema (built once); needs the ``test`` extra."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        raise ImportError("schema validation needs jsonschema: pip install 'criteria-nlp[test]'") from None

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problems(result: dict[str, Any], limit: int = 5) -> list[str]:
    out = []
    for err in schema_validator().iter_errors(result):
        where = "/".join(str(p) for p in err.absolute_path) or "<root>"
        out.append(f"schema: {where}: {err.message[:200]}")
        if len(out) >= limit:
            break
    return out


def count_rules(result: dict[str, Any]) -> int:
    return sum(len(c.get("rules") or []) for c in result.get("criteria") or [])
