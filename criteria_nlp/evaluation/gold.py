"""Gold numeric thresholds (and conditions) from LCT brat annotations.

A **gold threshold** is an ``Observation`` or ``Age`` event whose ``Numeric-Filter`` role
(any variant: ``Numeric-Filter``, ``Numeric-Filter2``, or the role repeated verbatim) points to
an ``Eq-Comparison`` event. From that comparison we read:

* the operator: ``Eq-Operator-Value`` attribute of each ``Operator`` argument
  (EQ LT LTEQ GT GTEQ BETWEEN PLUS-MINUS → ``=`` ``<`` ``<=`` ``>`` ``>=`` ``between`` ``±``);
* the values: ``Value``/``Value2``/... arguments, parsed to floats by :func:`parse_number`
  (``"1,500"`` → 1500, ``".5"`` → 0.5, ``"7,0"`` → 7.0, ``"10^9"`` → 1e9, ``"three"`` → 3,
  ``"III"`` → 3, ``"5th"`` → 5); the raw strings are kept;
* the unit: the document text covering the ``Unit``, ``Per`` and ``Temporal-Unit`` arguments
  (``mg`` + ``dL`` → ``"mg/dL"``, ``mL`` + ``min`` → ``"mL/min"``, ``years``);
* ``relative_to``: an ``Eq-Unit`` with ``Eq-Unit-Value`` ``ref-range-high`` → ``ULN``,
  ``ref-range-low`` → ``LLN``; ``ref-range-normal`` (what LCT mostly uses for "x ULN") and
  unattributed units are resolved from their text ("upper limit of normal", "ULN",
  "maximum normal value" → ULN; "lower limit of normal", "LLN" → LLN).

The gold **variable** is the Observation/Age trigger span; its type comes from the
``Observation-Type-Value`` attribute (``age`` for Age events), grouped by :attr:`category`
into lab, vital, measurement, clinical-score, age and other.

Normalisation of the (sometimes irregular) annotations, so that a threshold reads
"variable comparator value":

* values are ordered by text position; ``between`` takes the lower/higher number as
  ``value``/``value_high``; other comparators take the first parseable value (a duplicate
  or stray Value such as the "109" of "<100x109/L" does not change the threshold);
* several operators are combined: BETWEEN with two values wins (``"≥20 and ≤40"``);
  EQ next to LT/GT makes it inclusive (``"= <1"`` → ``<=``); otherwise the first operator in
  the text is used, made inclusive if any operator is;
* no operator: ``=`` (one value) - multi-value lists such as "III or IV" keep the first value;
* ``PLUS-MINUS`` with two values ``v ± d`` becomes ``between v-d and v+d``; with a single
  value it stays ``±`` (no contract comparator can match it);
* a symbolic operator written between a leading value and the variable (``"145 mmHg ≤ SBP"``)
  is mirrored (→ ``>=``); ``raw_operators`` keeps what was annotated;
* a comparison with no ``Value`` argument takes the number written in its span (e.g. a
  missing Value annotation on ``"≥18 years"``); one with no number at all ("presently",
  "within normal limits") is not a numeric threshold and is listed in
  :attr:`GoldDocument.skipped`;
* a Value that cannot be parsed (``"moderate"``, Child-Pugh ``"C"``) leaves ``value`` as
  ``None``: the threshold stays in the gold set and never matches (see ``scorer``).

**Conditions** are extracted separately (they qualify thresholds, they are not thresholds):
``Drug`` events' ``Dose`` comparisons (kind ``dose``), every ``Temporality`` comparison
(kind ``temporality``) and ``Exception`` events (kind ``exception``). The conditions *of each
threshold* (temporal window, population, exception, read from LCT's roles and relations) are in
:attr:`GoldDocument.threshold_conditions` (see :mod:`.threshold_conditions`).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from .brat import BratDocument, Event
from .threshold_conditions import ThresholdCondition, conditions_of, threshold_conditions

__all__ = [
    "CATEGORIES",
    "OPERATORS",
    "GoldCondition",
    "GoldDocument",
    "GoldThreshold",
    "category_of",
    "extract_gold",
    "extract_gold_corpus",
    "parse_number",
]

OPERATORS = {
    "EQ": "=",
    "LT": "<",
    "LTEQ": "<=",
    "GT": ">",
    "GTEQ": ">=",
    "BETWEEN": "between",
    "PLUS-MINUS": "±",
}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_INCLUSIVE = {"<": "<=", ">": ">=", "<=": "<=", ">=": ">="}

CATEGORIES = ("lab", "vital", "measurement", "clinical-score", "age", "other")


def category_of(observation_type: str | None) -> str:
    """Group an observation type into one of :data:`CATEGORIES`."""
    return observation_type if observation_type in CATEGORIES else "other"


# -- numbers ----------------------------------------------------------------------------

_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "once": 1, "twice": 2, "thrice": 3, "single": 1, "double": 2, "triple": 3,
    "half": 0.5, "quarter": 0.25,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
}
_ROMAN = {"I": 1, "V": 5, "X": 10}
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_SCI_RE = re.compile(rf"^({_NUM})?\s*(?:[x×*]\s*)?10\s*\^\s*([-+]?\d+)$", re.I)
_SUP_RE = re.compile(rf"^({_NUM})?\s*(?:[x×*]\s*)?10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)$", re.I)
_E_RE = re.compile(rf"^{_NUM}e[-+]?\d+$", re.I)
_FRAC_RE = re.compile(r"^(?:(\d+)\s+)?(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)$")
_ORD_RE = re.compile(r"^(\d+)\s*(?:st|nd|rd|th)$", re.I)
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DEC_COMMA_RE = re.compile(r"^[-+]?\d+,\d+$")


def _roman(s: str) -> int | None:
    s = unicodedata.normalize("NFKC", s)  # "Ⅲ" → "III"
    if not s or any(c not in _ROMAN for c in s):
        return None
    total = 0
    for i, c in enumerate(s):
        v = _ROMAN[c]
        total += -v if i + 1 < len(s) and _ROMAN[s[i + 1]] > v else v
    return total if 0 < total < 40 else None


def parse_number(raw: str | None) -> float | None:
    """Parse a threshold value as written in criteria text; ``None`` when it is not a number.

    Handles thousands separators (``"1,500"``), decimal commas (``"7,0"``), leading dots
    (``".5"``), unicode minus, ``%``/``+`` decoration, powers of ten (``"10^9"``, ``"1.5 x 10^9"``,
    ``"10⁹"``, ``"1e9"``), fractions (``"1/2"``, ``"16 0/7"``), ordinals (``"5th"``), small
    number words (``"three"``, ``"twice"``) and roman numerals I-XXXIX (``"III"``, ``"Ⅳ"``).
    """
    if raw is None:
        return None
    s = raw.strip().replace("\u2212", "-").replace("\u2013", "-").replace("\u00a0", " ")
    s = s.strip(" %").lstrip("~≈")
    if not s:
        return None
    try:
        if _THOUSANDS_RE.match(s):
            return float(s.replace(",", ""))
        if _DEC_COMMA_RE.match(s):
            return float(s.replace(",", "."))
        if re.fullmatch(_NUM, s) or _E_RE.match(s):
            v = float(s)
            return v if math.isfinite(v) else None
        m = _SCI_RE.match(s)
        if m:
            return float(m.group(1) or 1) * 10.0 ** int(m.group(2))
        m = _SUP_RE.match(s)
        if m:
            return float(m.group(1) or 1) * 10.0 ** int(m.group(2).translate(_SUPERSCRIPT))
        m = _FRAC_RE.match(s)
        if m:
            whole, num, den = m.groups()
            if float(den) == 0:
                return None
            return float(whole or 0) + float(num) / float(den)
        m = _ORD_RE.match(s)
        if m:
            return float(m.group(1))
    except (ValueError, OverflowError):
        return None
    low = s.lower()
    if low in _WORDS:
        return float(_WORDS[low])
    r = _roman(s)
    return float(r) if r is not None else None


_AMBIGUOUS_WORDS = {"first", "second", "single", "once", "half", "quarter", "double", "triple"}


def _numbers_in(text: str, offset: int = 0) -> list[tuple[int, str, float]]:
    """(position, raw, value) of the numbers written in ``text`` (digits or number words)."""
    out = []
    for m in re.finditer(r"\d[\d,]*(?:\.\d+)?|\.\d+|\b[A-Za-z]+\b", text):
        tok = m.group(0).rstrip(",")
        if tok[0].isalpha() and (tok.lower() not in _WORDS or tok.lower() in _AMBIGUOUS_WORDS):
            continue
        v = parse_number(tok)
        if v is not None:
            out.append((offset + m.start(), tok, v))
    return out


def _first_number_in(text: str) -> tuple[str, float] | None:
    found = _numbers_in(text)
    return (found[0][1], found[0][2]) if found else None


# -- data -------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoldThreshold:
    """One gold numeric threshold: a variable (Observation/Age) and an Eq-Comparison."""

    doc_id: str
    id: str  # "<comparison event>@<variable event>", e.g. "E2@E1"
    variable_event: str
    comparison_event: str
    variable_type: str  # "Observation" | "Age"
    observation_type: str | None  # lab, vital, ..., "age"; None when not annotated
    variable_text: str
    variable_start: int
    variable_end: int
    text: str  # the Eq-Comparison span
    start: int
    end: int
    comparator: str | None  # "=" "<" "<=" ">" ">=" "between" "±"
    value: float | None
    value_high: float | None
    value_text: str | None
    value_high_text: str | None
    raw_values: tuple[str, ...] = ()
    values: tuple[float, ...] = ()  # every parseable value, in text order ("I or II" -> 1.0, 2.0)
    raw_operators: tuple[str, ...] = ()
    mirrored: bool = False  # "145 ≤ SBP" read as "SBP >= 145"
    value_from_text: bool = False  # no Value argument: number read from the comparison span
    unit_text: str | None = None
    relative_to: str | None = None  # "ULN" | "LLN"
    temporal_unit: str | None = None  # Eq-Temporal-Unit-Value (year, month, ...)
    via_relation: str | None = None  # "Or" / "And" / "Equivalent-To": reached from another threshold

    @property
    def category(self) -> str:
        return category_of(self.observation_type)

    @property
    def parseable(self) -> bool:
        """Whether the value (and value_high of a range) are numbers, i.e. the threshold can match."""
        if self.value is None:
            return False
        return self.comparator != "between" or self.value_high is not None

    @property
    def variable_span(self) -> tuple[int, int]:
        return self.variable_start, self.variable_end

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True)
class GoldCondition:
    """A gold qualifier: a Drug ``Dose`` comparison, a ``Temporality`` comparison, an ``Exception``."""

    doc_id: str
    id: str
    kind: str  # "dose" | "temporality" | "exception"
    owner_event: str | None
    owner_type: str | None
    text: str
    start: int
    end: int
    comparator: str | None = None
    value: float | None = None
    value_high: float | None = None
    raw_values: tuple[str, ...] = ()
    unit_text: str | None = None
    temporal_unit: str | None = None
    temporal_period: str | None = None  # past, recent, present, future, anytime
    # Exception only: the spans excepted from ("From") and the exceptions ("Except").
    from_spans: tuple[tuple[int, int], ...] = ()
    except_spans: tuple[tuple[int, int], ...] = ()


@dataclass
class GoldDocument:
    doc_id: str
    text: str
    path: str | None
    thresholds: list[GoldThreshold] = field(default_factory=list)
    conditions: list[GoldCondition] = field(default_factory=list)
    # Numeric-Filter targets that are not numeric thresholds: (comparison id, reason).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Every Eq-Comparison that is not a gold threshold: (id, (start, end), text, use), where
    # use says what it is attached to ("Temporality of Condition", "unattached", ...). The
    # scorer uses it to explain spurious predictions.
    comparisons: list[tuple[str, tuple[int, int], str, str]] = field(default_factory=list)
    # Event id → the temporal / population / exception conditions it gives its thresholds
    # (criteria_nlp.evaluation.threshold_conditions); read them with conditions_of().
    threshold_conditions: dict[str, tuple[ThresholdCondition, ...]] = field(default_factory=dict)

    def conditions_of(self, threshold: GoldThreshold) -> tuple[ThresholdCondition, ...]:
        """The gold conditions of one of this document's thresholds."""
        return conditions_of(self.threshold_conditions, threshold.variable_event, threshold.comparison_event)


