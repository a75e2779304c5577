"""Unit conversion factors for the SQL: ``value_in_rule_unit = value * factor + offset``.

Built on the project's UCUM conversion (:func:`criteria_nlp.quantities.units.convert`, with the
lexicon's molar mass for mass <-> substance conversions such as creatinine mg/dL -> umol/L).
Only linear conversions are used; a log-scale pair counts as not convertible.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from .results import Threshold

#: UCUM codes tried when no database says which units occur (export without ``--cdm``).
COMMON_UNITS_FILE = Path(__file__).resolve().parent / "common_units.json"

_UCUM_CODE_RE = re.compile(r"^[\w\[\]{}()*/.%\-^']{1,40}$")
_ANNOTATION_RE = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class UnitFactor:
    """Values measured in ``source_unit`` become ``value * factor + offset`` in the rule's unit."""

    rule_key: int
    source_unit: str
    factor: float
    offset: float


def is_ucum_code(code: str) -> bool:
    return isinstance(code, str) and bool(_UCUM_CODE_RE.match(code))


def linear_conversion(source: str, target: str | None, molar_mass: float | None) -> tuple[float, float] | None:
    """(factor, offset) taking ``source`` values to ``target``; None when not linear-convertible.
    A rule without a unit accepts dimensionless measurements (``1``, ``{score}``) as they are."""
    if not is_ucum_code(source):
        return None
    if target is None:
        return (1.0, 0.0) if _ANNOTATION_RE.sub("", source) in ("", "1") else None
    return _linear(source, target, molar_mass)


@lru_cache(maxsize=4096)
def _linear(source: str, target: str, molar_mass: float | None) -> tuple[float, float] | None:
    from criteria_nlp.quantities.units import convert

    y0 = convert(0.0, source, target, molar_mass)
    y1 = convert(1.0, source, target, molar_mass)
    y10 = convert(10.0, source, target, molar_mass)
    if y0 is None or y1 is None or y10 is None:
        return None
    factor, offset = y1 - y0, y0
    if factor == 0 or not math.isclose(y10, 10 * factor + offset, rel_tol=1e-9, abs_tol=1e-12):
        return None  # log scale or worse
    return factor, offset


def molar_mass(variable_name: str | None) -> float | None:
    from criteria_nlp.resources.lexicon import variables_by_name

    entry = variables_by_name().get(variable_name or "")
    return entry.molar_mass if entry else None


def unit_factors(thresholds: Iterable[Threshold], units_by_loinc: Mapping[str, Iterable[str]]) -> list[UnitFactor]:
    """A factor for every (measurement rule, unit its concept is measured in) pair that converts.
    ``units_by_loinc`` is keyed by :attr:`Threshold.source_key` (a LOINC code or ``#<concept_id>``)."""
    out: list[UnitFactor] = []
    for t in thresholds:
        if t.kind != "measurement" or t.relative_to or not t.source_key:
            continue
        mm = molar_mass(t.variable_name)
        for u in sorted({u for u in units_by_loinc.get(t.source_key, ()) if is_ucum_code(u)}):
            conv = linear_conversion(u, t.unit, mm)
            if conv is not None:
                out.append(UnitFactor(t.key, u, conv[0], conv[1]))
    return out


def common_units_by_loinc(loinc_codes: Iterable[str]) -> dict[str, list[str]]:
    """Every code gets the list of common units (when no database says which units occur)."""
    units = common_units()
    return {code: units for code in loinc_codes}


def common_units() -> list[str]:
    with open(COMMON_UNITS_FILE, encoding="utf-8") as fh:
        return list(json.load(fh)["units"])
