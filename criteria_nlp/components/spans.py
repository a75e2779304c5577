"""``criteria_spans``: labelled spans of the parts of every rule, for spaCy tools.

Sets the span group ``doc.spans["criteria_rule_parts"]`` from ``doc._.rules``, once per distinct
offset pair and label, in text order:

- ``VARIABLE``: the variable as written (``Hemoglobin (Hb)``);
- ``VALUE``: a threshold expression inside a rule (comparator, value(s), unit: ``≥ 80 g/L``);
- ``CONDITION``: a condition of a rule (time window, population, exception, qualifier), also when a
  rule inherits it from a parent item.

The rules themselves are ``doc.spans["criteria_rules"]`` (label ``RULE``, set by
``criteria_linker``). ``displacy.render(doc, style="span", options={"spans_key": "criteria_rule_parts"})``
shows them. The component changes nothing else.
"""
from bisect import bisect_left
from typing import Iterable

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

from ._values import span_values

PARTS_SPAN_GROUP = "criteria_rule_parts"
VARIABLE, VALUE, CONDITION = "VARIABLE", "VALUE", "CONDITION"


def rule_part_offsets(rules: Iterable, quantity_offsets: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of the variables, values and conditions of ``rules`` (``Rule`` models).

    ``quantity_offsets``: the threshold expressions of the document, sorted by start; those that lie
    inside a rule are its values.
    """
    starts = [s for s, _ in quantity_offsets]
    parts: set[tuple[int, int, str]] = set()
    for rule in rules:
        if rule.variable is not None:
            parts.add((rule.variable.start, rule.variable.end, VARIABLE))
        for s, e in quantity_offsets[bisect_left(starts, rule.start):bisect_left(starts, rule.end)]:
            if e <= rule.end:
                parts.add((s, e, VALUE))
        for condition in rule.conditions:
            parts.add((condition.start, condition.end, CONDITION))
    return sorted(parts)


class RuleParts:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        rules = [rule for rules in (doc._.rules or {}).values() for rule in rules]
        quantities = span_values(doc, "quantities", doc._.quantities, lambda span: span._.quantity)
        parts = rule_part_offsets(rules, sorted((q.start, q.end) for q in quantities))
        doc.spans[PARTS_SPAN_GROUP] = _spans(doc, parts) if parts else []
        return doc


def _spans(doc: Doc, parts: list[tuple[int, int, str]]) -> list[Span]:
    """The Spans of ``(start_char, end_char, label)``, expanded to whole tokens (as
    ``doc.char_span(..., alignment_mode="expand")``, located for all parts at once)."""
    token_starts = doc.to_array("IDX").astype(numpy.int64)
    char_starts = numpy.fromiter((p[0] for p in parts), dtype=numpy.int64, count=len(parts))
    char_ends = numpy.fromiter((p[1] for p in parts), dtype=numpy.int64, count=len(parts))
    first = numpy.searchsorted(token_starts, char_starts, side="right") - 1
    after = numpy.searchsorted(token_starts, char_ends, side="left")
    labels = {label: doc.vocab.strings.add(label) for label in (VARIABLE, VALUE, CONDITION)}
    return [Span(doc, int(s), int(e), label=labels[part[2]])
            for s, e, part in zip(first.tolist(), after.tolist(), parts) if 0 <= s < e]
