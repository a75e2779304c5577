"""Every ``Doc``/``Span`` extension and span group the pipeline sets: the one reference.

The components register their extensions themselves (``Doc.set_extension`` when first built);
this module says what each one holds. ``tests/test_startup_and_citizenship.py`` checks that a fresh
process building the pipeline registers exactly these extensions, and that the README's table is
:func:`markdown_table` of them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    """One attribute the pipeline puts on spaCy objects."""

    attribute: str  # how it is read: "Doc._.criteria", 'doc.spans["criteria_rules"]'
    set_by: str  # the component (factory name) that sets it
    value: str  # what it holds


_CONTEXT = "criteria_context (medspaCy ConText)"
_CONTEXT_UNUSED = ("is_uncertain", "is_historical", "is_family")  # ConText's own, not in the output

EXTENSIONS: tuple[Extension, ...] = (
    Extension("Doc._.section_headings", "criteria_sections",
              "`[(start_token, end_token, category)]` of the inclusion/exclusion headings, in order"),
    Extension("Doc._.criteria", "criteria_structure", "the criterion Spans, in document order"),
    Extension("Span._.criterion_id", "criteria_structure", 'a criterion\'s hierarchical id (`"inc-8.1"`)'),
    Extension("Span._.criterion_parent", "criteria_structure", "the parent criterion's id, or None"),
    Extension("Span._.criterion_section", "criteria_structure", '`"inclusion"`, `"exclusion"` or None'),
    Extension("Doc._.quantities", "criteria_quantities", "the threshold-expression Spans, in order"),
    Extension("Span._.quantity", "criteria_quantities",
              "a `Quantity` (comparator, value(s), UCUM unit, `relative_to`, character offsets)"),
    Extension("Doc._.variable_mentions", "criteria_variables", "the lexicon match Spans, in order (longest wins)"),
    Extension("Span._.variable_entry", "criteria_variables", "the mention's `VariableEntry` of the lexicon"),
    Extension("Doc._.rules", "criteria_linker",
              "`{criterion_id: [Rule]}`, the typed rules (`criteria_nlp.contract.Rule`)"),
    Extension("Doc._.logic", "criteria_linker", "`{criterion_id: logic}`, the AND/OR tree of rule ids"),
    Extension("Span._.rule", "criteria_linker", 'the `Rule` of a span of `doc.spans["criteria_rules"]`'),
    Extension('doc.spans["criteria_rules"]', "criteria_linker", "one Span per rule, label `RULE`"),
    Extension('doc.spans["criteria_rule_parts"]', "criteria_spans",
              "labels `VARIABLE`, `VALUE` (comparator, value(s), unit) and `CONDITION` for the parts of "
              "every rule"),
    Extension("Span._.is_negated", _CONTEXT,
              "ConText on the rule spans; copied to `Rule.negated`"),
    Extension("Span._.is_hypothetical", _CONTEXT,
              "ConText on the rule spans; copied to `Rule.hypothetical`"),
    Extension("Span._.modifiers", _CONTEXT, "the ConText modifiers of a rule span"),
    Extension("Doc._.context_graph", _CONTEXT,
              "registered by ConText; set only when ConText runs on the whole document (max_scope)"),
    *(Extension(f"Span._.{name}", _CONTEXT, "ConText, not used in the output") for name in _CONTEXT_UNUSED),
)


def registered_names(kind: str) -> set[str]:
    """The extension names of ``kind`` ("Doc", "Span" or "Token") listed in :data:`EXTENSIONS`."""
    prefix = f"{kind}._."
    return {e.attribute[len(prefix):] for e in EXTENSIONS if e.attribute.startswith(prefix)}


def markdown_table() -> str:
    """The README's table of :data:`EXTENSIONS`."""
    lines = ["| attribute | set by | value |", "|---|---|---|"]
    lines += [f"| `{e.attribute}` | {e.set_by} | {e.value} |" for e in EXTENSIONS]
    return "\n".join(lines)
