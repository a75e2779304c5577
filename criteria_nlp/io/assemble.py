"""Assemble the typed ``ExtractionResult`` from a processed Doc.

Texts are sliced from the ORIGINAL input (the Doc holds the markup-masked text, which has the same
length), so ``text == input[start:end]`` holds for every object.
"""
from __future__ import annotations

from ..components._values import criteria_of
from ..models import Criterion, ExtractionResult


def _refresh_texts(rule, text: str) -> None:
    rule.text = text[rule.start:rule.end]
    if rule.variable is not None:
        rule.variable.text = text[rule.variable.start:rule.variable.end]
    for cond in rule.conditions:
        cond.text = text[cond.start:cond.end]


def assemble_result(doc, text: str, doc_id: str | None = None, path: str | None = None) -> ExtractionResult:
    if (len(doc) and doc[-1].idx + len(doc[-1].text_with_ws) != len(text)) or (not len(doc) and text):
        raise ValueError("the Doc text and the input differ in length; offsets would not be exact")
    rules_by_criterion = doc._.rules or {}
    logic_by_criterion = doc._.logic or {}
    criteria = []
    for _, info in criteria_of(doc):
        cid = info.id
        rules = rules_by_criterion.get(cid, [])
        for rule in rules:
            _refresh_texts(rule, text)
        criteria.append(Criterion(
            id=cid, parent=info.parent, section=info.section,
            text=text[info.start:info.end], start=info.start, end=info.end,
            rules=rules, logic=logic_by_criterion.get(cid),
        ))
    return ExtractionResult(doc_id, path, criteria)
