"""Assemble the typed ``ExtractionResult`` from a processed Doc.

The Doc holds the text the pipeline read (:func:`criteria_nlp.pipeline.prepare_text`: markup
masked, soft wraps joined). Offsets are mapped back to the ORIGINAL input through its
``TextView`` and texts are sliced from the input, so ``text == input[start:end]`` holds for every
object.
"""
from __future__ import annotations

from ..components._values import criteria_of
from ..excerpt import Excerpt, ExcerptReading
from ..layout import TextView
from ..contract import Criterion, ExtractionResult


def _to_input(rule, view, done: set[int]) -> None:
    """Map the offsets of ``rule``, its variable and its conditions to the input (each object once:
    rules of one sentence share condition objects)."""
    for part in (rule, rule.variable, *rule.conditions):
        if part is not None and id(part) not in done:
            done.add(id(part))
            part.start, part.end = view.span_to_input(part.start, part.end)


def _refresh_texts(rule, text: str) -> None:
    rule.text = text[rule.start:rule.end]
    if rule.variable is not None:
        rule.variable.text = text[rule.variable.start:rule.variable.end]
    for cond in rule.conditions:
        cond.text = text[cond.start:cond.end]


def assemble_result(doc, text: str, doc_id: str | None = None, path: str | None = None,
                    view: TextView | None = None) -> ExtractionResult:
    view = view or TextView(text)
    if (len(doc) and doc[-1].idx + len(doc[-1].text_with_ws) != len(view.text)) or (not len(doc) and view.text):
        raise ValueError("the Doc text and the input differ in length; offsets would not be exact")
    return _assemble([info for _, info in criteria_of(doc)], doc._.rules or {}, doc._.logic or {},
                     text, view, lambda _cid: view, doc_id, path)


def assemble_excerpt_result(reading: ExcerptReading, text: str, doc_id: str | None = None,
                            path: str | None = None, view: TextView | None = None) -> ExtractionResult:
    """The result of a characters-first reading (``criteria_nlp.excerpt``): criterion offsets are
    into ``view.text``, rule offsets into the excerpt."""
    view = view or TextView(text)
    doc = reading.doc
    if doc is None:
        return _assemble(reading.criteria, {}, {}, text, view, lambda _cid: view, doc_id, path)
    through = _Through(reading.excerpt, view)
    return _assemble(reading.criteria, doc._.rules or {}, doc._.logic or {}, text, view,
                     lambda _cid: through, doc_id, path)


def assemble_part_results(criteria, parts: list[ExcerptReading], text: str, doc_id: str | None = None,
                          path: str | None = None, view: TextView | None = None) -> ExtractionResult:
    """The result of a text read in parts (``criteria_nlp.parts``): ``criteria`` are every criterion
    (offsets into ``view.text``), each part's rules have offsets into that part's excerpt."""
    view = view or TextView(text)
    rules, logic, through_of = {}, {}, {}
    for part in parts:
        if part.doc is None:
            continue
        through = _Through(part.excerpt, view)
        for cid, criterion_rules in (part.doc._.rules or {}).items():
            rules[cid], through_of[cid] = criterion_rules, through
        logic.update(part.doc._.logic or {})
    return _assemble(criteria, rules, logic, text, view, through_of.__getitem__, doc_id, path)


class _Through:
    """Excerpt offsets to input offsets: through the excerpt's source (``view.text``), then the view."""

    def __init__(self, excerpt: Excerpt, view: TextView):
        self.excerpt, self.view = excerpt, view

    def span_to_input(self, start: int, end: int) -> tuple[int, int]:
        return self.view.span_to_input(*self.excerpt.span_to_source(start, end))


def _assemble(criteria_infos, rules_by_criterion, logic_by_criterion, text: str, view: TextView, rule_view_of,
              doc_id: str | None, path: str | None) -> ExtractionResult:
    """``rule_view_of(criterion_id).span_to_input`` maps the offsets of that criterion's rules,
    ``view.span_to_input`` the criteria's."""
    criteria = []
    mapped: set[int] = set()
    for info in criteria_infos:
        cid = info.id
        rules = rules_by_criterion.get(cid, [])
        for rule in rules:
            _to_input(rule, rule_view_of(cid), mapped)
            _refresh_texts(rule, text)
        start, end = view.span_to_input(info.start, info.end)
        criteria.append(Criterion(
            id=cid, parent=info.parent, section=info.section,
            text=text[start:end], start=start, end=end,
            rules=rules, logic=logic_by_criterion.get(cid),
        ))
    return ExtractionResult(doc_id, path, criteria)