# -- extraction -------------------------------------------------------------------------

_ULN_RE = re.compile(r"\b(?:ULN|upper|maxim\w*|highest|high)\b", re.I)
_LLN_RE = re.compile(r"\b(?:LLN|lower|minim\w*|lowest|low)\b", re.I)
_REF_TEXT_RE = re.compile(r"\b(?:ULN|LLN|(?:upper|lower)\s+(?:limit|level)s?\s+of\s+(?:the\s+)?normal|"
                          r"(?:upper|lower)\s+normal\s+limit|normal\s+(?:upper|lower)\s+limit)\b", re.I)


def _relative_from_unit(doc: BratDocument, tid: str) -> tuple[bool, str | None]:
    """(is a reference-range unit, ULN/LLN/None) for a Unit/Per argument."""
    tb = doc.textbounds.get(tid)
    if tb is None:
        return False, None
    attr = doc.attributes_of(tid).get("Eq-Unit-Value")
    if attr == "ref-range-high":
        return True, "ULN"
    if attr == "ref-range-low":
        return True, "LLN"
    text = tb.text
    if attr == "ref-range-normal":
        if _ULN_RE.search(text):
            return True, "ULN"
        if _LLN_RE.search(text):
            return True, "LLN"
        return True, None
    if _REF_TEXT_RE.search(text):
        return True, "LLN" if _LLN_RE.search(text) and not _ULN_RE.search(text) else "ULN"
    return False, None


