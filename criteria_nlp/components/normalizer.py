"""``criteria_normalizer``: units implied by the variable, values in the variable's canonical UCUM unit.

``Hb ≥ 9 g/dL`` → normalized 90 g/L; creatinine mg/dL → µmol/L with the lexicon's molar mass.
Thresholds relative to ULN/LLN, unknown variables and units with no conversion keep
``normalized = None``.

A value written without a unit gets the unit its size implies for the variable when exactly one
candidate of ``resources/implied_units.json`` fits (``Platelets at least 100,000`` → ``/mm3``,
``Hemoglobin at least 9`` → ``g/dL``); the rule then says ``unit_inferred: true`` and keeps
``unit_text: null``. Age keeps its own convention (years, not marked as inferred).
"""
import json
from importlib import resources

from spacy.language import Language
from spacy.tokens import Doc

from ..contract import Normalized
from ..quantities.units import convert, load_conversions
from ..resources.lexicon import variables_by_name


def normalize_value(value, value_high, unit, canonical_unit, molar_mass=None) -> Normalized | None:
    """Pure conversion of a (value, value_high, unit) to ``canonical_unit``; None if impossible."""
    if unit is None or canonical_unit is None:
        return None
    if unit == canonical_unit:
        return Normalized(value, value_high, unit)
    low = convert(value, unit, canonical_unit, molar_mass)
    if low is None:
        return None
    high = None if value_high is None else convert(value_high, unit, canonical_unit, molar_mass)
    return Normalized(_round(low), None if high is None else _round(high), canonical_unit)


def implied_unit(value: float, value_high: float | None, candidates) -> str | None:
    """The one candidate unit whose plausible range ``(unit, low, high)`` holds every value, else None."""
    values = [v for v in (value, value_high) if v is not None]
    fits = [unit for unit, low, high in candidates if all(low <= v <= high for v in values)]
    return fits[0] if len(fits) == 1 else None


def load_implied_units() -> dict[str, list]:
    source = resources.files("criteria_nlp.resources").joinpath("implied_units.json")
    return json.loads(source.read_text(encoding="utf-8"))["implied_units"]


def _round(x: float) -> float:
    return float(f"{x:.6g}")


class UnitNormalizer:
    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.entries = variables_by_name()
        self.implied_units = load_implied_units()
        load_conversions()  # at build time, not inside the first document

    def __call__(self, doc: Doc) -> Doc:
        for rules in (doc._.rules or {}).values():
            for rule in rules:
                if rule.variable is None or rule.relative_to is not None:
                    continue
                if rule.unit is None and rule.variable.name in self.implied_units:
                    unit = implied_unit(rule.value, rule.value_high, self.implied_units[rule.variable.name])
                    rule.unit, rule.unit_inferred = unit, unit is not None
                entry = self.entries.get(rule.variable.name)
                canonical = entry.unit if entry else ("a" if rule.variable.name == "age" else None)
                molar_mass = entry.molar_mass if entry else None
                rule.normalized = normalize_value(rule.value, rule.value_high, rule.unit, canonical, molar_mass)
        return doc
