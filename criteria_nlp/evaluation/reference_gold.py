"""Scoring the pipeline's output on the hand-annotated reference record (NCT06852573).

The gold file (``corpora/gold/NCT06852573.gold.json``) is written by hand in the project's own
format::

    {"document": "corpora/examples/NCT06852573.criteria.txt",
     "criteria": [{"id", "parent", "section", "start", "end", "text"}, ...every list item...],
     "rules": [{"id", "criterion", "text", "start", "end",
                "variable": {"text", "start", "end", "name"},
                "comparator", "value", "value_high", "inclusive", "unit", "relative_to",
                "conditions": [{"kind", "text", "start", "end", "alternatives"?: [{"text", "start", "end"}]}],
                "negated", "optional", "note"?}, ...],
     "logic": {"inc-9.1": {"op": "or", "args": [rule indexes or nested {"op", "args"}]}, ...}}

Offsets are Python ``str`` indices into the document read as UTF-8 with ``newline=""``.
``logic`` lists only the explicit OR groups of a criterion (the rest of its rules are AND-ed).
A condition's ``alternatives`` are other spans that are equally acceptable for it (e.g. a
window written both next to the threshold and at the head of its list).

:func:`compare` matches gold rules to predicted rules **one to one**, within the same criterion
id, between pairs whose rule spans or variable spans overlap. Pairs are taken best first:
variable overlap and equal value, then equal value, then variable overlap, then equal
comparator, then the largest rule-span overlap, then the nearest start. Each gold rule is then

``full``
    the predicted variable span overlaps the gold variable span, and ``comparator``, ``value``,
    ``value_high``, ``unit`` (UCUM string equality after stripping), ``relative_to`` and
    ``negated`` are equal, ``inclusive`` too when the gold rule states it (``between`` rules),
    and every gold condition has a predicted condition of the same kind whose span overlaps it
    (or one of its alternatives); extra predicted conditions are not penalised;
``partial``
    matched but some of those fields differ (listed in :attr:`RuleOutcome.differences`:
    ``variable``, ``comparator``, ``value``, ``value_high``, ``inclusive``, ``unit``,
    ``relative_to``, ``negated``, ``condition:<kind>``);
``missed``
    matched to no predicted rule.

Rules without a ``criterion`` (the registry gold, :mod:`.registry`) are matched across the whole
document: :func:`match_rules` then pairs them with any predicted rule whose span or variable
overlaps. A gold rule that states ``unit_inferred`` must find the same flag in the prediction
(absent = false); :func:`rule_differences` takes the unit equality to use (default: the UCUM
strings are equal).

Gold rules marked ``optional`` are matched like the others but counted apart: a predicted rule
matched to one is neither correct nor spurious, and missing one costs nothing. Predicted rules
matched to no gold rule are **spurious**.

**Structure accuracy** is the fraction of gold criteria whose ``id``, ``parent``, ``section``,
``start`` and ``end`` all equal those of the predicted criterion with that id. **Logic accuracy**
is the fraction of gold OR groups found as an OR node of the predicted criterion's ``logic``
with the same arguments (predicted rule ids mapped to gold rules through the matching; nested
ORs are flattened).

Pure functions: nothing here runs the pipeline (see ``scripts/score_reference.py``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .condition_scorer import KindCounts, condition_matches

__all__ = [
    "STATUSES",
    "CriterionOutcome",
    "GoldCondition",
    "GoldCriterion",
    "GoldDocument",
    "GoldRule",
    "GoldVariable",
    "LogicOutcome",
    "ReferenceReport",
    "RuleOutcome",
    "compare",
    "describe_gold_rule",
    "describe_predicted_rule",
    "gold_to_prediction",
    "iter_predicted_rules",
    "load_gold",
    "match_rules",
    "parse_rules",
    "read_document_text",
    "rule_differences",
]

STATUSES = ("full", "partial", "missed")
# condition kinds summarised over the matched required rules (the gold writes every kind of the contract)
CONDITION_KINDS = ("temporal", "population", "exception", "qualifier")
_STRUCTURE_FIELDS = ("id", "parent", "section", "start", "end")


# --------------------------------------------------------------------------- gold model
@dataclass(frozen=True, slots=True)
class GoldCriterion:
    id: str
    parent: str | None
    section: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class GoldVariable:
    name: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class GoldCondition:
    kind: str
    start: int
    end: int
    text: str
    alternatives: tuple[tuple[int, int, str], ...] = ()

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return ((self.start, self.end),) + tuple((s, e) for s, e, _ in self.alternatives)


@dataclass(frozen=True, slots=True)
class GoldRule:
    index: int
    id: str
    criterion: str | None             # None: matched across the whole document
    start: int
    end: int
    text: str
    variable: GoldVariable | None
    comparator: str
    value: float
    value_high: float | None
    inclusive: dict[str, bool] | None
    unit: str | None
    relative_to: str | None
    conditions: tuple[GoldCondition, ...]
    negated: bool
    optional: bool
    note: str | None
    unit_inferred: bool | None = None  # stated by the gold: the unit is not written


@dataclass(frozen=True, slots=True)
class GoldDocument:
    document: str
    criteria: tuple[GoldCriterion, ...]
    rules: tuple[GoldRule, ...]
    logic: dict[str, dict[str, Any]]
    path: str | None = None

    def criterion(self, cid: str) -> GoldCriterion | None:
        return next((c for c in self.criteria if c.id == cid), None)

    def rules_of(self, cid: str) -> list[GoldRule]:
        return [r for r in self.rules if r.criterion == cid]

    @property
    def required(self) -> list[GoldRule]:
        return [r for r in self.rules if not r.optional]

    @property
    def optional(self) -> list[GoldRule]:
        return [r for r in self.rules if r.optional]


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def load_gold(path: str | Path) -> GoldDocument:
    """Read a reference gold JSON file into :class:`GoldDocument`."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    criteria = tuple(
        GoldCriterion(id=c["id"], parent=c.get("parent"), section=c.get("section"),
                      start=int(c["start"]), end=int(c["end"]), text=c.get("text", ""))
        for c in data["criteria"])
    return GoldDocument(document=data["document"], criteria=criteria, rules=parse_rules(data["rules"]),
                        logic=dict(data.get("logic", {})), path=str(path))


