"""Scoring predicted threshold rules against LCT gold thresholds.

Per document, predictions and gold are aligned by **greedy one-to-one matching**, separately
at three cumulative levels:

``lenient``
    the predicted rule span ``[start, end)`` touches or overlaps the gold Eq-Comparison span or
    the gold variable span, and the values agree: ``value`` equal within 1e-6 relative, and
    ``value_high`` too when either side is a range (a gold value that cannot be parsed never
    matches);
``strict``
    lenient and the comparator is equal;
``full``
    strict and the predicted rule's ``variable`` span overlaps the gold variable span.

At each level, candidate pairs are taken best first (largest overlap of rule/comparison and
variable spans, then nearest start) and each gold and each prediction is used at most once.
Precision, recall and F1 are micro-averaged over the corpus (``tp / predicted``,
``tp / gold``). Recall is also broken down by observation category (lab, vital, measurement,
clinical-score, age, other).

**Unit agreement** is measured on the strict matches whose gold has a unit or a reference
range: a gold ``relative_to`` (ULN/LLN) must equal the predicted ``relative_to``; otherwise the
gold unit text is normalised with ``criteria_nlp.quantities.units.to_ucum`` when that module
exists (else a small built-in normaliser) and compared with the predicted ``unit`` (or its
``unit_text``).

**Errors** come from a diagnostic alignment that also pairs predictions and gold whose spans
touch but whose values differ. A gold threshold not matched at the full level is *missed*
(no prediction nearby), a *value mismatch*, a *comparator mismatch* or a *wrong variable*; a
prediction not paired with any gold is *spurious* (the report names the non-threshold gold
comparison it overlaps, e.g. a Temporality window, when there is one).

**Conditions** (temporal window, population, exception) of the strictly matched thresholds are
compared with the gold conditions read from LCT's roles and relations: see ``condition_scorer``.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import replace, dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from .condition_scorer import ConditionScore, PredCondition, pred_conditions
from .context import marked_context as _context
from .gold import CATEGORIES, GoldDocument, GoldThreshold

__all__ = [
    "LEVELS",
    "ErrorItem",
    "EvaluationResult",
    "LevelScore",
    "PredRule",
    "as_pred_rules",
    "rules_from_result",
    "score",
    "score_document",
    "units_agree",
    "values_agree",
]

LEVELS = ("lenient", "strict", "full")
REL_TOL = 1e-6


# -- predictions ------------------------------------------------------------------------

@dataclass(frozen=True)
class PredRule:
    """The fields of one predicted rule that the scorer looks at."""

    doc_id: str | None
    id: str
    start: int | None
    end: int | None
    text: str
    comparator: str | None
    value: Any
    value_high: Any = None
    unit: str | None = None
    unit_text: str | None = None
    relative_to: str | None = None
    variable_start: int | None = None
    variable_end: int | None = None
    variable_text: str | None = None
    variable_category: str | None = None
    criterion_id: str | None = None
    conditions: tuple[PredCondition, ...] = ()

    @property
    def has_variable(self) -> bool:
        return self.variable_start is not None and self.variable_end is not None


def rules_from_result(result: Mapping[str, Any], doc_id: str | None = None) -> list[PredRule]:
    """Flatten an ``extract()`` result (the output contract) into :class:`PredRule` objects."""
    if doc_id is None:
        doc_id = (result.get("source") or {}).get("id")
    out = []
    for crit in result.get("criteria") or []:
        for rule in crit.get("rules") or []:
            var = rule.get("variable") or None
            out.append(
                PredRule(
                    doc_id=doc_id,
                    id=str(rule.get("id")),
                    start=rule.get("start"),
                    end=rule.get("end"),
                    text=rule.get("text") or "",
                    comparator=rule.get("comparator"),
                    value=rule.get("value"),
                    value_high=rule.get("value_high"),
                    unit=rule.get("unit"),
                    unit_text=rule.get("unit_text"),
                    relative_to=rule.get("relative_to"),
                    variable_start=var.get("start") if var else None,
                    variable_end=var.get("end") if var else None,
                    variable_text=var.get("text") if var else None,
                    variable_category=var.get("category") if var else None,
                    criterion_id=crit.get("id"),
                    conditions=pred_conditions(rule),
                )
            )
    return out


def as_pred_rules(pred: Any, doc_id: str | None = None) -> list[PredRule]:
    """Accept a contract dict, a list of :class:`PredRule`, or a list of rule dicts."""
    if pred is None:
        return []
    if isinstance(pred, Mapping):
        return rules_from_result(pred, doc_id)
    out = []
    for i, r in enumerate(pred):
        if isinstance(r, PredRule):
            out.append(r)
        elif isinstance(r, Mapping):
            out.extend(rules_from_result({"criteria": [{"id": None, "rules": [r]}]}, doc_id))
        else:
            raise TypeError(f"cannot score prediction item of type {type(r).__name__}")
    return out


# -- comparisons ------------------------------------------------------------------------

def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x) if math.isfinite(x) else None
    return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) or a == b


def values_agree(gold: GoldThreshold, pred: PredRule) -> bool:
    """Value (and value_high when either side is a range) equal within 1e-6 relative."""
    if not gold.parseable:
        return False
    pv = _num(pred.value)
    if pv is None or not _close(gold.value, pv):
        return False
    gh, ph = gold.value_high, _num(pred.value_high)
    if gh is None and pred.value_high is None:
        return True
    if gh is None or ph is None:
        return False
    return _close(gh, ph)


def _touch(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 <= b1 and b0 <= a1


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _span_ok(gold: GoldThreshold, pred: PredRule) -> bool:
    if pred.start is None or pred.end is None:
        return False
    return _touch(pred.start, pred.end, gold.start, gold.end) or _touch(
        pred.start, pred.end, gold.variable_start, gold.variable_end
    )


def _variable_ok(gold: GoldThreshold, pred: PredRule) -> bool:
    if not pred.has_variable:
        return False
    ps, pe, gs, ge = pred.variable_start, pred.variable_end, gold.variable_start, gold.variable_end
    if _overlap(ps, pe, gs, ge) > 0:
        return True
    # a zero-width span cannot overlap anything: accept it when it lies inside the other
    return (ps == pe or gs == ge) and _touch(ps, pe, gs, ge)


def _rank(gold: GoldThreshold, pred: PredRule) -> int:
    """-1 no span contact, 0 span only, 1 lenient, 2 strict, 3 full."""
    if not _span_ok(gold, pred):
        return -1
    if not values_agree(gold, pred):
        return 0
    if pred.comparator != gold.comparator:
        return 1
    if not _variable_ok(gold, pred):
        return 2
    return 3


def _closeness(gold: GoldThreshold, pred: PredRule) -> tuple:
    ov = _overlap(pred.start, pred.end, gold.start, gold.end)
    ov_var = 0
    if pred.has_variable:
        ov_var = _overlap(pred.variable_start, pred.variable_end, gold.variable_start, gold.variable_end)
    return (-(ov + ov_var), abs(pred.start - gold.start))


def _greedy(pairs: list[tuple[tuple, int, int]]) -> list[tuple[int, int]]:
    pairs.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    out = []
    for _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


# -- units ------------------------------------------------------------------------------

_TIME = {
    "a": ("y", "yr", "yrs", "year", "years", "a", "ann", "age"),
    "mo": ("mo", "mos", "month", "months"),
    "wk": ("w", "wk", "wks", "week", "weeks"),
    "d": ("d", "day", "days"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "min": ("min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
}
_TIME_KEY = {syn: key for key, syns in _TIME.items() for syn in syns}
_TRANS = str.maketrans({"µ": "u", "μ": "u", "²": "2", "³": "3", "℃": "cel", "°": "deg", "㎕": "ul"})


def _fallback_unit_key(text: str | None) -> str | None:
    if not text:
        return None
    s = text.strip().lower().translate(_TRANS)
    s = re.sub(r"\s+", "", s).replace("^", "").rstrip(".")
    s = s.replace("mmhg", "mm[hg]").replace("per", "/")
    if s in _TIME_KEY:
        return _TIME_KEY[s]
    return s or None


@lru_cache(maxsize=1)
def _ucum_converter():
    try:
        from ..quantities.units import to_ucum  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - module absent or broken: fall back
        return None
    return to_ucum


@lru_cache(maxsize=4096)
def _to_ucum(text: str) -> str | None:
    conv = _ucum_converter()
    if conv is None or not text:
        return None
    try:
        out = conv(text)
    except Exception:  # noqa: BLE001
        return None
    if out is None or out == "":
        return None
    return out if isinstance(out, str) else str(out)


# words LCT marks as the Unit of a score ("class III", "score > 10", "2/10"): no physical unit
_SCALE_UNIT_WORDS = {"class", "classes", "classification", "status", "grade", "grades", "level", "levels", "score",
                     "scores", "totalscore", "stage", "stages", "point", "points", "/10", "item", "items", "scale"}
_POWER_OF_TEN = re.compile(r"^10\*-?\d+(?=/)")
_ANNOTATION = re.compile(r"\{[^{}]*\}")


def _key_variants(key: str) -> set[str]:
    """A unit key and the forms annotations differ by: a leading "/" ("mm3" vs "/mm3"), a power of
    ten LCT leaves out of its Unit span ("x10^9/L" vs "/L"), a UCUM annotation ("{breaths}/min")."""
    kind, _, body = key.partition(":")
    out = {key}
    for variant in (_POWER_OF_TEN.sub("", body), _ANNOTATION.sub("", body)):
        out.add(f"{kind}:{variant}")
    out |= {f"{kind}:{v.lstrip('/')}" for v in [body, *(o.partition(':')[2] for o in out)] if v.lstrip("/")}
    return out


def _unit_keys(*texts: str | None) -> set[str]:
    keys: set[str] = set()
    for t in texts:
        if not t:
            continue
        u = _to_ucum(t)
        if u:
            keys |= _key_variants("ucum:" + u)
        k = _fallback_unit_key(t)
        if k:
            keys |= _key_variants("txt:" + k)
    return keys


def units_agree(gold: GoldThreshold, pred: PredRule) -> bool | None:
    """Whether the predicted unit/reference agrees with gold; ``None`` when gold has neither.

    A gold "unit" that names a score's scale (``class``, ``score``, ``/10``) agrees with no unit.
    """
    if gold.relative_to:
        return pred.relative_to == gold.relative_to
    if not gold.unit_text:
        return None
    if (_fallback_unit_key(gold.unit_text) or "") in _SCALE_UNIT_WORDS:
        return pred.unit is None and pred.relative_to is None
    gold_keys = _unit_keys(gold.unit_text)
    pred_keys = _unit_keys(pred.unit_text, pred.unit)
    if pred.unit:
        pred_keys |= _key_variants("ucum:" + pred.unit)
    return bool(gold_keys & pred_keys)


# -- results ----------------------------------------------------------------------------

@dataclass
class LevelScore:
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "n_pred": self.n_pred,
            "n_gold": self.n_gold,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class ErrorItem:
    doc_id: str
    category: str  # missed, value mismatch, comparator mismatch, wrong variable, spurious
    gold: GoldThreshold | None
    pred: PredRule | None
    context: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        g, p = self.gold, self.pred
        return {
            "doc_id": self.doc_id,
            "category": self.category,
            "gold": None
            if g is None
            else {
                "id": g.id,
                "variable": g.variable_text,
                "variable_span": [g.variable_start, g.variable_end],
                "text": g.text,
                "span": [g.start, g.end],
                "comparator": g.comparator,
                "value": g.value,
                "value_high": g.value_high,
                "unit_text": g.unit_text,
                "relative_to": g.relative_to,
                "observation_type": g.observation_type,
            },
            "pred": None
            if p is None
            else {
                "id": p.id,
                "variable": p.variable_text,
                "variable_span": [p.variable_start, p.variable_end] if p.has_variable else None,
                "text": p.text,
                "span": [p.start, p.end],
                "comparator": p.comparator,
                "value": p.value,
                "value_high": p.value_high,
                "unit": p.unit,
                "relative_to": p.relative_to,
            },
            "context": self.context,
            "note": self.note,
        }


@dataclass
class DocScore:
    doc_id: str
    n_gold: int
    n_pred: int
    tp: dict[str, int]
    matches: dict[str, list[tuple[int, int]]]
    errors: list[ErrorItem]
    unit_pairs: list[tuple[bool, bool]]  # (agree, is a reference-range pair) for strict matches
    gold_matched: dict[str, list[bool]]  # per level, per gold threshold


@dataclass
class EvaluationResult:
    levels: dict[str, LevelScore]
    by_category: dict[str, dict[str, int]]  # category -> {"n": .., "lenient": tp, ...}
    unit_compared: int
    unit_agree: int
    relative_compared: int
    relative_agree: int
    n_docs: int
    n_gold: int
    n_pred: int
    n_unparseable_gold: int
    error_counts: dict[str, int]
    errors: list[ErrorItem] = field(default_factory=list)
    docs: list[DocScore] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    conditions: ConditionScore = field(default_factory=ConditionScore)

    @property
    def unit_agreement(self) -> float | None:
        return self.unit_agree / self.unit_compared if self.unit_compared else None

    @property
    def relative_agreement(self) -> float | None:
        return self.relative_agree / self.relative_compared if self.relative_compared else None

    def recall_by_category(self, level: str = "full") -> dict[str, float | None]:
        return {c: (d[level] / d["n"] if d["n"] else None) for c, d in self.by_category.items()}

    def sample_errors(self, n: int, seed: int = 0) -> tuple[list[ErrorItem], list[ErrorItem]]:
        """Up to ``n`` gold-side errors (misses) and ``n`` false positives, a seeded sample."""
        misses = [e for e in self.errors if e.gold is not None]
        fps = [e for e in self.errors if e.gold is None]
        rng = random.Random(seed)

        def pick(items: list[ErrorItem]) -> list[ErrorItem]:
            if len(items) > n:
                items = rng.sample(items, n)
            return sorted(items, key=lambda e: (e.doc_id, (e.gold or e.pred).start or 0))

        return pick(misses), pick(fps)

    def to_dict(self, errors: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "meta": self.meta,
            "docs": self.n_docs,
            "gold": self.n_gold,
            "pred": self.n_pred,
            "unparseable_gold": self.n_unparseable_gold,
            "levels": {k: v.to_dict() for k, v in self.levels.items()},
            "recall_by_category": {
                c: {
                    "n": d["n"],
                    **{lvl: (round(d[lvl] / d["n"], 4) if d["n"] else None) for lvl in LEVELS},
                }
                for c, d in self.by_category.items()
            },
            "unit_agreement": {
                "compared": self.unit_compared,
                "agree": self.unit_agree,
                "rate": None if self.unit_agreement is None else round(self.unit_agreement, 4),
                "relative_to_compared": self.relative_compared,
                "relative_to_agree": self.relative_agree,
            },
            "conditions": self.conditions.to_dict(errors=errors),
            "error_counts": self.error_counts,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }
        if errors:
            misses, fps = self.sample_errors(errors)
            out["errors"] = {"misses": [e.to_dict() for e in misses], "false_positives": [e.to_dict() for e in fps]}
        return out

    # -- text rendering ---------------------------------------------------------------
    def format_table(self) -> str:
        lines = []
        meta = self.meta
        title = "criteria-nlp evaluation"
        if meta:
            title += ": " + ", ".join(f"{k}={v}" for k, v in meta.items() if v is not None)
        lines.append(title)
        lines.append(
            f"docs {self.n_docs}   gold thresholds {self.n_gold}"
            f" ({self.n_unparseable_gold} with an unparseable value)   predicted rules {self.n_pred}"
        )
        lines.append("")
        lines.append(f"{'level':<10}{'P':>8}{'R':>8}{'F1':>8}{'TP':>7}{'pred':>7}{'gold':>7}")
        for lvl in LEVELS:
            s = self.levels[lvl]
            lines.append(
                f"{lvl:<10}{s.precision:>8.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.tp:>7}{s.n_pred:>7}{s.n_gold:>7}"
            )
        lines.append("")
        lines.append(f"{'recall by type':<16}{'n':>6}{'lenient':>9}{'strict':>9}{'full':>9}")
        for cat, d in self.by_category.items():
            if d["n"]:
                vals = "".join(f"{d[lvl] / d['n']:>9.3f}" for lvl in LEVELS)
            else:
                vals = "".join(f"{'-':>9}" for _ in LEVELS)
            lines.append(f"{cat:<16}{d['n']:>6}{vals}")
        lines.append("")
        ua = self.unit_agreement
        lines.append(
            "unit agreement (strict matches with a gold unit or ULN/LLN): "
            + (f"{ua:.3f} ({self.unit_agree}/{self.unit_compared})" if ua is not None else "n/a (none)")
        )
        ra = self.relative_agreement
        lines.append(
            "  of which ULN/LLN vs relative_to: "
            + (f"{ra:.3f} ({self.relative_agree}/{self.relative_compared})" if ra is not None else "n/a (none)")
        )
        lines.append("")
        lines.append(self.conditions.format_table())
        if self.error_counts:
            lines.append(
                "errors: " + ", ".join(f"{k} {v}" for k, v in self.error_counts.items())
            )
        if self.seconds:
            lines.append("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in self.seconds.items()))
        return "\n".join(lines)

    def format_errors(self, n: int) -> str:
        misses, fps = self.sample_errors(n)
        out = [
            "",
            "legend: [[gold comparison]] {{gold variable}} <<predicted rule>> ((predicted variable))",
            f"--- misses ({len(misses)} of {sum(1 for e in self.errors if e.gold is not None)}) ---",
        ]
        out.extend(_format_error(e) for e in misses)
        out.append(f"--- false positives ({len(fps)} of {sum(1 for e in self.errors if e.gold is None)}) ---")
        out.extend(_format_error(e) for e in fps)
        out.append(self.conditions.format_errors(n))
        return "\n".join(out)


def _fmt_value(comparator, value, value_high) -> str:
    def num(x):
        if isinstance(x, float) and x.is_integer():
            return str(int(x))
        return str(x)

    if comparator == "between":
        return f"between {num(value)} and {num(value_high)}"
    return f"{comparator} {num(value)}" + (f" .. {num(value_high)}" if value_high is not None else "")


def _format_error(e: ErrorItem) -> str:
    parts = [f"{e.doc_id}  {e.category}"]
    if e.gold is not None:
        g = e.gold
        parts.append(
            f"  gold {g.id} [{g.category}]: {g.variable_text!r} {_fmt_value(g.comparator, g.value, g.value_high)}"
            + (f" {g.unit_text}" if g.unit_text else "")
            + (f" x{g.relative_to}" if g.relative_to else "")
        )
    if e.pred is not None:
        p = e.pred
        parts.append(
            f"  pred {p.id}: {repr(p.variable_text) if p.has_variable else '(no variable)'} {_fmt_value(p.comparator, p.value, p.value_high)}"
            + (f" {p.unit or p.unit_text}" if (p.unit or p.unit_text) else "")
            + (f" x{p.relative_to}" if p.relative_to else "")
        )
    if e.note:
        parts.append(f"  note: {e.note}")
    parts.append(f"  …{e.context}…")
    return "\n".join(parts)


def _marks(gold: GoldThreshold | None, pred: PredRule | None):
    m = []
    if gold is not None:
        m.append((gold.start, gold.end, "[[", "]]"))
        m.append((gold.variable_start, gold.variable_end, "{{", "}}"))
    if pred is not None:
        m.append((pred.start, pred.end, "<<", ">>"))
        if pred.has_variable:
            m.append((pred.variable_start, pred.variable_end, "((", "))"))
    return m


_CATEGORY_OF_RANK = {0: "value mismatch", 1: "comparator mismatch", 2: "wrong variable"}


# -- scoring ----------------------------------------------------------------------------

def score_document(
    gold: GoldDocument,
    preds: Sequence[PredRule],
    count_unparseable_gold: bool = True,
) -> DocScore:
    """Match one document's predictions to its gold thresholds at every level."""
    golds = [g for g in gold.thresholds if count_unparseable_gold or g.parseable]
    preds = list(preds)
    ranks: dict[tuple[int, int], int] = {}
    close: dict[tuple[int, int], tuple] = {}
    for gi, g in enumerate(golds):
        for pi, p in enumerate(preds):
            r = _rank(g, p)
            if r >= 0:
                ranks[gi, pi] = r
                close[gi, pi] = _closeness(g, p)
    matches: dict[str, list[tuple[int, int]]] = {}
    for li, lvl in enumerate(LEVELS, start=1):
        pairs = [(close[k] + k, k[0], k[1]) for k, r in ranks.items() if r >= li]
        matches[lvl] = _greedy(pairs)
    tp = {lvl: len(m) for lvl, m in matches.items()}
    gold_matched = {}
    for lvl, m in matches.items():
        flags = [False] * len(golds)
        for gi, _ in m:
            flags[gi] = True
        gold_matched[lvl] = flags

    unit_pairs = []
    for gi, pi in matches["strict"]:
        agree = units_agree(golds[gi], preds[pi])
        if agree is not None:
            unit_pairs.append((agree, golds[gi].relative_to is not None))

    # diagnostic alignment: best level first, then closeness
    diag = _greedy([((-r,) + close[k] + k, k[0], k[1]) for k, r in ranks.items()])
    diag_g = {gi: pi for gi, pi in diag}
    diag_p = {pi: gi for gi, pi in diag}
    errors = []
    text = gold.text
    full_g = gold_matched["full"]
    full_p = {pi for _, pi in matches["full"]}
    for gi, g in enumerate(golds):
        if full_g[gi]:
            continue
        pi = diag_g.get(gi)
        p = preds[pi] if pi is not None else None
        if p is None:
            cat = "missed"
        else:
            cat = _CATEGORY_OF_RANK.get(ranks[gi, pi], "wrong variable")
        note = None
        if not g.parseable:
            note = f"gold value not parseable: {', '.join(g.raw_values) or '(none)'}"
        errors.append(ErrorItem(gold.doc_id, cat, g, p, _context(text, _marks(g, p)), note))
    for pi, p in enumerate(preds):
        if pi in full_p or pi in diag_p:
            continue
        note = _non_threshold_note(gold, p)
        errors.append(ErrorItem(gold.doc_id, "spurious", None, p, _context(text, _marks(None, p)), note))
    return DocScore(
        doc_id=gold.doc_id,
        n_gold=len(golds),
        n_pred=len(preds),
        tp=tp,
        matches=matches,
        errors=errors,
        unit_pairs=unit_pairs,
        gold_matched=gold_matched,
    )


