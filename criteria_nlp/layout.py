"""Soft line wraps: telling a wrapped line from an item boundary (pure functions on the raw text).

Registry records are hard-wrapped: legacy ClinicalTrials.gov text breaks every ~80–100 columns
with CRLF and indents the continuation (``Bilirubin less than\\r\\n        2.0 mg/dL``). A reader
sees one sentence; a line-based reader sees two. :func:`soft_breaks` finds the line breaks that
are wraps and :func:`join_wraps` joins them: the line break and the next line's indentation become
one space, and the returned :class:`TextView` maps every offset computed on the joined text back
to the input.

A break between two non-blank lines A and B is **hard** (kept) when

- B starts with a list marker (``1.``, ``-``, ``(a)``; not a ``G)`` that closes a parenthesis A
  left open: ``large cell (IWF`` / ``G) Large cell`` is a wrap) or is a heading (``Exclusion Criteria:``,
  an upper-case label ``PATIENT CHARACTERISTICS:``, a short line ending with a colon), or
- A ends a clause (``;``) or a sentence (``.`` before a capital);

otherwise it is **soft** (a wrap) when

- A is full: A, a space and B's first word would not fit in the document's line width (the longest
  line), which is what a wrapping program does; or
- the break cannot end a criterion: A ends with a word or sign that needs a continuation (``than``,
  ``of``, ``and``, ``,``, ``(``, ``-``, ``:``) or B starts in lower case, with a digit or a sign.

Everything else (a line that ends where a sentence could end, followed by a capitalised line that
is not full) stays a line boundary.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from .components.structure.parser import read_marker

_WORD = re.compile(r"\S+")
_INDENT = re.compile(r"[^\S\n]*")
# an upper-case label line: "PATIENT CHARACTERISTICS:", "PRIOR/CONCURRENT THERAPY:"
_CAPS_LABEL = re.compile(r"[A-Z][A-Z0-9 /&,()'-]{2,}:")
_SECTION_HEADING = re.compile(
    r"(?:(?:key|main|general|major|other)[ \t]+)?(?:inclusion|exclusion|eligibility)(?:[ \t]+criteria\b|[ \t]*:)",
    re.IGNORECASE,
)
# words and signs after which a criterion cannot end
_OPEN_END = re.compile(
    r"(?:[,(\[/:+=<>≤≥×–-]|\b(?:than|of|to|and|or|nor|with|without|for|in|on|at|by|from|the|a|an|"
    r"no|not|least|most|above|below|over|under|within|between|equal|exceed(?:ing)?|greater|less|more|"
    r"fewer|higher|lower|is|are|be|must|should|who|which|that|if|unless|except|per|x|times|including|"
    r"e\.g\.|i\.e\.|vs\.?))$",
    re.IGNORECASE,
)
# a line that continues a sentence: lower case, a digit, a sign
_CONTINUES = re.compile(r"[a-z0-9(<>≤≥=×%/+,;.)\]–-]")


def _lines(text: str) -> list[tuple[int, int, int]]:
    """(line start, content start after the indentation, content end before ``\\r\\n``/spaces)."""
    out = []
    pos, n = 0, len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        end = n if nl == -1 else nl
        content = _INDENT.match(text, pos, end).end()
        stop = end
        while stop > content and text[stop - 1].isspace():
            stop -= 1
        out.append((pos, content, stop))
        if nl == -1:
            break
        pos = nl + 1
    return out


def _width(text: str, line: tuple[int, int, int]) -> int:
    start, _, stop = line
    return len(text[start:stop].expandtabs(4))


def _is_heading(text: str, content: int, stop: int) -> bool:
    return bool(_SECTION_HEADING.match(text, content, stop) or _CAPS_LABEL.match(text, content, stop))


def _soft(text: str, a: tuple[int, int, int], b: tuple[int, int, int], width: int) -> bool:
    _, _, a_stop = a
    b_start, b_content, b_stop = b
    marker = read_marker(text, b_start, b_stop)
    if marker is not None and marker.style.endswith(")") and not marker.style.startswith("(") \
            and text.count("(", a[1], a_stop) > text.count(")", a[1], a_stop):
        return True  # "... Diffuse, large cell (IWF\n G) Large cell": the ")" closes A's parenthesis
    if marker is not None or _is_heading(text, b_content, b_stop) \
            or text[b_stop - 1] == ":" and b_stop - b_content <= 60:
        return False  # an item, a heading, a sub-header ("For healthy controls:")
    last = text[a_stop - 1]
    if last == ";" or last == "." and text[b_content].isupper():
        return False
    first_word = _WORD.match(text, b_content, b_stop).group()
    if _width(text, a) + 1 + len(first_word.expandtabs(4)) > width:
        return True
    if _OPEN_END.search(text, max(a[1], a_stop - 12), a_stop):
        return True
    return _CONTINUES.match(text, b_content) is not None


def soft_breaks(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each soft wrap: from the end of a line's text to the next line's text."""
    if "\n" not in text:
        return []
    lines = _lines(text)
    width = max(_width(text, line) for line in lines)
    breaks = []
    for a, b in zip(lines, lines[1:]):
        if a[2] > a[1] and b[2] > b[1] and _soft(text, a, b, width):
            breaks.append((a[2], b[1]))
    return breaks


