"""Plain-Python copies of the values the components hang on spans.

The components publish their results as span extensions (``span._.criterion_id``,
``span._.quantity``, ``span._.variable_entry``). Each read of a ``Span._`` value builds an
``Underscore`` object and a key, which the later components and the output assembly paid tens of
times per document. So the component that sets the extensions also keeps the values in a list
aligned with its span list, in ``doc.user_data``; readers get that list back as long as the Doc
still holds the same span list (``doc._.criteria`` etc. not replaced, nor grown or shrunk in
place), and otherwise read the extensions once. A component that changes such an extension value
on an existing span must store the values again (``store_values``).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from spacy.tokens import Doc, Span

_PREFIX = "criteria_nlp.values."


class CriterionInfo(NamedTuple):
    """What ``criteria_structure`` says about one criterion span."""

    id: str | None
    parent: str | None
    section: str | None
    start: int  # span.start_char
    end: int  # span.end_char


def criterion_info(span: Span) -> CriterionInfo:
    ext = span._
    return CriterionInfo(ext.criterion_id, ext.criterion_parent, ext.criterion_section,
                         span.start_char, span.end_char)


def store_values(doc: Doc, key: str, spans: list, values: list) -> None:
    """Keep ``values`` (one per span of ``spans``, the list object the Doc holds) for readers."""
    doc.user_data[_PREFIX + key] = (spans, values)


def span_values(doc: Doc, key: str, spans: list | None, read: Callable[[Span], Any]) -> list:
    """The values stored for ``spans``; read with ``read(span)`` when none were stored for that list."""
    if not spans:
        return []
    cached = doc.user_data.get(_PREFIX + key)
    if cached is not None and cached[0] is spans and len(cached[1]) == len(spans):
        return cached[1]
    values = [read(span) for span in spans]
    store_values(doc, key, spans, values)
    return values


def criteria_of(doc: Doc) -> list[tuple[Span, CriterionInfo]]:
    """``(span, CriterionInfo)`` for each span of ``doc._.criteria`` (empty when unset)."""
    spans = doc._.criteria if Doc.has_extension("criteria") else None
    return list(zip(spans or [], span_values(doc, "criteria", spans, criterion_info)))
