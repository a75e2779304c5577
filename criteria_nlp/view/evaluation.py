"""The ``evaluate --html`` report: scores, then every miss and false positive in its context.

It renders an :class:`~criteria_nlp.evaluation.scorer.EvaluationResult` as it is (scoring is
not touched); the texts of the documents with errors are read again from the brat corpus.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from .render import esc, number, page, template
from .spans import Highlight, marked_html

CONTEXT_CHARS = 120  # characters shown on each side of an error's spans


def threshold_text(comparator: Any, value: Any, value_high: Any = None, unit: Any = None,
                   relative_to: Any = None) -> str:
    """``>= 18 a``, ``between 18 and 65``, ``<= 2.5 x ULN`` for a gold or predicted threshold."""
    if comparator == "between":
        text = f"between {number(value)} and {number(value_high)}"
    else:
        text = f"{comparator or '?'} {number(value)}" + (f" .. {number(value_high)}" if value_high is not None else "")
    if unit:
        text += f" {unit}"
    if relative_to:
        text += f" x {relative_to}"
    return text


def error_highlights(error) -> list[Highlight]:
    """The gold comparison and variable, the predicted rule and variable of one ErrorItem."""
    marks = []
    gold, pred = error.gold, error.pred
    if gold is not None:
        marks.append(Highlight(gold.start, gold.end, "gold", gold.id))
        marks.append(Highlight(gold.variable_start, gold.variable_end, "gold-variable", gold.id))
    if pred is not None:
        if pred.start is not None and pred.end is not None:
            marks.append(Highlight(pred.start, pred.end, "pred", pred.id))
        if pred.has_variable:
            marks.append(Highlight(pred.variable_start, pred.variable_end, "pred-variable", pred.id))
    return [m for m in marks if m.start is not None and m.end is not None and m.start < m.end]


def context_html(text: str, highlights: list[Highlight]) -> str:
    inside = [h for h in highlights if 0 <= h.start and h.end <= len(text)]
    if not inside:
        return '<span class="where">(no offsets in the text)</span>'
    lo = max(0, min(h.start for h in inside) - CONTEXT_CHARS)
    hi = min(len(text), max(h.end for h in inside) + CONTEXT_CHARS)
    return ("…" if lo > 0 else "") + marked_html(text, inside, lo, hi) + ("…" if hi < len(text) else "")


def error_html(error, text: str | None) -> str:
    rows = []
    if error.gold is not None:
        g = error.gold
        rows.append(("gold", f"{g.id} [{g.category}]: {g.variable_text!r} "
                             + threshold_text(g.comparator, g.value, g.value_high, g.unit_text, g.relative_to)))
    if error.pred is not None:
        p = error.pred
        variable = repr(p.variable_text) if p.has_variable else "(no variable)"
        rows.append(("predicted", f"{p.id}: {variable} "
                                  + threshold_text(p.comparator, p.value, p.value_high, p.unit or p.unit_text,
                                                   p.relative_to)))
    if error.note:
        rows.append(("note", error.note))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    context = context_html(text, error_highlights(error)) if text is not None else esc(error.context)
    return (f'<div class="error-item" data-category="{esc(error.category)}">'
            f'<h3>{esc(error.doc_id)}<span class="cat">{esc(error.category)}</span></h3>'
            f'<dl>{dl}</dl><div class="context">{context}</div></div>')


def scores_html(result) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("level", "P", "R", "F1", "TP", "pred", "gold"))
    rows = "".join(
        f'<tr><td>{esc(level)}</td><td class="num">{s.precision:.3f}</td><td class="num">{s.recall:.3f}</td>'
        f'<td class="num">{s.f1:.3f}</td><td class="num">{s.tp}</td><td class="num">{s.n_pred}</td>'
        f'<td class="num">{s.n_gold}</td></tr>'
        for level, s in result.levels.items())
    return f'<table class="scores"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _sorted(errors: Iterable) -> list:
    return sorted(errors, key=lambda e: (e.doc_id, (e.gold or e.pred).start or 0))


def evaluation_report_html(result, texts: Mapping[str, str]) -> str:
    """The whole page: scores, error counts, misses, false positives (``texts``: doc id -> text)."""
    misses = _sorted(e for e in result.errors if e.gold is not None)
    false_positives = _sorted(e for e in result.errors if e.gold is None)
    body = template("evaluation.html").substitute(
        scores=scores_html(result),
        error_counts=esc("errors: " + ", ".join(f"{k} {v}" for k, v in result.error_counts.items())),
        n_misses=len(misses), n_false_positives=len(false_positives),
        misses="\n".join(error_html(e, texts.get(e.doc_id)) for e in misses) or "<p>None.</p>",
        false_positives="\n".join(error_html(e, texts.get(e.doc_id)) for e in false_positives) or "<p>None.</p>",
    )
    meta = ", ".join(f"{k}={v}" for k, v in result.meta.items() if v is not None and k != "corpus_dir")
    subtitle = f"{result.n_docs} documents, {result.n_gold} gold thresholds, {result.n_pred} predicted rules; {meta}"
    return page("criteria-nlp evaluation errors", subtitle, body)


def error_texts(result, corpus_dir: str | os.PathLike) -> dict[str, str]:
    """The texts of the documents that have errors, read from the brat corpus."""
    from ..evaluation.brat import iter_corpus

    ids = sorted({e.doc_id for e in result.errors})
    return {doc.doc_id: doc.text for doc in iter_corpus(corpus_dir, ids)} if ids else {}