def _values(doc: BratDocument, comp: Event) -> list[tuple[int, str, float | None]]:
    """(position, raw text, parsed) of the Value arguments, in text order, without duplicates."""
    seen = set()
    out = []
    for vid in comp.targets("Value"):
        if vid in seen:
            continue
        seen.add(vid)
        tb = doc.textbound_of(vid)
        if tb is None:
            continue
        out.append((tb.start, tb.text, parse_number(tb.text)))
    out.sort(key=lambda x: x[0])
    return out


def _operators(doc: BratDocument, comp: Event) -> list[tuple[int, int, str]]:
    """(start, end, code) of the Operator arguments in text order (code EQ, LT, ...)."""
    out = []
    seen = set()
    for oid in comp.targets("Operator"):
        tb = doc.textbounds.get(oid)
        code = doc.attributes_of(oid).get("Eq-Operator-Value")
        if tb is None or code is None or oid in seen:
            continue
        seen.add(oid)
        out.append((tb.start, tb.end, code))
    out.sort()
    return out


def _unit(doc: BratDocument, comp: Event) -> tuple[str | None, str | None, str | None]:
    """(unit text, relative_to, temporal unit value) of a comparison."""
    spans = []
    relative = None
    for role in ("Unit", "Per"):
        for tid in comp.targets(role):
            is_ref, rel = _relative_from_unit(doc, tid)
            if is_ref:
                relative = relative or rel
                continue
            tb = doc.textbound_of(tid)
            if tb is not None:
                start = tb.start
                if role == "Per" and doc.text is not None:
                    # a "Per" unit keeps the slash written before it ("/mm3")
                    m = re.search(r"/\s*$", doc.text[max(0, start - 3):start])
                    if m:
                        start = max(0, start - 3) + m.start()
                spans.append((start, tb.end))
    temporal = None
    for tid in comp.targets("Temporal-Unit"):
        tb = doc.textbound_of(tid)
        if tb is not None:
            spans.append((tb.start, tb.end))
            temporal = temporal or doc.attributes_of(tid).get("Eq-Temporal-Unit-Value")
    unit_text = None
    if spans and doc.text is not None:
        # The first run of unit pieces joined by "/", "per", "a" or spaces ("mg" + "dL" →
        # "mg/dL"); a later run ("37 weeks 0 days to 37 weeks 6 days") is not part of it.
        spans.sort()
        start, end = spans[0]
        for s, e in spans[1:]:
            if s < end or _UNIT_GAP_RE.match(doc.text[end:s]):
                end = max(end, e)
            else:
                break
        unit_text = " ".join(doc.text[start:end].split()) or None
    elif spans:
        unit_text = " ".join(doc.textbound_of(t).text for r in ("Unit", "Per", "Temporal-Unit")
                             for t in comp.targets(r) if doc.textbound_of(t)) or None
    return unit_text, relative, temporal


