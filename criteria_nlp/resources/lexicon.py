"""Typed loader of the variable lexicon (``criteria_nlp/resources/variables.json``).

The lexicon lists the measured things eligibility criteria put thresholds on (labs, vitals,
scores, ...). Each entry has a canonical snake_case ``name``, surface forms to match in text,
an optional code (LOINC), the canonical UCUM unit of its values and, where a mass <-> molar
conversion makes sense, the molar mass in g/mol. Optional: ``classes`` (letters a scale writes its
classes in) and ``in_other_unit``, the entry a value in another kind of unit than this entry's
names (``cd4_count`` in cells/µL ↔ ``cd4_percentage`` in %: ``CD4 < 14%`` is the percentage), and
``states``, the words for an abnormal level of the variable (``thrombocytopenia`` for the platelet
count, ``fever`` for body temperature).

Matching contract (for the components that use the lexicon):

* ``terms`` are matched case-INsensitively, token by token;
* ``abbreviations`` are matched case-SENSITIVELY (``ALT`` is not the word "alt");
* a term or abbreviation ending in `` #`` (``"WHO #"``) names the variable only right before a
  number (``WHO 0-2``; not ``WHO grade III``, ``WHO classification``);
* ``states`` are matched like terms, but name the variable only for a value written right after
  them (``Thrombocytopenia < 75,000/mm3``, ``fever of > 38.5 °C``; not the blasts of ``refractory
  anaemia with excess of blasts (≥ 10%)``).

The loader validates the file: every field present and well-typed, unique names, a known
category, and no surface form claimed by two entries (a term compared case-insensitively with
other entries' terms and abbreviations; an abbreviation compared exactly with other entries'
abbreviations). Any problem raises :class:`LexiconError` naming the entry.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from criteria_nlp.contract import Code

__all__ = [
    "CATEGORIES",
    "DEFAULT_FILENAME",
    "LexiconError",
    "VariableEntry",
    "load_variables",
    "variables_by_name",
]

#: The allowed values of ``category``.
CATEGORIES: frozenset[str] = frozenset(
    {"lab", "vital", "cardiac", "score", "demographic", "anthropometric", "prognosis", "dose", "measurement"}
)

#: File name of the packaged lexicon, inside ``criteria_nlp/resources``.
DEFAULT_FILENAME = "variables.json"

SUPPORTED_VERSION = 1
LOINC_SYSTEM = "http://loinc.org"

_FIELDS = ("name", "display", "category", "terms", "abbreviations", "code", "unit", "molar_mass")
#: Fields an entry may leave out. ``classes``: the classes a scale writes as letters, each with its
#: value or its [low, high] range on the variable (``Child-Pugh B`` = 7-9 points). ``in_other_unit``:
#: the entry a value in another kind of unit names (absolute count ↔ percentage). ``states``: words
#: for an abnormal level of the variable, which name it only right before a value.
_OPTIONAL_FIELDS = ("classes", "in_other_unit", "states")
_CLASS_LABEL_RE = re.compile(r"^[A-Z]$")
_CODE_FIELDS = ("system", "code", "display")
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_LOINC_RE = re.compile(r"^\d+-\d$")


class LexiconError(ValueError):
    """The variable lexicon file is malformed (the message names the entry and the problem)."""


@dataclass(frozen=True)
class VariableEntry:
    """One variable of the lexicon."""

    name: str
    display: str
    category: str
    terms: tuple[str, ...]
    abbreviations: tuple[str, ...]
    code: Code | None
    unit: str | None
    molar_mass: float | None
    classes: tuple[tuple[str, float, float], ...] = ()  # (letter, low, high): "B" → 7-9 points
    # the entry a value in another kind of unit names: "cd4_count" (cells/µL) → "cd4_percentage" (%)
    in_other_unit: str | None = None
    # words for an abnormal level ("thrombocytopenia"): the variable of a value written right after them
    states: tuple[str, ...] = ()


def load_variables(path: str | Path | None = None) -> tuple[VariableEntry, ...]:
    """Load and validate a lexicon file; ``None`` means the packaged ``variables.json`` (cached).

    Raises :class:`LexiconError` when the file is malformed, ``OSError`` when it cannot be read.
    """
    if path is None:
        return _load_default()
    path = Path(path)
    return _parse(path.read_text(encoding="utf-8"), str(path))


def variables_by_name() -> dict[str, VariableEntry]:
    """The packaged lexicon keyed by variable name (a fresh dict; the entries are shared)."""
    return {entry.name: entry for entry in _load_default()}


@lru_cache(maxsize=1)
def _load_default() -> tuple[VariableEntry, ...]:
    source = resources.files(__package__).joinpath(DEFAULT_FILENAME)
    return _parse(source.read_text(encoding="utf-8"), DEFAULT_FILENAME)


# --------------------------------------------------------------------------- parsing


def _parse(text: str, source: str) -> tuple[VariableEntry, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LexiconError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LexiconError(f"{source}: top level must be an object with 'version' and 'variables'")
    version = data.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        raise LexiconError(f"{source}: unsupported or missing 'version' {version!r} (expected {SUPPORTED_VERSION})")
    raw_entries = data.get("variables")
    if not isinstance(raw_entries, list):
        raise LexiconError(f"{source}: 'variables' must be a list of entries")

    entries: list[VariableEntry] = []
    names: dict[str, int] = {}
    term_owner: dict[str, str] = {}  # casefolded term -> entry name
    abbr_owner: dict[str, str] = {}  # exact abbreviation -> entry name
    abbr_folded_owner: dict[str, set[str]] = {}  # casefolded abbreviation -> entry names

    for index, raw in enumerate(raw_entries):
        entry = _parse_entry(raw, index, source)
        where = _where(source, index, entry.name)
        if entry.name in names:
            raise LexiconError(f"{where}: duplicate name (already used by entry #{names[entry.name]})")
        names[entry.name] = index

        for term in entry.terms + entry.states:
            key = _fold(term)
            owner = term_owner.get(key)
            if owner is not None and owner != entry.name:
                raise LexiconError(f"{where}: term {term!r} is already claimed by entry {owner!r}")
            others = abbr_folded_owner.get(key, set()) - {entry.name}
            if others:
                raise LexiconError(
                    f"{where}: term {term!r} (matched case-insensitively) collides with an abbreviation "
                    f"of entry {sorted(others)[0]!r}"
                )
        for term in entry.terms + entry.states:
            term_owner[_fold(term)] = entry.name

        for abbr in entry.abbreviations:
            owner = abbr_owner.get(abbr)
            if owner is not None and owner != entry.name:
                raise LexiconError(f"{where}: abbreviation {abbr!r} is already claimed by entry {owner!r}")
            owner = term_owner.get(_fold(abbr))
            if owner is not None and owner != entry.name:
                raise LexiconError(
                    f"{where}: abbreviation {abbr!r} collides with term of entry {owner!r} "
                    f"(terms are matched case-insensitively)"
                )
        for abbr in entry.abbreviations:
            abbr_owner[abbr] = entry.name
            abbr_folded_owner.setdefault(_fold(abbr), set()).add(entry.name)

        entries.append(entry)
    for index, entry in enumerate(entries):
        if entry.in_other_unit is not None and entry.in_other_unit not in names:
            raise LexiconError(f"{_where(source, index, entry.name)}: 'in_other_unit' names no entry: {entry.in_other_unit!r}")
    return tuple(entries)


def _parse_entry(raw: Any, index: int, source: str) -> VariableEntry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{source}: entry #{index} must be an object, got {type(raw).__name__}")
    name = raw.get("name")
    where = _where(source, index, name if isinstance(name, str) else None)

    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise LexiconError(f"{where}: missing field(s) {', '.join(repr(f) for f in missing)}")
    unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL_FIELDS))
    if unknown:
        raise LexiconError(f"{where}: unknown field(s) {', '.join(repr(f) for f in unknown)}")

    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LexiconError(f"{where}: 'name' must be a snake_case identifier, got {name!r}")
    display = raw["display"]
    if not isinstance(display, str) or not display.strip():
        raise LexiconError(f"{where}: 'display' must be a non-empty string")
    category = raw["category"]
    if category not in CATEGORIES:
        raise LexiconError(
            f"{where}: unknown category {category!r} (allowed: {', '.join(sorted(CATEGORIES))})"
        )

    terms = _string_list(raw["terms"], "terms", where)
    abbreviations = _string_list(raw["abbreviations"], "abbreviations", where)
    if not terms and not abbreviations:
        raise LexiconError(f"{where}: needs at least one term or abbreviation")

    code = _parse_code(raw["code"], where)

    unit = raw["unit"]
    if unit is not None and (not isinstance(unit, str) or not unit.strip() or unit != unit.strip()):
        raise LexiconError(f"{where}: 'unit' must be null or a non-empty UCUM string, got {unit!r}")

    molar_mass = raw["molar_mass"]
    if molar_mass is not None:
        if (
            isinstance(molar_mass, bool)
            or not isinstance(molar_mass, (int, float))
            or not math.isfinite(molar_mass)
            or molar_mass <= 0
        ):
            raise LexiconError(f"{where}: 'molar_mass' must be null or a positive number, got {molar_mass!r}")
        molar_mass = float(molar_mass)

    return VariableEntry(
        name=name,
        display=display,
        category=category,
        terms=terms,
        abbreviations=abbreviations,
        code=code,
        unit=unit,
        molar_mass=molar_mass,
        classes=_parse_classes(raw.get("classes"), where),
        in_other_unit=_parse_other_unit(raw.get("in_other_unit"), name, where),
        states=_string_list(raw["states"], "states", where) if "states" in raw else (),
    )


def _parse_other_unit(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME_RE.match(value) or value == name:
        raise LexiconError(f"{where}: 'in_other_unit' must name another entry, got {value!r}")
    return value


def _parse_classes(value: Any, where: str) -> tuple[tuple[str, float, float], ...]:
    """``{"A": [5, 6], "B": [7, 9]}`` or ``{"A": 1, "B": 2}`` → ((label, low, high), ...), rising."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise LexiconError(f"{where}: 'classes' must be an object of capital letters to a number or [low, high]")
    out = []
    for label, v in value.items():
        bounds = v if isinstance(v, list) else [v, v]
        if not _CLASS_LABEL_RE.match(label) or len(bounds) != 2 or not all(
                isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds) \
                or bounds[0] > bounds[1]:
            raise LexiconError(f"{where}: 'classes' item {label!r}: {v!r} is not a number or a rising [low, high]")
        out.append((label, float(bounds[0]), float(bounds[1])))
    if [c[1] for c in out] != sorted(c[1] for c in out):
        raise LexiconError(f"{where}: 'classes' must rise with their letters")
    return tuple(out)


