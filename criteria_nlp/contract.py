"""Typed data model of the output contract (schema version 1.2).

Every object carries character offsets into the input string exactly as given:
``text == input[start:end]`` for each criterion, rule, variable and condition.
The JSON Schema of the serialised form lives in ``criteria_nlp/schema/rules.schema.json``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "1.2"

Comparator = Literal[">", ">=", "<", "<=", "=", "between"]
Section = Literal["inclusion", "exclusion"]
RelativeTo = Literal["ULN", "LLN"]


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass
class VariableRef:
    """The measured thing a threshold applies to, as found in the text."""

    text: str
    name: str
    start: int
    end: int
    category: str | None = None
    code: Code | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "code": self.code.to_dict() if self.code else None,
        }


@dataclass
class Normalized:
    """The value expressed in the variable's canonical UCUM unit."""

    value: float
    value_high: float | None
    unit: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "value_high": self.value_high, "unit": self.unit}


@dataclass
class Condition:
    """A qualifier of a rule: temporal window, population, exception, free qualifier."""

    kind: str
    text: str
    start: int
    end: int
    fields: dict[str, Any] = field(default_factory=dict)
    inherited_from: str | None = None  # criterion id the condition was inherited from

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}
        out.update(self.fields)
        if self.inherited_from:
            out["inherited_from"] = self.inherited_from
        return out


@dataclass
class Rule:
    """One numeric threshold attached to one variable."""

    id: str
    text: str
    start: int
    end: int
    variable: VariableRef | None
    comparator: Comparator
    value: float
    value_high: float | None = None
    unit: str | None = None
    unit_text: str | None = None
    # the unit was not written: it is the one the variable's plausible range implies (schema 1.1)
    unit_inferred: bool = False
    relative_to: RelativeTo | None = None
    normalized: Normalized | None = None
    negated: bool = False
    hypothetical: bool = False
    # For "between": whether each bound is included. Inclusive unless the text says otherwise.
    inclusive: tuple[bool, bool] | None = None
    conditions: list[Condition] = field(default_factory=list)
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "variable": self.variable.to_dict() if self.variable else None,
            "comparator": self.comparator,
            "value": self.value,
            "value_high": self.value_high,
            "inclusive": (
                {"low": self.inclusive[0], "high": self.inclusive[1]} if self.inclusive else None
            ),
            "unit": self.unit,
            "unit_text": self.unit_text,
            "unit_inferred": self.unit_inferred,
            "relative_to": self.relative_to,
            "normalized": self.normalized.to_dict() if self.normalized else None,
            "negated": self.negated,
            "hypothetical": self.hypothetical,
            "confidence": self.confidence,
            "conditions": [c.to_dict() for c in self.conditions],
        }


@dataclass
class Criterion:
    """One list item (or paragraph) of the eligibility text."""

    id: str
    parent: str | None
    section: Section | None
    text: str
    start: int
    end: int
    rules: list[Rule] = field(default_factory=list)
    logic: dict[str, Any] | None = None  # {"op": "and"|"or", "args": [rule ids or nested logic]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent": self.parent,
            "section": self.section,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "logic": self.logic,
            "rules": [r.to_dict() for r in self.rules],
        }


@dataclass
class ExtractionResult:
    source_id: str | None
    source_path: str | None
    criteria: list[Criterion]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": {"id": self.source_id, "path": self.source_path},
            "criteria": [c.to_dict() for c in self.criteria],
        }