def parse_rules(items: Sequence[Mapping[str, Any]]) -> tuple[GoldRule, ...]:
    """Gold rules from their JSON form (``criterion`` may be absent: see the module doc)."""
    rules = []
    for i, r in enumerate(items):
        v = r.get("variable")
        variable = None if v is None else GoldVariable(name=v.get("name", ""), start=int(v["start"]),
                                                        end=int(v["end"]), text=v.get("text", ""))
        conditions = tuple(
            GoldCondition(kind=c["kind"], start=int(c["start"]), end=int(c["end"]), text=c.get("text", ""),
                          alternatives=tuple((int(a["start"]), int(a["end"]), a.get("text", ""))
                                             for a in c.get("alternatives", ())))
            for c in r.get("conditions", ()))
        criterion = r.get("criterion")
        rules.append(GoldRule(
            index=i, id=r.get("id") or (f"{criterion}#{i}" if criterion else f"r{i}"), criterion=criterion,
            start=int(r["start"]), end=int(r["end"]), text=r.get("text", ""), variable=variable,
            comparator=r["comparator"], value=float(r["value"]), value_high=_num(r.get("value_high")),
            inclusive=r.get("inclusive"), unit=r.get("unit"), relative_to=r.get("relative_to"),
            conditions=conditions, negated=bool(r.get("negated", False)),
            optional=bool(r.get("optional", False)), note=r.get("note"),
            unit_inferred=None if r.get("unit_inferred") is None else bool(r["unit_inferred"])))
    return tuple(rules)


