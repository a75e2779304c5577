"""Export a trial plan as a FHIR R5 ``EvidenceVariable``.

Each criterion is one characteristic (``exclude`` for the exclusion section); a criterion with
several rules is a ``definitionByCombination`` (``all-of``/``any-of`` from its logic, nested as
the logic is). Each rule is a ``definitionByTypeAndValue``: the variable as ``type`` (LOINC coding
when known, its name as text otherwise), the threshold as ``valueQuantity`` (UCUM, with the
comparator) or ``valueRange`` (``between``; FHIR ranges include their bounds), a ULN/LLN multiple
as a unit-less quantity with ``offset`` naming the reference limit, and the rule's own window as
``timeFromEvent`` (days relative to the index date). Negated rules have ``exclude``.

Population and exception conditions are part of the logic. A population is a characteristic of
its own: sex as ``definitionByTypeAndValue`` (LOINC 46098-0 Sex, administrative-gender code), an
age group as LOINC 30525-0 Age in years, a diagnosis as ``definitionCodeableConcept`` (SNOMED or
ICD-10-CM coding when the concept map gives one, the description as text), and anything the data
cannot resolve as ``definitionCodeableConcept`` with the description as text only (a FHIR
consumer may code it; ``match`` cannot). A population stated by a rule of the trial (a
condition's ``rule``) is that rule's ``definitionByTypeAndValue`` (nested in the combination).
A criterion with populations P1..Pn and rules L1..Ln, default rules D, is ``any-of(all-of(P1,
L1), all-of(not P1, P2, L2), ..., all-of(not P1, ..., not Pn, D))`` ("not" = ``exclude``); with
no default rules the last branch is ``all-of(not P1, ..., not Pn)`` for an inclusion criterion
(it does not concern the others) and absent for an exclusion criterion. A rule under an
exception E is ``any-of(E, rule)`` in an inclusion criterion and ``all-of(not E, rule)`` in an
exclusion one (the exception lets the person through).
"""
from __future__ import annotations

import re
from typing import Any

from .populations import FEMALE, MALE, CondSpec
from .results import CriterionPlan, Logic, Threshold, TrialPlan

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
_FHIR_COMPARATORS = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
_LIMIT_TEXT = {"ULN": "upper limit of normal", "LLN": "lower limit of normal"}
GENDER = "http://hl7.org/fhir/administrative-gender"
AGE_CODING = {"system": LOINC, "code": "30525-0", "display": "Age"}
#: FHIR code systems of the OMOP vocabularies a concept map may name a diagnosis in.
#: How a measurement rule is evaluated (its ``definitionByTypeAndValue.method``): as ``criteria-nlp match``.
MOST_RECENT_METHOD = ("the most recent measurement with a value in the timeFromEvent range decides (two on the "
                      "same day: the later measurement time, then the later record); none: unknown, so that the "
                      "characteristic neither holds nor, with exclude, fails to hold")
LOOKBACK_DESCRIPTION = "look-back of criteria-nlp match (--lookback-days): the rule states no window"
_LINK_ID_RE = re.compile(r"[^A-Za-z0-9\-.]")
_SYSTEMS = {"SNOMED": "http://snomed.info/sct", "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm",
            "ICD10": "http://hl7.org/fhir/sid/icd-10"}


def export_fhir(plan: TrialPlan) -> dict[str, Any]:
    characteristics = []
    used: set[str] = set()
    for crit in plan.criteria:
        characteristic = _criterion(crit, plan)
        characteristic["linkId"] = _link_id(crit.id, used)
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


def _link_id(criterion_id: str, used: set[str]) -> str:
    """The criterion's id as a FHIR ``linkId`` (letters, digits, ``-`` and ``.`` only: another
    character becomes ``-``), made unique among ``used`` with a ``.N`` suffix if need be."""
    base = _LINK_ID_RE.sub("-", criterion_id) or "criterion"
    link, n = base, 1
    while link in used:
        n += 1
        link = f"{base}.{n}"
    used.add(link)
    return link


def _criterion(crit: CriterionPlan, plan: TrialPlan) -> dict[str, Any]:
    """What makes the criterion hold (the caller sets ``exclude`` for the exclusion section)."""
    section = crit.section
    if not crit.groups:
        return _characteristic(crit.default_logic, plan, section)
    branches, earlier = [], []
    for g in crit.groups:
        member = _population_of(plan, g.key, g.description)
        branches.append(_combination("all-of", [_not(p) for p in earlier] + [member,
                                                                             _characteristic(g.logic, plan, section)]))
        earlier.append(member)
    outside = [_not(p) for p in earlier]
    if crit.default_logic is not None:
        branches.append(_combination("all-of", outside + [_characteristic(crit.default_logic, plan, section)]))
    elif section == "inclusion":  # the criterion does not concern persons in none of its populations
        branches.append(_combination("all-of", outside))
    return _combination("any-of", branches)


