"""Export a trial plan as a FHIR R5 ``EvidenceVariable``.

Each criterion is one characteristic (``exclude`` for the exclusion section); a criterion with
several rules is a ``definitionByCombination`` (``all-of``/``any-of`` from its logic, nested as
the logic is). Each rule is a ``definitionByTypeAndValue``: the variable as ``type`` (LOINC coding
when known, its name as text otherwise), the threshold as ``valueQuantity`` (UCUM, with the
comparator) or ``valueRange`` (``between``; FHIR ranges include their bounds), a ULN/LLN multiple
as a unit-less quantity with ``offset`` naming the reference limit, and the rule's own window as
``timeFromEvent`` (days relative to the index date). Negated rules have ``exclude``. Rules under
a population or exception condition carry a ``note`` saying so.
"""
from __future__ import annotations

from typing import Any

from .results import Logic, LogicNode, Threshold, TrialPlan

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
_FHIR_COMPARATORS = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
_LIMIT_TEXT = {"ULN": "upper limit of normal", "LLN": "lower limit of normal"}


def export_fhir(plan: TrialPlan) -> dict[str, Any]:
    characteristics = []
    for crit in plan.criteria:
        logic = _combined(crit.default_logic, crit.population_logic)
        characteristic = _characteristic(logic, plan)
        characteristic["linkId"] = crit.id
        if crit.section == "exclusion":
            characteristic["exclude"] = not characteristic.get("exclude", False)
        characteristics.append(characteristic)
    return {
        "resourceType": "EvidenceVariable",
        "status": "draft",
        "title": f"Numeric eligibility thresholds of {plan.trial}"[:255],
        "description": "Numeric threshold rules extracted by criteria-nlp; criteria without a numeric "
                       "threshold are not represented.",
        "characteristic": characteristics,
    }


def _combined(default: Logic | None, population: Logic | None) -> Logic:
    if default is not None and population is not None:
        return LogicNode("or", (default, population))
    return default if default is not None else population  # type: ignore[return-value]


def _characteristic(logic: Logic, plan: TrialPlan) -> dict[str, Any]:
    if isinstance(logic, str):
        return _rule_characteristic(plan.threshold(logic))
    return {"exclude": False,
            "definitionByCombination": {"code": "all-of" if logic.op == "and" else "any-of",
                                        "characteristic": [_characteristic(a, plan) for a in logic.args]}}


def _rule_characteristic(t: Threshold) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": _variable(t)}
    if t.comparator == "between" and t.value_high is not None:
        definition["valueRange"] = {"low": _quantity(t, t.value), "high": _quantity(t, t.value_high)}
    else:
        definition["valueQuantity"] = _quantity(t, t.value, _FHIR_COMPARATORS.get(t.comparator))
    if t.relative_to:
        definition["offset"] = {"text": _LIMIT_TEXT.get(t.relative_to, t.relative_to)}
    out: dict[str, Any] = {"description": t.text[:1000], "exclude": t.negated,
                           "definitionByTypeAndValue": definition}
    if t.window.from_rule:
        out["timeFromEvent"] = [{"eventCodeableConcept": {"text": "index date"},
                                 "range": {"low": _days(t.window.start_days), "high": _days(t.window.end_days)}}]
    notes = []
    if t.population:
        notes.append("applies only to a population named in the criterion")
    if t.exception:
        notes.append("the criterion states an exception to this threshold")
    if notes:
        out["note"] = [{"text": n} for n in notes]
    return out


def _variable(t: Threshold) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": t.variable_name or t.text[:200]}
    if t.loinc:
        concept["coding"] = [{"system": LOINC, "code": t.loinc}]
    return concept


def _quantity(t: Threshold, value: float, comparator: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if comparator:
        q["comparator"] = comparator
    if t.relative_to:
        q["unit"] = f"x {t.relative_to}"
    elif t.unit:
        q.update({"unit": t.unit, "system": UCUM, "code": t.unit})
    return q


def _days(n: int) -> dict[str, Any]:
    return {"value": n, "unit": "d", "system": UCUM, "code": "d"}