def read_document_text(gold: GoldDocument, root: str | Path | None = None) -> str:
    """The annotated document's text (``gold.document`` is relative to ``root``, default: the
    project root two levels above the gold file's directory, else the current directory)."""
    if root is None:
        root = Path(gold.path).resolve().parents[2] if gold.path else Path.cwd()
    with open(Path(root) / gold.document, encoding="utf-8", newline="") as fh:
        return fh.read()


# --------------------------------------------------------------------------- helpers
def _overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> int:
    if a is None or b is None:
        return 0
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _span(d: Mapping[str, Any] | None) -> tuple[int, int] | None:
    if not d:
        return None
    s, e = d.get("start"), d.get("end")
    if not isinstance(s, int) or not isinstance(e, int):
        return None
    return (s, e)


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _norm_text(x: Any) -> str | None:
    if x is None:
        return None
    x = str(x).strip()
    return x or None


def iter_predicted_rules(prediction: Mapping[str, Any]):
    """``(criterion id, rule)`` for every rule of a contract-shaped result."""
    for c in prediction.get("criteria") or ():
        for r in c.get("rules") or ():
            yield c.get("id"), r


# --------------------------------------------------------------------------- report model
@dataclass(slots=True)
class RuleOutcome:
    gold: GoldRule
    status: str                       # full | partial | missed
    prediction: dict[str, Any] | None = None
    differences: tuple[str, ...] = ()

    def describe_prediction(self) -> str:
        p = self.prediction
        if p is None:
            return "-"
        return describe_predicted_rule(p)


@dataclass(slots=True)
class CriterionOutcome:
    gold: GoldCriterion
    ok: bool
    differences: tuple[str, ...] = ()     # field names, or ("absent",)


@dataclass(slots=True)
class LogicOutcome:
    criterion: str
    group: tuple[str, ...]             # gold rule ids (or nested AND descriptions)
    ok: bool
    predicted: tuple[tuple[str, ...], ...] = ()   # predicted OR groups, same notation


def describe_predicted_rule(p: Mapping[str, Any]) -> str:
    var = p.get("variable") or {}
    name = var.get("name") or var.get("text") or "?"
    if p.get("comparator") == "between":
        val = f"{_fmt(p.get('value'))}..{_fmt(p.get('value_high'))}"
    else:
        val = f"{p.get('comparator')} {_fmt(p.get('value'))}"
    unit = p.get("unit") or ""
    rel = f"x {p['relative_to']}" if p.get("relative_to") else ""
    conds = ",".join(c.get("kind", "?") for c in p.get("conditions") or ())
    return " ".join(x for x in (name, val, unit, rel, f"[{conds}]" if conds else "") if x)


def describe_gold_rule(g: GoldRule) -> str:
    name = g.variable.name if g.variable else "?"
    val = (f"{_fmt(g.value)}..{_fmt(g.value_high)}" if g.comparator == "between"
           else f"{g.comparator} {_fmt(g.value)}")
    unit = g.unit or ""
    rel = f"x {g.relative_to}" if g.relative_to else ""
    conds = ",".join(c.kind for c in g.conditions)
    return " ".join(x for x in (name, val, unit, rel, f"[{conds}]" if conds else "") if x)