@dataclass(frozen=True)
class TextView:
    """The text the pipeline reads, and the way back to the input's offsets.

    ``text`` is the input with every soft wrap (line break plus indentation) replaced by one space.
    ``wraps`` holds, for each wrap, its position in ``text`` and the number of input characters
    removed up to and including it, so :meth:`to_input` maps any offset of ``text`` to the input.
    """

    text: str
    wrap_positions: tuple[int, ...] = ()
    removed_after: tuple[int, ...] = ()

    def to_input(self, pos: int) -> int:
        """The input offset of position ``pos`` of :attr:`text` (``len(text)`` maps to the input's end)."""
        k = bisect_left(self.wrap_positions, pos)
        return pos + (self.removed_after[k - 1] if k else 0)

    def span_to_input(self, start: int, end: int) -> tuple[int, int]:
        """Input offsets of the span ``text[start:end]`` (a span that ends on a wrap ends before it)."""
        if not self.wrap_positions:
            return start, end
        return self.to_input(start), (self.to_input(end - 1) + 1 if end > start else self.to_input(start))


def join_wraps(text: str) -> TextView:
    """A :class:`TextView` of ``text`` with its soft wraps joined into single spaces."""
    breaks = soft_breaks(text)
    if not breaks:
        return TextView(text)
    parts, positions, removed = [], [], []
    pos = total = 0
    for start, end in breaks:
        parts.append(text[pos:start])
        positions.append(start - total)
        total += end - start - 1
        removed.append(total)
        parts.append(" ")
        pos = end
    parts.append(text[pos:])
    return TextView("".join(parts), tuple(positions), tuple(removed))


def hard_wrap(text: str, width: int = 72) -> str:
    """``text`` hard-wrapped at ``width`` columns the way a wrapping program does it: the last space
    before each limit becomes a newline (same length, offsets unchanged; a word longer than the
    width stays whole). The inverse of what :func:`join_wraps` undoes; used to test it."""
    chars = list(text)
    line_start = 0
    last_space = -1
    for i, ch in enumerate(chars):
        if ch == "\n":
            line_start, last_space = i + 1, -1
            continue
        if ch == " ":
            if i - line_start >= width:  # the line is full: break here
                chars[i] = "\n"
                line_start, last_space = i + 1, -1
            else:
                last_space = i
        elif i - line_start >= width and last_space > line_start:  # a word crosses the limit
            chars[last_space] = "\n"
            line_start, last_space = last_space + 1, -1
    return "".join(chars)
