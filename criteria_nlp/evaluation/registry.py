"""Registry gold: hand-written rules of ClinicalTrials.gov sample studies, and their scoring.

One JSON file per study in ``corpora/registry-gold/NCTxxxxxxxx.gold.json``::

    {"nct_id": "NCT00003444", "source": "../shared/corpora/ctgov-sample/studies.jsonl",
     "sha1": "<sha1 of the eligibilityCriteria text, UTF-8>", "layout": "pdq" | "other",
     "description"?: "...",
     "rules": [{"text", "start", "end", "variable": {"text", "start", "end", "name"} | null,
                "comparator", "value", "value_high", "inclusive", "unit", "relative_to",
                "unit_inferred"?: true, "conditions": [{"kind", "text", "start", "end"}],
                "negated", "optional", "note"?}, ...],
     "logic"?: [{"op": "or", "args": [rule indexes or nested {"op", "args"}]}, ...]}

The criteria text is not copied: ``source`` (relative to the project root, or the working
directory) names the sample, the study is found by ``nct_id``, and ``sha1`` detects a changed
source. Offsets are Python ``str`` indices into ``eligibilityCriteria`` exactly as in the JSON
(CRLF kept). Rules carry no criterion id: the list structure is the extractor's business, so
gold and predicted rules are matched across the whole document by span
(:func:`criteria_nlp.evaluation.reference_gold.match_rules`); the fields are then compared as
for the reference record (:func:`~criteria_nlp.evaluation.reference_gold.rule_differences`),
except that two units are equal when UCUM converts one into the other with factor 1
(``/mm3`` == ``{cells}/uL``). ``logic`` documents the explicit OR groups; it is not scored.

:func:`score_registry` aggregates :func:`score_study` over the studies: the fraction of
required gold rules fully right, agreement per field among matched required rules, recall of
each condition kind and the predicted conditions with no gold counterpart, missed and spurious
rules (predicted rules matched to no gold rule; one matched to an optional gold rule is neither
right nor spurious), the same per layout, and an error list. Pure functions: nothing here runs
the pipeline (``criteria-nlp evaluate --corpus registry`` does, see :mod:`.registry_command`).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .reference_gold import (
    GoldCriterion,
    GoldDocument,
    GoldRule,
    RuleOutcome,
    compare,
    describe_gold_rule,
    describe_predicted_rule,
    gold_to_prediction,
    parse_rules,
)

__all__ = [
    "COMPARATORS",
    "CONDITION_KINDS",
    "DEFAULT_GOLD_DIR",
    "LAYOUTS",
    "PDQ_MARKERS",
    "RULE_FIELDS",
    "GoldError",
    "RegistryGold",
    "RegistryReport",
    "StudyScore",
    "criteria_sha1",
    "layout_of",
    "load_gold_dir",
    "load_registry_gold",
    "oracle_prediction",
    "read_criteria",
    "resolve_source",
    "same_unit",
    "score_registry",
    "score_study",
    "validate",
]

DEFAULT_GOLD_DIR = Path("corpora") / "registry-gold"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ("pdq", "other")
PDQ_MARKERS = ("PATIENT CHARACTERISTICS", "DISEASE CHARACTERISTICS")
COMPARATORS = (">", ">=", "<", "<=", "=", "between")
CONDITION_KINDS = ("temporal", "population", "exception", "qualifier")
RELATIVE_TO = ("ULN", "LLN")
# the fields of rule_differences, in report order (value_high and inclusive only for ranges)
RULE_FIELDS = ("variable", "comparator", "value", "value_high", "inclusive", "unit", "relative_to",
               "negated", "unit_inferred")


class GoldError(ValueError):
    """A gold file that cannot be read or does not match its source (one-line message)."""


def layout_of(criteria: str) -> str:
    """``"pdq"`` for the PDQ run-in layout (``PATIENT``/``DISEASE CHARACTERISTICS``), else ``"other"``."""
    return "pdq" if any(m in criteria for m in PDQ_MARKERS) else "other"


def criteria_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- gold files
@dataclass(frozen=True, slots=True)
class RegistryGold:
    nct_id: str
    source: str                        # the sample, relative to the project root
    sha1: str
    layout: str
    rules: tuple[GoldRule, ...]
    logic: tuple[Mapping[str, Any], ...] = ()
    path: str | None = None

    @property
    def required(self) -> list[GoldRule]:
        return [r for r in self.rules if not r.optional]

    def as_gold_document(self) -> GoldDocument:
        return GoldDocument(document=self.source, criteria=(), rules=self.rules, logic={}, path=self.path)


def load_registry_gold(path: str | Path) -> RegistryGold:
    """Read one gold file; :class:`GoldError` when it is not JSON or lacks a required key."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RegistryGold(nct_id=data["nct_id"], source=data["source"], sha1=data["sha1"],
                            layout=data["layout"], rules=parse_rules(data["rules"]),
                            logic=tuple(data.get("logic", ())), path=str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GoldError(f"{path}: cannot read gold: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise GoldError(f"{path}: malformed gold ({type(exc).__name__}: {exc})") from None


def load_gold_dir(gold_dir: str | Path) -> list[RegistryGold]:
    """Every ``*.gold.json`` of ``gold_dir``, by NCT id; :class:`GoldError` when there is none."""
    gold_dir = Path(gold_dir)
    if not gold_dir.is_dir():
        raise GoldError(f"registry gold directory not found: {gold_dir}")
    golds = sorted((load_registry_gold(p) for p in gold_dir.glob("*.gold.json")), key=lambda g: g.nct_id)
    if not golds:
        raise GoldError(f"no *.gold.json file in {gold_dir}")
    return golds


def resolve_source(source: str) -> Path:
    """The sample file: ``source`` under the working directory when it is there, else under the
    project root."""
    here = Path(source)
    return here if here.exists() else PROJECT_ROOT / source


def read_criteria(sample: str | Path, nct_ids: Iterable[str]) -> dict[str, str]:
    """``{nct_id: eligibilityCriteria}`` of the wanted studies of a CT.gov API v2 JSONL sample."""
    wanted = set(nct_ids)
    out: dict[str, str] = {}
    with open(sample, encoding="utf-8") as fh:
        for line in fh:
            if not wanted - out.keys():
                break
            if not any(n in line for n in wanted - out.keys()):
                continue
            ps = json.loads(line)["protocolSection"]
            nct = ps["identificationModule"]["nctId"]
            if nct in wanted:
                out[nct] = (ps.get("eligibilityModule") or {}).get("eligibilityCriteria") or ""
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def validate(data: Mapping[str, Any], text: str) -> list[str]:
    """Problems of a gold file's JSON ``data`` against the study's criteria ``text`` (empty: valid).

    Checks the sha1 and the layout, that every span's ``text`` is ``text[start:end]``, and that
    every field is well formed (comparators, ranges, reference limits, condition kinds, logic)."""
    problems = []
    if data.get("sha1") != criteria_sha1(text):
        problems.append("sha1 differs from the source's criteria text")
    if data.get("layout") not in LAYOUTS or data.get("layout") != layout_of(text):
        problems.append(f"layout {data.get('layout')!r} is not the text's ({layout_of(text)})")

    def span(where: str, d: Any) -> None:
        if not isinstance(d, Mapping) or not all(isinstance(d.get(k), int) for k in ("start", "end")):
            problems.append(f"{where}: no integer start/end")
        elif not 0 <= d["start"] < d["end"] <= len(text) or text[d["start"]:d["end"]] != d.get("text"):
            problems.append(f"{where}: text is not text[{d['start']}:{d['end']}]")

    rules = data.get("rules")
    if not isinstance(rules, list):
        return problems + ["no rule list"]
    for i, r in enumerate(rules):
        where = f"rule {i} ({str(r.get('text', ''))[:30]!r})"
        span(where, r)
        if r.get("variable") is not None:
            span(where + " variable", r["variable"])
        for c in r.get("conditions", ()):
            span(where + " condition", c)
            if c.get("kind") not in CONDITION_KINDS:
                problems.append(f"{where}: condition kind {c.get('kind')!r}")
        cmp_ = r.get("comparator")
        if cmp_ not in COMPARATORS:
            problems.append(f"{where}: comparator {cmp_!r}")
        if not _is_number(r.get("value")):
            problems.append(f"{where}: value {r.get('value')!r} is not a number")
        if cmp_ == "between":
            incl = r.get("inclusive")
            if not (_is_number(r.get("value")) and _is_number(r.get("value_high"))
                    and r["value"] < r["value_high"]):
                problems.append(f"{where}: a range needs value < value_high")
            if not isinstance(incl, Mapping) or not {"low", "high"} <= incl.keys():
                problems.append(f"{where}: a range needs inclusive {{low, high}}")
        elif r.get("value_high") is not None or r.get("inclusive") is not None:
            problems.append(f"{where}: value_high/inclusive on a one-sided rule")
        if r.get("relative_to") not in (None, *RELATIVE_TO):
            problems.append(f"{where}: relative_to {r.get('relative_to')!r}")
        if r.get("relative_to") and r.get("unit"):
            problems.append(f"{where}: both a unit and a reference limit")
        if r.get("unit") is not None and (not isinstance(r["unit"], str) or not r["unit"].strip()):
            problems.append(f"{where}: unit {r.get('unit')!r}")
        if "unit_inferred" in r and (r["unit_inferred"] is not True or not r.get("unit")):
            problems.append(f"{where}: unit_inferred is stated only as true, with a unit")
        for flag in ("negated", "optional"):
            if not isinstance(r.get(flag), bool):
                problems.append(f"{where}: {flag} is not a boolean")
        if "criterion" in r:
            problems.append(f"{where}: registry gold rules carry no criterion id")

    def leaves(node: Any):
        for a in node.get("args", ()) if isinstance(node, Mapping) else ():
            yield from leaves(a) if isinstance(a, Mapping) else (a,)

    for group in data.get("logic", ()):
        if not isinstance(group, Mapping) or group.get("op") != "or":
            problems.append(f"logic group {group!r} is not an OR")
        elif any(not isinstance(a, int) or not 0 <= a < len(rules) for a in leaves(group)):
            problems.append(f"logic group {group!r} names a rule that does not exist")
    return problems


# --------------------------------------------------------------------------- scoring
def same_unit(predicted: Any, gold: Any) -> bool:
    """Equal UCUM units: the same code, or codes that UCUM converts with factor 1 and no offset
    (``/mm3`` == ``{cells}/uL``, ``[IU]/L`` == ``U/L``). No unit equals only no unit."""
    a = str(predicted).strip() if predicted is not None else ""
    b = str(gold).strip() if gold is not None else ""
    if a == b:
        return True
    if not a or not b:
        return False
    from ..quantities.units import convert  # the conversion registry loads on the first call

    one, zero = convert(1.0, a, b), convert(0.0, a, b)
    return one is not None and zero is not None and math.isclose(one, 1.0, rel_tol=1e-9) \
        and abs(zero) < 1e-12


@dataclass(slots=True)
class StudyScore:
    gold: RegistryGold
    rules: list[RuleOutcome]                       # one per gold rule, in gold order
    spurious: list[dict[str, Any]]                 # predicted rules matched to no gold rule
    conditions_predicted: Counter = field(default_factory=Counter)   # kind -> on matched required rules
    conditions_extra: Counter = field(default_factory=Counter)       # kind -> of those, no gold counterpart

    @property
    def required(self) -> list[RuleOutcome]:
        return [o for o in self.rules if not o.gold.optional]


def score_study(gold: RegistryGold, prediction: Mapping[str, Any]) -> StudyScore:
    """Compare one ``criteria_nlp.extract`` result with one study's gold (see the module doc)."""
    report = compare(prediction, gold.as_gold_document(), same_unit=same_unit)
    predicted, extra = Counter(), Counter()
    for o in report.rules:
        if o.gold.optional or o.prediction is None:
            continue
        for c in o.prediction.get("conditions") or ():
            kind = c.get("kind")
            predicted[kind] += 1
            spans = [s for gc in o.gold.conditions if gc.kind == kind for s in gc.spans]
            if not any(_overlaps(s, (c.get("start"), c.get("end"))) for s in spans):
                extra[kind] += 1
    return StudyScore(gold=gold, rules=report.rules, spurious=report.spurious,
                      conditions_predicted=predicted, conditions_extra=extra)


def _overlaps(a: tuple[int, int], b: tuple[Any, Any]) -> bool:
    return isinstance(b[0], int) and isinstance(b[1], int) and min(a[1], b[1]) > max(a[0], b[0])


def _applies(g: GoldRule, field_name: str) -> bool:
    if field_name == "variable":
        return g.variable is not None
    if field_name in ("value_high", "inclusive"):
        return g.comparator == "between"
    if field_name == "unit_inferred":
        return g.unit_inferred is not None
    return True


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


@dataclass(slots=True)
class RegistryReport:
    studies: list[StudyScore]
    meta: dict[str, Any] = field(default_factory=dict)

    def outcomes(self, layout: str | None = None, optional: bool = False) -> list[RuleOutcome]:
        return [o for s in self.studies if layout in (None, s.gold.layout)
                for o in s.rules if o.gold.optional == optional]

    def spurious(self, layout: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        return [(s.gold.nct_id, p) for s in self.studies if layout in (None, s.gold.layout) for p in s.spurious]

    def counts(self, layout: str | None = None) -> dict[str, Any]:
        req = self.outcomes(layout)
        status = Counter(o.status for o in req)
        matched = status["full"] + status["partial"]
        spurious = len(self.spurious(layout))
        return {
            "studies": sum(1 for s in self.studies if layout in (None, s.gold.layout)),
            "required": len(req), "optional": len(self.outcomes(layout, optional=True)),
            "full": status["full"], "partial": status["partial"], "missed": status["missed"],
            "spurious": spurious,
            "fully_right": _ratio(status["full"], len(req)),
            "matched_recall": _ratio(matched, len(req)),
            "full_precision": _ratio(status["full"], matched + spurious),
        }

    def field_agreement(self) -> dict[str, dict[str, Any]]:
        """Per rule field, among matched required rules where the field applies."""
        out = {}
        matched = [o for o in self.outcomes() if o.status != "missed"]
        for name in RULE_FIELDS:
            applicable = [o for o in matched if _applies(o.gold, name)]
            agree = sum(name not in o.differences for o in applicable)
            out[name] = {"agree": agree, "n": len(applicable), "rate": _ratio(agree, len(applicable))}
        return out

    def condition_agreement(self) -> dict[str, dict[str, Any]]:
        """Per condition kind: gold conditions of matched required rules found (recall), and the
        predicted conditions on those rules with no gold counterpart (``extra``)."""
        matched = [o for o in self.outcomes() if o.status != "missed"]
        out = {}
        for kind in CONDITION_KINDS:
            n = sum(1 for o in matched if any(c.kind == kind for c in o.gold.conditions))
            missing = sum(f"condition:{kind}" in o.differences for o in matched)
            predicted = sum(s.conditions_predicted[kind] for s in self.studies)
            extra = sum(s.conditions_extra[kind] for s in self.studies)
            out[kind] = {"found": n - missing, "n": n, "recall": _ratio(n - missing, n),
                         "predicted": predicted, "extra": extra,
                         "precision": _ratio(predicted - extra, predicted)}
        return out

    def errors(self) -> dict[str, list[dict[str, Any]]]:
        """Required gold rules not fully right, and spurious predicted rules, in document order."""
        rules = [{"study": s.gold.nct_id, "layout": s.gold.layout, "status": o.status,
                  "differences": list(o.differences), "text": o.gold.text, "start": o.gold.start,
                  "gold": describe_gold_rule(o.gold), "note": o.gold.note,
                  "predicted": o.describe_prediction() if o.prediction else None}
                 for s in self.studies for o in s.required if o.status != "full"]
        spurious = [{"study": nct, "text": p.get("text"), "start": p.get("start"),
                     "predicted": describe_predicted_rule(p)} for nct, p in self.spurious()]
        return {"rules": rules, "spurious": spurious}

    def as_dict(self, errors: int = 0) -> dict[str, Any]:
        out = {"meta": self.meta, "summary": self.counts(),
               "layouts": {layout: self.counts(layout) for layout in LAYOUTS},
               "fields": self.field_agreement(), "conditions": self.condition_agreement()}
        if errors:
            out["errors"] = {k: v[:errors] for k, v in self.errors().items()}
        return out

    def format(self, errors: int = 0) -> str:
        c = self.counts()
        lines = [f"criteria-nlp evaluation: registry gold ({c['studies']} studies, {c['required']} "
                 f"required and {c['optional']} optional rules; system {self.meta.get('system', '?')})", "",
                 f"fully right {_pct(c['fully_right'])} of required rules ({c['full']}/{c['required']}) | "
                 f"matched {_pct(c['matched_recall'])} | full precision {_pct(c['full_precision'])}", "",
                 "%-8s %7s %8s %6s %8s %7s %9s %12s" % ("layout", "studies", "required", "full", "partial",
                                                      "missed", "spurious", "fully right")]
        for name in (*LAYOUTS, None):
            k = self.counts(name)
            lines.append("%-8s %7d %8d %6d %8d %7d %9d %12s" % (
                name or "all", k["studies"], k["required"], k["full"], k["partial"], k["missed"],
                k["spurious"], _pct(k["fully_right"])))
        lines += ["", "Field agreement on matched required rules:"]
        for name, f in self.field_agreement().items():
            lines.append(f"  {name:<14} {_pct(f['rate']):>6} ({f['agree']}/{f['n']})")
        lines += ["", "Conditions of matched required rules (recall; predicted with no gold counterpart):"]
        for kind, f in self.condition_agreement().items():
            lines.append(f"  {kind:<14} {_pct(f['recall']):>6} ({f['found']}/{f['n']}); "
                         f"extra {f['extra']} of {f['predicted']} predicted")
        if errors:
            errs = self.errors()
            lines += ["", f"Required rules not fully right: {_shown(errors, len(errs['rules']))}"]
            for e in errs["rules"][:errors]:
                lines.append(f"  {e['study']} {e['status']:<7} {','.join(e['differences']) or '-':<22} "
                             f"{_clip(e['text'])!r}: {e['gold']}  <- {e['predicted'] or '-'}")
            lines += ["", f"Spurious predicted rules: {_shown(errors, len(errs['spurious']))}"]
            for e in errs["spurious"][:errors]:
                lines.append(f"  {e['study']} {_clip(e['text'])!r}: {e['predicted']}")
        return "\n".join(lines)


def _shown(n: int, total: int) -> str:
    return f"{total}" + (f" (first {n} shown)" if n < total else "")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _clip(text: Any, n: int = 60) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= n else s[: n - 1] + "…"


def score_registry(golds: Sequence[RegistryGold], predictions: Mapping[str, Mapping[str, Any]],
                   meta: Mapping[str, Any] | None = None) -> RegistryReport:
    """Score predictions (``{nct_id: extract() result}``; a study without one counts as empty)."""
    return RegistryReport(studies=[score_study(g, predictions.get(g.nct_id) or {}) for g in golds],
                          meta=dict(meta or {}))


def oracle_prediction(gold: RegistryGold, text: str) -> dict[str, Any]:
    """The gold as a contract-shaped prediction (one criterion over the whole text): scores 1.0."""
    doc = replace(gold.as_gold_document(),
                  criteria=(GoldCriterion(id="crit-1", parent=None, section=None, start=0, end=len(text),
                                          text=text),),
                  rules=tuple(replace(r, criterion="crit-1") for r in gold.rules))
    prediction = gold_to_prediction(doc, text)
    unit_inferred = {r.index: r.unit_inferred for r in gold.rules if r.unit_inferred is not None}
    for i, rule in enumerate(prediction["criteria"][0]["rules"]):
        if i in unit_inferred:
            rule["unit_inferred"] = unit_inferred[i]
    return prediction