def _fmt(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


@dataclass(slots=True)
class ReferenceReport:
    rules: list[RuleOutcome]
    spurious: list[dict[str, Any]]            # predicted rules (with "criterion" added) matched to no gold
    structure: list[CriterionOutcome]
    logic: list[LogicOutcome] = field(default_factory=list)
    extra_criteria: list[str] = field(default_factory=list)   # predicted criterion ids absent from gold

    # ---- counts
    def count(self, status: str, optional: bool = False) -> int:
        return sum(1 for o in self.rules if o.status == status and o.gold.optional == optional)

    @property
    def required(self) -> list[RuleOutcome]:
        return [o for o in self.rules if not o.gold.optional]

    @property
    def optional(self) -> list[RuleOutcome]:
        return [o for o in self.rules if o.gold.optional]

    @property
    def structure_accuracy(self) -> float:
        return sum(o.ok for o in self.structure) / len(self.structure) if self.structure else 1.0

    @property
    def logic_accuracy(self) -> float:
        return sum(o.ok for o in self.logic) / len(self.logic) if self.logic else 1.0

    @property
    def full_recall(self) -> float:
        req = self.required
        return sum(o.status == "full" for o in req) / len(req) if req else 1.0

    @property
    def matched_recall(self) -> float:
        req = self.required
        return sum(o.status != "missed" for o in req) / len(req) if req else 1.0

    def condition_counts(self) -> dict[str, KindCounts]:
        """Per kind, over the matched required rules: gold conditions found (a predicted condition of
        the kind overlaps the gold span or an alternative) and predicted conditions that overlap a gold
        condition of their kind (the gold states every condition of a required rule, so the plain
        precision is the figure here)."""
        totals = {k: KindCounts() for k in CONDITION_KINDS}
        for o in self.required:
            if o.prediction is None:
                continue
            gold = [(c.kind, c.spans) for c in o.gold.conditions]
            pred = [(c.get("kind"), sp) for c in o.prediction.get("conditions") or () if (sp := _span(c))]
            counts, _, _ = condition_matches(gold, pred, CONDITION_KINDS)
            for kind, c in counts.items():
                totals[kind].add(c)
        return totals

    def format_conditions(self) -> str:
        def part(kind: str, c: KindCounts) -> str:
            r = "-" if c.recall is None else f"{c.recall:.3f}"
            p = "-" if c.precision is None else f"{c.precision:.3f}"
            return f"{kind} R {r} ({c.found}/{c.gold}) P {p} ({c.correct}/{c.pred})"

        return "conditions of matched required rules: " + " | ".join(
            part(k, c) for k, c in self.condition_counts().items())

    @property
    def full_precision(self) -> float:
        """Full matches of required rules over predicted rules not matched to an optional gold rule."""
        denom = sum(o.status != "missed" for o in self.required) + len(self.spurious)
        return self.count("full") / denom if denom else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": {
                "required": len(self.required), "optional": len(self.optional),
                "full": self.count("full"), "partial": self.count("partial"), "missed": self.count("missed"),
                "optional_full": self.count("full", True), "optional_partial": self.count("partial", True),
                "optional_missed": self.count("missed", True),
                "spurious": len(self.spurious),
                "full_recall": self.full_recall, "matched_recall": self.matched_recall,
                "full_precision": self.full_precision,
                "structure_accuracy": self.structure_accuracy, "logic_accuracy": self.logic_accuracy,
                "conditions": {k: c.to_dict() for k, c in self.condition_counts().items()},
            },
            "rules": [{"gold": o.gold.id, "optional": o.gold.optional, "status": o.status,
                       "prediction": (o.prediction or {}).get("id"), "differences": list(o.differences)}
                      for o in self.rules],
            "spurious": [{"criterion": p.get("criterion"), "id": p.get("id"), "text": p.get("text"),
                          "start": p.get("start"), "end": p.get("end")} for p in self.spurious],
            "structure": [{"criterion": o.gold.id, "ok": o.ok, "differences": list(o.differences)}
                          for o in self.structure],
            "logic": [{"criterion": o.criterion, "group": list(o.group), "ok": o.ok,
                       "predicted": [list(g) for g in o.predicted]} for o in self.logic],
            "extra_criteria": list(self.extra_criteria),
        }

    def format(self) -> str:
        req, opt = self.required, self.optional
        lines = [
            "Reference gold: %d rules (%d required, %d optional), %d criteria"
            % (len(self.rules), len(req), len(opt), len(self.structure)),
            "",
            "%-10s %6s %8s %7s" % ("", "full", "partial", "missed"),
            "%-10s %6d %8d %7d" % ("required", self.count("full"), self.count("partial"), self.count("missed")),
            "%-10s %6d %8d %7d" % ("optional", self.count("full", True), self.count("partial", True),
                                   self.count("missed", True)),
            "spurious predicted rules: %d" % len(self.spurious),
            "required full recall %.3f | matched recall %.3f | full precision %.3f"
            % (self.full_recall, self.matched_recall, self.full_precision),
            "structure accuracy %.3f (%d/%d criteria) | logic accuracy %.3f (%d/%d OR groups)"
            % (self.structure_accuracy, sum(o.ok for o in self.structure), len(self.structure),
               self.logic_accuracy, sum(o.ok for o in self.logic), len(self.logic)),
            self.format_conditions(),
        ]
        bad = [o for o in self.rules if o.status != "full"]
        if bad:
            lines += ["", "Gold rules not fully matched:"]
            rows = [("gold", "opt", "status", "differs", "gold rule", "predicted")]
            for o in bad:
                rows.append((o.gold.id, "opt" if o.gold.optional else "", o.status,
                             ",".join(o.differences) or "-", _clip(f"{o.gold.text!r}: {describe_gold_rule(o.gold)}", 70),
                             _clip(o.describe_prediction(), 50)))
            lines += _table(rows)
        if self.spurious:
            lines += ["", "Spurious predicted rules:"]
            rows = [("criterion", "id", "span", "text", "predicted")]
            for p in self.spurious:
                rows.append((str(p.get("criterion")), str(p.get("id")), f"{p.get('start')}-{p.get('end')}",
                             _clip(repr(p.get("text")), 50), _clip(describe_predicted_rule(p), 50)))
            lines += _table(rows)
        bad_struct = [o for o in self.structure if not o.ok]
        if bad_struct or self.extra_criteria:
            lines += ["", "Criteria structure mismatches:"]
            for o in bad_struct:
                lines.append(f"  {o.gold.id}: {', '.join(o.differences)}")
            if self.extra_criteria:
                lines.append("  predicted criteria not in gold: " + ", ".join(self.extra_criteria))
        bad_logic = [o for o in self.logic if not o.ok]
        if bad_logic:
            lines += ["", "OR groups not found:"]
            for o in bad_logic:
                pred = "; ".join("or(" + ", ".join(g) + ")" for g in o.predicted) or "none"
                lines.append(f"  {o.criterion}: or({', '.join(o.group)}) -- predicted OR groups: {pred}")
        return "\n".join(lines)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


