"""A character-level grammar of threshold expressions.

``find_quantities(text)`` returns every comparator/number/unit expression of a text:

- prefix comparators in symbols and words (``≥ 80 g/L``, ``at least 18 years``, ``not exceeding 2``);
- postfix comparators (``18 years or older``, ``50% or less``);
- ranges (``18-70``, ``18 to 70 years``, ``between 7.0% and 10.5%``, ``0~2``) and paired bounds
  (``≥ 7.5 mg/day and ≤ 60 mg/day``) as one ``between``;
- multiples of reference limits (``2.5 x ULN``, ``≤ 3 times the upper limit of normal``, ``LLN``);
- units through ``criteria_nlp.quantities.units.match_unit`` (``x 109/L`` = ×10⁹/L, ``mL/min/1.73 m²``).

Offsets are character offsets into ``text``. The phrase lists live in
``resources/comparators.json``. The functions are pure and hold no state besides compiled regexes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .notations import apply_notations
from .numbers import NUMBER_BODY, NUMBER_PATTERN, NUMBER_SCAN_PATTERN, parse_number
from .units import UnitMatch, match_unit

_RESOURCE = Path(__file__).resolve().parent.parent / "resources" / "comparators.json"

TIME_UNITS = {"a", "mo", "wk", "d", "h", "min", "s"}


@dataclass(frozen=True)
class Quantity:
    """One threshold expression found in text (offsets into the text)."""

    start: int
    end: int
    comparator: str  # ">", ">=", "<", "<=", "=", "between", "outside" (of a range), or "" when the text gives none
    value: float
    value_high: float | None = None
    value_start: int = 0
    value_end: int = 0
    unit: str | None = None  # UCUM
    unit_text: str | None = None
    unit_start: int | None = None
    unit_end: int | None = None
    unit_kind: str | None = None
    relative_to: str | None = None
    inclusive: tuple[bool, bool] | None = None
    comparator_form: str = "symbol"  # symbol, word, postfix, range, none
    comparator_start: int | None = None
    temporal_cue: bool = False  # "within 3 days", "for ≥ 2 weeks", "6 months prior to"
    value_pair: float | None = None  # "< 140/90 mmHg": the value after the slash (a second variable's)

    @property
    def is_time(self) -> bool:
        return self.unit in TIME_UNITS and self.relative_to is None


def shifted(q: Quantity, offset: int) -> Quantity:
    """``q`` with every offset moved by ``offset`` (from a segment's offsets to the text's)."""
    if offset == 0:
        return q
    # a copy of the fields, not dataclasses.replace (which reads every field and runs __init__:
    # 4x the cost, paid for every quantity put on an excerpt)
    fields = q.__dict__.copy()
    for name in ("start", "end", "value_start", "value_end"):
        fields[name] += offset
    for name in ("unit_start", "unit_end", "comparator_start"):
        if fields[name] is not None:
            fields[name] += offset
    moved = object.__new__(Quantity)
    moved.__dict__.update(fields)
    return moved


# a phrase is read as words and symbols: blanks between two words are required, blanks next to a
# symbol are optional ("> or =" also reads "<or=" style "≥or=", ">/=" also "> / =")
_PHRASE_PIECE = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*\.?|\S")


def _phrase_body(phrase: str) -> str:
    pieces = _PHRASE_PIECE.findall(phrase)
    body = re.escape(pieces[0])
    for prev, piece in zip(pieces, pieces[1:]):
        wordy = prev[-1].isalnum() and piece[0].isalnum()
        body += (r"\s+" if wordy else r"[ \t]*") + re.escape(piece)
    return body


def _phrase_regex(phrases, *, word_bounded: bool = True) -> str:
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        body = _phrase_body(phrase)
        if word_bounded and phrase[0].isalpha():
            body = r"\b" + body
        if word_bounded and phrase[-1].isalpha():
            body = body + r"\b"
        parts.append(body)
    return "|".join(parts)


@dataclass(frozen=True)
class _Lexicon:
    comp_rev_re: re.Pattern
    number_re: re.Pattern
    prefix_of: dict[str, str]
    postfix_re: re.Pattern
    postfix_of: dict[str, str]
    relative_re: re.Pattern
    range_re: re.Pattern
    opener_re: re.Pattern
    inclusive_re: re.Pattern
    number_words: dict[str, float]
    word_re: re.Pattern
    relative_names: dict[str, str]
    glued_words: frozenset
    outside_re: re.Pattern
    offset_re: re.Pattern


def _word_scan_regex(words) -> re.Pattern:
    """``\\b(?:word|...)\\b`` (case-insensitive) for scanning a whole text, same matches, faster.

    Like ``NUMBER_SCAN_PATTERN``: a leading class of the first letters (with their case variants,
    e.g. 'ſ' for 's') lets ``re`` skip the other positions; ``(?<!\\w.)`` is the ``\\b`` before the
    first letter, and each word goes on after its own first letter, longest words first.
    """
    by_first: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        by_first.setdefault(word[0], []).append(word)
    # every character that re.IGNORECASE matches with a first letter (only BMP characters fold to
    # a Basic Latin letter; tests/test_quantity_scan.py checks the whole Unicode range)
    first_class = re.compile("[" + "".join(sorted(by_first)) + "]", re.IGNORECASE)
    variants = "".join(c for c in map(chr, range(0x10000)) if first_class.match(c))
    rests = "|".join(
        f"(?<={re.escape(first)})(?:" + "|".join(re.escape(w[1:]) + r"\b" for w in group) + ")"
        for first, group in by_first.items()
    )
    return re.compile(rf"[{re.escape(variants)}](?<!\w.)(?i:{rests})")


def _normalise_phrase(phrase: str) -> str:
    """The key of a phrase: its words and symbols, blank-separated ("<or=" and "< or =" are one key)."""
    return " ".join(_PHRASE_PIECE.findall(phrase.lower()))


@lru_cache(maxsize=1)
def lexicon() -> _Lexicon:
    data = json.loads(_RESOURCE.read_text(encoding="utf-8"))
    prefix_of = {_normalise_phrase(p): op for op, ps in data["prefix"].items() for p in ps}
    # "> or = to 1.5", "greater than or equal to": a symbol phrase ending in "=" or "or equal" also
    # reads with "to" after it
    for phrase, op in list(prefix_of.items()):
        if op in (">=", "<=") and (phrase.endswith("=") or phrase.endswith(" equal")):
            prefix_of.setdefault(phrase + " to", op)
    postfix_of = {_normalise_phrase(p): op for op, ps in data["postfix"].items() for p in ps}
    number_words = {k.lower(): float(v) for k, v in data["number_words"].items()}
    units_words = {w: v for w, v in number_words.items() if 1 <= v <= 9 and v.is_integer() and "-" not in w
                   and w not in ("twice", "thrice", "double", "triple")}
    for tens in ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"):
        if tens in number_words:  # "forty-five": tens-units compounds
            for unit_word, v in units_words.items():
                number_words.setdefault(f"{tens}-{unit_word}", number_words[tens] + v)
    if not all(re.fullmatch(r"[^\W\d_]+(?:-[^\W\d_]+)*", w) for w in number_words):
        raise ValueError("number words are letters and hyphens only (see _word_scan_regex)")
    comp_alt = _phrase_regex(prefix_of)
    # comparators are found by looking back from each number: one anchored match on the
    # reversed text instead of trying ~200 phrases at every character; the look-ahead on the
    # phrases' last characters rejects at once the half of the numbers that have no comparator
    last_chars = re.escape("".join(sorted({p[-1] for p in prefix_of})))
    comp_rev_re = re.compile(
        # between comparator and number: the comparator echoed as a symbol ("less than (<) 2"),
        # "of", "the", "a" ("less than a 7th grade"), ":" or "(the) age (of)" ("over the age of 18")
        rf"[ \t]*(?:\)[ \t]*[<>≤≥=/_ \t]{{1,6}}\([ \t]*)?"
        rf"(?:(?:fo[ \t]+)?ega[ \t]+(?:eht[ \t]+)?|(?:fo|eht|a)[ \t]+)?(?::[ \t]*)?"
        rf"(?=[{last_chars}])(?P<comp>{_phrase_regex([p[::-1] for p in prefix_of])})",
        re.IGNORECASE,
    )
    # "Minimum Age: 18 Years Maximum Age: 99 Years": a word before a colon labels the next value
    # (blank runs are never adjacent: a long run of spaces after a number costs linear time)
    # "40 kg and less than 120 kg": a postfix word followed by "than" starts the next comparator
    postfix_re = re.compile(rf"[ \t]*(?:\([ \t]*)?(?P<post>{_phrase_regex(postfix_of)})(?![\w])(?![ \t]+th[ae]n\b)",
                            re.IGNORECASE)
    rel_long = [p for ps in data["relative"].values() for p in ps if len(p) > 2]
    rel_short = [p for ps in data["relative"].values() for p in ps if len(p) <= 2]
    mult = r"(?:\btimes\b|\btime\b|-?\bfolds?\b|[xX×*])"
    relative_re = re.compile(
        rf"[ \t]*(?:(?P<mult>{mult})[ \t]*)?(?:(?P<cmpw>higher|greater|more|above|over|lower|less|below)(?:[ \t]+than)?[ \t]+)?"
        rf"(?:(?:the|institutional|institution's|of)[ \t]+)*"
        rf"(?P<rel>(?:{_phrase_regex(rel_long, word_bounded=False)})(?![\w]))(?:[ \t]*\((?:i?uln|lln|ulrr)\))?"
        rf"|[ \t]*(?P<mult2>{mult})[ \t]*(?P<rel2>{_phrase_regex(rel_short)})\b",
        re.IGNORECASE,
    )
    connectors = _phrase_regex(data["range_connectors"])
    markers = rf"(?P<excl1>{_phrase_regex(data['exclusive_markers'])})|{_phrase_regex(data['inclusive_markers'])}"
    range_re = re.compile(
        # "between 50 kg (inclusive) and 90 kg (exclusive)": the first bound's own inclusivity in parentheses
        rf"(?P<mark1>[ \t]*\([ \t]*(?:{markers})[ \t]*\))?"
        # "between 18- and 65-years": a hyphen left hanging before a word connector
        rf"[ \t]*(?:-(?=[ \t]*(?:and|to)\b)[ \t]*)?(?P<conn>{connectors})[ \t]*(?:(?P<comp2>{comp_alt})[ \t]*)?(?P<num2>{NUMBER_PATTERN})",
        re.IGNORECASE,
    )
    opener_re = re.compile(
        rf"(?:{_phrase_regex(data['range_openers'])})(?:[ \t]+(?:the[ \t]+)?(?:ages?|values?|range)(?:[ \t]+of)?)?[ \t:]*(?:of[ \t]+)?$",
        re.IGNORECASE,
    )
    inclusive_re = re.compile(
        rf"[ \t]*(?:[(,][ \t]*)?(?:(?P<excl>{_phrase_regex(data['exclusive_markers'])})"
        rf"|(?P<incl>{_phrase_regex(data['inclusive_markers'])}))",
        re.IGNORECASE,
    )
    relative_names = {_normalise_phrase(p): name for name, ps in data["relative"].items() for p in ps}
    # "greater than100", "at least18": a number glued to the last word of a word comparator
    glued_words = frozenset(p.split()[-1] for p in prefix_of if p[-1].isalpha() and len(p.split()[-1]) >= 2)
    # "outside the (normal) range of 3.5-5.5": the range's values are excluded
    outside_re = re.compile(
        rf"(?:{_phrase_regex(data['outside_openers'])})(?:[ \t]+(?:the|a|normal|reference|usual|target|limits?|ranges?|"
        rf"interval|values?|of|between)\b){{0,5}}[ \t:(]*$",
        re.IGNORECASE,
    )
    offset_re = re.compile(rf"[ \t]+(?:above|over|below|under|beyond)[ \t]+"
                           rf"(?:{_phrase_regex(data.get('offset_references', ['control']))})(?![\w])", re.IGNORECASE)
    return _Lexicon(comp_rev_re, re.compile(NUMBER_SCAN_PATTERN), prefix_of, postfix_re, postfix_of, relative_re, range_re,
                    opener_re, inclusive_re, number_words, _word_scan_regex(number_words), relative_names, glued_words,
                    outside_re, offset_re)


# a one-word postfix comparator that is the first word of a field label ("Maximum Age:")
_STARTS_A_LABEL = re.compile(r"[A-Z][^\W\d]*[ \t]+[^\W\d]+[ \t]*:")
_TEMPORAL_BEFORE = re.compile(
    r"(?:\bwithin|\bin[ \t]+the[ \t]+(?:last|past|previous|preceding|prior|next|first)|\bduring[ \t]+the(?:[ \t]+(?:last|past|previous|prior))?"
    r"|\bfor|\bfor[ \t]+(?:a|the)[ \t]+(?:period|duration)[ \t]+of|\bperiod[ \t]+of|\bin[ \t]+the|\bsince|\bwithin[ \t]+the(?:[ \t]+(?:last|past|previous))?|\bpast|\blast|\bafter|\bbefore|\bprior[ \t]+to|\bat[ \t]+least)[ \t]*$",
    re.IGNORECASE,
)
_TEMPORAL_AFTER = re.compile(
    r"[ \t,()]*(?:prior|before|after|ago|since|preceding|following|from|of[ \t]+(?:screening|enrol|enroll|registration|randomi|study|the[ \t]+(?:first|start|study|screening|initiation))|post|until|washout|wash-out|or[ \t]+(?:5|five)[ \t]+half)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d$")


def _char_before(text: str, pos: int) -> str:
    return text[pos - 1] if pos > 0 else " "


_CHROMOSOME_ARM = re.compile(r"[pq](?:\d|[^\w]|$)")
_LEADING_ZERO = re.compile(r"0\d")  # "066", "0056" (a value is written "66", "0.56")
_CODE_AFTER = re.compile(r"[-–](?:[A-Za-z]+[-–]\d|0\d)")  # "84-D-0056", "97-0695"
_NAMES_A_DOCUMENT = re.compile(r"\b(?:protocols?|amendments?|versions?|IRB|NCT|(?i:no)\.|#)[ \t]*(?:#|no\.?|number)?[ \t]*$",
                               re.IGNORECASE)


def _after_a_code_part(text: str, start: int) -> bool:
    """A number after "<code>-": the second part of a code ("05-102", "protocol 91-0113")."""
    if start < 2 or text[start - 1] not in "-–" or not text[start - 2].isdigit():
        return False
    first = start - 2
    while first > 0 and text[first - 1].isdigit():
        first -= 1
    return _is_identifier_number(text, first, start - 1)


# karyotype notation: a rearrangement's chromosomes ("t(4;11)", "inv(16)"; bands are _CHROMOSOME_ARM's)
_REARRANGEMENT_BEFORE = re.compile(r"\b(?:t|inv|del|der|dup|ins)\((?:[\dXY]+[pq.\d]*;)*$")


# "over a six month period": the period a value is measured over, not a comparison
_PERIOD_NOUN_AFTER = re.compile(r"[ \t-]+(?:period|interval|span)\b", re.IGNORECASE)
_OVER_A = re.compile(r"over[ \t]+(?:a|an|the)\b", re.IGNORECASE)


def _is_period_measured_over(text: str, q: Quantity) -> bool:
    """Whether ``q`` is "over a N <time unit> period" (a window, read by the conditions component)."""
    return q.comparator_start is not None and _OVER_A.match(text, q.comparator_start) is not None \
        and q.unit_end is not None and _PERIOD_NOUN_AFTER.match(text, q.unit_end) is not None


def _is_karyotype_number(text: str, start: int) -> bool:
    """A chromosome number of a rearrangement: ``t(9;22)``, ``inv(16)``."""
    return _REARRANGEMENT_BEFORE.search(text, max(0, start - 20), start) is not None


# the word of a schedule written before its number: "cycles 1-3", "on days 1 and 8", "hours 0 to 12"
# (not weeks: "pregnancy week 26 to 36" is a gestational age)
_SCHEDULE_WORD_BEFORE = re.compile(r"(?<![\w-])(?i:cycles?|courses?|days?|hours?|visits?)[ \t]+$")


def _is_identifier_number(text: str, start: int, end: int) -> bool:
    """Numbers that belong to a name or code: CD4, HbA1c, COVID-19, SLEDAI-2000, 1st, T2DM, 11q23."""
    if _is_karyotype_number(text, start):
        return True
    before = _char_before(text, start)
    if before.isalpha() and before not in "xX×":
        return True
    if before in "-–" and start >= 2 and text[start - 2].isalpha():
        return True
    if before in "/." and start >= 2 and text[start - 2].isalnum():
        return True  # 1.73 in mL/min/1.73, 2.1 in item numbers already stripped
    if _LEADING_ZERO.match(text, start) or _CODE_AFTER.match(text, end) or _NAMES_A_DOCUMENT.search(text, max(0, start - 24), start):
        return True  # "protocol 97-0695", "Protocol # 05-102", "84-D-0056": a document's number or code
    if _CHROMOSOME_ARM.match(text, end):
        return True  # "17p deletion", "del(5q)", "11q23": a chromosome arm or band
    after = text[end:end + 3]
    if after[:2].lower() in ("st", "nd", "rd", "th") and (len(after) < 3 or not after[2].isalpha()) \
            and not _ORDINAL_UNIT.match(text, end + 2):
        return True  # "1st", "5th" -- but "< 10th percentile" and "< 7th grade" are values
    return False


class _Found:
    """A comparator found by looking back from a number (quacks like the ``re.Match`` it replaces)."""

    __slots__ = ("_text", "_start", "_end")

    def __init__(self, text: str, start: int, end: int):
        self._text, self._start, self._end = text, start, end

    def group(self) -> str:
        return self._text[self._start:self._end]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


_VALUE_PAIR = re.compile(r"[ \t]*/[ \t]*(\d{1,4}(?:\.\d+)?)(?![\d/.,]|[ \t]*(?:[\d]|x\b|×))")
# a digit right after a letter (scans fast: the pattern starts with its class); the word before it
_GLUED_DIGIT = re.compile(r"\d(?<=[^\W\d_]\d)")
_WORD_BEFORE = re.compile(r"[^\W\d_]+$")
_GLUED_NUMBER = re.compile(rf"{NUMBER_BODY}(?![\d])")


def _glued_numbers(text: str, lex: "_Lexicon") -> list:
    """Numbers glued to the last word of a word comparator: "greater than100", "at least18"."""
    out = []
    for m in _GLUED_DIGIT.finditer(text):
        i = m.start()
        word = _WORD_BEFORE.search(text, max(0, i - 24), i)
        if word is not None and word.group().lower() in lex.glued_words:
            number = _GLUED_NUMBER.match(text, i)
            if number is not None:
                out.append(number)
    return out
_SLASH_PAIR = re.compile(r"/[ \t]*\d{1,4}(?:\.\d+)?(?=[ \t]*[^\W\d])")
# an ordinal that is a value: "< 10th percentile", "less than a 7th grade education"
_ORDINAL_UNIT = re.compile(r"[ \t]*(?:percentile|centile)|[ \t-]*grade\b", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r",\d{1,2}(?![\d,])")
_LOOKBACK = 60
_LIST_MARKER = re.compile(r"[.)][ \t]")


def _postfix_after_abbreviated_unit(text: str, lex: "_Lexicon", pos: int, unit) -> "re.Match | None":
    """A postfix comparator in lower case after a unit abbreviated with a full stop: "300 lbs. and
    above", "18 yrs. or older" (a capital would start the next sentence)."""
    if unit is None or not text.startswith(".", pos) or not text[pos - 1:pos].isalpha():
        return None
    post = lex.postfix_re.match(text, pos + 1)
    return post if post is not None and post.group("post")[:1].islower() else None


