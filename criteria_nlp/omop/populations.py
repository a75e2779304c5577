"""Which population and exception conditions OMOP data can resolve, and how.

A condition's ``description`` (``men``, ``female``, ``children``, ``Gilbert's syndrome`` ...) becomes
a :class:`CondSpec` that the match query turns into a per-person membership (1 member, 0 not, NULL
unknown):

* sex (``men``, ``males``, ``women``, ``female`` ...) from ``person.gender_concept_id``: 8507 male,
  8532 female (the OMOP Gender vocabulary's standard concepts, the same in every release); any
  other value (0, 8551 unknown, 8521 other, NULL) is unknown. ``pre-/post-menopausal women``: a man
  is not a member, a woman is unknown (menopausal status is not resolved);
* age groups from the birth date at the index date (completed years): ``children``/``paediatric``
  below 18, ``adults`` 18 and over, ``elderly`` 65 and over; ``boys``/``girls`` = sex and below 18.
  A missing birth month/day gives both possible ages; if they disagree, unknown;
* a diagnosis only when the concept map (``--concept-map``, section ``conditions``) names a
  concept for it: member when ``condition_occurrence`` holds the concept or a descendant starting
  on or before the index date, not a member otherwise (the usual OMOP reading: no record = no
  condition);
* anything else (``liver metastases`` without a map entry, ``bleeding tendency`` ...) is not
  resolvable: the rule is matched as before (unknown unless the default rule already decides).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .conceptmap import ConceptMap, MappedConcept, normalise

MALE, FEMALE = 8507, 8532
ADULT_AGE = 18
ELDERLY_AGE = 65

_SEX_WORDS = {"men": MALE, "man": MALE, "male": MALE, "males": MALE,
              "women": FEMALE, "woman": FEMALE, "female": FEMALE, "females": FEMALE}
_AGE_WORDS = {"children": (None, ADULT_AGE), "child": (None, ADULT_AGE), "paediatric": (None, ADULT_AGE),
              "pediatric": (None, ADULT_AGE), "adults": (ADULT_AGE, None), "adult": (ADULT_AGE, None),
              "elderly": (ELDERLY_AGE, None)}
_SEX_AGE_WORDS = {"boys": (MALE, None, ADULT_AGE), "girls": (FEMALE, None, ADULT_AGE)}
_MENOPAUSE = re.compile(r"^(?:pre|post|peri)-?\s?menopausal (?:women|females?)$")
# words around a group that change nothing: "for (the) male patients", "in adult subjects"
_FILLER = {"the", "all", "patients", "patient", "subjects", "subject", "participants", "participant",
           "individuals", "persons", "people", "those"}


@dataclass(frozen=True)
class CondSpec:
    """A resolvable population/exception condition. ``key`` names its column in the SQL."""

    key: int
    kind: str  # "demographic" | "diagnosis"
    label: str  # what it means, for people: "sex male", "age < 18", "diagnosis SNOMED 27503000"
    sex: int | None = None
    sex_partial: bool = False  # the other sex is not a member; this sex is unknown
    age_low: int | None = None  # years, inclusive
    age_high: int | None = None  # years, exclusive
    concept: MappedConcept | None = None


def resolve(description: str | None, concept_map: ConceptMap, key: int) -> CondSpec | None:
    """The spec of a condition description, or None when OMOP data cannot resolve it."""
    if not description:
        return None
    text = normalise(description)
    words = [w for w in text.split() if w not in _FILLER]
    core = " ".join(words)
    if core in _SEX_WORDS:
        sex = _SEX_WORDS[core]
        return CondSpec(key, "demographic", f"sex {'male' if sex == MALE else 'female'}", sex=sex)
    if _MENOPAUSE.match(core):
        return CondSpec(key, "demographic", f"sex female ({core}: status not resolved)", sex=FEMALE, sex_partial=True)
    if core in _AGE_WORDS:
        low, high = _AGE_WORDS[core]
        return CondSpec(key, "demographic", _age_label(low, high), age_low=low, age_high=high)
    if core in _SEX_AGE_WORDS:
        sex, low, high = _SEX_AGE_WORDS[core]
        return CondSpec(key, "demographic", f"sex {'male' if sex == MALE else 'female'}, {_age_label(low, high)}",
                        sex=sex, age_low=low, age_high=high)
    mapped = concept_map.condition(description)
    if mapped is not None:
        name, concept = mapped
        return CondSpec(key, "diagnosis", f"diagnosis {name!r} ({concept.describe()})", concept=concept)
    return None


def _age_label(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"age {low} to {high - 1}"
    return f"age >= {low}" if low is not None else f"age < {high}"