def _non_threshold_note(gold: GoldDocument, p: PredRule) -> str | None:
    if p.start is None or p.end is None:
        return "prediction without offsets"
    for c in gold.conditions:
        if _overlap(p.start, p.end, c.start, c.end) > 0:
            return f"overlaps a gold {c.kind} annotation {c.text!r} ({c.owner_type or 'Exception'})"
    for cid, span, text, use in gold.comparisons:
        if _overlap(p.start, p.end, span[0], span[1]) > 0:
            return f"overlaps gold Eq-Comparison {cid} {text!r} ({use})"
    return None


def split_range_pred(rules: Sequence[PredRule]) -> list[PredRule]:
    """Each ``between`` rule as its two bounds (``>= low``, ``<= high``); other rules unchanged."""
    out: list[PredRule] = []
    for r in rules:
        if r.comparator == "between" and r.value_high is not None:
            out.append(replace(r, id=r.id + ":low", comparator=">=", value_high=None))
            out.append(replace(r, id=r.id + ":high", comparator="<=", value=r.value_high, value_high=None))
        else:
            out.append(r)
    return out


RANGE_MODES = ("merged", "as-annotated", "split")
_LOWER_BOUNDS = (">", ">=")
_UPPER_BOUNDS = ("<", "<=")


def merge_paired_bounds(gold: GoldDocument) -> GoldDocument:
    """One variable's lower and upper bound written on one line become one ``between`` threshold.

    LCT annotates ``age ≥ 18 and ≤ 65`` as two comparisons of one Observation; the output contract
    (and LCT itself for ``18-65``) calls it one range. A pair merges only when both comparisons
    belong to the same variable event, one is a lower bound (``>``/``>=``) and the other an upper
    bound (``<``/``<=``), the lower value is below the upper one (``< 18 or > 65`` is not a range)
    and no line break separates them. Everything else is left as annotated.
    """
    by_event: dict[str, list[int]] = {}
    for i, g in enumerate(gold.thresholds):
        by_event.setdefault(g.variable_event, []).append(i)
    merged: dict[int, GoldThreshold] = {}
    dropped: set[int] = set()
    for idxs in by_event.values():
        lows = [i for i in idxs if gold.thresholds[i].comparator in _LOWER_BOUNDS and gold.thresholds[i].parseable]
        highs = [i for i in idxs if gold.thresholds[i].comparator in _UPPER_BOUNDS and gold.thresholds[i].parseable]
        if len(lows) != 1 or len(highs) != 1:
            continue
        lo, hi = gold.thresholds[lows[0]], gold.thresholds[highs[0]]
        start, end = min(lo.start, hi.start), max(lo.end, hi.end)
        if not lo.value < hi.value or "\n" in gold.text[start:end]:
            continue
        pair_id = f"{lo.comparison_event}+{hi.comparison_event}"
        merged[min(lows[0], highs[0])] = replace(
            lo, id=f"{pair_id}@{lo.variable_event}", comparison_event=pair_id,
            text=gold.text[start:end], start=start, end=end, comparator="between",
            value_high=hi.value, value_high_text=hi.value_text, unit_text=lo.unit_text or hi.unit_text,
            relative_to=lo.relative_to or hi.relative_to)
        dropped.add(max(lows[0], highs[0]))
    if not merged:
        return gold
    thresholds = [merged.get(i, g) for i, g in enumerate(gold.thresholds) if i not in dropped]
    return replace(gold, thresholds=thresholds)