_UNIT_GAP_RE = re.compile(
    r"^\s*(?:10\s*\^?\s*\d{1,2}\s*|10[⁰¹²³⁴⁵⁶⁷⁸⁹]+\s*)?(?:/|per|a|an|each|x|×|\*|\^)?\s*$", re.I
)


_SYMBOLIC_OP = re.compile(r"^\s*(?:[<>≤≥⩽⩾=]=?|=<|=>|<=|>=)\s*$")


def _read_comparison(doc: BratDocument, comp: Event, var_start: int | None = None):
    """Comparator, values and flags of an Eq-Comparison event (see the module docstring)."""
    tb = doc.textbound_of(comp.id)
    vals = _values(doc, comp)
    ops = _operators(doc, comp)
    codes = [c for _, _, c in ops]
    from_text = False
    if not vals and tb is not None:
        found = _first_number_in(doc.text[tb.start:tb.end] if doc.text is not None else tb.text)
        if found:
            vals = [(tb.start, found[0], found[1])]
            from_text = True
    if "BETWEEN" in codes and len(vals) < 2 and tb is not None:
        # a range with a missing bound annotation ("18~27kg/m2" with only "18" as Value)
        span_text = doc.text[tb.start:tb.end] if doc.text is not None else tb.text
        found = _numbers_in(span_text, tb.start)
        if len(found) >= 2:
            vals = found[:2]
            from_text = True
    parsed = [(p, raw, v) for p, raw, v in vals if v is not None]
    comparator: str | None
    value = value_high = None
    value_text = value_high_text = None
    mirrored = False
    if "BETWEEN" in codes and (len(vals) >= 2 or set(codes) == {"BETWEEN"}):
        comparator = "between"
    elif "PLUS-MINUS" in codes:
        comparator = "±" if len(vals) < 2 else "between"
    elif not codes:
        comparator = "="
    else:
        directional = [c for c in codes if c not in ("EQ", "BETWEEN", "PLUS-MINUS")]
        if not directional and "EQ" not in codes:  # only BETWEEN, with a single value
            comparator = "="
        elif not directional:
            comparator = "=" if "EQ" in codes else OPERATORS[codes[0]]
        else:
            comparator = OPERATORS[directional[0]]
            if any(c in ("EQ", "LTEQ", "GTEQ") for c in codes):
                comparator = _INCLUSIVE[comparator]
    if comparator == "between" and "PLUS-MINUS" in codes:
        (_, r0, v0), (_, r1, v1) = vals[0], vals[1]
        value_text, value_high_text = r0, r1
        if v0 is not None and v1 is not None:
            value, value_high = v0 - abs(v1), v0 + abs(v1)
    elif comparator == "between":
        if len(parsed) >= 2:
            (_, r0, v0), (_, r1, v1) = parsed[0], parsed[1]
            if v1 < v0:
                (r0, v0), (r1, v1) = (r1, v1), (r0, v0)
            value, value_high, value_text, value_high_text = v0, v1, r0, r1
        else:  # a range with an unparseable or missing bound never matches
            value_text = vals[0][1] if vals else None
            value_high_text = vals[1][1] if len(vals) > 1 else None
    elif parsed:
        value_text, value = parsed[0][1], parsed[0][2]
    elif vals:
        value_text = vals[0][1]
    # "145 mmHg ≤ SBP": a symbolic operator between a leading value and the variable.
    if (
        comparator in _MIRROR
        and var_start is not None
        and len(ops) == 1
        and vals
        and doc.text is not None
    ):
        o_start, o_end, _ = ops[0]
        if vals[0][0] < o_start and o_end <= var_start and not doc.text[o_end:var_start].strip():
            if _SYMBOLIC_OP.match(doc.text[o_start:o_end]):
                comparator = _MIRROR[comparator]
                mirrored = True
    return {
        "comparator": comparator,
        "value": value,
        "value_high": value_high,
        "value_text": value_text,
        "value_high_text": value_high_text,
        "raw_values": tuple(raw for _, raw, _ in vals),
        "values": tuple(v for _, _, v in parsed),
        "raw_operators": tuple(codes),
        "mirrored": mirrored,
        "value_from_text": from_text,
        "has_value": bool(vals),
    }