# --------------------------------------------------------------------------- comparison
def _same_unit_text(a: Any, b: Any) -> bool:
    return _norm_text(a) == _norm_text(b)


def rule_differences(g: GoldRule, p: Mapping[str, Any],
                     same_unit: Callable[[Any, Any], bool] = _same_unit_text) -> tuple[str, ...]:
    """The fields in which predicted rule ``p`` differs from gold rule ``g`` (see the module doc)."""
    diffs = []
    if g.variable is not None and _overlap((g.variable.start, g.variable.end), _span(p.get("variable"))) == 0:
        diffs.append("variable")
    if p.get("comparator") != g.comparator:
        diffs.append("comparator")
    if not _same_number(p.get("value"), g.value):
        diffs.append("value")
    if not _same_number(p.get("value_high"), g.value_high):
        diffs.append("value_high")
    if g.inclusive is not None:
        pi = p.get("inclusive") or {}
        if bool(pi.get("low")) != bool(g.inclusive.get("low")) or bool(pi.get("high")) != bool(g.inclusive.get("high")):
            diffs.append("inclusive")
    if not same_unit(p.get("unit"), g.unit):
        diffs.append("unit")
    if g.unit_inferred is not None and bool(p.get("unit_inferred", False)) != g.unit_inferred:
        diffs.append("unit_inferred")
    if _norm_text(p.get("relative_to")) != _norm_text(g.relative_to):
        diffs.append("relative_to")
    if bool(p.get("negated", False)) != g.negated:
        diffs.append("negated")
    pconds = [(c.get("kind"), _span(c)) for c in p.get("conditions") or ()]
    for gc in g.conditions:
        if not any(k == gc.kind and any(_overlap(s, sp) for s in gc.spans) for k, sp in pconds):
            name = f"condition:{gc.kind}"
            if name not in diffs:
                diffs.append(name)
    return tuple(diffs)


