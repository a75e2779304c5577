"""Rules from the registry's structured eligibility fields, and their check against the text.

ClinicalTrials.gov (and AACT) carry ``minimumAge``/``maximumAge`` (``"18 Years"``,
``"6 Months"``, ``"N/A"``), ``sex`` and ``healthyVolunteers`` beside the free text. They
become the result's top-level ``"structured"`` object::

    {"age": [{"comparator": ">=", "value": 18, "unit": "a", "text": "18 Years",
              "origin": "structured_field", "field": "minimumAge"}],
     "sex": "ALL", "healthy_volunteers": false}

and a disagreement between those age limits and the age rules found in the text (rules whose
variable name is ``age``) is reported as a string in the result's ``"warnings"``.
"""
from __future__ import annotations

import re
from typing import Any

# UCUM codes of the time units the registry uses, and their length in years.
AGE_UNITS: dict[str, tuple[str, float]] = {
    "year": ("a", 1.0),
    "month": ("mo", 1 / 12),
    "week": ("wk", 7 / 365.25),
    "day": ("d", 1 / 365.25),
    "hour": ("h", 1 / (365.25 * 24)),
    "minute": ("min", 1 / (365.25 * 24 * 60)),
}
UCUM_YEARS = {code: years for code, years in AGE_UNITS.values()}
UCUM_YEARS.update({"yr": 1.0, "year": 1.0, "years": 1.0, "y": 1.0, "mon": 1 / 12, "month": 1 / 12,
                   "months": 1 / 12, "week": 7 / 365.25, "weeks": 7 / 365.25, "day": 1 / 365.25,
                   "days": 1 / 365.25})

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")
_NA = {"", "n/a", "na", "none", "no limit"}


def parse_age(value: Any) -> tuple[float | int, str] | None:
    """``"18 Years"`` -> ``(18, "a")``; ``"N/A"``/``None`` -> ``None``; raises ValueError if unparseable."""
    if value is None:
        return None
    s = str(value).strip()
    if s.lower() in _NA:
        return None
    m = _AGE_RE.match(s)
    if not m:
        raise ValueError(f"unparseable age {s!r}")
    num = float(m.group(1))
    unit = m.group(2).lower()
    if unit not in AGE_UNITS:
        raise ValueError(f"unknown age unit in {s!r}")
    value_out: float | int = int(num) if num.is_integer() else num
    return value_out, AGE_UNITS[unit][0]