def listed_values_as_range(gold: GoldDocument) -> GoldDocument:
    """A class list with no operator, ``ASA I or II``, ``ECOG 0 or 1``, ``NYHA class III-IV``, becomes the
    range it names (``between 1 and 2``), as the output contract writes it.

    LCT annotates these as one comparison with several values and no operator; the scorer would
    otherwise compare only the first value. Values must rise strictly (``13 weeks 6 days`` is one
    duration, not a list).
    """
    thresholds = []
    changed = False
    for g in gold.thresholds:
        vals = g.values
        if g.comparator == "=" and len(vals) >= 2 and all(a < b for a, b in zip(vals, vals[1:])):
            g = replace(g, comparator="between", value=vals[0], value_high=vals[-1],
                        value_high_text=g.raw_values[-1] if g.raw_values else None)
            changed = True
        thresholds.append(g)
    return replace(gold, thresholds=thresholds) if changed else gold


def to_contract_convention(gold: GoldDocument) -> GoldDocument:
    """The gold counted as the output contract counts: paired bounds and class lists as ranges."""
    return listed_values_as_range(merge_paired_bounds(gold))


def split_range_gold(gold: GoldDocument) -> GoldDocument:
    """The same split on the gold side: a BETWEEN threshold becomes its two bounds."""
    thresholds = []
    for g in gold.thresholds:
        if g.comparator == "between" and g.value_high is not None:
            thresholds.append(replace(g, id=g.id + ":low", comparator=">=", value_high=None))
            thresholds.append(replace(g, id=g.id + ":high", comparator="<=", value=g.value_high,
                                      value_text=g.value_high_text, value_high=None))
        else:
            thresholds.append(g)
    return replace(gold, thresholds=thresholds)


