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
* a diagnosis when the concept map (``--concept-map``, section ``conditions``) names a concept
  for it, or else (:class:`ConceptNames`, unless ``--no-name-lookup``) when the CDM's vocabulary
  has exactly one standard, valid Condition concept whose name -- or, failing that, one of whose
  ``concept_synonym`` names -- is the description itself once a few leading words are dropped
  (``if``, ``for subjects with``, ``due to known`` ...), compared without case, punctuation or
  hyphens, and failing that with the last word in the other number (``liver metastasis`` /
  ``liver metastases``): member when
  ``condition_occurrence`` holds the concept or a descendant starting on or before the index date,
  not a member otherwise (the usual OMOP reading: no record = no condition);
* a population stated by a numeric rule of the trial (the condition's ``rule``, schema 1.2:
  ``(if serum creatinine at least 1.6 mg/dL)``, the items under ``Age 18 and over:``):
  :func:`stated_by_rule`; membership is that rule's verdict (:func:`criteria_nlp.omop.query._member`);
* a person other than the patient (``Donor``, ``sibling donor``, ``Parent or legal guardian``: the
  threshold is that person's) is never resolved, not even by name: the rule stays unknown;
* anything else (``liver metastases`` when the vocabulary has no concept of that exact name or
  synonym, ``bleeding tendency`` ...) is not resolvable: the rule is matched as before (unknown
  unless the default rule already decides).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

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


@lru_cache(maxsize=1)
def _other_person_nouns() -> frozenset[str]:
    """Head nouns of the persons other than the patient (``other_persons`` in the extractor's
    ``resources/population_words.json``, read without importing the spaCy components)."""
    data = json.loads(resources.files("criteria_nlp.resources").joinpath("population_words.json").read_text("utf-8"))
    return frozenset(p.split()[-1].lower() for p in data["other_persons"])


def names_another_person(core: str) -> bool:
    """Whether a normalised description's head noun is a person other than the patient ("sibling
    donor", "parent or legal guardian"), singular or plural."""
    words = core.split()
    return bool(words) and any(words[-1] in (n, n + "s", n + "es") for n in _other_person_nouns())


@dataclass(frozen=True)
class CondSpec:
    """A resolvable population/exception condition. ``key`` names its column in the SQL."""

    key: int
    kind: str  # "demographic" | "diagnosis" | "rule"
    label: str  # what it means, for people: "sex male", "age < 18", "diagnosis SNOMED 27503000"
    sex: int | None = None
    sex_partial: bool = False  # the other sex is not a member; this sex is unknown
    age_low: int | None = None  # years, inclusive
    age_high: int | None = None  # years, exclusive
    concept: MappedConcept | None = None
    rule_id: str | None = None  # kind "rule": the rule whose threshold states the population


def stated_by_rule(key: int, rule_id: str) -> CondSpec:
    """A population stated by a numeric rule of the trial (a condition's ``rule``, schema 1.2):
    its members are the persons for whom that rule is met (evaluated like any rule)."""
    return CondSpec(key, "rule", f"rule {rule_id} met", rule_id=rule_id)


def resolve(description: str | None, concept_map: ConceptMap, key: int,
            names: "ConceptNames | None" = None) -> CondSpec | None:
    """The spec of a condition description, or None when OMOP data cannot resolve it. ``names``
    looks a diagnosis up by name in the CDM's vocabulary when the concept map has no entry."""
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
    if _ABSENCE_WORDS.intersection(words):
        return None  # "in patients without atrial fibrillation": the absence of a diagnosis is not looked up
    if names_another_person(core):
        return None  # "Donor", "sibling donor": the threshold is another person's, never the patient's
    mapped = concept_map.condition(description)
    if mapped is not None:
        name, concept = mapped
        return CondSpec(key, "diagnosis", f"diagnosis {name!r} ({concept.describe()})", concept=concept)
    found = names.lookup(description) if names is not None else None
    if found is not None:
        return CondSpec(key, "diagnosis", f"diagnosis {found.name!r} (concept_id {found.concept_id}, by its "
                        f"{found.how} in the CDM's vocabulary)", concept=MappedConcept(concept_id=found.concept_id))
    return None


# ------------------------------------------------------------------------------ names in the vocabulary
#: Words dropped from the start of a description before its name is looked up: "if liver
#: metastases", "for subjects with Gilbert's syndrome", "due to known Gilbert syndrome".
_LEADING = {"in", "for", "if", "with", "who", "have", "has", "had", "having", "due", "to", "known", "documented",
            "diagnosed", "a", "an", "of"} | _FILLER
#: A description with one of these words names the absence of a condition: it resolves to nothing.
_ABSENCE_WORDS = {"no", "not", "non", "without", "free", "absent", "absence", "negative"}
#: ... or, with these, a kind of a condition: never looked up by name.
_NOT_A_NAME = _ABSENCE_WORDS | {"except", "other", "or", "and", "history", "suspected", "possible", "probable"}


#: How a name may match, tried in this order; the first that finds a concept decides (one: found;
#: more: ambiguous, nothing found): ``(table of the index, the name's other number of its last word)``
_MATCHES = (("name", False), ("synonym", False), ("name", True), ("synonym", True))


@dataclass(frozen=True)
class NamedConcept:
    concept_id: int
    name: str  # the concept's name in the vocabulary
    how: str  # how it was found: "name", "synonym", "name, its last word in the other number", ...


class ConceptNames:
    """Diagnoses looked up by name in a CDM's vocabulary (``concept``, ``concept_synonym``).

    A description resolves to a concept only when, after the leading words of :data:`_LEADING`,
    what is left (``liver metastases``) equals the ``concept_name`` of exactly one concept with
    ``domain_id = 'Condition'``, ``standard_concept = 'S'`` and no ``invalid_reason``; else, when
    the CDM has ``concept_synonym``, a ``concept_synonym_name`` of exactly one such concept; else
    the same two with the last word in the other number (:func:`other_numbers`: ``metastasis`` /
    ``metastases``, ``polyps`` / ``polyp``). Both sides are compared after :func:`name_key` (lower
    case, punctuation and hyphens as spaces, ``'s`` and ``'`` dropped: "Gilbert's syndrome" =
    "Gilbert syndrome", "non-small-cell" = "non small cell"). No other stemming, no partial or
    fuzzy match; the first of these that finds several concepts makes the name ambiguous, and it
    resolves nothing.

    The names of the standard Condition concepts (and their synonyms) are read once, on the first
    look-up, in two queries -- about 100,000 concepts and a few hundred thousand synonyms in a
    full OHDSI vocabulary -- so that a file of many trials costs one scan, not one per name. Every
    outcome is kept in :attr:`outcomes` for the notes on stderr."""

    def __init__(self, db) -> None:
        self.db = db
        self.has_synonyms = db.has_table("concept_synonym")
        self.outcomes: dict[str, tuple[str, NamedConcept | None, int, str]] = {}  # text -> (looked up, found, n, how)
        self._index: dict[str, dict[str, dict[int, str]]] | None = None  # how -> key -> {concept_id: name}

    def lookup(self, description: str) -> NamedConcept | None:
        name = name_of(description)
        if name is None:
            return None
        if name not in self.outcomes:
            self.outcomes[name] = (name, *self._find(name))
        return self.outcomes[name][1]

    def _load(self) -> dict[str, dict[str, dict[int, str]]]:
        standard = "c.domain_id = 'Condition' AND c.standard_concept = 'S' AND c.invalid_reason IS NULL"
        queries = {"name": f"SELECT c.concept_id, c.concept_name, c.concept_name FROM concept AS c WHERE {standard}"}
        if self.has_synonyms:
            queries["synonym"] = (f"SELECT c.concept_id, c.concept_name, s.concept_synonym_name FROM concept_synonym "
                                  f"AS s JOIN concept AS c ON c.concept_id = s.concept_id WHERE {standard}")
        index: dict[str, dict[str, dict[int, str]]] = {}
        for how, sql in queries.items():
            table = index[how] = {}
            for concept_id, concept_name, text in self.db.select(sql):
                if text:
                    table.setdefault(name_key(str(text)), {})[int(concept_id)] = str(concept_name)
        return index

    def _find(self, name: str) -> tuple[NamedConcept | None, int, str]:
        """``(the concept found, how many concepts the deciding match found, how it matched)``."""
        if self._index is None:
            self._index = self._load()
        key = name_key(name)
        keys = {False: [key], True: other_numbers(key)}
        for table, other_number in _MATCHES:
            found = {cid: cname for k in keys[other_number] for cid, cname in self._index.get(table, {}).get(k, {}).items()}
            how = f"{table}, its last word in the other number" if other_number else table
            if len(found) == 1:
                (concept_id, concept_name), = found.items()
                return NamedConcept(concept_id, concept_name, how), 1, how
            if found:
                return None, len(found), how
        return None, 0, ""

    def notes(self) -> list[str]:
        """One sentence per description looked up: what it resolved to, or why not."""
        out = []
        for name, found, n, how in self.outcomes.values():
            if found is not None:
                out.append(f"{name!r} is the Condition concept {found.concept_id} {found.name!r} (by its {found.how})")
            elif n > 1:
                by = "" if how == "name" else f" (by their {how})"
                out.append(f"{name!r} names {n} standard Condition concepts{by}: ambiguous, not resolved")
            else:
                out.append(f"{name!r}: no standard Condition concept has this name"
                           + (" or synonym" if self.has_synonyms else " (the CDM has no concept_synonym table)"))
        return out


def name_key(text: str) -> str:
    """What two names are compared by: :func:`normalise`, then ``'s`` and ``'`` dropped and
    hyphens made spaces."""
    return " ".join(normalise(text).replace("'s", "").replace("'", "").replace("-", " ").split())


@lru_cache(maxsize=1)
def _number_endings() -> tuple[int, tuple[tuple[str, str], ...]]:
    """``(shortest stem, ((plural ending, singular ending), ...))`` of ``resources/name_number.json``."""
    data = json.loads(resources.files("criteria_nlp.resources").joinpath("name_number.json").read_text("utf-8"))
    return int(data["min_stem"]), tuple((str(plural), str(singular)) for plural, singular in data["endings"])


def other_numbers(key: str) -> list[str]:
    """``key`` (a :func:`name_key`) with its last word in the other number: each ending of
    ``resources/name_number.json`` that the word ends in replaced by its counterpart, both ways
    (``liver metastasis`` -> ``liver metastases``, ... ; forms that are no English word are
    harmless: they match no concept)."""
    head, _, last = key.rpartition(" ")
    min_stem, endings = _number_endings()
    words = []
    for ending, counterpart in [*endings, *((s, p) for p, s in endings)]:
        if last.endswith(ending) and len(last) - len(ending) >= min_stem and last.isalpha():
            words.append(last[:len(last) - len(ending)] + counterpart)
    return [f"{head} {word}".strip() for word in dict.fromkeys(words) if word != last]


def name_of(description: str) -> str | None:
    """The name looked up for a description (leading words dropped), or None when it is not
    the plain name of a condition."""
    words = normalise(description).split()
    while words and words[0] in _LEADING:
        words = words[1:]
    if not words or any(w in _NOT_A_NAME for w in words) or any(ch.isdigit() for ch in "".join(words)):
        return None
    return " ".join(words)


def _age_label(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"age {low} to {high - 1}"
    return f"age >= {low}" if low is not None else f"age < {high}"