def structured_rules(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Registry fields (API v2 names) -> (``structured`` object, warnings)."""
    out: dict[str, Any] = {}
    warnings: list[str] = []
    ages: list[dict[str, Any]] = []
    for field, comparator in (("minimumAge", ">="), ("maximumAge", "<=")):
        if field not in fields:
            continue
        raw = fields[field]
        try:
            parsed = parse_age(raw)
        except ValueError as exc:
            warnings.append(f"structured field {field}: {exc}")
            continue
        if parsed is None:
            continue
        value, unit = parsed
        ages.append({"comparator": comparator, "value": value, "unit": unit, "text": str(raw),
                     "origin": "structured_field", "field": field})
    if "minimumAge" in fields or "maximumAge" in fields:
        out["age"] = ages
    if "sex" in fields and fields["sex"] is not None:
        out["sex"] = str(fields["sex"]).strip().upper()
    if "healthyVolunteers" in fields:
        hv = fields["healthyVolunteers"]
        out["healthy_volunteers"] = hv if isinstance(hv, bool) or hv is None else str(hv)
    return out, warnings


def _years(value: float, unit: str | None) -> float | None:
    if unit is None:
        return float(value)  # "age >= 18" without a unit means years
    f = UCUM_YEARS.get(unit) or UCUM_YEARS.get(unit.lower())
    return None if f is None else float(value) * f


def text_age_bounds(result: dict[str, Any]) -> tuple[list[tuple[float, bool, str]], list[tuple[float, bool, str]]]:
    """Lower and upper age bounds (years, inclusive?, description) stated by the text's age rules.

    An exclusion-section (or negated) rule states the complement: "Exclusion: age < 18" is a
    lower bound of 18 years, inclusive.
    """
    lows: list[tuple[float, bool, str]] = []
    highs: list[tuple[float, bool, str]] = []
    for crit in result.get("criteria") or []:
        for rule in crit.get("rules") or []:
            var = rule.get("variable") or {}
            if str(var.get("name", "")).lower() != "age" or rule.get("hypothetical"):
                continue
            if rule.get("relative_to"):
                continue
            unit = rule.get("unit")
            try:
                v = _years(rule["value"], unit)
                vh = _years(rule["value_high"], unit) if rule.get("value_high") is not None else None
            except (KeyError, TypeError, ValueError):
                continue
            if v is None:
                continue
            comp = rule.get("comparator")
            flip = (crit.get("section") == "exclusion") != bool(rule.get("negated"))
            desc = f'{rule.get("id")} "{rule.get("text")}"'
            if comp == "between":
                if flip or vh is None:
                    continue
                lows.append((v, True, desc))
                highs.append((vh, True, desc))
                continue
            if flip:
                comp = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}.get(comp, None)
            if comp == ">=":
                lows.append((v, True, desc))
            elif comp == ">":
                lows.append((v, False, desc))
            elif comp == "<=":
                highs.append((v, True, desc))
            elif comp == "<":
                highs.append((v, False, desc))
    return lows, highs


def _same_bound(structured_years: float, text_years: float, inclusive: bool, lower: bool, unit_years: float) -> bool:
    """Does a text bound state the same limit as an (inclusive) structured one?

    Exclusive text bounds are compared one registry unit further: "> 17 years" = ">= 18 Years".
    """
    tol = 1e-6 + 0.02 * unit_years
    if abs(structured_years - text_years) <= tol:
        return True
    if not inclusive:
        shifted = text_years + unit_years if lower else text_years - unit_years
        return abs(structured_years - shifted) <= tol
    return False


def _fmt(v: float) -> str:
    return f"{v:g}"


def age_warnings(structured: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Warnings where the structured age limits and the text's age rules disagree."""
    ages = structured.get("age")
    if ages is None:
        return []
    lows, highs = text_age_bounds(result)
    out: list[str] = []
    by_field = {a["field"]: a for a in ages}
    for field, bounds, lower in (("minimumAge", lows, True), ("maximumAge", highs, False)):
        if not bounds:
            continue  # the text does not state this limit: nothing to compare
        entry = by_field.get(field)
        word = "lower" if lower else "upper"
        # The overall limit of the text (the loosest of its bounds, e.g. over cohorts).
        best = min(bounds, key=lambda b: b[0]) if lower else max(bounds, key=lambda b: b[0])
        comp = (">=" if best[1] else ">") if lower else ("<=" if best[1] else "<")
        text_desc = f"{comp} {_fmt(best[0])} a ({best[2]})"
        if entry is None:
            out.append(f"structured {field} is N/A but the criteria text gives {'a lower' if lower else 'an upper'} age limit {text_desc}")
            continue
        unit_years = UCUM_YEARS.get(entry["unit"], 1.0)
        s_years = _years(entry["value"], entry["unit"])
        if s_years is None:
            continue
        if not any(_same_bound(s_years, b[0], b[1], lower, unit_years) for b in bounds):
            out.append(
                f"structured {field} ({entry['text']}) disagrees with the criteria text's {word} age limit {text_desc}"
            )
    return out


def apply_structured(result: dict[str, Any], fields: dict[str, Any] | None) -> dict[str, Any]:
    """Add ``structured`` (and ``warnings``) to a result dict, in place; returns it."""
    if not fields:
        return result
    structured, warnings = structured_rules(fields)
    result["structured"] = structured
    warnings.extend(age_warnings(structured, result))
    if warnings:
        result.setdefault("warnings", []).extend(warnings)
    return result