def score(
    gold_docs: Iterable[GoldDocument],
    predictions: Mapping[str, Any],
    count_unparseable_gold: bool = True,
    meta: Mapping[str, Any] | None = None,
    ranges: str = "merged",
) -> EvaluationResult:
    """Score ``predictions`` (doc id → contract dict or list of rules) against gold documents.

    Documents absent from ``predictions`` count as predicting nothing. With
    ``count_unparseable_gold=False`` gold thresholds whose value cannot be parsed are left out
    of the gold counts instead of counting as misses.
    """
    levels = {lvl: LevelScore() for lvl in LEVELS}
    by_cat = {c: {"n": 0, **{lvl: 0 for lvl in LEVELS}} for c in CATEGORIES}
    unit_compared = unit_agree = rel_compared = rel_agree = 0
    n_docs = n_gold = n_pred = n_unparse = 0
    errors: list[ErrorItem] = []
    docs: list[DocScore] = []
    conditions = ConditionScore()
    for gd in gold_docs:
        preds = as_pred_rules(predictions.get(gd.doc_id), gd.doc_id)
        if ranges == "merged":
            # "≥ 18 and ≤ 65" of one variable and "ASA I or II" are one range each, as in the contract
            gd = to_contract_convention(gd)
        elif ranges == "split":
            # score at the level of bounds: "≥ 18 and ≤ 65" and "18-65" are the same two bounds
            gd, preds = split_range_gold(gd), split_range_pred(preds)
        elif ranges != "as-annotated":
            raise ValueError(f"ranges must be one of {', '.join(RANGE_MODES)}, not {ranges!r}")
        ds = score_document(gd, preds, count_unparseable_gold=count_unparseable_gold)
        docs.append(ds)
        n_docs += 1
        n_gold += ds.n_gold
        n_pred += ds.n_pred
        golds = [g for g in gd.thresholds if count_unparseable_gold or g.parseable]
        n_unparse += sum(1 for g in golds if not g.parseable)
        for lvl in LEVELS:
            levels[lvl].tp += ds.tp[lvl]
            levels[lvl].n_pred += ds.n_pred
            levels[lvl].n_gold += ds.n_gold
        for gi, g in enumerate(golds):
            d = by_cat[g.category]
            d["n"] += 1
            for lvl in LEVELS:
                d[lvl] += ds.gold_matched[lvl][gi]
        conditions.add_document(gd, golds, preds, ds.matches["strict"])
        for agree, is_rel in ds.unit_pairs:
            unit_compared += 1
            unit_agree += agree
            if is_rel:
                rel_compared += 1
                rel_agree += agree
        errors.extend(ds.errors)
    counts: dict[str, int] = {}
    for cat in ("missed", "value mismatch", "comparator mismatch", "wrong variable", "spurious"):
        counts[cat] = sum(1 for e in errors if e.category == cat)
    return EvaluationResult(
        levels=levels,
        by_category=by_cat,
        unit_compared=unit_compared,
        unit_agree=unit_agree,
        relative_compared=rel_compared,
        relative_agree=rel_agree,
        n_docs=n_docs,
        n_gold=n_gold,
        n_pred=n_pred,
        n_unparseable_gold=n_unparse,
        error_counts=counts,
        errors=errors,
        docs=docs,
        meta=dict(meta or {}),
        conditions=conditions,
    )