def match_rules(rules: Sequence[GoldRule], preds: Sequence[tuple[str | None, Mapping[str, Any]]]) -> dict[int, int]:
    """Greedy best-first one-to-one matching: gold rule index -> index into ``preds`` (pairs of
    criterion id and predicted rule). A gold rule with a criterion is matched within it only."""
    cands = []
    for g in rules:
        gspan = (g.start, g.end)
        gvar = (g.variable.start, g.variable.end) if g.variable else None
        for j, (cid, p) in enumerate(preds):
            if g.criterion is not None and cid != g.criterion:
                continue
            rule_ov = _overlap(gspan, _span(p))
            var_ov = _overlap(gvar, _span(p.get("variable")))
            if not rule_ov and not var_ov:
                continue
            same_value = _same_number(p.get("value"), g.value)
            pstart = p.get("start") if isinstance(p.get("start"), int) else g.start
            key = (bool(var_ov) and same_value, same_value, bool(var_ov), p.get("comparator") == g.comparator,
                   rule_ov, -abs(pstart - g.start))
            cands.append((key, g.index, j))
    cands.sort(key=lambda t: t[0], reverse=True)
    used_g, used_p, pairs = set(), set(), {}
    for _, gi, pj in cands:
        if gi in used_g or pj in used_p:
            continue
        used_g.add(gi)
        used_p.add(pj)
        pairs[gi] = pj
    return pairs


def _or_groups(node: Any, leaf) -> list[frozenset]:
    """OR nodes of a logic tree as sets of canonical arguments (nested ORs flattened into their
    parent; a nested AND is one argument ``("and", frozenset(...))``)."""
    groups: list[frozenset] = []

    def args_of(n: Any, op: str) -> set:
        out: set = set()
        for a in n.get("args") or ():
            if isinstance(a, Mapping):
                if a.get("op") == op:
                    out |= args_of(a, op)
                else:
                    out.add((a.get("op"), frozenset(args_of(a, a.get("op")))))
            else:
                out.add(leaf(a))
        return out

    def walk(n: Any, parent_op: str | None) -> None:
        if not isinstance(n, Mapping):
            return
        op = n.get("op")
        if op == "or" and parent_op != "or":
            groups.append(frozenset(args_of(n, "or")))
        for a in n.get("args") or ():
            walk(a, op)

    walk(node, None)
    return groups


def _canon_name(x: Any) -> str:
    if isinstance(x, tuple):
        op, args = x
        return f"{op}(" + ", ".join(sorted(_canon_name(a) for a in args)) + ")"
    return str(x)