def _combination(code: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    if len(parts) == 1:
        return parts[0]
    return {"exclude": False, "definitionByCombination": {"code": code, "characteristic": parts}}


def _not(characteristic: dict[str, Any]) -> dict[str, Any]:
    return dict(characteristic, exclude=not characteristic.get("exclude", False))


def _population_of(plan: TrialPlan, key: int | None, description: str,
                   seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Membership of a criterion's population as a characteristic: the stating rule's own
    characteristic when a rule of the trial states it (with the rule's own population and
    exception when it has them: it states membership only where it applies, as in ``match``),
    else :func:`_population`."""
    spec = plan.condition(key)
    if spec is None or spec.kind != "rule" or spec.rule_id in seen:
        return _population(spec if spec is None or spec.kind != "rule" else None, description, "population")
    stating = plan.threshold(spec.rule_id)
    stated = _rule_characteristic(stating)
    stated["description"] = f"population: {description}"[:1000]
    within = []  # where the stating rule applies: its own population, outside its exception
    if stating.population:
        within.append(_population_of(plan, stating.population_key, stating.population_desc or "",
                                     seen | {stating.rule_id}))
    if stating.exception:
        within.append(_not(_population(plan.condition(stating.exception_key), stating.exception_desc or "",
                                       "exception")))
    if not within:
        return stated
    combined = _combination("all-of", within + [stated])
    combined["description"] = f"population: {description}"[:1000]
    return combined


def _population(spec: CondSpec | None, description: str, kind: str) -> dict[str, Any]:
    """Membership of a population or exception condition as a characteristic."""
    text = f"{kind}: {description}"[:1000]
    if spec is None or spec.sex_partial:  # not resolvable: the description, for a FHIR consumer to code
        return {"description": text, "exclude": False, "definitionCodeableConcept": {"text": description[:1000]}}
    parts = []
    if spec.sex is not None:
        code = "male" if spec.sex == MALE else "female" if spec.sex == FEMALE else "unknown"
        parts.append({"description": f"sex {code}", "exclude": False, "definitionByTypeAndValue": {
            "type": {"coding": [{"system": LOINC, "code": "46098-0", "display": "Sex"}]},
            "valueCodeableConcept": {"coding": [{"system": GENDER, "code": code}]}}})
    if spec.age_low is not None or spec.age_high is not None:
        age: dict[str, Any] = {"type": {"coding": [AGE_CODING]}}
        years = {"unit": "a", "system": UCUM, "code": "a"}
        if spec.age_low is not None and spec.age_high is not None:
            age["valueRange"] = {"low": {"value": spec.age_low, **years}, "high": {"value": spec.age_high - 1, **years}}
        elif spec.age_low is not None:
            age["valueQuantity"] = {"value": spec.age_low, "comparator": ">=", **years}
        else:
            age["valueQuantity"] = {"value": spec.age_high, "comparator": "<", **years}
        parts.append({"description": spec.label, "exclude": False, "definitionByTypeAndValue": age})
    if spec.kind == "diagnosis":
        concept: dict[str, Any] = {"text": description[:1000]}
        mapped = spec.concept
        if mapped is not None and mapped.vocabulary in _SYSTEMS and mapped.code:
            concept["coding"] = [{"system": _SYSTEMS[mapped.vocabulary], "code": mapped.code}]
        parts.append({"description": text, "exclude": False, "definitionCodeableConcept": concept})
    if not parts:
        return {"description": text, "exclude": False, "definitionCodeableConcept": {"text": description[:1000]}}
    combined = _combination("all-of", parts)
    combined["description"] = text
    return combined


def _characteristic(logic: Logic, plan: TrialPlan, section: str = "inclusion") -> dict[str, Any]:
    if isinstance(logic, str):
        t = plan.threshold(logic)
        rule = _rule_characteristic(t)
        if not t.exception:
            return rule
        exception = _population(plan.condition(t.exception_key), t.exception_desc or "", "exception")
        if section == "inclusion":  # the exception lets the person through
            return _combination("any-of", [exception, rule])
        return _combination("all-of", [_not(exception), rule])
    return {"exclude": False,
            "definitionByCombination": {"code": "all-of" if logic.op == "and" else "any-of",
                                        "characteristic": [_characteristic(a, plan, section) for a in logic.args]}}


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
    if t.kind == "measurement":
        definition["method"] = [{"text": MOST_RECENT_METHOD}]
    if t.window.from_rule or t.kind == "measurement":
        window: dict[str, Any] = {"eventCodeableConcept": {"text": "index date"},
                                  "range": {"low": _days(t.window.start_days), "high": _days(t.window.end_days)}}
        if not t.window.from_rule:
            window["description"] = LOOKBACK_DESCRIPTION
        out["timeFromEvent"] = [window]
    return out


def _variable(t: Threshold) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": t.variable_name or t.text[:200]}
    if t.loinc:
        concept["coding"] = [{"system": LOINC, "code": t.loinc}]
    elif t.kind == "age":  # as the age groups of populations
        concept["coding"] = [AGE_CODING]
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