def _line_start(text: str, pos: int) -> bool:
    """Whether only spaces stand between the previous newline (or the text start) and ``pos``."""
    i = pos - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] == "\n"

# roman numerals count only after a comparator ("ASA > II", "NYHA ≥ III"), like number words
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6,
                 "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "Ⅵ": 6}
# (?<![\w.])(?:VI|IV|V|III|II|I|[ⅠⅡⅢⅣⅤⅥ])(?![\w]), written to scan fast like NUMBER_SCAN_PATTERN
_ROMAN = re.compile(r"[IVⅠⅡⅢⅣⅤⅥ](?<![\w.].)(?:(?<=V)I?|(?<=I)(?:V|II|I|)|(?<=[ⅠⅡⅢⅣⅤⅥ]))(?![\w])")


def _comparator_before(text: str, lex: _Lexicon, pos: int, floor: int) -> _Found | None:
    """The comparator that ends right before ``pos`` (matched on the reversed text, one attempt)."""
    lo = max(floor, pos - _LOOKBACK)
    m = lex.comp_rev_re.match(text[lo:pos][::-1])
    if m is None:
        return None
    return _Found(text, pos - m.end("comp"), pos - m.start("comp"))


_ARTICLE_BEFORE = re.compile(r"(?:\b(?:the|an?)[ \t]+)?$", re.IGNORECASE)


