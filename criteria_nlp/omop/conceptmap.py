"""User-supplied concept map (``--concept-map FILE``): OMOP concepts for variables that have no
LOINC code in the lexicon, and for the diagnoses named by population and exception conditions.

The file is JSON with two optional sections::

    {"variables":  {"life_expectancy": {"concept_id": 4134304},
                    "sledai_2k": {"loinc": "XXXXX-X"},
                    "ecog": 3001234},
     "conditions": {"Gilbert's syndrome": {"vocabulary_id": "SNOMED", "concept_code": "27503000"},
                    "liver metastases": 4175924}}

* ``variables``: key = the rule's variable name (``variable.name`` of extract, e.g. ``life_expectancy``)
  or its text (``Survival is expected``), compared case-insensitively; value = an OMOP
  ``concept_id`` (a number, or ``{"concept_id": N}``) or a LOINC code (``"1234-5"`` or
  ``{"loinc": "1234-5"}``). The concept is looked up in ``measurement`` (with its descendants when
  ``concept_ancestor`` exists). An entry overrides the lexicon's LOINC code.
* ``conditions``: key = a diagnosis as written in criteria (``Gilbert's syndrome``), found as whole
  words in a population or exception description (``for subjects with Gilbert's syndrome``,
  ``unless due to Gilbert's syndrome``), case-insensitively, the longest key winning; value = a
  ``concept_id`` or ``{"vocabulary_id": ..., "concept_code": ...}`` (any vocabulary, resolved
  through ``concept``). A person belongs to the population when ``condition_occurrence`` holds
  the concept (or a descendant) starting on or before the index date.

Nothing of the file reaches the SQL as text: codes and ids are bound parameters.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OmopError

MAX_BYTES = 16 * 1024 * 1024
_LOINC_RE = re.compile(r"^\d{1,7}-\d$")
_CODE_RE = re.compile(r"^[\w.\-:/]{1,50}$")
_VOCAB_RE = re.compile(r"^[\w \-]{1,20}$")


@dataclass(frozen=True)
class MappedConcept:
    """One concept: by id, by LOINC code, or by (vocabulary, code)."""

    concept_id: int | None = None
    vocabulary: str | None = None  # "LOINC", "SNOMED", ...
    code: str | None = None

    @property
    def loinc(self) -> str | None:
        return self.code if self.vocabulary == "LOINC" else None

    def describe(self) -> str:
        return f"concept_id {self.concept_id}" if self.concept_id is not None else f"{self.vocabulary} {self.code}"


@dataclass(frozen=True)
class ConceptMap:
    variables: dict[str, MappedConcept]
    conditions: dict[str, MappedConcept]
    source: str = ""

    @classmethod
    def empty(cls) -> "ConceptMap":
        return cls({}, {})

    def variable(self, name: str | None, text: str | None = None) -> MappedConcept | None:
        for key in (name, text):
            if key and normalise(key) in self.variables:
                return self.variables[normalise(key)]
        return None

    def condition(self, description: str | None) -> tuple[str, MappedConcept] | None:
        """The longest key found as whole words in ``description``."""
        if not description:
            return None
        words = f" {normalise(description)} "
        found = [k for k in self.conditions if f" {k} " in words]
        if not found:
            return None
        key = max(found, key=len)
        return key, self.conditions[key]


def normalise(text: str) -> str:
    """Lower case, curly quotes and dashes made plain, punctuation other than ' and - spaced out."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[\u2010-\u2015]", "-", text)
    text = re.sub(r"[^\w'\-]+", " ", text)
    return " ".join(text.split())


def load_concept_map(path: str | None) -> ConceptMap:
    """Read and check a concept map file (``None`` = the empty map)."""
    if path is None:
        return ConceptMap.empty()
    p = Path(path)
    if not p.is_file():
        raise OmopError(f"--concept-map {path}: no such file")
    if p.stat().st_size > MAX_BYTES:
        raise OmopError(f"--concept-map {path}: larger than {MAX_BYTES // 2**20} MB")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OmopError(f"--concept-map {path}: not a JSON document ({e.__class__.__name__})") from None
    if not isinstance(data, dict) or set(data) - {"variables", "conditions", "_doc"}:
        raise OmopError(f"--concept-map {path}: expected an object with 'variables' and/or 'conditions'")
    out = {}
    for section in ("variables", "conditions"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise OmopError(f"--concept-map {path}: '{section}' must be an object (name -> concept)")
        out[section] = {}
        for key, value in entries.items():
            concept = _concept(value, section)
            if concept is None:
                raise OmopError(f"--concept-map {path}: {section}[{str(key)[:60]!r}]: expected a concept_id, "
                                + ("a LOINC code" if section == "variables" else "{vocabulary_id, concept_code}"))
            if not normalise(str(key)):
                raise OmopError(f"--concept-map {path}: {section}: an empty name")
            out[section][normalise(str(key))] = concept
    return ConceptMap(out["variables"], out["conditions"], str(path))


def _concept(value: Any, section: str) -> MappedConcept | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return MappedConcept(concept_id=value) if 0 < value < 2**31 else None
    if isinstance(value, str):
        return MappedConcept(vocabulary="LOINC", code=value) if _LOINC_RE.match(value) else None
    if not isinstance(value, dict):
        return None
    if "concept_id" in value:
        return _concept(value["concept_id"], section) if isinstance(value["concept_id"], int) else None
    if "loinc" in value:
        return _concept(value["loinc"], section) if isinstance(value["loinc"], str) else None
    vocabulary, code = value.get("vocabulary_id"), value.get("concept_code")
    if isinstance(vocabulary, str) and isinstance(code, str) and _VOCAB_RE.match(vocabulary) and _CODE_RE.match(code):
        if vocabulary == "LOINC" and not _LOINC_RE.match(code):
            return None
        if section == "variables" and vocabulary != "LOINC":
            return None  # measurements are found by LOINC code or by concept_id
        return MappedConcept(vocabulary=vocabulary, code=code)
    return None
