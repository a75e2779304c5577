"""Labels that name a group of people ("PEDIATRIC PATIENTS:", "Healthy volunteers:", "Patients with
cystic fibrosis (CF):"), read from ``resources/population_words.json``. Shared by the structure
parser (a group label inside a field is no field of its own) and the conditions component (a group
label is the population of what it labels)."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

# a label's words after its head noun: "RELATIVES OF ...", "PATIENTS WITH ...", "COHORT 1", "(CF)"
_AFTER_HEAD = re.compile(r"\s+(?:(?i:of|with|without|who|in|on|for|receiving|undergoing|meeting|not|aged?)\b.*|\d{1,3}|[A-Z]|[IVX]{1,4})$",
                         re.DOTALL)
_ALIAS = re.compile(r"[ \t]*\([^()]{1,20}\)[ \t]*$")


@lru_cache(maxsize=1)
def _words() -> dict:
    return json.loads(resources.files("criteria_nlp.resources").joinpath("population_words.json").read_text("utf-8"))


def _alternatives(phrases) -> str:
    return "|".join(p.replace(" ", r"[ \t]+") for p in sorted(phrases, key=len, reverse=True))


@lru_cache(maxsize=1)
def group_noun() -> re.Pattern:
    """A noun naming people or a group of them, singular or plural."""
    return re.compile(rf"(?:{_alternatives(_words()['group_nouns'])})(?:e?s)?", re.IGNORECASE)


@lru_cache(maxsize=1)
def site_noun() -> re.Pattern:
    """A noun naming where a limit holds (a lesion, a node, a site), singular or plural."""
    return re.compile(rf"(?:{_alternatives(_words()['site_nouns'])})(?:e?s)?", re.IGNORECASE)


_NOT_A_MODIFIER = r"(?!(?:a|an|the|his|her|their|must|have|has|had|be|is|are|with|and|or|of|to|for|from|by|no|not)\b)"
# what may follow a person other than the patient when the threshold after it is that person's: an age,
# a modal or a copula, "with", a parenthesis
_PERSON_THEN_PREDICATE = (r"(?=[ \t]*\([ \t]*(?:aged?|ages)\b|[ \t]+(?:aged?|ages|must|should|shall|will|is|are|has|have|with|who|"
                          r"between|older|younger|over|under|at[ \t]+least|of[ \t]+age)\b)")


@lru_cache(maxsize=1)
def other_person_noun() -> re.Pattern:
    """A noun of ``other_persons`` alone: a cheap test before :func:`other_person_subject`."""
    return re.compile(rf"\b(?:{_alternatives(_words()['other_persons'])})", re.IGNORECASE)


@lru_cache(maxsize=1)
def other_person_subject() -> re.Pattern:
    """A person other than the patient, as the subject of what follows it (group ``who``): "Donor
    must have ...", "an HLA-identical sibling donor aged 18 or older", "Parent or legal guardian must
    be ..." (``other_persons`` in ``resources/population_words.json``; up to three modifiers before
    the noun, an ``or`` between two such nouns)."""
    person = rf"(?:{_alternatives(_words()['other_persons'])})(?:e?s)?"
    return re.compile(rf"\b(?P<who>(?:{_NOT_A_MODIFIER}[^\W\d_][\w-]*[ \t]+){{0,3}}?{person}"
                      rf"(?:[ \t]+or[ \t]+{person})?)\b{_PERSON_THEN_PREDICATE}", re.IGNORECASE)


@lru_cache(maxsize=1)
def discourse_labels() -> frozenset[str]:
    """Phrases after "For"/"In" before a colon that name no group ("In addition:", "For example:")."""
    return frozenset(_words()["discourse_labels"])


@lru_cache(maxsize=1)
def requiring_header() -> re.Pattern:
    """``X require:``, ``X must have:``: a sub-header naming the group X (group ``who``)."""
    verbs = _alternatives(_words()["requiring_verbs"])
    return re.compile(rf"[ \t]*(?P<who>[^\W\d][^:;.()]{{1,80}}?)\s+(?:{verbs})[ \t]*:[ \t]*", re.IGNORECASE)


def group_head(label: str) -> str:
    """The label up to its head noun: "ALL patients meeting 1 of the following conditions" → "ALL
    patients" (the words after the head say what the group must meet, not who it is)."""
    return _AFTER_HEAD.sub("", label)


def names_a_group(label: str) -> bool:
    """Whether the label (without its colon) has a head noun that names people: "BLOOD RELATIVES OF
    AFFECTED SIBLING PAIRS", "Patients with cystic fibrosis (CF)", not "PATIENT CHARACTERISTICS"."""
    words = _AFTER_HEAD.sub("", _ALIAS.sub("", label)).split()
    return bool(words) and group_noun().fullmatch(words[-1]) is not None


# a label is a noun phrase, with no verb ("the study was open to all subjects who:" is none)
NO_VERB = r"(?![^:\n]{0,90}?\b(?:is|are|was|were|will|be|must|may|should|can)\b)"  # bounded: a label is short
# a label after a separator (or where the text starts): "; Healthy volunteers:", ": Patients with cystic fibrosis (CF):"
_LABEL = re.compile(r"(?:(?<=^)|(?<=[;,:])|(?<=[;,:][ \t])|(?<=[;,:][ \t]{2}))[ \t]*"
                    rf"(?P<label>{NO_VERB}[^\W\d][^:;,.()\n]{{1,60}}?(?:[ \t]*\([^()\n]{{1,20}}\))?)[ \t]*:(?!\S)",
                    re.IGNORECASE)


def group_labels(text: str) -> list[re.Match]:
    """The labels in ``text`` that name a group of people (group ``label``, without the colon)."""
    if ":" not in text:  # a label ends with its colon: a cheap test before the regex
        return []
    return [m for m in _LABEL.finditer(text) if names_a_group(m.group("label"))]
