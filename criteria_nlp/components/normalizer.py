"""``criteria_normalizer``: values converted to the variable's canonical UCUM unit.

``Hb ≥ 9 g/dL`` → normalized 90 g/L; creatinine mg/dL → µmol/L with the lexicon's molar mass.
Thresholds relative to ULN/LLN, unknown variables and units with no conversion keep
``normalized = None``.
"""
from spacy.language import Language
from spacy.tokens import Doc

from ..models import Normalized
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


def _round(x: float) -> float:
    return float(f"{x:.6g}")


class UnitNormalizer:
    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.entries = variables_by_name()
        load_conversions()  # at build time, not inside the first document

    def __call__(self, doc: Doc) -> Doc:
        for rules in (doc._.rules or {}).values():
            for rule in rules:
                if rule.variable is None or rule.relative_to is not None:
                    continue
                entry = self.entries.get(rule.variable.name)
                canonical = entry.unit if entry else ("a" if rule.variable.name == "age" else None)
                molar_mass = entry.molar_mass if entry else None
                rule.normalized = normalize_value(rule.value, rule.value_high, rule.unit, canonical, molar_mass)
        return doc


@Language.factory("criteria_normalizer", requires=["doc._.rules"])
def make_normalizer(nlp: Language, name: str) -> UnitNormalizer:
    return UnitNormalizer(nlp, name)
