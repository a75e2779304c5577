"""Characters first: spaCy reads only the criteria that can hold a rule.

A rule is a quantity (comparator, value, unit) with its variable, and the quantity grammar works on
characters. Most of a registry record holds none: about a quarter of the criteria have a digit. So
``extract`` does not make a Doc of the whole text. For one text (``prepare_text(text).text``):

1. the section headings (``SectionHeadings.headings_in_text``, which tokenizes only the lines that
   can hold one) and the criteria (``criteria_in_text``) are found on the string;
2. so are the quantities (``quantities_in_criteria``);
3. the **excerpt** is the text of the criteria that may hold a rule (a quantity, or a class value
   after a scale's name) and of those the components read with them (:func:`criteria_to_read`:
   ancestors, the items under a field label, all of them when a starred footnote may reach
   across), each piece cut at the whitespace around it, consecutive criteria kept with the text
   between them, other pieces joined by a blank line;
4. a Doc of the excerpt gets those criteria and quantities (offsets moved into it), and the
   pipeline's token-level components (lexicon, linker, conditions, ConText, normaliser) run on it
   (not ``criteria_spans``, whose spans for displaCy are not part of the result);
5. the result lists every criterion of step 1, with the rules of step 4 mapped back to the input.

spaCy tokenizes each whitespace-free run of text on its own, so the tokens of every criterion in
the excerpt are those of a Doc of the whole text, and the components read no text outside a
criterion and its ancestors. The output is the same as running the pipeline on a Doc of the whole
text (``nlp(text)``, the token-level path users compose with their own components);
``tests/test_excerpt.py`` checks it on sample studies.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from .components._values import CriterionInfo
from .quantities.grammar import Quantity, shifted

# what the excerpt's pieces are joined with: a paragraph break, as between list items
SEPARATOR = "\n\n"
# the components computed on the string, in the order the pipeline runs them
STRING_COMPONENTS = ("criteria_sections", "criteria_structure", "criteria_quantities")
# components whose work stays on the Doc (spans for displaCy), not in the result: the excerpt's Doc
# is dropped once the result is built
DOC_ONLY_COMPONENTS = ("criteria_spans",)


@dataclass(frozen=True)
class Excerpt:
    """Pieces of a source text joined by :data:`SEPARATOR`, and the way back to the source's offsets."""

    text: str
    starts: tuple[int, ...]  # where each piece starts in ``text``
    sources: tuple[int, ...]  # where it starts in the source text

    def from_source(self, pos: int) -> int:
        """The excerpt offset of source offset ``pos`` (which lies in a piece)."""
        k = bisect_right(self.sources, pos) - 1
        return pos - self.sources[k] + self.starts[k]

    def to_source(self, pos: int) -> int:
        """The source offset of excerpt offset ``pos`` (which lies in a piece or at its end)."""
        k = bisect_right(self.starts, pos) - 1
        return pos - self.starts[k] + self.sources[k]

    def moved(self, criterion: CriterionInfo) -> CriterionInfo:
        """``criterion`` (which lies in a piece) with its offsets into the excerpt."""
        start = self.from_source(criterion.start)
        # (not NamedTuple._replace, three times the cost)
        return CriterionInfo(criterion.id, criterion.parent, criterion.section, start,
                             start + criterion.end - criterion.start)

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets of ``text[start:end]`` (a span inside one piece)."""
        source_start = self.to_source(start)
        return source_start, (self.to_source(end - 1) + 1 if end > start else source_start)


def _active_pipeline(nlp: Language) -> list[tuple[str, object]]:
    """``nlp.pipeline`` (the enabled ``(name, component)`` pairs, in order), read without spaCy's
    frozen copies: ``nlp.pipeline`` and ``nlp.pipe_names`` build them on every access (about 10 µs
    each, paid several times per document)."""
    components, disabled = getattr(nlp, "_components", None), getattr(nlp, "_disabled", None)
    if components is None or disabled is None:  # another spaCy: the public property
        return list(nlp.pipeline)
    return [(name, component) for name, component in components if name not in disabled]


def is_excerptable(nlp: Language) -> bool:
    """Whether ``nlp`` starts with the components :func:`read_excerpt` computes on the string."""
    return tuple(name for name, _ in _active_pipeline(nlp)[:len(STRING_COMPONENTS)]) == STRING_COMPONENTS


def token_components(nlp: Language) -> list[tuple[str, object]]:
    """The ``(name, component)`` pairs :func:`read_excerpt` runs on the excerpt's Doc, in order."""
    return [(name, component) for name, component in _active_pipeline(nlp)[len(STRING_COMPONENTS):]
            if name not in DOC_ONLY_COMPONENTS]


def class_letters(nlp: Language) -> frozenset[str]:
    """The capital letters a scale of the pipeline's lexicon writes its classes with."""
    variables = next((component for name, component in _active_pipeline(nlp) if name == "criteria_variables"), None)
    return getattr(variables, "class_letters", frozenset())


