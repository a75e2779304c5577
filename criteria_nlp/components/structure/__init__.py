"""``criteria_structure``: sections and list items of eligibility text.

Reads the sections found by medspaCy's sectionizer (``doc._.sections``; the whole text is one
section of unknown kind when there is none) and splits each section body into criteria items with
``criteria_nlp.components.structure.parser.parse_items``. Sets:

- ``doc._.criteria``: list of criterion ``Span``s in document order;
- ``span._.criterion_id`` (``"inc-8.1"``), ``span._.criterion_parent`` (``"inc-8"`` or None),
  ``span._.criterion_section`` (``"inclusion"``/``"exclusion"``/None);
- sentence starts at every criterion, and after ``;`` and sentence-final periods inside one
  (ConText scopes modifiers by sentence).
"""

import re

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

from .._text import doc_text
from .._values import CriterionInfo, store_values

from .parser import parse_items

_HEADING_TAIL = re.compile(r"[ \t]*[:*_#]*[ \t]*")
# a sentence starts at the first non-space after ";", after a period followed by a capital, after a newline
_SENTENCE_BOUNDARY = re.compile(r"(?:;|\.(?=\s+[A-Z])|\n)\s*(?=\S)")


def _register_extensions() -> None:
    if not Doc.has_extension("criteria"):
        Doc.set_extension("criteria", default=None)
    for name in ("criterion_id", "criterion_parent", "criterion_section"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


# (no two blank runs can share the same blanks: a heading followed by a long run of spaces costs
# linear time; the earlier "[ \t]*(...)?[ \t]*:?[ \t*_#]*" took cubic time)
_HEADING_REST = re.compile(r"[ \t]*(?:(?:\([^()\n]{0,60}\)|[-–—][^\n:]{0,40}|(?:for|of|in)\b[^\n:]{0,40})[ \t]*)?"
                           r"(?::[ \t*_#]*|[*_#][ \t*_#]*)?(?=\r?\n|$)")


def _skip_heading_tail(text: str, start: int) -> int:
    """Skip what finishes a heading line ("(Part A):", ": ", "**"); keep items on the same line."""
    rest = _HEADING_REST.match(text, start)
    if rest:
        return rest.end()
    return _HEADING_TAIL.match(text, start).end()


def section_bounds(doc: Doc) -> list[tuple[int, int, str | None]]:
    """(body_start_char, body_end_char, category) of each section of ``doc``.

    Headings come from ``criteria_sections`` (``doc._.section_headings``) or from medspaCy's
    sectionizer (``doc._.sections``); with neither, the whole text is one section of unknown kind.
    """
    text = doc_text(doc)
    headings = doc._.section_headings if Doc.has_extension("section_headings") else None
    if headings is None and Doc.has_extension("sections") and doc._.sections:
        headings = [(s.title_start, s.title_end, s.category) for s in doc._.sections if s.category is not None]
    if not headings:
        return [(0, len(text), None)]
    bounds = []
    first = doc[headings[0][0]].idx
    if text[:first].strip():
        bounds.append((0, first, None))
    for i, (_, title_end, category) in enumerate(headings):
        start = doc[title_end].idx if title_end < len(doc) else len(text)
        start = _skip_heading_tail(text, start)
        end = doc[headings[i + 1][0]].idx if i + 1 < len(headings) else len(text)
        bounds.append((start, max(start, end), category))
    return bounds


class CriteriaStructure:
    def __init__(self, nlp: Language, name: str, split_sentences: bool):
        self.name = name
        self.split_sentences = split_sentences
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        used_ids: set[str] = set()
        spans: list[Span] = []
        infos: list[CriterionInfo] = []
        for start, end, category in section_bounds(doc):
            for item in parse_items(text, start, end, category, used_ids):
                span = doc.char_span(item.start, item.end, alignment_mode="expand")
                if span is None or len(span) == 0:
                    continue
                info = CriterionInfo(item.id, item.parent.id if item.parent else None, category,
                                     span.start_char, span.end_char)
                ext = span._
                ext.criterion_id, ext.criterion_parent, ext.criterion_section = info.id, info.parent, info.section
                spans.append(span)
                infos.append(info)
        doc._.criteria = spans
        store_values(doc, "criteria", spans, infos)  # plain copies for the later components
        if self.split_sentences:
            self._set_sentences(doc, spans)
        return doc

    @staticmethod
    def _set_sentences(doc: Doc, spans: list[Span]) -> None:
        """Sentence starts at each criterion, each line, and after ``;`` or a period before a capital."""
        if not len(doc):
            return
        token_starts = doc.to_array(["IDX"]).astype(numpy.int64).ravel()
        char_starts = [m.end() for m in _SENTENCE_BOUNDARY.finditer(doc_text(doc))]
        idx = numpy.searchsorted(token_starts, numpy.asarray(char_starts, dtype=numpy.int64))
        starts = numpy.full(len(doc), -1, dtype=numpy.int64)
        starts[0] = 1
        starts[idx[idx < len(doc)]] = 1
        for span in spans:
            starts[span.start] = 1
        doc.from_array(["SENT_START"], starts.astype(numpy.uint64).reshape(-1, 1))


@Language.factory(
    "criteria_structure",
    default_config={"split_sentences": True},
    requires=["doc._.section_headings"],
    assigns=["doc._.criteria", "span._.criterion_id", "span._.criterion_parent", "span._.criterion_section", "token.is_sent_start"],
)
def make_structure(nlp: Language, name: str, split_sentences: bool) -> CriteriaStructure:
    return CriteriaStructure(nlp, name, split_sentences)