def compare(prediction: Mapping[str, Any], gold: GoldDocument,
            same_unit: Callable[[Any, Any], bool] = _same_unit_text) -> ReferenceReport:
    """Compare one ``criteria_nlp.extract`` result with the reference gold (see module doc);
    ``same_unit`` decides whether a predicted unit equals a gold unit."""
    preds = list(iter_predicted_rules(prediction))
    pairs = match_rules(gold.rules, preds)

    outcomes = []
    for g in gold.rules:
        if g.index not in pairs:
            outcomes.append(RuleOutcome(gold=g, status="missed"))
            continue
        cid, p = preds[pairs[g.index]]
        diffs = rule_differences(g, p, same_unit)
        outcomes.append(RuleOutcome(gold=g, status="partial" if diffs else "full",
                                    prediction={**p, "criterion": cid}, differences=diffs))
    matched = set(pairs.values())
    spurious = [{**p, "criterion": cid} for j, (cid, p) in enumerate(preds) if j not in matched]

    # structure
    pcrit = {}
    for c in prediction.get("criteria") or ():
        pcrit.setdefault(c.get("id"), c)
    structure = []
    for gc in gold.criteria:
        pc = pcrit.get(gc.id)
        if pc is None:
            structure.append(CriterionOutcome(gold=gc, ok=False, differences=("absent",)))
            continue
        diffs = tuple(f for f in _STRUCTURE_FIELDS[1:] if pc.get(f) != getattr(gc, f))
        structure.append(CriterionOutcome(gold=gc, ok=not diffs, differences=diffs))
    gold_ids = {c.id for c in gold.criteria}
    extra = [cid for cid in pcrit if cid not in gold_ids]

    # logic: OR groups, predicted rule ids mapped to gold ids through the matching
    pred_to_gold = {}
    for gi, pj in pairs.items():
        rid = preds[pj][1].get("id")
        if rid is not None:
            pred_to_gold[rid] = gold.rules[gi].id
    logic = []
    for cid, node in gold.logic.items():
        ggroups = _or_groups(node, lambda a: gold.rules[int(a)].id)
        pc = pcrit.get(cid) or {}
        pgroups = _or_groups(pc.get("logic"), lambda a: pred_to_gold.get(a, f"pred:{a}"))
        for grp in ggroups:
            logic.append(LogicOutcome(
                criterion=cid, group=tuple(sorted(_canon_name(a) for a in grp)), ok=grp in pgroups,
                predicted=tuple(tuple(sorted(_canon_name(a) for a in pg)) for pg in pgroups)))
    return ReferenceReport(rules=outcomes, spurious=spurious, structure=structure, logic=logic,
                           extra_criteria=extra)


# --------------------------------------------------------------------------- oracle
def gold_to_prediction(gold: GoldDocument, text: str | None = None) -> dict[str, Any]:
    """A prediction in the output-contract shape built from the gold itself (an oracle: it scores
    every gold rule ``full``). ``text`` fills the ``text`` fields when given."""
    def sl(s: int, e: int, stored: str) -> str:
        return text[s:e] if text is not None else stored

    rule_ids = {}
    by_crit: dict[str, list[dict[str, Any]]] = {}
    for g in gold.rules:
        n = len(by_crit.setdefault(g.criterion, [])) + 1
        rid = f"{g.criterion}.r{n}"
        rule_ids[g.index] = rid
        by_crit[g.criterion].append({
            "id": rid, "text": sl(g.start, g.end, g.text), "start": g.start, "end": g.end,
            "variable": None if g.variable is None else {
                "text": sl(g.variable.start, g.variable.end, g.variable.text), "name": g.variable.name,
                "start": g.variable.start, "end": g.variable.end, "category": None, "code": None},
            "comparator": g.comparator, "value": g.value, "value_high": g.value_high,
            "inclusive": dict(g.inclusive) if g.inclusive is not None else None,
            "unit": g.unit, "unit_text": None, "relative_to": g.relative_to, "normalized": None,
            "negated": g.negated,
            "conditions": [{"kind": c.kind, "text": sl(c.start, c.end, c.text), "start": c.start, "end": c.end}
                           for c in g.conditions],
        })

    def conv(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {"op": node["op"], "args": [conv(a) for a in node.get("args", ())]}
        return rule_ids[int(node)]

    criteria = []
    for c in gold.criteria:
        rules = by_crit.get(c.id, [])
        if c.id in gold.logic:
            or_node = conv(gold.logic[c.id])
            grouped = set(_leaf_ids(or_node))
            rest = [r["id"] for r in rules if r["id"] not in grouped]
            logic = or_node if not rest else {"op": "and", "args": [*rest, or_node]}
        else:
            logic = {"op": "and", "args": [r["id"] for r in rules]} if rules else None
        criteria.append({"id": c.id, "parent": c.parent, "section": c.section,
                         "text": sl(c.start, c.end, c.text), "start": c.start, "end": c.end,
                         "logic": logic, "rules": rules})
    return {"schema_version": "1.0", "source": {"id": Path(gold.document).stem, "path": gold.document},
            "criteria": criteria}


def _leaf_ids(node: Any):
    if isinstance(node, Mapping):
        for a in node.get("args", ()):
            yield from _leaf_ids(a)
    else:
        yield node
