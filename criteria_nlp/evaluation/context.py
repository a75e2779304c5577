"""Error-report context: the text around some spans, with markers inserted around each span."""
from __future__ import annotations

from typing import Sequence

__all__ = ["marked_context"]


def marked_context(text: str, marks: Sequence[tuple[int | None, int | None, str, str]], width: int = 60) -> str:
    """±``width`` characters around the marked spans, with the markers inserted."""
    spans = [(s, e, o, c) for s, e, o, c in marks if s is not None and e is not None]
    if not spans:
        return ""
    lo = max(0, min(s for s, _, _, _ in spans) - width)
    hi = min(len(text), max(e for _, e, _, _ in spans) + width)
    inserts: list[tuple[int, int, str]] = []
    for s, e, o, c in spans:
        s, e = max(lo, min(s, hi)), max(lo, min(e, hi))
        inserts.append((s, 1, o))
        inserts.append((e, 0, c))
    inserts.sort(key=lambda x: (x[0], x[1]))
    out = []
    pos = lo
    for at, _, mark in inserts:
        out.append(text[pos:at])
        out.append(mark)
        pos = at
    out.append(text[pos:hi])
    return "".join(out).replace("\r", "").replace("\n", " ⏎ ")
