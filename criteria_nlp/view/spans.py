"""Highlights: character ranges of a text, and the text as escaped HTML with the ranges marked.

Ranges may overlap and nest (a rule's variable inside its own span, a parent's time window shared
by several rules). The text is cut at every range boundary; each piece is one
``<span class="hl hl-KIND ..." data-KIND="RULE_ID ...">`` carrying every range that covers it, so
overlaps need no nesting and every character of the text appears exactly once, escaped.
"""
from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, Iterable, Mapping

# Kinds of highlight in a study page (rule parts) and in the evaluation report (gold vs predicted).
RULE_KINDS = ("variable", "value", "unit", "condition")
ERROR_KINDS = ("gold", "gold-variable", "pred", "pred-variable")


@dataclass(frozen=True)
class Highlight:
    """``text[start:end]`` is a ``kind`` part of the rule (or error side) ``owner``."""

    start: int
    end: int
    kind: str
    owner: str


def _span(obj: Any) -> tuple[int, int] | None:
    """``(start, end)`` of a contract object when both are integers, else None."""
    if not isinstance(obj, Mapping):
        return None
    start, end = obj.get("start"), obj.get("end")
    if type(start) is int and type(end) is int and 0 <= start <= end:
        return start, end
    return None


@lru_cache(maxsize=1)
def _value_start_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(first number or number word, a comparator or range opener right before it) from comparators.json."""
    data = json.loads(files("criteria_nlp.resources").joinpath("comparators.json").read_text(encoding="utf-8"))
    forms = {form for forms in data["prefix"].values() for form in forms} | set(data["range_openers"])
    alternatives = "|".join(r"\s+".join(map(re.escape, f.split())) for f in sorted(forms, key=len, reverse=True))
    words = "|".join(map(re.escape, sorted(data["number_words"], key=len, reverse=True)))
    number = re.compile(rf"\d|(?<![A-Za-z])(?:{words})(?![A-Za-z])", re.IGNORECASE)
    comparator = re.compile(rf"(?<![A-Za-z])(?:{alternatives})[\s\\]*$", re.IGNORECASE)
    return number, comparator


def _value_offset(piece: str) -> int:
    """Where the value starts in the non-variable part of a rule: its comparator, else its number."""
    number, comparator = _value_start_patterns()
    first = number.search(piece)
    if first is None:
        return 0
    before = comparator.search(piece, 0, first.start())
    return before.start() if before else first.start()


def value_and_unit(rule: Mapping[str, Any]) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The value range (comparator and number(s)) and the unit range of a rule, from its offsets.

    The contract gives offsets for the rule and its variable only. The value lies in the longer
    part of the rule's span outside its variable: from the comparator (a prefix form or range
    opener of ``comparators.json``) before its first number, else from that number, else the whole
    part; the unit is the last occurrence of ``unit_text`` in that part (cut off the value). Both
    are trimmed of blanks.
    """
    rule_span = _span(rule)
    text = rule.get("text")
    if rule_span is None or not isinstance(text, str) or len(text) != rule_span[1] - rule_span[0]:
        return None, None
    start, end = rule_span
    var_span = _span(rule.get("variable"))
    if var_span is not None and start <= var_span[0] < var_span[1] <= end:
        before, after = (start, var_span[0]), (var_span[1], end)
        start, end = max((after, before), key=lambda part: part[1] - part[0])
    piece = text[start - rule_span[0]:end - rule_span[0]]
    skip = _value_offset(piece)
    start, piece = start + skip, piece[skip:]
    unit_span = None
    unit_text = rule.get("unit_text")
    if isinstance(unit_text, str) and unit_text:
        at = piece.rfind(unit_text)
        if at >= 0:
            unit_span = (start + at, start + at + len(unit_text))
            piece = piece[:at]
            end = start + at
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    value_span = (start + lead, end - trail) if end - trail > start + lead else None
    return value_span, unit_span


def rule_highlights(rule: Mapping[str, Any]) -> list[Highlight]:
    """The variable, value, unit and condition ranges of one rule dict (unknown parts are skipped)."""
    owner = str(rule.get("id"))
    out = []
    var_span = _span(rule.get("variable"))
    if var_span:
        out.append(Highlight(*var_span, "variable", owner))
    value_span, unit_span = value_and_unit(rule)
    if value_span:
        out.append(Highlight(*value_span, "value", owner))
    if unit_span:
        out.append(Highlight(*unit_span, "unit", owner))
    conditions = rule.get("conditions")
    for cond in conditions if isinstance(conditions, list) else ():
        cond_span = _span(cond)
        if cond_span:
            out.append(Highlight(*cond_span, "condition", owner))
    return out


def placeable(highlights: Iterable[Highlight], text: str) -> list[Highlight]:
    """The highlights that lie inside ``text`` and are not empty."""
    return [h for h in highlights if 0 <= h.start < h.end <= len(text)]


def marked_html(text: str, highlights: Iterable[Highlight], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` as escaped HTML, with each highlighted piece wrapped in a ``<span>``."""
    end = len(text) if end is None else end
    cuts = {start, end}
    inside = [h for h in highlights if h.start < end and h.end > start]
    for h in inside:
        cuts.add(max(start, h.start))
        cuts.add(min(end, h.end))
    points = sorted(cuts)
    out = []
    for lo, hi in zip(points, points[1:]):
        piece = html.escape(text[lo:hi])
        covering = [h for h in inside if h.start <= lo and h.end >= hi]
        out.append(_wrap(piece, covering) if covering else piece)
    return "".join(out)


def _wrap(piece: str, covering: list[Highlight]) -> str:
    owners: dict[str, list[str]] = defaultdict(list)
    for h in covering:
        if h.owner not in owners[h.kind]:
            owners[h.kind].append(h.owner)
    kinds = sorted(owners)
    classes = " ".join(["hl"] + [f"hl-{k}" for k in kinds])
    data = "".join(f' data-{k}="{html.escape(" ".join(owners[k]))}"' for k in kinds)
    title = "; ".join(f"{k} of {', '.join(owners[k])}" for k in kinds)
    return f'<span class="{classes}"{data} title="{html.escape(title)}">{piece}</span>'