def criteria_to_read(text: str, criteria: list[CriterionInfo], quantities: list[Quantity],
                     class_letters: frozenset[str] = frozenset()) -> set[str]:
    """The ids of the criteria the token-level components need to read.

    - the criteria that may hold a rule: a quantity, or a class value the linker reads after a
      scale's name (``NYHA III``, or one of the lexicon's ``class_letters``: ``Child-Pugh B``);
    - their ancestors (windows, populations and negating headers pass down);
    - under a field label (``Age:`` over ``- See Disease Characteristics`` and ``- 18 and over``), the
      items between the label and the rule's item: the linker's features read the text between a
      variable and its value;
    - every criterion when a starred footnote's exception may reach values of other criteria.
    """
    from .components.conditions import has_footnote_exception
    from .components.linker import is_field_label, may_hold_class_value

    if has_footnote_exception(text):
        return {c.id for c in criteria}
    index = {c.id: k for k, c in enumerate(criteria)}
    starts = [c.start for c in criteria]
    holding = set()
    for q in quantities:
        k = bisect_right(starts, q.start) - 1
        if k >= 0 and q.end <= criteria[k].end:
            holding.add(k)
    holding.update(k for k, c in enumerate(criteria)
                   if k not in holding and may_hold_class_value(text, c.start, c.end, class_letters))
    keep: set[str] = set()
    for k in holding:
        cid = criteria[k].id
        while cid is not None and cid not in keep:
            keep.add(cid)
            cid = criteria[index[cid]].parent if cid in index else None
    for k in holding:
        parent = index.get(criteria[k].parent)
        if parent is not None and is_field_label(text, criteria[parent].start, criteria[parent].end):
            keep.update(c.id for c in criteria[parent + 1:k])
    return keep


def _run_around(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` widened to the whitespace-free runs it cuts."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def excerpt_of(text: str, criteria: list[CriterionInfo], keep: set[str]) -> Excerpt:
    """The excerpt of ``text`` made of the criteria whose ids are in ``keep``."""
    pieces: list[list[int]] = []
    previous_kept = False
    for criterion in criteria:
        if criterion.id not in keep:
            previous_kept = False
            continue
        start, end = _run_around(text, criterion.start, criterion.end)
        if pieces and (previous_kept or start <= pieces[-1][1]):
            pieces[-1][1] = max(pieces[-1][1], end)  # with the text between consecutive criteria
        else:
            pieces.append([start, end])
        previous_kept = True
    parts, starts, pos = [], [], 0
    for start, end in pieces:
        starts.append(pos)
        parts.append(text[start:end])
        pos += end - start + len(SEPARATOR)
    return Excerpt(SEPARATOR.join(parts), tuple(starts), tuple(start for start, _ in pieces))


@dataclass
class ExcerptReading:
    """What :func:`read_excerpt` found: every criterion (offsets into the source text) and, when
    some criterion is to be read, the excerpt and its processed Doc."""

    criteria: list[CriterionInfo]
    doc: Doc | None = None
    excerpt: Excerpt | None = None


def read_excerpt(nlp: Language, text: str) -> ExcerptReading:
    """Run ``nlp`` characters first on ``text`` (see the module's docstring)."""
    criteria, quantities = find_criteria(nlp, text)
    return read_criteria(nlp, text, criteria, quantities,
                         criteria_to_read(text, criteria, quantities, class_letters(nlp)))


def find_criteria(nlp: Language, text: str) -> tuple[list[CriterionInfo], list[Quantity]]:
    """Steps 1 and 2 on the string: every criterion of ``text`` and the quantities in them."""
    from .components.quantities import quantities_in_criteria
    from .components.structure import criteria_in_text

    headings = nlp.get_pipe("criteria_sections").headings_in_text(text)
    criteria = criteria_in_text(text, headings, nlp.tokenizer)
    quantities = quantities_in_criteria(text, [(c.start, c.end) for c in criteria]) if criteria else []
    return criteria, quantities


def read_criteria(nlp: Language, text: str, criteria: list[CriterionInfo], quantities: list[Quantity],
                  keep: set[str]) -> ExcerptReading:
    """Steps 3 and 4: the token-level components on the excerpt of the criteria whose ids are in
    ``keep`` (``quantities``: those inside these criteria)."""
    if not keep:
        return ExcerptReading(criteria)
    excerpt = excerpt_of(text, criteria, keep)
    doc = nlp.tokenizer(excerpt.text)  # the caller has checked the text's length
    moved = [excerpt.moved(c) for c in criteria if c.id in keep]
    nlp.get_pipe("criteria_structure").set_criteria(doc, moved, span_extensions=False)  # a Doc only components see
    nlp.get_pipe("criteria_quantities").set_quantities(
        doc, [shifted(q, excerpt.from_source(q.start) - q.start) for q in quantities], span_extensions=False)
    for _, component in token_components(nlp):
        doc = component(doc)
    return ExcerptReading(criteria, doc, excerpt)