# one or two words qualifying a class word: "≥ clinical grade II", "higher than pathological stage II"
_QUALIFIERS_BEFORE = (re.compile(r"(?<![\w-])(?P<words>[^\W\d_][\w-]*)[ \t]+$"),
                      re.compile(r"(?<![\w-])(?P<words>[^\W\d_][\w-]*[ \t]+[^\W\d_][\w-]*)[ \t]+$"))
_NOT_A_QUALIFIER = {"of", "the", "a", "an", "and", "or", "with", "without", "to", "in", "on", "at", "for", "than",
                    "no", "not", "nor", "any", "is", "are", "be", "was", "were", "has", "have", "had", "by", "as",
                    "if", "who", "which", "that", "from", "after", "before", "more", "less", "least", "most",
                    "greater", "higher", "lower", "above", "below", "over", "under", "equal", "worse", "better"}


def comparator_before_position(text: str, pos: int, qualified: bool = True) -> tuple[str, int] | None:
    """(comparator, start) of a comparator phrase ending right before ``pos`` (a name, not a number:
    "more severe than NYHA 2", "at least the ASA class II"), or None. One or two qualifying words may
    stand between the comparator and the name: "≥ clinical grade II"."""
    lex = lexicon()
    article = _ARTICLE_BEFORE.search(text, max(0, pos - 8), pos)
    if article is not None:
        pos = article.start()
    found = _comparator_before(text, lex, pos, 0)
    if found is None and qualified:  # one qualifying word, else two
        for regex in _QUALIFIERS_BEFORE:
            qualifier = regex.search(text, max(0, pos - 40), pos)
            if qualifier is None or any(w.lower() in _NOT_A_QUALIFIER for w in qualifier.group("words").split()):
                return None
            found_after = comparator_before_position(text, qualifier.start(), qualified=False)
            if found_after is not None:
                return found_after
        return None
    if found is None:
        return None
    return lex.prefix_of[_normalise_phrase(found.group())], found.start()


def postfix_after_position(text: str, pos: int) -> tuple[str, int, int] | None:
    """(comparator, start, end) of a postfix comparator right after ``pos`` ("III or worse"), or None."""
    lex = lexicon()
    post = lex.postfix_re.match(text, pos)
    if post is None or _STARTS_A_LABEL.match(text, post.start("post")):
        return None
    return lex.postfix_of[_normalise_phrase(post.group("post"))], post.start("post"), post.end()


