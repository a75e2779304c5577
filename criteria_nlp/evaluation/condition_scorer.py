"""Scoring the conditions of matched thresholds: temporal windows, populations, exceptions.

Only thresholds matched at the **strict** level are looked at (the threshold itself is scored by
:mod:`.scorer`; this module asks whether the matched rule carries the right conditions). For each
kind (``temporal``, ``population``, ``exception``) and each matched pair (gold threshold, predicted
rule):

* a **gold condition is found** when a predicted condition of the same kind on that rule overlaps
  one of its spans (an inherited condition, ``inherited_from`` set, has offsets in its parent
  criterion and counts like any other);
* a **predicted condition is correct** when it overlaps a gold condition of the same kind of that
  threshold.

``recall = found / gold``. Precision comes in two figures, because LCT does not annotate every
window (a window written on a list header or a sentence away is often not tied to the
Observation): ``precision`` counts every predicted condition of matched rules; ``precision on
annotated`` counts only those on thresholds whose gold has a condition of that kind (a
prediction there is wrong only if it is not the annotated condition). Gold conditions of
thresholds that no rule matches are counted apart (``gold on unmatched``) and are not in recall.

:func:`condition_matches` is the counting shared with the reference-record scorer.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .context import marked_context
from .gold import GoldDocument, GoldThreshold
from .threshold_conditions import CONDITION_KINDS, ThresholdCondition

if TYPE_CHECKING:  # the threshold scorer imports this module
    from .scorer import PredRule

__all__ = [
    "CONDITION_KINDS",
    "ConditionError",
    "ConditionScore",
    "KindCounts",
    "PredCondition",
    "condition_matches",
    "pred_conditions",
]


@dataclass(frozen=True)
class PredCondition:
    """A condition of a predicted rule, as in the output contract."""

    kind: str
    start: int
    end: int
    text: str
    inherited_from: str | None = None


def pred_conditions(rule: Mapping[str, Any]) -> tuple[PredCondition, ...]:
    """The conditions of a contract rule dict that have offsets (anything else is not a condition)."""
    conditions = rule.get("conditions")
    out = []
    for c in conditions if isinstance(conditions, list) else ():
        if not isinstance(c, Mapping):
            continue
        s, e = c.get("start"), c.get("end")
        if isinstance(s, int) and isinstance(e, int):
            out.append(PredCondition(str(c.get("kind")), s, e, c.get("text") or "", c.get("inherited_from")))
    return tuple(out)


def _overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    s, e = span
    return any(min(e, b) > max(s, a) for a, b in spans)


@dataclass
class KindCounts:
    """Counts of one condition kind (see the module docstring)."""

    gold: int = 0
    found: int = 0
    pred: int = 0
    correct: int = 0
    pred_annotated: int = 0  # predicted on thresholds whose gold has this kind
    gold_unmatched: int = 0  # gold conditions of thresholds no rule matched (not in recall)

    def add(self, other: KindCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.pred if self.pred else None

    @property
    def precision_annotated(self) -> float | None:
        return self.correct / self.pred_annotated if self.pred_annotated else None

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {"gold": self.gold, "found": self.found, "recall": r(self.recall),
                "pred": self.pred, "correct": self.correct, "precision": r(self.precision),
                "pred_annotated": self.pred_annotated, "precision_annotated": r(self.precision_annotated),
                "gold_unmatched": self.gold_unmatched}


def condition_matches(
    gold: Sequence[tuple[str, Sequence[tuple[int, int]]]],
    pred: Sequence[tuple[str, tuple[int, int]]],
    kinds: Sequence[str] = CONDITION_KINDS,
) -> tuple[dict[str, KindCounts], list[bool], list[bool]]:
    """Per-kind counts for the conditions of one matched rule.

    ``gold`` is ``[(kind, spans)]``, ``pred`` ``[(kind, (start, end))]``; returns the counts and, in
    input order, whether each gold condition was found and each prediction is correct (predictions
    of kinds outside ``kinds`` are ``True``: not judged).
    """
    counts = {k: KindCounts() for k in kinds}
    found = [any(pk == gk and _overlaps(ps, gs) for pk, ps in pred) for gk, gs in gold]
    correct = [pk not in counts or any(gk == pk and _overlaps(ps, gs) for gk, gs in gold) for pk, ps in pred]
    for (gk, _), ok in zip(gold, found):
        if gk in counts:
            counts[gk].gold += 1
            counts[gk].found += ok
    gold_kinds = {gk for gk, _ in gold}
    for (pk, _), ok in zip(pred, correct):
        if pk in counts:
            counts[pk].pred += 1
            counts[pk].correct += ok
            counts[pk].pred_annotated += pk in gold_kinds
    return counts, found, correct


@dataclass
class ConditionError:
    """A gold condition the matched rule lacks (``missed``) or a predicted condition that overlaps no
    gold condition of its kind (``unconfirmed``; ``annotated`` says whether the threshold's gold has
    a condition of that kind at all)."""

    doc_id: str
    category: str  # "missed" | "unconfirmed"
    kind: str
    threshold: GoldThreshold
    rule_id: str
    rule_conditions: tuple[PredCondition, ...]
    gold: ThresholdCondition | None
    pred: PredCondition | None
    annotated: bool
    context: str

    def to_dict(self) -> dict[str, Any]:
        g, p = self.gold, self.pred
        return {
            "doc_id": self.doc_id, "category": self.category, "kind": self.kind, "annotated": self.annotated,
            "threshold": {"id": self.threshold.id, "variable": self.threshold.variable_text,
                          "text": self.threshold.text, "span": [self.threshold.start, self.threshold.end]},
            "rule": self.rule_id,
            "gold": None if g is None else {"source": g.source, "text": g.text, "spans": [list(s) for s in g.spans]},
            "pred": None if p is None else {"text": p.text, "span": [p.start, p.end], "inherited_from": p.inherited_from},
            "rule_conditions": [{"kind": c.kind, "text": c.text, "span": [c.start, c.end]} for c in self.rule_conditions],
            "context": self.context,
        }

    def format(self) -> str:
        t = self.threshold
        head = f"{self.doc_id}  {self.kind} {self.category}  threshold {t.variable_text!r} {t.text!r}  rule {self.rule_id}"
        lines = [head]
        if self.gold is not None:
            lines.append(f"  gold {self.gold.source}: {self.gold.text!r}")
        if self.pred is not None:
            where = "" if self.annotated else " (gold has no condition of this kind here)"
            inherited = f" inherited from {self.pred.inherited_from}" if self.pred.inherited_from else ""
            lines.append(f"  pred: {self.pred.text!r}{inherited}{where}")
        lines.append("  rule conditions: "
                     + ("; ".join(f"{c.kind} {c.text!r}" for c in self.rule_conditions) or "none"))
        lines.append(f"  …{self.context}…")
        return "\n".join(lines)


_LEGEND = "legend: [[gold threshold]] {{gold condition}} <<predicted condition>>"


@dataclass
class ConditionScore:
    """Condition counts per kind over a corpus, and the condition errors."""

    kinds: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in CONDITION_KINDS})
    errors: list[ConditionError] = field(default_factory=list)
    matched_thresholds: int = 0

    def add_pair(self, doc_id: str, text: str, threshold: GoldThreshold, gold: Sequence[ThresholdCondition],
                 rule_id: str, pred: Sequence[PredCondition]) -> None:
        """Count one strictly matched (gold threshold, predicted rule) pair."""
        self.matched_thresholds += 1
        counts, found, correct = condition_matches(
            [(g.kind, g.spans) for g in gold], [(p.kind, (p.start, p.end)) for p in pred])
        for kind, c in counts.items():
            self.kinds[kind].add(c)
        gold_kinds = {g.kind for g in gold}
        for g, ok in zip(gold, found):
            if not ok:
                marks = [(threshold.start, threshold.end, "[[", "]]")] + [(s, e, "{{", "}}") for s, e in g.spans]
                self.errors.append(ConditionError(doc_id, "missed", g.kind, threshold, rule_id, tuple(pred), g, None,
                                                  True, marked_context(text, marks)))
        for p, ok in zip(pred, correct):
            if not ok:
                marks = [(threshold.start, threshold.end, "[[", "]]"), (p.start, p.end, "<<", ">>")]
                self.errors.append(ConditionError(doc_id, "unconfirmed", p.kind, threshold, rule_id, tuple(pred),
                                                  None, p, p.kind in gold_kinds, marked_context(text, marks)))

    def add_document(self, gold: GoldDocument, thresholds: Sequence[GoldThreshold], rules: Sequence[PredRule],
                     strict: Sequence[tuple[int, int]]) -> None:
        """Count one document: ``strict`` pairs (threshold index, rule index) of its matched thresholds."""
        rule_of = dict(strict)
        for ti, threshold in enumerate(thresholds):
            gold_conditions = gold.conditions_of(threshold)
            if ti in rule_of:
                rule = rules[rule_of[ti]]
                self.add_pair(gold.doc_id, gold.text, threshold, gold_conditions, rule.id, rule.conditions)
            else:
                self.add_unmatched(gold_conditions)

    def add_unmatched(self, gold: Iterable[ThresholdCondition]) -> None:
        """Count the gold conditions of a threshold that no rule matched strictly."""
        for g in gold:
            if g.kind in self.kinds:
                self.kinds[g.kind].gold_unmatched += 1

    def sample_errors(self, n: int, seed: int = 0) -> tuple[list[ConditionError], list[ConditionError]]:
        """Up to ``n`` missed gold conditions and ``n`` unconfirmed predictions on annotated thresholds
        (then on the others), a seeded sample in document order."""
        rng = random.Random(seed)
        misses = [e for e in self.errors if e.category == "missed"]
        unconfirmed = sorted((e for e in self.errors if e.category == "unconfirmed"), key=lambda e: not e.annotated)

        def pick(items: list[ConditionError], keep_order: bool = False) -> list[ConditionError]:
            if len(items) > n:
                items = items[:n] if keep_order else rng.sample(items, n)
            return sorted(items, key=lambda e: (e.doc_id, e.threshold.start))

        return pick(misses), pick(unconfirmed, keep_order=True)

    def to_dict(self, errors: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {"matched_thresholds": self.matched_thresholds,
                               **{k: c.to_dict() for k, c in self.kinds.items()}}
        if errors:
            misses, unconfirmed = self.sample_errors(errors)
            out["errors"] = {"missed": [e.to_dict() for e in misses],
                             "unconfirmed": [e.to_dict() for e in unconfirmed]}
        return out

    def format_table(self) -> str:
        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        lines = [f"conditions of the {self.matched_thresholds} strictly matched thresholds "
                 "(P = correct / pred; P annot. = correct / pred annot., the predictions on thresholds "
                 "whose gold has that kind)",
                 f"{'kind':<12}{'gold':>6}{'found':>7}{'R':>8}{'pred':>7}{'correct':>9}{'P':>8}"
                 f"{'pred annot.':>13}{'P annot.':>10}{'gold unmatched':>16}"]
        for kind, c in self.kinds.items():
            lines.append(f"{kind:<12}{c.gold:>6}{c.found:>7}{f(c.recall):>8}{c.pred:>7}{c.correct:>9}"
                         f"{f(c.precision):>8}{c.pred_annotated:>13}{f(c.precision_annotated):>10}"
                         f"{c.gold_unmatched:>16}")
        return "\n".join(lines)

    def format_errors(self, n: int) -> str:
        misses, unconfirmed = self.sample_errors(n)
        n_miss = sum(e.category == "missed" for e in self.errors)
        n_unc = len(self.errors) - n_miss
        out = ["", _LEGEND, f"--- condition misses ({len(misses)} of {n_miss}) ---"]
        out.extend(e.format() for e in misses)
        out.append(f"--- unconfirmed predicted conditions ({len(unconfirmed)} of {n_unc}) ---")
        out.extend(e.format() for e in unconfirmed)
        return "\n".join(out)
