"""Clinical notations whose value is not the number as written (``resources/notations.json``).

- **Snellen fractions** of visual acuity (``20/40``, ``6/12``) are read as decimal acuity
  (numerator / denominator: ``20/40`` → 0.5), alone, as a range (``20/40 to 20/320`` → between
  0.0625 and 0.5) or with a comparator (``worse than 20/200`` → ``< 0.1``, ``20/40 or better`` →
  ``>= 0.5``). A higher decimal is better vision, so comparators worded by severity are turned round.
- **Pattern sums** (``Gleason 4+3``, ``Gleason ≥ 3+4``, ``Gleason 4+3=7``) are read as the sum of
  the two patterns.

Both are read only after one of their cue words on the same line; ``apply_notations`` replaces
the quantities the general grammar read inside such an expression.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

_RESOURCE = Path(__file__).resolve().parent.parent / "resources" / "notations.json"
_SEVERITY_WORDS = re.compile(r"worse|better|severe", re.IGNORECASE)
# "Gleason score 7 (4+3)": the patterns restating a score written before them are no value of their own
_RESTATED = re.compile(r"\d[ \t]*\([ \t]*$")
_TURNED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}
# "better than 20/40": the grammar leaves "better than" unread (which way is better depends on the scale)
_BETTER_THAN = re.compile(r"(?<![\w-])(?P<equal>(?i:equal(?:[ \t]+to)?[ \t]+or)[ \t]+)?(?i:better)[ \t]+(?i:than|then)[ \t]*$")


@dataclass(frozen=True)
class _Notations:
    snellen_re: re.Pattern
    snellen_hint_re: re.Pattern  # a numerator and its slash: a cheap test before snellen_re
    snellen_cue_re: re.Pattern
    snellen_after_re: re.Pattern
    snellen_reach: int
    sum_re: re.Pattern
    sum_cue_re: re.Pattern
    sum_reach: int


def _cue_regex(words: list[str]) -> re.Pattern:
    """Any of ``words`` as a whole word; all-capital words (abbreviations) keep their case."""
    upper = [re.escape(w) for w in words if w.isupper()]
    other = [re.escape(w) for w in words if not w.isupper()]
    parts = ([rf"(?i:{'|'.join(other)})"] if other else []) + upper
    return re.compile(rf"(?<![\w-])(?:{'|'.join(parts)})(?![\w-])")


@lru_cache(maxsize=1)
def notations() -> _Notations:
    data = json.loads(_RESOURCE.read_text(encoding="utf-8"))
    snellen, pattern_sum = data["snellen"], data["pattern_sum"]
    numerators = "|".join(str(n) for n in snellen["numerators"])
    fraction = rf"(?<![\d/.,])(?:{numerators})[ \t]*/[ \t]*\d{{1,3}}(?:\.\d+)?(?!\d|[/.,]\d|[ \t]*/)"
    snellen_re = re.compile(
        rf"(?:(?P<opener>(?i:between|from|ranging[ \t]+from))[ \t]+)?(?P<f1>{fraction})"
        rf"(?:[ \t]*(?P<conn>-|–|(?i:to|through|and))[ \t]*(?P<f2>{fraction}))?")
    grade = rf"[1-{int(pattern_sum['max_grade'])}]"
    sum_re = re.compile(rf"(?<![\d.+])(?P<a>{grade})[ \t]*\+[ \t]*(?P<b>{grade})(?![\d.+])"
                        rf"(?:[ \t]*=[ \t]*\d{{1,2}}(?![\d.])|[ \t]*\([ \t]*=?[ \t]*\d{{1,2}}[ \t]*\))?")
    not_after = "".join(rf"(?<![\d/.,]{n})" for n in snellen["numerators"])  # after the digits: re scans faster
    hint = re.compile(rf"(?:{numerators}){not_after}[ \t]*/[ \t]*\d")
    return _Notations(snellen_re, hint, _cue_regex(snellen["cues"]),
                      re.compile(r"[ \t]*\(?[ \t]*(?i:snellen)(?:[ \t]+(?i:equivalents?))?[ \t]*\)?"),
                      int(snellen["cue_reach"]), sum_re, _cue_regex(pattern_sum["cues"]), int(pattern_sum["cue_reach"]))


def _cued(text: str, cue_re: re.Pattern, start: int, reach: int) -> bool:
    """Whether a cue word stands before ``start`` within ``reach`` characters of the same line."""
    lo = max(0, start - reach)
    line_start = text.rfind("\n", lo, start) + 1
    return cue_re.search(text, max(lo, line_start), start) is not None


def _decimal(fraction: str) -> float:
    numerator, denominator = (float(x) for x in fraction.split("/"))
    return round(numerator / denominator, 4)


def _replace_overlapping(found: list, new) -> list:
    """``found`` without the quantities overlapping ``new``, with ``new`` in text order."""
    kept = [q for q in found if q.end <= new.start or q.start >= new.end]
    return sorted(kept + [new], key=lambda q: q.start)


def _snellen(text: str, found: list, make: Callable, comparator_before: Callable, postfix_after: Callable) -> list:
    n = notations()
    for m in n.snellen_re.finditer(text):
        after = n.snellen_after_re.match(text, m.end())
        if not (_cued(text, n.snellen_cue_re, m.start(), n.snellen_reach) or after):
            continue
        start, end = m.start(), (after.end() if after else m.end())
        v1 = _decimal(m.group("f1"))
        value_start, value_end = m.start("f1"), m.end("f2") if m.group("f2") else m.end("f1")
        if m.group("f2"):
            if m.group("conn").lower() == "and" and not m.group("opener"):
                continue  # "20/40 and 20/200" is two values (one per eye), not a range
            low, high = sorted((v1, _decimal(m.group("f2"))))
            new = make(start, end, "between", low, high, value_start, value_end, "range", None)
            new = replace(new, inclusive=(True, True))
        else:
            comparator, form, comparator_start = "=", "none", None
            before = comparator_before(text, m.start())
            post = postfix_after(text, end)
            better = _BETTER_THAN.search(text, max(0, m.start() - 40), m.start())
            if before is None and better is not None:  # "(equal or) better than 20/40"
                before = ((">=" if better.group("equal") else ">", better.group()), better.start())
            if before is not None:
                (comparator, phrase), comparator_start = before[0], before[1]
                start, form = comparator_start, "word" if phrase[:1].isalpha() else "symbol"
            elif post is not None:
                comparator, phrase, end = post[0], text[post[1]:post[2]], post[2]
                form = "postfix"
            if comparator != "=" and _SEVERITY_WORDS.search(phrase) and better is None:
                comparator = _TURNED[comparator]  # "worse than 20/200": less acuity than 0.1
            new = make(start, end, comparator, v1, None, value_start, value_end, form, comparator_start)
        found = _replace_overlapping(found, new)
    return found


def _pattern_sums(text: str, found: list, make: Callable, postfix_after: Callable) -> list:
    n = notations()
    for m in n.sum_re.finditer(text):
        if not _cued(text, n.sum_cue_re, m.start(), n.sum_reach) or _RESTATED.search(text, max(0, m.start() - 6), m.start()):
            continue
        total = float(int(m.group("a")) + int(m.group("b")))
        inside = [q for q in found if q.start < m.end() and m.start() < q.end]
        # a comparator read before the first pattern ("Gleason ≥ 4+3") holds for the sum; the "+" read
        # as a postfix ("4+" = "4 or more") does not
        prefix = next((q for q in inside if q.comparator_start is not None and q.comparator_start < m.start()
                       and q.comparator_form in ("symbol", "word")), None)
        if prefix is not None:
            new = make(prefix.start, max(m.end(), prefix.end), prefix.comparator, total, None, m.start(), m.end(),
                       prefix.comparator_form, prefix.comparator_start)
        else:
            post = postfix_after(text, m.end())
            comparator, end, form = (post[0], post[2], "postfix") if post is not None else ("=", m.end(), "none")
            new = make(m.start(), end, comparator, total, None, m.start(), m.end(), form, None)
        for q in inside:
            found = [x for x in found if x is not q]
        found = _replace_overlapping(found, new)
    return found


def apply_notations(text: str, found: list, make: Callable, comparator_before: Callable,
                    postfix_after: Callable) -> list:
    """``found`` (the grammar's quantities) with Snellen fractions and pattern sums read as such.

    ``make(start, end, comparator, value, value_high, value_start, value_end, form, comparator_start)``
    builds a quantity; ``comparator_before(text, pos)`` gives ``((comparator, phrase), start)`` of a
    comparator ending at ``pos``; ``postfix_after(text, pos)`` gives ``(comparator, start, end)`` of a
    postfix comparator right after ``pos``."""
    if "/" in text and notations().snellen_hint_re.search(text):
        found = _snellen(text, found, make, comparator_before, postfix_after)
    if "+" in text:
        found = _pattern_sums(text, found, make, postfix_after)
    return found
