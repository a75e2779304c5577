"""Export a trial plan as an OHDSI Circe cohort expression (the JSON that ATLAS imports).

* one concept set per LOINC code (descendants included); concept ids come from a vocabulary when
  one is given, else ``CONCEPT_ID`` 0 with the code for ATLAS to resolve (and a warning);
* one ATLAS inclusion rule per criterion that has a rule Circe can express; the criterion's
  ``logic`` becomes ALL/ANY groups; an exclusion criterion is negated (De Morgan down to the
  leaves: a measurement leaf becomes "exactly 0 occurrences", an age range its complement);
* a measurement threshold becomes ``ValueAsNumber`` + ``Unit``, once per unit that converts to
  the rule's unit (Circe does not convert units; the values are converted here), grouped ANY;
  a ULN/LLN multiple becomes ``RangeHighRatio``/``RangeLowRatio``; the rule's window (or the
  look-back) becomes ``StartWindow``; age becomes a demographic ``Age`` criterion (years).

Circe semantics differ from ``match`` in three respects, each reported as a warning:

* *which measurement*: Circe asks for *a* measurement in the window that meets the threshold (an
  ``Occurrence`` of at least 1), ``match`` for the *most recent* one. Circe cannot say "the most
  recent": its only ordinal is ``First`` on a criterion (``row_number() over (partition by
  person_id order by measurement_date, measurement_id) = 1``, computed over the person's whole
  history before any value, unit or window filter -- checked in OHDSI's circe-be model as
  shipped by ohdsi-circepy 0.3), and correlated windows are relative to the index event, not to
  another measurement. So a person whose older in-window value meets the threshold and whose
  latest does not is in the Circe cohort and fails ``match``. Each measurement rule's
  description says so;
* population rules (``for subjects with Gilbert's syndrome``) are left out (only the default rules
  are exported), and exceptions are not expressed;
* a criterion whose rules ``match`` finds unknown is simply not met in Circe (no three-valued logic).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conversions import linear_conversion, molar_mass
from .results import Bounds, Logic, LogicNode, Threshold, TrialPlan, rule_ids

MOST_RECENT_NOTE = ("Circe counts any measurement in the window that meets the threshold; criteria-nlp match "
                    "uses the most recent one (Circe has no 'last occurrence' option)")
ENTRY_EVENT_NOTE = ("entry event: the start of the first observation period; replace it with the trial's "
                    "index event in ATLAS")
_NEGATED_OP = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt", "eq": "!eq", "!eq": "eq", "bt": "!bt", "!bt": "bt"}


@dataclass(frozen=True)
class Concept:
    concept_id: int
    code: str
    name: str
    vocabulary: str

    def to_circe(self) -> dict[str, Any]:
        unit = self.vocabulary == "UCUM"
        return {"CONCEPT_ID": self.concept_id, "CONCEPT_NAME": self.name, "STANDARD_CONCEPT": "S",
                "INVALID_REASON": "V", "CONCEPT_CODE": self.code,
                "DOMAIN_ID": "Unit" if unit else "Measurement", "VOCABULARY_ID": self.vocabulary,
                "CONCEPT_CLASS_ID": "Unit" if unit else "Lab Test"}


@dataclass
class Vocabulary:
    """Concepts by code (from a CDM's ``concept`` table, or placeholders with id 0), and the unit
    codes that measurements may come in."""

    loinc: dict[str, Concept]
    ucum: dict[str, Concept]
    units: dict[str, list[str]]  # LOINC code -> UCUM codes its measurements come in
    resolved: bool

    @classmethod
    def unresolved(cls, units: dict[str, list[str]]) -> "Vocabulary":
        codes = sorted({u for us in units.values() for u in us})
        return cls({c: Concept(0, c, c, "LOINC") for c in units},
                   {u: Concept(0, u, u, "UCUM") for u in codes}, units, False)


@dataclass
class CirceExport:
    expression: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def numeric_range(bounds: Bounds) -> dict[str, Any] | None:
    """Circe ``NumericRange`` of a threshold (``bt`` is inclusive in Circe)."""
    lo, hi = bounds.low, bounds.high
    if lo is not None and hi is not None:
        if lo == hi:
            return {"Value": lo, "Op": "eq"}
        return {"Value": lo, "Op": "bt", "Extent": hi}
    if lo is not None:
        return {"Value": lo, "Op": "gt" if bounds.low_strict else "gte"}
    if hi is not None:
        return {"Value": hi, "Op": "lt" if bounds.high_strict else "lte"}
    return None


def export_circe(plan: TrialPlan, vocabulary: Vocabulary) -> CirceExport:
    out = CirceExport({})
    if not vocabulary.resolved:
        out.warnings.append("concept ids not resolved (no --cdm): CONCEPT_ID is 0 in the concept sets and "
                            "units; ATLAS must resolve the codes")
    codes = sorted({t.source_key for t in plan.thresholds if t.kind == "measurement" and t.source_key})
    codeset = {code: i for i, code in enumerate(codes)}
    concept_sets = [
        {"id": i, "name": _concept(vocabulary.loinc, code, "LOINC").name,
         "expression": {"items": [{"concept": _concept(vocabulary.loinc, code, "LOINC").to_circe(),
                                   "isExcluded": False, "includeDescendants": True, "includeMapped": False}]}}
        for code, i in codeset.items()
    ]
    rules = []
    for crit in plan.criteria:
        if crit.population_logic is not None:
            out.warnings.append(f"{crit.id}: rules for a population the data cannot identify are left out")
        if crit.default_logic is None:
            continue
        group = _group(crit.default_logic, plan, codeset, vocabulary, out.warnings,
                       negate=crit.section == "exclusion")
        if group is None:
            continue
        texts = "; ".join(plan.threshold(r).text for r in rule_ids(crit.default_logic))
        if any(plan.threshold(r).kind == "measurement" for r in rule_ids(crit.default_logic)):
            texts = f"{texts[:700]} [{MOST_RECENT_NOTE}]"
        rules.append({"name": f"{crit.id} ({crit.section})", "description": texts[:1000], "expression": group})
    if any(t.kind == "measurement" for t in plan.thresholds):
        out.warnings.append(MOST_RECENT_NOTE)
    out.expression = {
        "ConceptSets": concept_sets,
        "PrimaryCriteria": {"CriteriaList": [{"ObservationPeriod": {}}],
                            "ObservationWindow": {"PriorDays": 0, "PostDays": 0},
                            "PrimaryCriteriaLimit": {"Type": "First"}},
        "QualifiedLimit": {"Type": "First"},
        "ExpressionLimit": {"Type": "First"},
        "InclusionRules": rules,
        "CensoringCriteria": [],
        "CollapseSettings": {"CollapseType": "ERA", "EraPad": 0},
        "CensorWindow": {},
        "Title": f"{plan.trial}: numeric eligibility thresholds ({ENTRY_EVENT_NOTE})"[:255],
    }
    return out


def _concept(table: dict[str, Concept], code: str, vocabulary: str) -> Concept:
    """The concept of a LOINC code, or of ``#<concept_id>`` (concept map: the id is known)."""
    if code in table:
        return table[code]
    if code.startswith("#"):
        return Concept(int(code[1:]), "", f"concept {code[1:]}", "")
    return Concept(0, code, code, vocabulary)


def _empty_group(kind: str) -> dict[str, Any]:
    return {"Type": kind, "CriteriaList": [], "DemographicCriteriaList": [], "Groups": []}


def _group(logic: Logic, plan: TrialPlan, codeset, vocabulary, warnings, negate: bool) -> dict[str, Any] | None:
    node = logic if isinstance(logic, LogicNode) else LogicNode("and", (logic,))
    kind = "ALL" if node.op == "and" else "ANY"
    if negate:
        kind = "ANY" if kind == "ALL" else "ALL"
    group = _empty_group(kind)
    for arg in node.args:
        if isinstance(arg, LogicNode):
            sub = _group(arg, plan, codeset, vocabulary, warnings, negate)
            if sub is not None:
                group["Groups"].append(sub)
            continue
        t = plan.threshold(arg)
        flip = negate != t.negated
        if t.exception:
            warnings.append(f"{t.rule_id}: its exception is not expressed")
        if t.kind == "age":
            age = _age_criterion(t, flip, warnings)
            if age is not None:
                group["DemographicCriteriaList"].append(age)
        elif t.kind == "measurement":
            group["Groups"].append(_measurement_group(t, codeset[t.source_key], vocabulary, flip, warnings))
        else:
            warnings.append(f"{t.rule_id}: not exported ({t.not_executable})")
    if not (group["CriteriaList"] or group["DemographicCriteriaList"] or group["Groups"]):
        return None
    return group


def _age_criterion(t: Threshold, negate: bool, warnings: list[str]) -> dict[str, Any] | None:
    if t.unit != "a":
        warnings.append(f"{t.rule_id}: Circe ages are in years; a threshold in {t.unit} is not exported")
        return None
    rng = numeric_range(t.bounds)
    if rng is None:
        return None
    if negate:
        rng = dict(rng, Op=_NEGATED_OP[rng["Op"]])
    return {"Age": rng}


def _measurement_group(t: Threshold, codeset_id: int, vocabulary: Vocabulary, negate: bool,
                       warnings: list[str]) -> dict[str, Any]:
    """ANY over the units a measurement may be in (ALL of "none" when negated)."""
    group = _empty_group("ALL" if negate else "ANY")
    window = {"Start": {"Days": abs(t.window.start_days), "Coeff": -1 if t.window.start_days <= 0 else 1},
              "End": {"Days": abs(t.window.end_days), "Coeff": -1 if t.window.end_days < 0 else 1},
              "UseIndexEnd": False, "UseEventEnd": False}
    occurrence = {"Type": 0, "Count": 0, "IsDistinct": False} if negate else {"Type": 2, "Count": 1, "IsDistinct": False}
    if t.bounds.low_strict != t.bounds.high_strict and t.bounds.low is not None and t.bounds.high is not None:
        warnings.append(f"{t.rule_id}: Circe ranges include both bounds")
    criteria = []
    if t.relative_to:
        key = "RangeHighRatio" if t.relative_to == "ULN" else "RangeLowRatio"
        criteria.append({"CodesetId": codeset_id, key: numeric_range(t.bounds)})
    else:
        mm = molar_mass(t.variable_name)
        for code in vocabulary.units.get(t.source_key or "", []):
            conv = linear_conversion(code, t.unit, mm)
            if conv is None or code not in vocabulary.ucum:
                continue
            criteria.append({"CodesetId": codeset_id,
                             "ValueAsNumber": numeric_range(_in_source_unit(t.bounds, *conv)),
                             "Unit": [vocabulary.ucum[code].to_circe()]})
        if not criteria:
            warnings.append(f"{t.rule_id}: no known unit converts to {t.unit}; exported without a unit filter")
            criteria.append({"CodesetId": codeset_id, "ValueAsNumber": numeric_range(t.bounds)})
    for measurement in criteria:
        group["CriteriaList"].append({"Criteria": {"Measurement": measurement}, "StartWindow": window,
                                      "RestrictVisit": False, "IgnoreObservationPeriod": False,
                                      "Occurrence": occurrence})
    return group


def _in_source_unit(bounds: Bounds, factor: float, offset: float) -> Bounds:
    """The bounds expressed in a source unit, given ``rule_value = source_value * factor + offset``."""
    def back(x: float | None) -> float | None:
        return None if x is None else float(f"{(x - offset) / factor:.6g}")
    if factor > 0:
        return Bounds(back(bounds.low), bounds.low_strict, back(bounds.high), bounds.high_strict)
    return Bounds(back(bounds.high), bounds.high_strict, back(bounds.low), bounds.low_strict)