def _span_text(doc: BratDocument, start: int, end: int, fallback: str) -> str:
    return doc.text[start:end] if doc.text is not None else fallback


# relations that make a comparison another value of the same variable: "Age <18 or >80",
# "HbA1c >47 mmol/mol (>6.4%)"
_SAME_VARIABLE_RELATIONS = ("Or", "And", "Equivalent-To")


def _related_thresholds(doc: BratDocument) -> dict[str, list[tuple[str, str]]]:
    """Observation/Age event id → [(comparison id, relation type)] of the comparisons that only a
    relation ties to one of its thresholds.

    LCT attaches the first value of ``Age <18 or >80 years`` to the variable and the second only to
    the first value, by an ``Or`` (``And``, ``Equivalent-To``) relation; a few values are tied to
    their Observation by ``Equivalent-To`` instead of ``Numeric-Filter``. A comparison that an event
    holds as an argument, or that such relations tie to thresholds of two variables, is left out.
    """
    attached = {a.target for e in doc.events.values() for a in e.args}
    owners_of: dict[str, set[str]] = {}
    for ev in doc.events.values():
        if ev.type in ("Observation", "Age"):
            for cid in ev.targets("Numeric-Filter"):
                owners_of.setdefault(cid, set()).add(ev.id)
    candidates: dict[str, dict[str, str]] = {}
    for rel in doc.relations.values():
        if rel.type not in _SAME_VARIABLE_RELATIONS:
            continue
        for a, b in ((rel.arg1, rel.arg2), (rel.arg2, rel.arg1)):
            comp = doc.events.get(b)
            if b in attached or comp is None or comp.type != "Eq-Comparison":
                continue
            owner_event = doc.events.get(a)
            if rel.type == "Equivalent-To" and owner_event is not None and owner_event.type in ("Observation", "Age"):
                owners = {a}  # "Curves over 50°" annotated as Curves Equivalent-To the comparison
            else:
                owners = owners_of.get(a, set())
            for owner in owners:
                candidates.setdefault(b, {}).setdefault(owner, rel.type)
    out: dict[str, list[tuple[str, str]]] = {}
    for cid, owners in candidates.items():
        if len(owners) == 1:
            (owner, rel_type), = owners.items()
            out.setdefault(owner, []).append((cid, rel_type))
    return out


