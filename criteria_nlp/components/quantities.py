"""``criteria_quantities``: threshold expressions (comparator, value(s), unit, ULN multiples).

Runs ``criteria_nlp.quantities.grammar.find_quantities`` on the text of each criterion (or the whole
doc when there is no structure) and stores the results:

- ``doc._.quantities``: list of ``Span``s, each with ``span._.quantity`` (a ``Quantity`` whose
  offsets are exact character offsets into ``doc.text``).
"""
from bisect import bisect_right

from spacy.language import Language
from spacy.tokens import Doc, Span

from ._text import doc_text
from ._values import criteria_of, store_values

from ..quantities.grammar import Quantity, find_quantities


def _register_extensions() -> None:
    if not Doc.has_extension("quantities"):
        Doc.set_extension("quantities", default=None)
    if not Span.has_extension("quantity"):
        Span.set_extension("quantity", default=None)


class QuantityFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        regions = [(info.start, info.end) for _, info in criteria_of(doc)]
        return self.set_quantities(doc, quantities_in_criteria(doc_text(doc), regions))

    def set_quantities(self, doc: Doc, quantities: list[Quantity], span_extensions: bool = True) -> Doc:
        """Put ``quantities`` (offsets into ``doc.text``) on ``doc`` as spans. ``span_extensions=False``
        leaves ``span._.quantity`` unset (the components read the stored values; for a Doc only they
        see, such as ``criteria_nlp.excerpt``'s)."""
        spans, values = [], []
        for q in quantities:
            span = doc.char_span(q.start, q.end, alignment_mode="expand")
            if span is None:
                continue
            if span_extensions:
                span._.quantity = q
            spans.append(span)
            values.append(q)
        doc._.quantities = spans
        store_values(doc, "quantities", spans, values)
        return doc


def quantities_in_criteria(text: str, regions: list[tuple[int, int]]) -> list[Quantity]:
    """The quantities of ``text`` that lie inside one of the criteria ``regions`` (``(start, end)``
    in order; all of them when there are no regions)."""
    # one pass over the whole text (a call per criterion costs more than the matching)
    found = find_quantities(text)
    if not regions:
        return found
    starts = [s for s, _ in regions]
    kept = []
    for q in found:
        i = bisect_right(starts, q.start) - 1
        if i >= 0 and q.end <= regions[i][1]:
            kept.append(q)
    return kept