def _string_list(value: Any, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise LexiconError(f"{where}: {field!r} must be a list of strings")
    seen: set[str] = set()
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise LexiconError(f"{where}: {field!r} contains an empty or non-string item {item!r}")
        if item != item.strip() or "  " in item:
            raise LexiconError(f"{where}: {field!r} item {item!r} has stray whitespace")
        if item in seen:
            raise LexiconError(f"{where}: {field!r} lists {item!r} twice")
        seen.add(item)
        out.append(item)
    return tuple(out)


def _parse_code(value: Any, where: str) -> Code | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise LexiconError(f"{where}: 'code' must be null or an object with system, code, display")
    missing = [f for f in _CODE_FIELDS if not isinstance(value.get(f), str) or not value.get(f)]
    if missing:
        raise LexiconError(f"{where}: 'code' lacks non-empty string field(s) {', '.join(repr(f) for f in missing)}")
    unknown = sorted(set(value) - set(_CODE_FIELDS))
    if unknown:
        raise LexiconError(f"{where}: 'code' has unknown field(s) {', '.join(repr(f) for f in unknown)}")
    if value["system"] == LOINC_SYSTEM and not _LOINC_RE.match(value["code"]):
        raise LexiconError(f"{where}: {value['code']!r} is not a well-formed LOINC code (digits-checkdigit)")
    return Code(system=value["system"], code=value["code"], display=value["display"])


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _where(source: str, index: int, name: str | None) -> str:
    return f"{source}: entry #{index} ({name!r})" if name else f"{source}: entry #{index}"