def extract_gold(doc: BratDocument) -> GoldDocument:
    """Gold thresholds and conditions of one annotated document."""
    doc_id = doc.doc_id or ""
    gold = GoldDocument(doc_id=doc_id, text=doc.text or "", path=doc.path)
    seen: set[tuple[str, str]] = set()
    related = _related_thresholds(doc)
    for ev in doc.events.values():
        if ev.type not in ("Observation", "Age"):
            continue
        var_tb = doc.textbounds.get(ev.trigger)
        if var_tb is None:
            continue
        if ev.type == "Age":
            obs_type = "age"
        else:
            attrs = doc.attributes_of(ev.id)
            obs_type = attrs.get("Observation-Type-Value") or doc.attributes_of(ev.trigger).get(
                "Observation-Type-Value"
            )
        for cid, via in [(c, None) for c in ev.targets("Numeric-Filter")] + related.get(ev.id, []):
            if (ev.id, cid) in seen:
                continue
            seen.add((ev.id, cid))
            comp = doc.events.get(cid)
            if comp is None or comp.type != "Eq-Comparison":
                gold.skipped.append((cid, "Numeric-Filter target is not an Eq-Comparison event"))
                continue
            ctb = doc.textbounds.get(comp.trigger)
            if ctb is None:
                gold.skipped.append((cid, "Eq-Comparison without trigger"))
                continue
            info = _read_comparison(doc, comp, var_start=var_tb.start)
            if not info.pop("has_value"):
                gold.skipped.append((cid, "no value: " + _span_text(doc, ctb.start, ctb.end, ctb.text)))
                continue
            unit_text, relative, temporal = _unit(doc, comp)
            gold.thresholds.append(
                GoldThreshold(
                    doc_id=doc_id,
                    id=f"{cid}@{ev.id}",
                    variable_event=ev.id,
                    comparison_event=cid,
                    variable_type=ev.type,
                    observation_type=obs_type,
                    variable_text=_span_text(doc, var_tb.start, var_tb.end, var_tb.text),
                    variable_start=var_tb.start,
                    variable_end=var_tb.end,
                    text=_span_text(doc, ctb.start, ctb.end, ctb.text),
                    start=ctb.start,
                    end=ctb.end,
                    unit_text=unit_text,
                    relative_to=relative,
                    temporal_unit=temporal,
                    via_relation=via,
                    **info,
                )
            )
    gold.thresholds.sort(key=lambda g: (g.start, g.variable_start, g.id))
    gold.conditions = _conditions(doc, doc_id)
    gold.threshold_conditions = threshold_conditions(
        doc, {g.variable_event for g in gold.thresholds}, {g.comparison_event for g in gold.thresholds})
    gold.comparisons = _other_comparisons(doc, {g.comparison_event for g in gold.thresholds})
    return gold


