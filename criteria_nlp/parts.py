"""Long texts in parts: spaCy never gets a Doc longer than the part length.

Criteria are independent: the token-level components read a criterion with its ancestors only
(``criteria_nlp.excerpt``). So a text whose excerpt would be longer than the part length
(``nlp.max_length`` unless given) is read as follows:

1. the criteria (with their ids, parents and sections) and their quantities are found on the
   whole string, as for any text (:func:`criteria_nlp.excerpt.find_criteria`): the ids are those a
   single reading gives (a repeated record's second ``inc-1`` is ``inc-1_2``);
2. the criteria to read are grouped by top-level criterion (a criterion travels with all its
   descendants), and consecutive groups are packed into parts whose excerpt stays within the part
   length; a group is not cut from the next one when a starred footnote's exception in the next
   may reach a value in it;
3. each part's excerpt is a Doc of its own (:func:`criteria_nlp.excerpt.read_criteria`), and the
   rules of every part are mapped back to offsets in the whole text.

A text within the part length is read by :func:`criteria_nlp.pipeline.read_text`, unchanged; a
longer one gives the result that a single reading would give. A top-level criterion longer than
the part length on its own is one part, over the length (spaCy's tokenizer has no limit; the
input's outer size limit still holds). A pipeline of another shape than ours (not characters
first) is not cut: it gets a Doc of the whole text.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Iterator

from spacy.language import Language

from .components._values import CriterionInfo
from .contract import ExtractionResult
from .excerpt import SEPARATOR, _run_around, class_letters, criteria_to_read, find_criteria, is_excerptable, read_criteria
from .quantities.grammar import Quantity


def read_in_parts(nlp: Language, text: str, doc_id: str | None = None, path: str | None = None,
                  part_length: int | None = None) -> ExtractionResult:
    """The typed result of ``nlp`` on ``text`` (whose outer size the caller has checked), with no
    Doc longer than ``part_length`` (default ``nlp.max_length``) when the text is longer."""
    from .io.assemble import assemble_part_results
    from .pipeline import prepare_text, read_text

    limit = part_length or nlp.max_length
    if len(text) <= limit or not is_excerptable(nlp):
        return read_text(nlp, text, doc_id=doc_id, path=path)
    view = prepare_text(text)
    criteria, quantities = find_criteria(nlp, view.text)
    keep = criteria_to_read(view.text, criteria, quantities, class_letters(nlp))
    parts = [read_criteria(nlp, view.text, criteria, quantities_inside(quantities, criteria, ids), ids)
             for ids in part_ids(view.text, criteria, keep, limit)]
    return assemble_part_results(criteria, parts, text, doc_id=doc_id, path=path, view=view)


def criterion_trees(criteria: list[CriterionInfo], keep: set[str]) -> list[list[CriterionInfo]]:
    """The criteria whose ids are in ``keep``, in text order, grouped by their top-level criterion."""
    parent_of = {c.id: c.parent for c in criteria}
    trees: list[list[CriterionInfo]] = []
    last_root = None
    for criterion in criteria:
        if criterion.id not in keep:
            continue
        root = criterion.id
        while parent_of.get(root) is not None:
            root = parent_of[root]
        if trees and root == last_root:
            trees[-1].append(criterion)
        else:
            trees.append([criterion])
        last_root = root
    return trees


def _tree_span(text: str, tree: list[CriterionInfo]) -> tuple[int, int]:
    """Where a tree's text lies (widened as the excerpt widens its pieces)."""
    return _run_around(text, tree[0].start, max(c.end for c in tree))


def _units(text: str, trees: list[list[CriterionInfo]]) -> list[list[list[CriterionInfo]]]:
    """``trees`` in runs that must stay in one part: a tree followed by one a footnote's exception
    reaches back from."""
    from .components.conditions import footnote_reaches_back_over, has_footnote_exception

    footnotes = has_footnote_exception(text)
    units: list[list[list[CriterionInfo]]] = []
    for tree in trees:
        if units and footnotes and footnote_reaches_back_over(text, tree[0].start):
            units[-1].append(tree)
        else:
            units.append([tree])
    return units


def part_ids(text: str, criteria: list[CriterionInfo], keep: set[str], limit: int) -> Iterator[set[str]]:
    """The ids of the criteria of each part, in text order: whole runs of trees packed while the
    excerpt of the part stays within ``limit`` characters."""
    ids: set[str] = set()
    size = 0
    for unit in _units(text, criterion_trees(criteria, keep)):
        unit_size = sum(end - start + len(SEPARATOR) for start, end in (_tree_span(text, t) for t in unit))
        if ids and size + unit_size - len(SEPARATOR) > limit:
            yield ids
            ids, size = set(), 0
        ids.update(c.id for tree in unit for c in tree)
        size += unit_size
    if ids:
        yield ids


def quantities_inside(quantities: list[Quantity], criteria: list[CriterionInfo], ids: set[str]) -> list[Quantity]:
    """The quantities of the criteria whose ids are in ``ids`` (a quantity belongs to the last
    criterion that starts at or before it)."""
    starts = [c.start for c in criteria]
    return [q for q in quantities if criteria[bisect_right(starts, q.start) - 1].id in ids]
