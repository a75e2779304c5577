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

from .parser import UsedIds, parse_items

_HEADING_TAIL = re.compile(r"[ \t]*[:*_#]*[ \t]*")
# a sentence starts at the first non-space after ";", after a period followed by a capital, after a newline
# ";", a line end, or a period before a capital, not that of a dotted abbreviation ("e.g. ALT", "i.e. Hb")
_SENTENCE_BOUNDARY = re.compile(r"(?:;|(?<!\.[^\W\d_])\.(?=\s+[A-Z])|\n)\s*(?=\S)")


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
    headings = doc._.section_headings if Doc.has_extension("section_headings") else None
    if headings is None and Doc.has_extension("sections") and doc._.sections:
        headings = [(s.title_start, s.title_end, s.category) for s in doc._.sections if s.category is not None]
    return section_bounds_in_text(doc_text(doc), [(doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text), category)
                                                  for start, end, category in headings or ()])


def section_bounds_in_text(text: str, headings: list[tuple[int, int, str]]) -> list[tuple[int, int, str | None]]:
    """(body_start_char, body_end_char, category) of each section of ``text`` whose headings are
    ``(start_char, end_char, category)``; with none, the whole text is one section of unknown kind."""
    if not headings:
        return [(0, len(text), None)]
    bounds = []
    first = headings[0][0]
    if text[:first].strip():
        bounds.append((0, first, None))
    for i, (_, title_end, category) in enumerate(headings):
        start = _skip_heading_tail(text, title_end)
        end = headings[i + 1][0] if i + 1 < len(headings) else len(text)
        bounds.append((start, max(start, end), category))
    return bounds


def criteria_in_text(text: str, headings: list[tuple[int, int, str]], tokenizer) -> list[CriterionInfo]:
    """The criteria ``criteria_structure`` finds in a Doc of ``text`` (the same ids, parents, sections
    and token-aligned offsets), computed on the string: only a whitespace-free chunk that an item
    boundary cuts is tokenized (with ``tokenizer``) to align the boundary to its tokens."""
    used_ids = UsedIds()
    infos = []
    for start, end, category in section_bounds_in_text(text, headings):
        for item in parse_items(text, start, end, category, used_ids):
            bounds = _token_aligned(text, item.start, item.end, tokenizer)
            if bounds is not None:
                infos.append(CriterionInfo(item.id, item.parent.id if item.parent else None, category, *bounds))
    return infos


def _token_at(text: str, pos: int, tokenizer):
    """The Doc token of ``text`` whose text or trailing space holds character ``pos``, as
    ``(start_char, end_char, pos_is_its_trailing_space)``. Only the text around ``pos`` is
    tokenized: the whitespace-free run before ``pos`` (when ``pos`` is a space) through the run at or
    after it; spaCy tokenizes each run on its own and a space run by the token before it."""
    start = pos
    while start > 0 and text[start - 1].isspace() and text[start].isspace():
        start -= 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = pos
    while end < len(text) and text[end].isspace():
        end += 1
    while end < len(text) and not text[end].isspace():
        end += 1
    for token in tokenizer(text[start:end]):
        if token.idx + len(token.text_with_ws) > pos - start:
            token_start = start + token.idx
            token_end = token_start + len(token.text)
            return token_start, token_end, pos == token_end
    return pos, pos, False


def _token_aligned(text: str, start: int, end: int, tokenizer) -> tuple[int, int] | None:
    """The offsets of ``doc.char_span(start, end, alignment_mode="expand")`` for a Doc of ``text``
    (None for no or an empty span), tokenizing only what the boundaries cut."""
    if end <= start:
        return None
    # a boundary at the edge of a whitespace-free run is a token boundary: nothing to tokenize
    if text[start].isspace() or (start > 0 and not text[start - 1].isspace()):
        token_start, token_end, in_space = _token_at(text, start, tokenizer)
        start = token_end + 1 if in_space else token_start  # spaCy skips a token's trailing space
    if text[end - 1].isspace() or (end < len(text) and not text[end].isspace()):
        end = _token_at(text, end - 1, tokenizer)[1]
    return (start, end) if start < end else None


class CriteriaStructure:
    def __init__(self, nlp: Language, name: str, split_sentences: bool):
        self.name = name
        self.split_sentences = split_sentences
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        used_ids = UsedIds()
        spans: list[Span] = []
        infos: list[CriterionInfo] = []
        for start, end, category in section_bounds(doc):
            for item in parse_items(text, start, end, category, used_ids):
                span = doc.char_span(item.start, item.end, alignment_mode="expand")
                if span is None or len(span) == 0:
                    continue
                spans.append(span)
                infos.append(CriterionInfo(item.id, item.parent.id if item.parent else None, category,
                                           span.start_char, span.end_char))
        self._publish(doc, spans, infos)
        return doc

    def set_criteria(self, doc: Doc, infos: list[CriterionInfo], span_extensions: bool = True) -> Doc:
        """Put criteria found on the string (:func:`criteria_in_text`; offsets into ``doc.text``,
        token-aligned) on ``doc``, as ``__call__`` would. ``span_extensions=False`` leaves the spans'
        ``criterion_*`` extensions unset (the components read the stored ``CriterionInfo``s; for a
        Doc only they see, such as ``criteria_nlp.excerpt``'s)."""
        spans = [doc.char_span(info.start, info.end, alignment_mode="expand") for info in infos]
        self._publish(doc, spans, infos, span_extensions)
        return doc

    def _publish(self, doc: Doc, spans: list[Span], infos: list[CriterionInfo], span_extensions: bool = True) -> None:
        for span, info in zip(spans if span_extensions else (), infos):
            ext = span._
            ext.criterion_id, ext.criterion_parent, ext.criterion_section = info.id, info.parent, info.section
        doc._.criteria = spans
        store_values(doc, "criteria", spans, infos)  # plain copies for the later components
        if self.split_sentences:
            self._set_sentences(doc, spans)

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
        starts[[span.start for span in spans]] = 1  # one numpy assignment, not one per criterion
        doc.from_array(["SENT_START"], starts.astype(numpy.uint64).reshape(-1, 1))