def find_quantities(text: str) -> list[Quantity]:
    """Every threshold-like expression of ``text``, in order, non-overlapping."""
    lex = lexicon()
    candidates = list(lex.number_re.finditer(text))
    words = list(lex.word_re.finditer(text)) + list(_ROMAN.finditer(text))
    words += _glued_numbers(text, lex)
    if not candidates and not words:
        return _limits_without_number(text, [])
    if words:
        candidates = sorted(candidates + words, key=lambda m: m.start())
    found: list[Quantity] = []
    consumed = 0
    for m in candidates:
        num_start, num_end = m.span()
        if num_start < consumed:
            continue
        if _LIST_MARKER.match(text, num_end) and _line_start(text, num_start):
            continue  # "2." / "3)" numbering a list item
        is_word = not m.group()[0].isdigit() and m.group()[0] not in "-−."
        comp = _comparator_before(text, lex, num_start, consumed)
        word_alone = is_word and comp is None and not lex.relative_re.match(text, num_end)
        if word_alone and (m.group() in _ROMAN_VALUES or not _joined_postfix_after(text, lex, num_end)):
            continue  # "one of the following" is not a threshold; "three times the ULN" is (classes: the linker)
        glued = not is_word and _char_before(text, num_start).isalpha()
        if glued and (comp is None or comp.end() != num_start):
            continue  # only a comparator word may be glued to its number
        if not is_word and not glued and (_is_identifier_number(text, num_start, num_end) or _after_a_code_part(text, num_start)):
            continue
        if is_word:
            value = lex.number_words.get(m.group().lower(), _ROMAN_VALUES.get(m.group()))
        else:
            if comp is not None and m.group().isdigit():
                decimal = _DECIMAL_COMMA.match(text, num_end)
                if decimal:  # "≥ 7,8 mmol/l", "BMI ≥18,5": a decimal comma after a comparator
                    num_end = decimal.end()
            value = parse_number(text[num_start:num_end])
        if value is None:
            continue
        q = _read_tail(text, lex, comp, num_start, num_end, value)
        if q is None or _is_period_measured_over(text, q) or (word_alone and q.comparator_form != "postfix"):
            continue  # a number word needs a comparator: "two or more falls", not "two of them"
        if comp is None and q.unit is None and _SCHEDULE_WORD_BEFORE.search(text, max(0, num_start - 12), num_start):
            continue  # "during cycles 1-3", "days 1-4, 9-12", "Hours 0 to 12": a place in a schedule, no threshold
        q = _side_of_the_mean(text, _lone_deviation(text, _echoed_sign_after(text, q)))
        found.append(q)
        consumed = q.end
    # "PT < 0.6 seconds above control": an offset from a reference, which the contract has no field for
    found = [q for q in found if not _span_of_a_scale(text, q) and not (q.unit and lex.offset_re.match(text, q.end))]
    found = _outside_ranges(text, lex, _share_units(text, _merge_bounds(text, _bare_lower_bounds(text, _chained_bounds(text, found)))))
    found = _bounds_in_two_units(text, _aside_alternatives(text, lex, found))
    found = apply_notations(text, found, _notation_quantity, _notation_comparator_before, postfix_after_position)
    return _limits_without_number(text, found)


# characters after a number word in which a postfix comparator may start ("twice a month or more")
_POSTFIX_REACH = 24


_JOINED_POSTFIX = re.compile(r"(?:or|and)\b", re.IGNORECASE)


def _joined_postfix_after(text: str, lex: "_Lexicon", pos: int) -> bool:
    """Whether a postfix comparator joined by "or"/"and" follows soon after ``pos`` ("two or more",
    "twice a month or more"; not "one at least 20 ng/mL", whose "at least" is the next value's)."""
    post = lex.postfix_re.search(text, pos, pos + _POSTFIX_REACH)
    return post is not None and _JOINED_POSTFIX.match(post.group("post")) is not None


def _notation_quantity(start: int, end: int, comparator: str, value: float, value_high: float | None,
                       value_start: int, value_end: int, form: str, comparator_start: int | None) -> Quantity:
    """A quantity of a notation (``criteria_nlp.quantities.notations``): no unit."""
    return Quantity(start=start, end=end, comparator=comparator, value=value, value_high=value_high,
                    value_start=value_start, value_end=value_end, comparator_form=form,
                    comparator_start=comparator_start)


def _notation_comparator_before(text: str, pos: int) -> tuple[tuple[str, str], int] | None:
    """((comparator, phrase), start) of the comparator phrase ending right before ``pos``."""
    lex = lexicon()
    found = _comparator_before(text, lex, pos, 0)
    if found is None:
        return None
    return (lex.prefix_of[_normalise_phrase(found.group())], found.group()), found.start()


# "on a 0-10 scale", "on a scale of 0 to 10", "VAS (0-100)": the span of a rating scale, no threshold
_SCALE_WORD = r"(?:scales?|VAS|NRS|NPRS|Likert|(?i:numeric(?:al)?[ \t]+rating|visual[ \t]+analog(?:ue)?))\b"
_SPAN_BEFORE = re.compile(
    rf"(?:(?i:\b(?:on|using|in|with)[ \t]+(?:(?:a|an|the)[ \t]+)?)|\([ \t]*|{_SCALE_WORD}[ \t]*(?:\(|(?i:(?:ranging[ \t]+)?(?:of|from)[ \t]+)))$")
_SPAN_AFTER = re.compile(rf"[ \t]*(?:\)[ \t]*)?(?:-?(?i:points?)[ \t]+)?(?:[\w-]+[ \t]+){{0,3}}?{_SCALE_WORD}")


def _span_of_a_scale(text: str, q: Quantity) -> bool:
    """Whether a range without comparator is the span of a rating scale, not a threshold."""
    if q.comparator != "between" or q.comparator_form != "range" or q.unit is not None or q.relative_to is not None:
        return False
    before = _SPAN_BEFORE.search(text, max(0, q.start - 40), q.start)
    if before is None:
        return False
    return bool(re.search(_SCALE_WORD, before.group())) or _SPAN_AFTER.match(text, q.end) is not None


def _outside_ranges(text: str, lex: _Lexicon, found: list[Quantity]) -> list[Quantity]:
    """``outside the range of 3.5-5.5 mmol/L``: a range whose values are excluded, comparator
    ``outside`` (the linker writes it as ``< 3.5`` OR ``> 5.5``)."""
    out = []
    for q in found:
        if q.comparator == "between" and q.comparator_form in ("range", "bounds"):
            m = lex.outside_re.search(text, max(0, q.start - 60), q.start)
            if m is not None:
                q = replace(q, start=m.start(), comparator="outside", comparator_start=m.start(), inclusive=(False, False))
        out.append(q)
    return out


_LIMIT_FILLERS = ("the", "institutional", "institution's", "of")  # between the comparator and the name


@lru_cache(maxsize=1)
def _limit_without_number_res() -> tuple[re.Pattern, re.Pattern]:
    """(name, comparator before it) of a comparison with a reference limit written without a number
    ("no greater than ULN", "less than the upper limit of normal", "≥ LLN"): the names in full or
    abbreviated, not the bare words "normal", "the normal values" or "upper limit", which name other
    things too ("above normal range"); the comparator (with the words "the", "institutional", "of"
    before the name) is matched backwards from the name's start, on the reversed text."""
    lex = lexicon()
    data = json.loads(_RESOURCE.read_text(encoding="utf-8"))
    names = [p for ps in data["relative"].values() for p in ps
             if re.search(r"\b(?:limits?|uln|lln|unl|iuln|ulrr)\b", p, re.IGNORECASE)
             and p.lower() not in ("upper limit", "upper limit of the reference", "upper limit of reference")]
    name_re = re.compile(rf"(?P<rel>{_phrase_regex(names)})(?![\w-])(?![ \t]*(?:\+|[-−][ \t]*\d))", re.IGNORECASE)
    fillers = "|".join(re.escape(w[::-1]) for w in _LIMIT_FILLERS)
    comp_rev_re = re.compile(rf"(?:[ \t]+(?:{fillers}))*[ \t]*(?P<comp>{_phrase_regex([p[::-1] for p in lex.prefix_of])})",
                             re.IGNORECASE)
    return name_re, comp_rev_re


# a word every reference-limit name holds (lower case; the names are chosen by these words)
_LIMIT_KEYS = ("uln", "lln", "unl", "ulrr", "limit")
_LIMIT_NAME_REACH = 48  # characters of a name before and after its key word
_LIMIT_LOOKBACK = 120  # characters of comparator and "the institutional" before a name


