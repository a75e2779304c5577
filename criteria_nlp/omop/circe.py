"""Export a trial plan as an OHDSI Circe cohort expression (the JSON that ATLAS imports).

* one concept set per LOINC code (descendants included); concept ids come from a vocabulary when
  one is given, else ``CONCEPT_ID`` 0 with the code for ATLAS to resolve (and a warning);
* one ATLAS inclusion rule per criterion that has a rule Circe can express; the criterion's
  ``logic`` becomes ALL/ANY groups; an exclusion criterion is negated (De Morgan down to the
  leaves: a measurement leaf becomes "the most recent one is outside the threshold", an age range
  its complement);
* a measurement threshold becomes ``ValueAsNumber`` + ``Unit``, once per unit that converts to
  the rule's unit (Circe does not convert units; the values are converted here), grouped ANY;
  a ULN/LLN multiple becomes ``RangeHighRatio``/``RangeLowRatio``; the rule's window (or the
  look-back) becomes ``StartWindow``; age becomes a demographic ``Age`` criterion (years).

Circe semantics and ``match``'s:

* *which measurement*: ``match`` decides on the *most recent* measurement with a value in the
  window (ties: the later ``measurement_datetime``, then the larger ``measurement_id``). Circe has
  no "last occurrence" option (its only ordinal is ``First``), but a criterion's own nested
  ``CorrelatedCriteria`` take their windows relative to that criterion's event, so each
  ``Measurement`` criterion carries "at most 1 measurement with a value (itself) of the same
  concept set starting 0 to W days after it" (W = the span of the rule's window), bounded by
  the window's last day as a date with ``--index-date``. Exact, but for two measurements on the
  same day: neither is the most recent in Circe (read as unknown). Without ``--index-date`` a
  later measurement after the index date also counts (the nested window cannot refer to the
  cohort's index date). Each measurement rule's description says so;
* *unknown*: every leaf is written as "known to hold": a negated threshold (an exclusion rule, a
  population's complement) is "the most recent measurement is outside the threshold" (at least
  1 occurrence of the complementary range), not "no measurement meets it", so a person without
  a measurement is in neither; a criterion ``match`` finds unknown is not met in Circe.

Population and exception conditions are expressed where ``match`` resolves them (see
:mod:`.populations`): sex as a demographic ``Gender`` criterion (8507/8532), age groups as a
demographic ``Age`` (Circe's age is the index year minus the year of birth, not completed years),
a diagnosis as a ``ConditionOccurrence`` of its concept set (descendants included) starting on or
before the index date (at least 1 = member, exactly 0 = not). A criterion with population rules
becomes, for populations P1..Pn (text order) with rules L1..Ln and default rules D::

    ALL( ANY(not P1, L1), ANY(P1, not P2, L2), ..., ANY(P1, ..., Pn, D) )

("a member of Pi and of no earlier population meets Li; a person in none meets D"); an exclusion
criterion the same with each L and D negated (the person must not meet them). "Not Pi" is the
known complement (the other sex, the other ages, no diagnosis record), so a person whose
membership the data cannot tell (sex not recorded) must meet both branches -- Circe's reading of
``match``'s "unknown unless both agree". A rule under a resolvable exception E becomes
``ANY(E, rule)``. A population stated by a rule of the trial (a condition's ``rule``: ``if serum
creatinine at least 1.6 mg/dL``, the items under ``Age 18 and over:``) is that rule's threshold
(written as any rule: units, window, ULN ratio), so a conditioned rule L becomes ``ANY(not S,
L)``: "the stating rule is known not to hold, or L holds" (a person without S's measurement
must meet L, as ``match`` is unknown unless L holds). A stating rule under a population or
exception of its own states membership where it applies: members ``ALL(P, S)``, the others
``ANY(not P, not S)``. A population the data cannot identify (``liver metastases`` with no concept)
has neither side: everyone must meet its rules as well as the others -- again ``match``'s
"unknown unless both agree" read as "not met". Said with a warning: such populations, the
positive side of ``pre-/post-menopausal women`` (only "men are not members" is written), and
exceptions that cannot be identified (the rule then holds for everyone).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .conversions import linear_conversion, molar_mass
from .populations import FEMALE, MALE, CondSpec
from .results import Bounds, CriterionPlan, Logic, LogicNode, Threshold, TrialPlan, rule_ids

MOST_RECENT_NOTE = ("Circe takes the most recent measurement as the only measurement with a value of its concept "
                    "set on its day and in the window's span after it (nested criteria): two on the same day make "
                    "neither the most recent (criteria-nlp match takes the later measurement_datetime, then the "
                    "larger measurement_id)")
LATER_AFTER_INDEX_NOTE = ("without --index-date a later measurement after the index date (within the window's span) "
                          "also keeps an earlier one from being the most recent in Circe; criteria-nlp match "
                          "does not look past the window")
#: ``value_as_number NOT BETWEEN 1 AND 0``: true for every number, false for NULL (an empty range),
#: so that a measurement without a value is never the most recent one (match skips those).
HAS_VALUE = {"Value": 1, "Op": "!bt", "Extent": 0}
ANY_MEASUREMENT_NOTE = ("Circe counts any measurement in the window that meets the threshold (--any-measurement); "
                        "criteria-nlp match uses the most recent one")
ENTRY_EVENT_NOTE = ("entry event: the start of the first observation period; replace it with the trial's "
                    "index event in ATLAS")
AGE_NOTE = "Circe's age is the index year minus the year of birth (match: completed years at the index date)"
_NEGATED_OP = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt", "eq": "!eq", "!eq": "eq", "bt": "!bt", "!bt": "bt"}


@dataclass(frozen=True)
class Concept:
    concept_id: int
    code: str
    name: str
    vocabulary: str
    domain: str | None = None  # default: Unit for UCUM, else Measurement
    concept_class: str | None = None

    def to_circe(self) -> dict[str, Any]:
        unit = self.vocabulary == "UCUM"
        return {"CONCEPT_ID": self.concept_id, "CONCEPT_NAME": self.name, "STANDARD_CONCEPT": "S",
                "INVALID_REASON": "V", "CONCEPT_CODE": self.code,
                "DOMAIN_ID": self.domain or ("Unit" if unit else "Measurement"), "VOCABULARY_ID": self.vocabulary,
                "CONCEPT_CLASS_ID": self.concept_class or ("Unit" if unit else "Lab Test")}


#: The OMOP Gender vocabulary's standard concepts (the same ids in every release).
GENDER = {MALE: Concept(MALE, "M", "MALE", "Gender", "Gender", "Gender"),
          FEMALE: Concept(FEMALE, "F", "FEMALE", "Gender", "Gender", "Gender")}


@dataclass
class Vocabulary:
    """Concepts by code (from a CDM's ``concept`` table, or placeholders with id 0), and the unit
    codes that measurements may come in."""

    loinc: dict[str, Concept]
    ucum: dict[str, Concept]
    units: dict[str, list[str]]  # LOINC code -> UCUM codes its measurements come in
    resolved: bool
    diagnoses: dict[int, Concept] = field(default_factory=dict)  # condition key -> its concept

    @classmethod
    def unresolved(cls, units: dict[str, list[str]]) -> "Vocabulary":
        codes = sorted({u for us in units.values() for u in us})
        return cls({c: Concept(0, c, c, "LOINC") for c in units},
                   {u: Concept(0, u, u, "UCUM") for u in codes}, units, False)

    def diagnosis(self, spec: CondSpec) -> Concept:
        """The concept of a diagnosis condition: from the CDM when resolved, else its id or a
        placeholder (id 0 with the code, for ATLAS to resolve)."""
        if spec.key in self.diagnoses:
            return self.diagnoses[spec.key]
        concept = spec.concept
        if concept is not None and concept.concept_id is not None:
            return Concept(concept.concept_id, "", f"concept {concept.concept_id}", "", "Condition", "Clinical Finding")
        code, vocabulary = (concept.code or "", concept.vocabulary or "") if concept is not None else ("", "")
        return Concept(0, code, spec.label, vocabulary, "Condition", "Clinical Finding")


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


def export_circe(plan: TrialPlan, vocabulary: Vocabulary, index_date: str | None = None,
                 most_recent: bool = True) -> CirceExport:
    """The cohort expression of ``plan``. ``index_date`` (YYYY-MM-DD, ``export --index-date``)
    makes the entry event that date for every person observed on it, as ``match --index-date``;
    without it the entry event is the start of the first observation period. ``most_recent``:
    each measurement criterion is the most recent one of its window (nested criteria, see the
    module's docstring); False: any measurement in the window (cheaper SQL, further from match)."""
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
    ctx = _Context(plan, codeset, vocabulary, out.warnings, concept_sets, most_recent=most_recent,
                   index_date=index_date)
    measurement_note = MOST_RECENT_NOTE if most_recent else ANY_MEASUREMENT_NOTE
    rules = []
    for crit in plan.criteria:
        group, texts = _criterion_group(crit, ctx)
        if group is None:
            continue
        rule_list = rule_ids(crit.default_logic) + rule_ids(crit.population_logic)
        notes = []
        if any(plan.threshold(r).kind == "measurement" for r in rule_list):
            notes.append(measurement_note)
        if ctx.age_used.pop(crit.id, False):
            notes.append(AGE_NOTE)
        description = texts[:700] + "".join(f" [{n}]" for n in notes)
        rules.append({"name": f"{crit.id} ({crit.section})", "description": description[:1000], "expression": group})
    if any(t.kind == "measurement" for t in plan.thresholds):
        out.warnings.append(measurement_note)
        if most_recent and index_date is None:
            out.warnings.append(LATER_AFTER_INDEX_NOTE)
    if ctx.any_age:
        out.warnings.append(AGE_NOTE)
    if index_date is not None:
        entry = {"ObservationPeriod": {"UserDefinedPeriod": {"StartDate": index_date, "EndDate": index_date}}}
        title = f"{plan.trial}: numeric eligibility thresholds at index date {index_date}"
        out.warnings.append(f"entry event: {index_date} for every person with an observation period covering it "
                            "(match --index-date evaluates every person of the person table)")
    else:
        entry = {"ObservationPeriod": {}}
        title = f"{plan.trial}: numeric eligibility thresholds ({ENTRY_EVENT_NOTE})"
    out.expression = {
        "ConceptSets": concept_sets,
        "PrimaryCriteria": {"CriteriaList": [entry],
                            "ObservationWindow": {"PriorDays": 0, "PostDays": 0},
                            "PrimaryCriteriaLimit": {"Type": "First"}},
        "QualifiedLimit": {"Type": "First"},
        "ExpressionLimit": {"Type": "First"},
        "InclusionRules": rules,
        "CensoringCriteria": [],
        "CollapseSettings": {"CollapseType": "ERA", "EraPad": 0},
        "CensorWindow": {},
        "Title": title[:255],
    }
    return out


@dataclass
class _Context:
    """What the group builders share: the plan, concept sets (measurements by code; diagnoses
    added as they are used) and the warnings."""

    plan: TrialPlan
    codeset: dict[str, int]
    vocabulary: Vocabulary
    warnings: list[str]
    concept_sets: list[dict[str, Any]]
    diagnosis_sets: dict[int, int] = field(default_factory=dict)  # condition key -> concept set id
    age_used: dict[str, bool] = field(default_factory=dict)  # criterion id -> a Circe age was written
    any_age: bool = False
    criterion: str = ""
    most_recent: bool = True  # measurement criteria carry the nested "no later measurement"
    index_date: str | None = None  # export --index-date: bounds the later measurements absolutely

    def condition(self, key: int | None) -> CondSpec | None:
        return self.plan.condition(key)

    def diagnosis_set(self, spec: CondSpec) -> int:
        if spec.key not in self.diagnosis_sets:
            concept = self.vocabulary.diagnosis(spec)
            set_id = len(self.concept_sets)
            self.concept_sets.append({"id": set_id, "name": concept.name, "expression": {"items": [
                {"concept": concept.to_circe(), "isExcluded": False, "includeDescendants": True,
                 "includeMapped": False}]}})
            self.diagnosis_sets[spec.key] = set_id
            if concept.concept_id == 0:
                self.warnings.append(f"diagnosis {spec.label}: concept id not resolved (no --cdm); ATLAS must "
                                     "resolve the code")
        return self.diagnosis_sets[spec.key]

    def used_age(self) -> None:
        self.age_used[self.criterion] = True
        self.any_age = True


def _criterion_group(crit: CriterionPlan, ctx: _Context) -> tuple[dict[str, Any] | None, str]:
    """The inclusion rule of one criterion (None when Circe can express none of it) and the text
    of the rules it holds."""
    ctx.criterion = crit.id
    negate = crit.section == "exclusion"
    plan = ctx.plan
    clauses, texts, earlier = [], [], []
    for g in crit.groups:
        spec = ctx.condition(g.key)
        rules = _group(g.logic, plan, ctx, negate)
        if rules is None:
            continue
        text = "; ".join(plan.threshold(r).text for r in rule_ids(g.logic))
        if spec is None:  # nobody's membership is known: everyone must meet the rules (as match's "both agree")
            ctx.warnings.append(f"{crit.id}: the population {g.description[:80]!r} cannot be identified in the data: "
                                "in Circe everyone must meet its rules as well as the others (match: unknown unless "
                                "both agree)")
            clauses.append(_any_of(earlier + [rules]))
            texts.append(f"for {g.description[:80]} (not identified in the data: required of everyone): {text}")
            continue
        escapes = [m for m in [_membership(spec, False, ctx)] + earlier if m is not None]
        clauses.append(_any_of(escapes + [rules]))
        texts.append(f"for {g.description[:80]}: {text}")
        member = _membership(spec, True, ctx)
        if member is None:
            ctx.warnings.append(f"{crit.id}: Circe cannot tell who is in {g.description[:80]!r} ({spec.label}): "
                                "everyone not known to be outside it must meet its rules")
        else:
            earlier.append(member)
    if crit.default_logic is not None:
        rules = _group(crit.default_logic, plan, ctx, negate)
        if rules is not None:
            clauses.append(_any_of(earlier + [rules]))
            text = "; ".join(plan.threshold(r).text for r in rule_ids(crit.default_logic))
            texts.append(f"otherwise: {text}" if crit.groups else text)
    if not clauses:
        return None, ""
    return _all_of(clauses), " | ".join(texts)


def _any_of(groups: list[dict[str, Any]]) -> dict[str, Any]:
    return _combined("ANY", groups)


def _all_of(groups: list[dict[str, Any]]) -> dict[str, Any]:
    return _combined("ALL", groups)


def _combined(kind: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A group of ``kind`` over ``groups`` (the group itself when there is one)."""
    if len(groups) == 1:
        return groups[0]
    group = _empty_group(kind)
    group["Groups"] = groups
    return group


def _membership(spec: CondSpec, member: bool, ctx: _Context) -> dict[str, Any] | None:
    """A Circe group that holds for persons known to be members (``member``) or known not to be;
    None when Circe cannot tell (the positive side of ``pre-/post-menopausal women``). A population
    stated by a rule: that rule's threshold holds (members) or does not (the others)."""
    if spec.kind == "rule":
        return _stated_membership(ctx.plan.threshold(spec.rule_id), member, ctx)
    sex = spec.sex
    if sex is not None and spec.sex_partial and member:
        return None
    parts: list[dict[str, Any]] = []  # demographic criteria
    if sex is not None and not spec.sex_partial or sex is not None and not member:
        parts.append({"Gender": [GENDER[sex if member else (FEMALE if sex == MALE else MALE)].to_circe()]})
    if spec.age_low is not None or spec.age_high is not None:
        ctx.used_age()
        low, high = spec.age_low, spec.age_high
        if member:
            if low is not None and high is not None:
                parts.append({"Age": {"Value": low, "Op": "bt", "Extent": high - 1}})
            else:
                parts.append({"Age": {"Value": low, "Op": "gte"} if low is not None else {"Value": high, "Op": "lt"}})
        else:
            if low is not None:
                parts.append({"Age": {"Value": low, "Op": "lt"}})
            if high is not None:
                parts.append({"Age": {"Value": high, "Op": "gte"}})
    group = _empty_group("ALL" if member else "ANY")
    group["DemographicCriteriaList"] = parts
    if spec.kind == "diagnosis":
        occurrence = {"Type": 2, "Count": 1, "IsDistinct": False} if member else {"Type": 0, "Count": 0, "IsDistinct": False}
        group["CriteriaList"].append({
            "Criteria": {"ConditionOccurrence": {"CodesetId": ctx.diagnosis_set(spec)}},
            "StartWindow": {"Start": {"Coeff": -1}, "End": {"Days": 0, "Coeff": 1},
                            "UseIndexEnd": False, "UseEventEnd": False},
            "RestrictVisit": False, "IgnoreObservationPeriod": True, "Occurrence": occurrence})
    if not (group["CriteriaList"] or group["DemographicCriteriaList"]):
        return None
    return group


def _stated_membership(stating: Threshold, member: bool, ctx: _Context,
                       seen: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """Membership of a population stated by the rule ``stating``, as ``match`` reads it: members
    are the persons the rule applies to (its own population, outside its exception) and holds for;
    the others those it is known not to apply to or known not to hold for. None when Circe cannot
    tell anyone's (a population of the rule that cannot be identified, a circular statement)."""
    if stating.rule_id in seen:
        return None
    holds = _leaf(stating, not member, ctx)
    if holds is None:
        return None
    within = []  # (group when the rule applies, group when it does not) of each of its own conditions
    if stating.population:
        within.append(_condition_sides(stating.population_key, seen | {stating.rule_id}, ctx, applies_if=True))
    if stating.exception:
        within.append(_condition_sides(stating.exception_key, seen | {stating.rule_id}, ctx, applies_if=False))
    if member:
        parts = [applies for applies, _ in within]
        if any(p is None for p in parts):
            return None
        return _all_of(parts + [holds])
    return _any_of([outside for _, outside in within if outside is not None] + [holds])


def _condition_sides(key: int | None, seen: frozenset[str], ctx: _Context,
                     applies_if: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the group of persons a condition makes a rule apply to, the group it makes it not apply
    to): members and the others of a population (``applies_if``), the reverse for an exception."""
    spec = ctx.condition(key)
    if spec is None:
        return None, None
    if spec.kind == "rule":
        sides = (_stated_membership(ctx.plan.threshold(spec.rule_id), True, ctx, seen),
                 _stated_membership(ctx.plan.threshold(spec.rule_id), False, ctx, seen))
    else:
        sides = (_membership(spec, True, ctx), _membership(spec, False, ctx))
    return sides if applies_if else (sides[1], sides[0])


def _concept(table: dict[str, Concept], code: str, vocabulary: str) -> Concept:
    """The concept of a LOINC code, or of ``#<concept_id>`` (concept map: the id is known)."""
    if code in table:
        return table[code]
    if code.startswith("#"):
        return Concept(int(code[1:]), "", f"concept {code[1:]}", "")
    return Concept(0, code, code, vocabulary)


def _empty_group(kind: str) -> dict[str, Any]:
    return {"Type": kind, "CriteriaList": [], "DemographicCriteriaList": [], "Groups": []}


def _group(logic: Logic, plan: TrialPlan, ctx: _Context, negate: bool) -> dict[str, Any] | None:
    node = logic if isinstance(logic, LogicNode) else LogicNode("and", (logic,))
    kind = "ALL" if node.op == "and" else "ANY"
    if negate:
        kind = "ANY" if kind == "ALL" else "ALL"
    group = _empty_group(kind)
    for arg in node.args:
        if isinstance(arg, LogicNode):
            sub = _group(arg, plan, ctx, negate)
            if sub is not None:
                group["Groups"].append(sub)
            continue
        t = plan.threshold(arg)
        leaf = _leaf(t, negate, ctx)
        if leaf is None:
            continue
        exception = ctx.condition(t.exception_key) if t.exception else None
        escape = _membership(exception, True, ctx) if exception is not None else None
        if t.exception and escape is None:
            ctx.warnings.append(f"{t.rule_id}: its exception ({(t.exception_desc or '')[:80]!r}) is not expressed: "
                                "the rule holds for everyone in Circe")
        if escape is not None:  # the rule does not count for persons in the exception
            group["Groups"].append(_any_of([escape, leaf]))
        elif leaf["DemographicCriteriaList"] and not leaf["Groups"] and not leaf["CriteriaList"]:
            group["DemographicCriteriaList"] += leaf["DemographicCriteriaList"]
        else:
            group["Groups"].append(leaf)
    if not (group["CriteriaList"] or group["DemographicCriteriaList"] or group["Groups"]):
        return None
    return group


def _leaf(t: Threshold, negate: bool, ctx: _Context) -> dict[str, Any] | None:
    """The group that holds when rule ``t``'s statement (its negation applied) is known to hold,
    or with ``negate`` known not to hold; None when Circe cannot express the rule (a warning)."""
    flip = negate != t.negated
    if t.kind == "age":
        age = _age_criterion(t, flip, ctx.warnings)
        if age is None:
            return None
        ctx.used_age()
        leaf = _empty_group("ALL")
        leaf["DemographicCriteriaList"].append(age)
        return leaf
    if t.kind == "measurement":
        return _measurement_group(t, ctx.codeset[t.source_key], ctx, flip)
    ctx.warnings.append(f"{t.rule_id}: not exported ({t.not_executable})")
    return None


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


def _measurement_group(t: Threshold, codeset_id: int, ctx: _Context, negate: bool) -> dict[str, Any]:
    """ANY over the units a measurement may be in. Negated: with the most recent measurement, ANY
    over the units of "the most recent one is outside the threshold" (known not to hold, as
    match's not_met: no measurement is not known); with --any-measurement, ALL of "no
    measurement in the window meets it"."""
    complement = negate and ctx.most_recent
    group = _empty_group("ALL" if negate and not complement else "ANY")
    window = {"Start": {"Days": abs(t.window.start_days), "Coeff": -1 if t.window.start_days <= 0 else 1},
              "End": {"Days": abs(t.window.end_days), "Coeff": -1 if t.window.end_days < 0 else 1},
              "UseIndexEnd": False, "UseEventEnd": False}
    occurrence = ({"Type": 0, "Count": 0, "IsDistinct": False} if negate and not complement
                  else {"Type": 2, "Count": 1, "IsDistinct": False})
    if t.bounds.low_strict != t.bounds.high_strict and t.bounds.low is not None and t.bounds.high is not None:
        ctx.warnings.append(f"{t.rule_id}: Circe ranges include both bounds")

    def values(bounds: Bounds) -> dict[str, Any] | None:
        rng = numeric_range(bounds)
        return dict(rng, Op=_NEGATED_OP[rng["Op"]]) if complement and rng is not None else rng
    criteria = []
    if t.relative_to:
        key = "RangeHighRatio" if t.relative_to == "ULN" else "RangeLowRatio"
        criteria.append({"CodesetId": codeset_id, key: values(t.bounds)})
    else:
        mm = molar_mass(t.variable_name)
        for code in ctx.vocabulary.units.get(t.source_key or "", []):
            conv = linear_conversion(code, t.unit, mm)
            if conv is None or code not in ctx.vocabulary.ucum:
                continue
            criteria.append({"CodesetId": codeset_id,
                             "ValueAsNumber": values(_in_source_unit(t.bounds, *conv)),
                             "Unit": [ctx.vocabulary.ucum[code].to_circe()]})
        if not criteria:
            ctx.warnings.append(f"{t.rule_id}: no known unit converts to {t.unit}; exported without a unit filter"
                                if t.unit else f"{t.rule_id}: a rule without a unit; exported without a unit filter")
            criteria.append({"CodesetId": codeset_id, "ValueAsNumber": values(t.bounds)})
    latest = _no_later_measurement(codeset_id, t, ctx.index_date) if ctx.most_recent else None
    for measurement in criteria:
        if latest is not None:
            measurement["CorrelatedCriteria"] = latest
        group["CriteriaList"].append({"Criteria": {"Measurement": measurement}, "StartWindow": window,
                                      "RestrictVisit": False, "IgnoreObservationPeriod": False,
                                      "Occurrence": occurrence})
    return group


def _no_later_measurement(codeset_id: int, t: Threshold, index_date: str | None) -> dict[str, Any]:
    """The nested criteria that make a measurement the most recent one of rule ``t``'s window: at
    most 1 measurement with a value (itself) of the same concept set starting 0 to W days after
    it, W the window's span (a criterion's own ``CorrelatedCriteria`` take their window relative
    to that criterion's event). With ``index_date`` the later ones are also bounded by the
    window's last day (a date: the nested window cannot refer to the cohort's index date)."""
    later: dict[str, Any] = {"CodesetId": codeset_id, "ValueAsNumber": dict(HAS_VALUE)}
    if index_date is not None:
        last_day = dt.date.fromisoformat(index_date) + dt.timedelta(days=t.window.end_days)
        later["OccurrenceStartDate"] = {"Value": last_day.isoformat(), "Op": "lte"}
    group = _empty_group("ALL")
    group["CriteriaList"].append({
        "Criteria": {"Measurement": later},
        "StartWindow": {"Start": {"Days": 0, "Coeff": 1},
                        "End": {"Days": t.window.end_days - t.window.start_days, "Coeff": 1},
                        "UseIndexEnd": False, "UseEventEnd": False},
        "RestrictVisit": False, "IgnoreObservationPeriod": True,
        "Occurrence": {"Type": 1, "Count": 1, "IsDistinct": False}})
    return group


def _in_source_unit(bounds: Bounds, factor: float, offset: float) -> Bounds:
    """The bounds expressed in a source unit, given ``rule_value = source_value * factor + offset``."""
    def back(x: float | None) -> float | None:
        return None if x is None else float(f"{(x - offset) / factor:.6g}")
    if factor > 0:
        return Bounds(back(bounds.low), bounds.low_strict, back(bounds.high), bounds.high_strict)
    return Bounds(back(bounds.high), bounds.high_strict, back(bounds.low), bounds.low_strict)