def _other_comparisons(doc: BratDocument, used: set[str]) -> list[tuple[str, tuple[int, int], str, str]]:
    uses: dict[str, list[str]] = {}
    for ev in doc.events.values():
        for arg in ev.args:
            if arg.target in doc.events and doc.events[arg.target].type == "Eq-Comparison":
                uses.setdefault(arg.target, []).append(f"{arg.base} of {ev.type}")
    for rel in doc.relations.values():
        for a, other in ((rel.arg1, rel.arg2), (rel.arg2, rel.arg1)):
            if a in doc.events and doc.events[a].type == "Eq-Comparison":
                uses.setdefault(a, []).append(f"{rel.type} relation with {doc.type_of(other)}")
    out = []
    for ev in doc.events.values():
        if ev.type != "Eq-Comparison" or ev.id in used:
            continue
        tb = doc.textbounds.get(ev.trigger)
        if tb is None:
            continue
        use = "; ".join(dict.fromkeys(uses.get(ev.id, []))) or "not attached to any event"
        out.append((ev.id, (tb.start, tb.end), _span_text(doc, tb.start, tb.end, tb.text), use))
    out.sort(key=lambda c: c[1])
    return out


def _comparison_condition(doc: BratDocument, doc_id: str, kind: str, owner: Event, cid: str):
    comp = doc.events.get(cid)
    if comp is None or comp.type != "Eq-Comparison":
        return None
    ctb = doc.textbounds.get(comp.trigger)
    if ctb is None:
        return None
    info = _read_comparison(doc, comp)
    unit_text, _, temporal = _unit(doc, comp)
    period = None
    for tid in comp.targets("Temporal-Period"):
        period = period or doc.attributes_of(tid).get("Eq-Temporal-Period-Value")
    return GoldCondition(
        doc_id=doc_id,
        id=f"{cid}@{owner.id}",
        kind=kind,
        owner_event=owner.id,
        owner_type=owner.type,
        text=_span_text(doc, ctb.start, ctb.end, ctb.text),
        start=ctb.start,
        end=ctb.end,
        comparator=info["comparator"] if info["has_value"] else None,
        value=info["value"],
        value_high=info["value_high"],
        raw_values=info["raw_values"],
        unit_text=unit_text,
        temporal_unit=temporal,
        temporal_period=period,
    )


def _conditions(doc: BratDocument, doc_id: str) -> list[GoldCondition]:
    out: list[GoldCondition] = []
    for ev in doc.events.values():
        if ev.type == "Drug":
            for cid in ev.targets("Dose"):
                c = _comparison_condition(doc, doc_id, "dose", ev, cid)
                if c:
                    out.append(c)
        for cid in ev.targets("Temporality"):
            c = _comparison_condition(doc, doc_id, "temporality", ev, cid)
            if c:
                out.append(c)
        if ev.type == "Exception":
            tb = doc.textbounds.get(ev.trigger)
            if tb is None:
                continue

            def spans(role: str) -> tuple[tuple[int, int], ...]:
                return tuple(s for s in (doc.span_of(t) for t in ev.targets(role)) if s)

            out.append(
                GoldCondition(
                    doc_id=doc_id,
                    id=ev.id,
                    kind="exception",
                    owner_event=None,
                    owner_type=None,
                    text=_span_text(doc, tb.start, tb.end, tb.text),
                    start=tb.start,
                    end=tb.end,
                    from_spans=spans("From"),
                    except_spans=spans("Except"),
                )
            )
    out.sort(key=lambda c: (c.start, c.kind, c.id))
    return out


def extract_gold_corpus(docs: Iterable[BratDocument]) -> list[GoldDocument]:
    return [extract_gold(d) for d in docs]