def _limit_windows(text: str) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` windows of ``text`` around its reference-limit key words (str.find on
    the lower-cased text: scanning the whole text with an alternation of names is slow)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: offsets would shift
        return [(0, len(text))]
    windows: list[list[int]] = []
    for pos in sorted(pos for key in _LIMIT_KEYS for pos in _find_all(lowered, key)):
        lo, hi = max(0, pos - _LIMIT_NAME_REACH), min(len(text), pos + _LIMIT_NAME_REACH)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    return [(lo, hi) for lo, hi in windows]


def _find_all(text: str, key: str):
    pos = text.find(key)
    while pos != -1:
        yield pos
        pos = text.find(key, pos + 1)


_WORD_BEFORE_SIGN = re.compile(r"(?<![\w-])(?P<word>[A-Za-z]+)[ \t]*$")


def _defines_a_limit(text: str, lex: "_Lexicon", start: int) -> bool:
    """Whether the ``=`` at ``start`` follows an abbreviation of a reference limit ("ULN = upper limit of
    normal"): the limit's names are the lexicon's ``relative_names``."""
    m = _WORD_BEFORE_SIGN.search(text, max(0, start - 12), start)
    return m is not None and m.group("word").isupper() and m.group("word").lower() in lex.relative_names


def _limits_without_number(text: str, found: list[Quantity]) -> list[Quantity]:
    """``found`` plus the comparisons with a reference limit that write no number: "Calcium no greater
    than ULN", "Bilirubin less than upper limit of normal" are ``<= 1 × ULN`` and ``< 1 × ULN``."""
    windows = _limit_windows(text)
    if not windows:
        return found
    lex = lexicon()
    name_re, comp_rev_re = _limit_without_number_res()
    extra: list[Quantity] = []
    last_end = 0
    for lo, hi in windows:
        for name in name_re.finditer(text, lo, hi):
            rel_start, rel_end = name.span("rel")
            if rel_start < last_end:
                continue
            back = max(0, rel_start - _LIMIT_LOOKBACK)
            m = comp_rev_re.match(text[back:rel_start][::-1])
            if m is None:
                continue
            start, comp = rel_start - m.end("comp"), m.group("comp")[::-1]
            if not _starts_a_word(text, start, comp) or any(q.start < rel_end and start < q.end for q in found):
                continue
            if lex.prefix_of[_normalise_phrase(comp)] == "=" and _defines_a_limit(text, lex, start):
                continue  # "(ULN = upper limit of normal)": the abbreviation defined, no threshold
            offset = _offset_from_limit(text, found, start)
            if offset is not None:
                relative_to = lex.relative_names.get(_normalise_phrase(name.group("rel")))
                multiple = _percent_of_limit(offset, lex.prefix_of[_normalise_phrase(comp)], relative_to, rel_end)
                found = [multiple if q is offset else q for q in found if q is not offset or multiple is not None]
                continue
            last_end = rel_end
            extra.append(Quantity(
                start=start, end=rel_end, comparator=lex.prefix_of[_normalise_phrase(comp)], value=1.0,
                value_start=rel_start, value_end=rel_end,
                relative_to=lex.relative_names.get(_normalise_phrase(name.group("rel"))),
                comparator_form="symbol" if not comp[0].isalpha() else "word", comparator_start=start))
    if not extra:
        return found
    return sorted(found + extra, key=lambda q: q.start)


def _offset_from_limit(text: str, found: list[Quantity], start: int) -> Quantity | None:
    """The value with its unit right before the comparison word at ``start``, if any: "no greater than
    0.3 mg/dL above ULN" is an offset from the limit (ULN + 0.3 mg/dL), not a comparison with the limit
    itself."""
    return next((q for q in found if q.unit is not None and q.end <= start and not text[q.end:start].strip()), None)


def _percent_of_limit(q: Quantity, direction: str, relative_to: str | None, end: int) -> Quantity | None:
    """``less than 25% above ULN`` → ``< 1.25 × ULN``, ``no less than 15% below LLN`` → ``>= 0.85 × LLN``:
    a percentage above or below a reference limit is a multiple of it. Other offsets ("0.3 mg/dL above
    ULN", "1 second above ULN") have no field in the contract: None (no rule; "<= 0.3 mg/dL" would be wrong)."""
    if q.unit != "%" or q.comparator == "between" or relative_to is None or q.value <= 0:
        return None
    sign = 1 if direction in (">", ">=") else -1
    return replace(q, end=end, value=round(1 + sign * q.value / 100, 6), unit=None, unit_text=None,
                   unit_start=None, unit_end=None, unit_kind=None, relative_to=relative_to)


def _starts_a_word(text: str, start: int, phrase: str) -> bool:
    """Whether a phrase starting with a letter starts a word at ``start`` (the reversed match checks
    the word boundary at its end, which is the phrase's start, only within the look-back)."""
    return not phrase[0].isalpha() or start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


_SIGN = r"(?:<=|=<|≤|<|>=|=>|≥|>)"
# "18 < age < 80", "20 ≤ BMI < 30 kg/m2", "80 > age > 18": a number, a sign and a name before a bound
_CHAIN_BEFORE = re.compile(
    rf"(?<![\w.,])(?P<n1>[-−]?\d+(?:\.\d+)?)[ \t]*(?:%|[^\W\d_]{{1,8}}(?:/[^\W\d_]{{1,4}})?)?[ \t]*(?P<c1>{_SIGN})"
    r"[ \t]*(?P<name>[^\W\d_][^<>≤≥=\n;,:()\d]{0,40}?)[ \t]*$"
)


def _chained_bounds(text: str, found: list[Quantity]) -> list[Quantity]:
    """``18 < age < 80`` → one ``between`` (the name between the signs stays the variable's)."""
    out: list[Quantity] = []
    for q in found:
        if q.comparator_form == "symbol" and q.comparator in ("<", "<=", ">", ">=") and q.comparator_start is not None:
            lo = max(0, q.comparator_start - 80)
            m = _CHAIN_BEFORE.search(text, lo, q.comparator_start)
            first = parse_number(m.group("n1")) if m else None
            if m and first is not None:
                c1 = m.group("c1").replace("=<", "<=").replace("=>", ">=").replace("≤", "<=").replace("≥", ">=")
                upward = c1 in ("<", "<=") and q.comparator in ("<", "<=") and first < q.value
                downward = c1 in (">", ">=") and q.comparator in (">", ">=") and first > q.value
                if upward or downward:
                    n1s, n1e = m.span("n1")
                    out = [p for p in out if p.end <= n1s]  # "18 years" of "18 years < age < 65 years"
                    low, high = (first, q.value) if upward else (q.value, first)
                    incl_first, incl_q = c1.endswith("="), q.comparator.endswith("=")
                    q = replace(q, start=n1s, comparator="between", value=low, value_high=high,
                                value_start=n1s if upward else q.value_start,
                                inclusive=(incl_first, incl_q) if upward else (incl_q, incl_first),
                                comparator_form="bounds")
        out.append(q)
    return out


# "received 1 but no more than 2 chemotherapy regimens": a bare number and "but" before an upper bound
_BARE_LOWER_BOUND_BEFORE = re.compile(r"(?<![\w.,])(?P<n1>\d+(?:\.\d+)?)[ \t]+but[ \t]+$", re.IGNORECASE)


def _bare_lower_bounds(text: str, found: list[Quantity]) -> list[Quantity]:
    """``1 but no more than 2 regimens`` → ``between 1 and 2`` (the bare number is the least allowed)."""
    out: list[Quantity] = []
    for q in found:
        if q.comparator in ("<", "<=") and q.comparator_start is not None and q.relative_to is None:
            m = _BARE_LOWER_BOUND_BEFORE.search(text, max(0, q.comparator_start - 30), q.comparator_start)
            first = parse_number(m.group("n1")) if m else None
            if m and first is not None and first < q.value and (not out or out[-1].end <= m.start()):
                q = replace(q, start=m.start("n1"), comparator="between", value=first, value_high=q.value,
                            value_start=m.start("n1"), inclusive=(True, q.comparator == "<="), comparator_form="bounds")
        out.append(q)
    return out


_ECHO_AFTER = re.compile(r"[ \t]*(?:old[ \t]*)?\([ \t]*(?P<sign>≤|≥|<=|>=|=<|=>|<|>)[ \t]*\)")
_SIGNS = {"≤": "<=", "<=": "<=", "=<": "<=", "≥": ">=", ">=": ">=", "=>": ">=", "<": "<", ">": ">"}


def _echoed_sign_after(text: str, q: Quantity) -> Quantity:
    """``under 80 years old (≤)``: a sign in parentheses after a worded threshold restates it; when it
    points the same way, its inclusivity is the one meant."""
    m = _ECHO_AFTER.match(text, q.end)
    if m is None or q.comparator not in _SIGNS.values() or q.comparator_form != "word":
        return q
    sign = _SIGNS[m.group("sign")]
    if sign[0] != q.comparator[0]:
        return q
    return replace(q, comparator=sign)


_ALTERNATIVE_GAP = re.compile(r"[ \t]*(?:,|/|or|and|and[ \t]*/[ \t]*or|nor)[ \t]*$", re.IGNORECASE)


def _share_units(text: str, found: list[Quantity]) -> list[Quantity]:
    """``≥140 or <100 mmHg``, ``≤ 2.5 or ≤ 5 x ULN``: a unit written once holds for both values."""
    for i in range(len(found) - 2, -1, -1):
        q, nxt = found[i], found[i + 1]
        if q.unit is None and q.relative_to is None and q.comparator and (nxt.unit or nxt.relative_to) \
                and _ALTERNATIVE_GAP.match(text, q.end, nxt.start):
            found[i] = replace(q, unit=nxt.unit, unit_text=nxt.unit_text, unit_start=nxt.unit_start,
                               unit_end=nxt.unit_end, unit_kind=nxt.unit_kind, relative_to=nxt.relative_to)
    return found


# "less than 3 (5 if known liver metastases) times institutional normal": a value, the alternative
# value of a sub-group in parentheses, then the unit or reference limit both are in
_ASIDE_ALTERNATIVE = re.compile(r"[ \t]*\([ \t]*(?P<num>\d+(?:\.\d+)?)(?=[ \t]+[^\W\d])[^()\d]{1,80}\)[ \t]*")


def _aside_alternatives(text: str, lex: _Lexicon, found: list[Quantity]) -> list[Quantity]:
    """A value with no unit followed by ``(N if ...)`` and then a unit or ``times normal``: both the
    value and N (a quantity of its own, with the same comparator) are in that unit."""
    out: list[Quantity] = []
    for q in found:
        out.append(q)
        m = _ASIDE_ALTERNATIVE.match(text, q.end) if q.comparator and q.unit is None and q.relative_to is None \
            and q.comparator != "between" else None
        if m is None or any(q.end < o.start < m.end() for o in found):
            continue
        unit, relative, unit_end = _unit_or_reference(text, lex, m.end())
        if unit is None and relative is None:
            continue
        shared = dict(unit=unit.ucum if unit else None, unit_text=unit.text if unit else None,
                      unit_start=unit.start if unit else None, unit_end=unit.end if unit else None,
                      unit_kind=unit.kind if unit else None, relative_to=relative)
        out[-1] = replace(q, **shared)
        s, e = m.span("num")
        out.append(Quantity(start=s, end=e, comparator=q.comparator, value=float(m.group("num")), value_start=s,
                            value_end=e, comparator_form="none", **shared))
    return out


_RANGE_DASH = re.compile(r"[ \t]*(?:-|–|—|to)[ \t]*", re.IGNORECASE)
_RANGE_AND = re.compile(r"[ \t]*and[ \t]*", re.IGNORECASE)
_BETWEEN_BEFORE = re.compile(r"\bbetween\b[^;:.\d]{0,30}$", re.IGNORECASE)


def _bounds_in_two_units(text: str, found: list[Quantity]) -> list[Quantity]:
    """``6 months - 18 years``, ``between the ages of 4 months and 21 years``: a range whose bounds
    are in two units is a lower bound and an upper bound, each in its own unit (one ``between``
    cannot hold two units)."""
    out = list(found)
    for i in range(len(out) - 1):
        low, high = out[i], out[i + 1]
        if low.comparator == "" and high.comparator == "" and low.unit and high.unit and low.unit != high.unit \
                and (_RANGE_DASH.fullmatch(text, low.end, high.start)
                     or _RANGE_AND.fullmatch(text, low.end, high.start)
                     and _BETWEEN_BEFORE.search(text, max(0, low.start - 40), low.start)):
            out[i] = replace(low, comparator=">=", comparator_form="range")
            out[i + 1] = replace(high, comparator="<=", comparator_form="range")
    return out


def _unit_or_reference(text: str, lex: _Lexicon, pos: int) -> tuple[UnitMatch | None, str | None, int]:
    """What follows a number: a reference-limit multiple (``x ULN``) or a unit; and where it ends."""
    rel = lex.relative_re.match(text, pos)
    if rel:
        return None, lex.relative_names.get(_normalise_phrase(rel.group("rel") or rel.group("rel2"))), rel.end()
    unit = match_unit(text, pos)
    if unit is None and text.startswith("-", pos) and pos + 1 < len(text) and text[pos + 1].isalpha():
        unit = match_unit(text, pos + 1)  # "50-year-old", "10-mg"
    if unit is None and text.startswith("/", pos):
        pair = _SLASH_PAIR.match(text, pos)
        if pair:  # "BP > 130/85 mmHg", "HDL < 50/40 mg/dl" (women/men): the unit after the pair
            unit = match_unit(text, pair.end())
    return unit, None, (unit.end if unit else pos)


@dataclass(frozen=True)
class _Range:
    low: float
    high: float
    end: int
    start: int  # "between" widens the expression to the opener
    unit: UnitMatch | None
    relative: str | None
    inclusive: tuple[bool, bool]


def _range_inclusivity(marker_after: re.Match | None, rng: re.Match, upper: str) -> tuple[bool, bool]:
    """(low, high) inclusivity of a range: a marker after the first bound is its own ("50 kg (inclusive)
    and 90 kg (exclusive)"); a marker after the range holds for both bounds ("18-65 (exclusive)") unless the
    first bound has its own."""
    excl_after = marker_after is not None and marker_after.group("excl") is not None
    high = upper == "<=" and not excl_after
    if rng.group("mark1") is not None:
        return rng.group("excl1") is None, high
    return (False, False) if excl_after else (True, high)


def _read_range(text, lex, comp, comparator, start, pos, value, unit, relative) -> _Range | None:
    """``18-70``, ``18 to 70 years``, ``between 7.0% and 10.5%`` right after the first value."""
    rng = lex.range_re.match(text, pos)
    if rng is None or (comp and comparator != "="):
        return None
    upper = lex.prefix_of[_normalise_phrase(rng.group("comp2"))] if rng.group("comp2") else "<="
    if upper not in ("<", "<="):
        return None  # "2 to <12 years" is a range, "18 to ≥ 65" is not
    conn = rng.group("conn").lower()
    opener = lex.opener_re.search(text, max(0, start - 40), start)
    high = parse_number(rng.group("num2"))
    n2s, n2e = rng.span("num2")
    # "8yr-18yrs": after a unit the hyphen joins two values (not a name like "COVID-19")
    if high is None or _YEAR.match(text[n2s:n2e]) or (unit is None and _is_identifier_number(text, n2s, n2e)):
        return None
    high, unit2, rel2, end = _with_weeks_and_days(text, lex, n2e, high)
    if conn == "and" and not (opener is not None and opener.group().strip().lower().startswith(
            ("between", "from", "rang", "in the", "within", "age"))) and not (unit2 is not None and unit2.kind == "age"):
        return None  # "A and B" is a range after "between" or "aged" (its lost word), or as an age: "18 and 65 years old"
    if unit is not None and unit2 is not None and unit.ucum != unit2.ucum:
        return None  # "6 months - 18 years": bounds in two units (see _bounds_in_two_units)
    unit, relative = unit or unit2, relative or rel2
    if conn in ("-", "–", "—") and unit is None and relative is None and value > high:
        return None  # "10-2" is not a range
    if opener is not None and opener.group().strip().lower().startswith("between"):
        start = opener.start()
    inclusive = _range_inclusivity(lex.inclusive_re.match(text, end), rng, upper)
    if high <= value:
        return None if rng.group("comp2") else _Range(high, value, end, start, unit, relative, inclusive)
    return _Range(value, high, end, start, unit, relative, inclusive)


# "±", "+/-", "+/−", "+-": a tolerance around a value, or a deviation on its own
_PLUS_MINUS = r"(?:±|\+[ \t]*/[ \t]*[-−]|\+[-−])"
_TOLERANCE_AFTER = re.compile(rf"[ \t]*(?P<paren>\([ \t]*)?{_PLUS_MINUS}[ \t]*(?P<num>\d+(?:\.\d+)?)")
_PLUS_MINUS_BEFORE = re.compile(rf"(?:\bwithin[ \t]+)?{_PLUS_MINUS}[ \t]*$", re.IGNORECASE)
# days in a time unit: "6 months ± 3 weeks" gives the tolerance in the value's unit
_DAYS = {"a": 365.25, "mo": 30.4375, "wk": 7.0, "d": 1.0, "h": 1 / 24, "min": 1 / 1440}


def _tolerance_after(text: str, lex: "_Lexicon", pos: int, unit: UnitMatch | None):
    """(width, unit, end) of a tolerance written after a value: ``25 ± 5 kg/m2``, ``23 (+/- 4)``,
    ``6 months (±3 weeks)`` (a time tolerance converted to the value's unit); None when there is none
    or when its unit is another than the value's."""
    m = _TOLERANCE_AFTER.match(text, pos)
    if m is None:
        return None
    width = parse_number(m.group("num"))
    unit2 = match_unit(text, m.end("num"))
    end = unit2.end if unit2 is not None else m.end("num")
    if unit2 is not None and unit is not None and unit2.ucum != unit.ucum:
        if unit2.ucum not in _DAYS or unit.ucum not in _DAYS:
            return None
        width = round(width * _DAYS[unit2.ucum] / _DAYS[unit.ucum], 3)
    if m.group("paren"):
        close = re.match(r"[ \t]*\)", text[end:])
        if close is None:
            return None
        end += close.end()
    return width, unit or unit2, end


# "2 standard deviations below the mean", "2.25 SD below the median for age", "above the age-appropriate mean"
_SIDE_OF_THE_MEAN = re.compile(r"[ \t]+(?P<side>below|under|above|over)[ \t]+(?:the[ \t]+)?(?:[\w-]+[ \t]+){0,3}?"
                               r"(?:mean|average|median|norm|normal)\b", re.IGNORECASE)
_REVERSE = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "": ""}


def _side_of_the_mean(text: str, q: Quantity) -> Quantity:
    """A value in standard deviations from a mean is a z-score (unit ``{SD}``), negative below it: ``at
    least 2.25 SD below the median`` → ``<= -2.25``, ``more than 2 SD above the mean`` → ``> 2`` (below
    the mean, a bound on the distance is the reverse bound on the score)."""
    if q.unit != "{SD}":
        return q
    m = _SIDE_OF_THE_MEAN.match(text, q.end)
    if m is None:
        return q
    if m.group("side").lower() in ("above", "over"):
        return replace(q, end=m.end())
    if q.comparator == "between":
        low, high = q.inclusive or (True, True)
        return replace(q, end=m.end(), value=-q.value_high, value_high=-q.value, inclusive=(high, low))
    return replace(q, end=m.end(), value=-q.value, comparator=_REVERSE.get(q.comparator, q.comparator))


def _lone_deviation(text: str, q: Quantity) -> Quantity:
    """``± 3 %``, ``within ±10% of ideal body weight``: a deviation either way, ``between -d and d``."""
    if q.comparator or q.value < 0 and text[q.value_start] in "-−" and not text[:q.value_start].endswith("/"):
        return q
    sign_end = q.value_start + 1 if text[q.value_start] in "-−" else q.value_start
    m = _PLUS_MINUS_BEFORE.search(text, max(0, sign_end - 12), sign_end)
    if m is None:
        return q
    d = abs(q.value)
    return replace(q, start=m.start(), comparator="between", value=-d, value_high=d, inclusive=(True, True),
                   comparator_form="plusminus", comparator_start=m.start())


# gestational ages in weeks and days: "16 0/7 weeks", "37+2 weeks", "23 weeks 6 days", "16 weeks and 3 days"
_DAYS_BEFORE_WEEKS = re.compile(r"(?:[ \t]*\+[ \t]*(?P<d1>[0-6])(?=[ \t]*(?i:weeks?|wks?)\b)|[ \t]+(?P<d2>[0-6])[ \t]*/[ \t]*7(?![\d/]))")
_DAYS_AFTER_WEEKS = re.compile(r"[ \t]*(?:,[ \t]*|and[ \t]+|\+[ \t]*)?(?P<d>[0-6])[ \t]*(?:/[ \t]*7[ \t]*)?(?i:days?|d)\b"
                               r"(?![ \t]*(?:/|(?i:per|a[ \t]+week|each|every|weekly)\b))")  # not "5 days a week"


def _with_weeks_and_days(text: str, lex: "_Lexicon", num_end: int, value: float):
    """(value, unit, reference, end) of what follows a number, a count of weeks taking the days written
    with it as sevenths: ``23 weeks 6 days`` and ``23+6 weeks`` are 23 6/7 weeks."""
    days = _DAYS_BEFORE_WEEKS.match(text, num_end)
    if days is not None:
        value += int(days.group("d1") or days.group("d2")) / 7
        num_end = days.end()
    unit, relative, pos = _unit_or_reference(text, lex, num_end)
    if unit is not None and unit.ucum == "wk" and days is None:
        after = _DAYS_AFTER_WEEKS.match(text, pos)
        if after is not None:
            value += int(after.group("d")) / 7
            pos = after.end()
            days = after
    return (round(value, 4) if days is not None else value), unit, relative, pos


_OPEN_PAREN_BEFORE = re.compile(r"\([ \t]*$")


# "1 x 1 cm", "2x2 cm", "5 x 5 x 5 cm": a size in two or three dimensions (the unit written once, or after each)
_DIMENSIONS = re.compile(
    r"(?:[ \t]*(?:cm|mm))?(?:[ \t]*[xX×][ \t]*\d+(?:\.\d+)?(?:[ \t]*(?:cm|mm)(?=[ \t]*[xX×]))?){1,2}(?=[ \t]*(?:cm|mm)\b)")


def _size_in_dimensions(text: str, pos: int) -> tuple[UnitMatch, int] | None:
    """(unit, end) of the further dimensions and the length unit of a size "N x M cm" starting at the
    first number's end ``pos``; the rule's value is the first dimension (the longest is written first)."""
    m = _DIMENSIONS.match(text, pos)
    if m is None:
        return None
    unit = match_unit(text, m.end())
    if unit is None or unit.kind != "length":
        return None
    return unit, unit.end


_POWER_OF_TEN = re.compile(r"10\*\d+")
# "2.5 x 10^6 CD34+ cells/kg", "2.0 million CD34+ cells/kg", "4 million/kg", "> 20 million sperm/ml": a count
# per kilogram or volume whose unit is split by the name of what is counted
_COUNT_PER = re.compile(
    r"(?P<mult>[ \t]*(?:(?P<word>million|billion)\b|[xX×][ \t]*10(?:\^|\*\*)?(?P<exp>3|6|9|12)(?![\d.,])))?(?P<name>(?:[ \t]+(?!per\b)[^\W\d][\w+\-]*){0,4}?)[ \t]*"
    r"(?:/|[ \t]per[ \t]+)[ \t]*(?P<den>kg|mL|ml|L|µL|μL|uL|mm3|mm³)\b", re.IGNORECASE)
_DENOMINATORS = {"kg": ("kg", "dose_per_weight"), "ml": ("mL", "count_concentration"), "l": ("L", "count_concentration"),
                 "µl": ("uL", "count_concentration"), "μl": ("uL", "count_concentration"),
                 "ul": ("uL", "count_concentration"), "mm3": ("mm3", "count_concentration"),
                 "mm³": ("mm3", "count_concentration")}


def _count_per_denominator(text: str, num_end: int, power: UnitMatch | None) -> UnitMatch | None:
    """The unit of a count per kilogram or volume written around the counted things' name: after the
    number a power of ten (``x 10^6``, read as ``power``) or ``million``/``billion``, the name, then
    ``/kg``, ``per kg``, ``/mL`` (``2.0 million CD34+ cells/kg`` → 2.0 ``10*6/kg``). The name stays
    the variable's; the unit's text runs from the multiplier to the denominator."""
    pos = power.end if power is not None else num_end
    m = _COUNT_PER.match(text, pos)
    if m is None or (power is None) == (m.group("mult") is None):
        return None  # one multiplier: a power of ten or a word
    if power is not None:
        exponent = power.ucum[3:]
    elif m.group("exp"):
        exponent = m.group("exp")  # "x 106": a power written flat
    else:
        exponent = "6" if m.group("word").lower() == "million" else "9"
    den, kind = _DENOMINATORS[m.group("den").lower()]
    start = power.start if power is not None else m.start("mult") + len(m.group("mult")) - len(m.group("mult").lstrip())
    return UnitMatch(start, m.end(), text[start:m.end()], f"10*{exponent}/{den}", kind)


_WITHIN_BEFORE = re.compile(r"\bwithin[ \t]+$", re.IGNORECASE)


def _read_tail(text, lex, comp, num_start, num_end, value) -> Quantity | None:
    """The quantity that a number (and the comparator before it, if any) starts."""
    value, unit, relative, pos = _with_weeks_and_days(text, lex, num_end, value)
    if unit is None and relative is None:
        unit, pos = _size_in_dimensions(text, num_end) or (None, pos)
    if relative is None and (unit is None or _POWER_OF_TEN.fullmatch(unit.ucum)):
        counted = _count_per_denominator(text, num_end, unit)
        if counted is not None:
            unit, pos = counted, counted.end
    comparator = lex.prefix_of[_normalise_phrase(comp.group())] if comp else ""
    form = ("symbol" if not comp.group()[0].isalpha() else "word") if comp else "none"
    if relative is not None and not comparator:
        rel = lex.relative_re.match(text, num_end)
        if rel and rel.group("cmpw"):  # "twice higher than normal", "1.5 times above ULN"
            comparator = ">" if rel.group("cmpw").lower() in ("higher", "greater", "more", "above", "over") else "<"
            form = "word"
        elif _WITHIN_BEFORE.search(text, max(0, num_start - 12), num_start):  # "within 5 times the ULN"
            comparator, form = "<=", "word"
    start = comp.start() if comp else num_start
    value_high = inclusive = None
    rng = _read_range(text, lex, comp, comparator, start, pos, value, unit, relative)
    if rng is not None:
        value, value_high, pos, start = rng.low, rng.high, rng.end, rng.start
        unit, relative, inclusive = rng.unit, rng.relative, rng.inclusive
        comparator, form = "between", "range"
        paren = _OPEN_PAREN_BEFORE.search(text, max(0, start - 3), start)
        if unit is None and relative is None and paren is not None and text.startswith(")", pos):
            unit = match_unit(text, pos + 1)  # "between (16-24) weeks": the unit after the parenthesis
            if unit is not None:
                start, pos = paren.start(), unit.end
    if not comparator or comparator == "=":  # "25 ± 5 kg/m2", "6 months (±3 weeks)": a value and its tolerance
        tolerance = _tolerance_after(text, lex, pos if unit is not None else num_end, unit)
        if tolerance is not None:
            width, unit, pos = tolerance
            value, value_high = round(value - width, 6), round(value + width, 6)
            comparator, form = "between", "plusminus"
            inclusive = (True, True)
    if not comparator or comparator == "=":  # "(CRAFFT = 2 or higher)": the postfix word says which
        post = lex.postfix_re.match(text, pos) or _postfix_after_abbreviated_unit(text, lex, pos, unit)
        if post and _STARTS_A_LABEL.match(text, post.start("post")):
            post = None  # "Minimum Age: 18 Years Maximum Age: 99": the word starts the next label
        if post:
            form = "symbol" if comparator == "=" else "postfix"
            comparator = lex.postfix_of[_normalise_phrase(post.group("post"))]
            pos = post.end()
    if not comparator and unit is None and relative is None:
        return None  # a bare number is not a threshold
    value_pair = None
    if comparator and comparator != "between" and relative is None:
        pair = _VALUE_PAIR.match(text, num_end)
        if pair:  # "SBP/DBP < 140/90 mmHg": the linker gives the second value to the second variable
            value_pair = parse_number(pair.group(1))
            pos = max(pos, pair.end())
    before = text[max(0, start - 40):start]
    temporal_cue = bool(_TEMPORAL_BEFORE.search(before)) or bool(_TEMPORAL_AFTER.match(text, pos))
    return Quantity(
        start=start,
        end=pos,
        comparator=comparator or "",
        value=value,
        value_high=value_high,
        value_start=num_start,
        value_end=num_end,
        unit=unit.ucum if unit else None,
        unit_text=unit.text if unit else None,
        unit_start=unit.start if unit else None,
        unit_end=unit.end if unit else None,
        unit_kind=unit.kind if unit else None,
        relative_to=relative,
        inclusive=inclusive,
        comparator_form=form,
        comparator_start=comp.start() if comp else None,
        temporal_cue=temporal_cue,
        value_pair=value_pair,
    )


# between two bounds: ", and", "but", "to" (``≥ 3.0 mm to ≤ 3.5 mm``), a dash (``>50%-<100%``), or a restated symbol "(≥) and"
# (each blank run is followed by a required token, so a long gap costs linear time)
_BOUND_GAP = re.compile(r"[ \t]*(?:\([<>≤≥=]{1,2}\)[ \t]*)?(?:,[ \t]*)?(?:(?:and|but|&|to|[-–—])[ \t]*)?$", re.IGNORECASE)


def _lost_bounds(q: Quantity, r: Quantity) -> tuple[Quantity, Quantity] | None:
    """Two bounds of which one or both lost their sign in conversion, read as an inclusive bound:
    ``= 30 kg/m2 and = 40 kg/m2`` (≥ 30 and ≤ 40), ``Weight= 40 kg and less than 120 kg``.
    A literal ``=`` bound takes the side its partner leaves open; both ``=``: the lower value is the low bound."""
    if q.comparator == "=" and q.comparator_form == "symbol" and r.comparator in ("<", "<="):
        return q, r
    if q.comparator in (">", ">=") and r.comparator == "=" and r.comparator_form == "symbol":
        return q, r
    if q.comparator == r.comparator == "=" and q.comparator_form == r.comparator_form == "symbol" \
            and q.value < r.value and q.unit is not None and q.unit == r.unit:
        return q, r
    return None


def _units_may_pair(q: Quantity, r: Quantity, pair: tuple[Quantity, Quantity]) -> bool:
    """Whether two bounds (``q`` before ``r``) may share a unit: the same unit, or one written after the
    last value (``≥ 18 and ≤ 65 years``) or, low bound first, after the first (``≥ 18.5 kg/m2 and ≤ 30``).
    An upper bound with a unit and then a unit-less lower bound is two thresholds (``up to the age of
    50 years and ≥ 4 for those above``)."""
    if q.unit == r.unit or q.unit is None:
        return True
    return r.unit is None and pair[0] is q


def _merge_bounds(text: str, found: list[Quantity]) -> list[Quantity]:
    """``≥ 7.5 mg/day and ≤ 60 mg/day`` → one ``between`` quantity (same variable, two bounds)."""
    out: list[Quantity] = []
    i = 0
    while i < len(found):
        q = found[i]
        if i + 1 < len(found):
            r = found[i + 1]
            lower = {">", ">="}
            upper = {"<", "<="}
            pair = None
            if q.comparator in lower and r.comparator in upper:
                pair = (q, r)
            elif q.comparator in upper and r.comparator in lower:
                pair = (r, q)
            elif "=" in (q.comparator, r.comparator):
                pair = _lost_bounds(q, r)
            if pair and _BOUND_GAP.match(text[q.end:r.start]) and _units_may_pair(q, r, pair) \
                    and q.relative_to == r.relative_to and pair[0].value <= pair[1].value:
                lo, hi = pair
                unit_src = r if r.unit else q
                out.append(Quantity(
                    start=q.start, end=r.end, comparator="between", value=lo.value, value_high=hi.value,
                    value_start=q.value_start, value_end=r.value_end,
                    unit=unit_src.unit, unit_text=unit_src.unit_text, unit_start=unit_src.unit_start,
                    unit_end=unit_src.unit_end, unit_kind=unit_src.unit_kind, relative_to=q.relative_to,
                    inclusive=(lo.comparator in (">=", "="), hi.comparator in ("<=", "=")), comparator_form="bounds",
                    comparator_start=q.comparator_start, temporal_cue=q.temporal_cue and r.temporal_cue,
                ))
                i += 2
                continue
        out.append(q)
        i += 1
    return out
