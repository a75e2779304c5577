"""Read ``criteria-nlp extract`` output and turn each result into a typed :class:`TrialPlan`.

Rule dicts are read tolerantly: only the keys this module needs are looked at, so fields added
to the output contract later (``unit_inferred``, ...) pass through unnoticed. A result file is a
JSON document (one result, or a list of results) or JSON Lines (one result per line).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Literal, Union

from .conceptmap import ConceptMap, normalise
from .errors import OmopError
from .populations import CondSpec, ConceptNames, resolve, stated_by_rule

#: Largest result file read as one JSON document, and longest JSONL line.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024

#: Days before the index date searched for a measurement when a rule has no window of its own.
DEFAULT_LOOKBACK_DAYS = 90

AGE_VARIABLE = "age"
#: Units an age rule can be evaluated in (completed years, completed months).
AGE_UNITS = ("a", "mo")
#: Temporal relations that bound the measurement date: (sign of start, sign of end).
WINDOW_RELATIONS = {"before": (-1, 0), "within": (-1, 0), "after": (0, 1)}
#: Relative tolerance of a bound: a converted 8 g/dL is 80 g/L, not 79.99999999.
BOUND_TOLERANCE = 1e-9

_LOINC_RE = re.compile(r"^\d{1,7}-\d$")
_RULE_ID_RE = re.compile(r"^[\w.\-]{1,200}$")

Kind = Literal["measurement", "age"]


@dataclass(frozen=True)
class Window:
    """Measurement dates allowed, in days relative to the index date (negative = before)."""

    start_days: int
    end_days: int
    from_rule: bool  # True: the rule's temporal condition; False: the default look-back


@dataclass(frozen=True)
class Bounds:
    """The threshold as an interval; ``None`` = unbounded on that side."""

    low: float | None
    low_strict: bool
    high: float | None
    high_strict: bool

    def tolerant(self) -> "Bounds":
        """Bounds widened (inclusive) or narrowed (strict) by a relative tolerance."""
        return Bounds(_nudge(self.low, not self.low_strict, -1), self.low_strict,
                      _nudge(self.high, not self.high_strict, +1), self.high_strict)


@dataclass(frozen=True)
class Threshold:
    """One rule of a trial, ready to be evaluated (or with the reason it cannot be)."""

    key: int  # position in the trial: names the rule's columns in the SQL
    rule_id: str
    criterion_id: str
    section: str
    text: str
    variable_name: str | None
    loinc: str | None
    kind: Kind | None  # None: not executable, see ``not_executable``
    not_executable: str | None
    comparator: str
    value: float
    value_high: float | None
    bounds: Bounds
    unit: str | None
    relative_to: str | None
    negated: bool
    window: Window
    population: bool  # under a population condition ("for subjects with Gilbert's syndrome")
    exception: bool  # under an exception condition ("unless ...")
    concept_id: int | None = None  # OMOP concept from the concept map (measurements by concept id)
    mapped: bool = False  # the concept (LOINC or id) comes from the concept map
    detail: str | None = None  # why the rule cannot be evaluated, in words (kind None)
    population_desc: str | None = None
    population_key: int | None = None  # CondSpec key when the data can resolve the population
    exception_desc: str | None = None
    exception_key: int | None = None
    replaced: bool = False  # a default rule of a criterion whose population rules replace it for members
    population_rule: str | None = None  # the rule whose threshold states the population (condition's ``rule``)
    states_population: bool = False  # this rule states another rule's population: it is no requirement

    @property
    def conditional(self) -> bool:
        """Whether the rule applies to some persons only (population, exception, replaced default)."""
        return self.population or self.exception or self.replaced

    @property
    def source_key(self) -> str | None:
        """What the rule's measurements are found by: a LOINC code, or ``#<concept_id>``."""
        if self.loinc:
            return self.loinc
        return None if self.concept_id is None else f"#{self.concept_id}"

    @property
    def unresolved_reason(self) -> str | None:
        """The reason a rule reports when the data cannot say whether it applies to the person:
        ``*_not_resolvable`` when OMOP data cannot tell for anyone (a population the concept map
        does not name), ``*_unknown`` when it can but not for this person (sex not recorded ...)."""
        if self.population:
            return "population_unknown" if self.population_key is not None else "population_not_resolvable"
        if self.replaced:
            return "population_unknown" if self.population_key is not None else "population_not_resolvable"
        if self.exception:
            return "exception_unknown" if self.exception_key is not None else "exception_not_resolvable"
        return None

    @property
    def not_applicable_reason(self) -> str | None:
        """The reason a rule reports when it does not apply to the person."""
        if self.population and self.exception:
            return "not_in_population_or_exception_applies"
        if self.population:
            return "not_in_population"
        if self.exception:
            return "exception_applies"
        if self.replaced:
            return "population_rule_applies"
        return None


@dataclass(frozen=True)
class LogicNode:
    op: Literal["and", "or"]
    args: tuple["Logic", ...]


Logic = Union[str, LogicNode]  # a rule id or a node


@dataclass(frozen=True)
class PopulationGroup:
    """The rules of a criterion that hold for one population (instead of the default rules)."""

    key: int | None  # CondSpec key, None when the data cannot resolve the population
    description: str
    logic: Logic


@dataclass(frozen=True)
class CriterionPlan:
    """A criterion's rules as logic: the default rules, and those that hold only for a population
    (``population_logic``: all of them, ``None`` when there are none; ``groups``: per population,
    in the order of the text -- a member of the first population gets its rules, ...; a person
    in none of them gets the default rules)."""

    id: str
    section: str
    default_logic: Logic | None
    population_logic: Logic | None
    groups: tuple[PopulationGroup, ...] = ()


@dataclass(frozen=True)
class TrialPlan:
    trial: str
    thresholds: tuple[Threshold, ...]
    criteria: tuple[CriterionPlan, ...]
    conditions: tuple[CondSpec, ...] = ()  # the population/exception conditions the data can resolve

    def threshold(self, rule_id: str) -> Threshold:
        return next(t for t in self.thresholds if t.rule_id == rule_id)

    def condition(self, key: int | None) -> CondSpec | None:
        """The resolvable condition of ``key`` (None: not resolvable)."""
        return None if key is None else next((c for c in self.conditions if c.key == key), None)


# ------------------------------------------------------------------------------ reading files


def read_results(path: str) -> Iterator[dict[str, Any] | OmopError]:
    """The results in ``path`` (``-`` = stdin); an unreadable record is yielded as an
    :class:`OmopError` so that the others are still read."""
    import sys

    try:
        fh = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        raise OmopError(f"cannot read {path}: {e.strerror}") from None
    with fh:
        head = fh.read(MAX_DOCUMENT_BYTES + 1)
        if path.endswith((".jsonl", ".ndjson")) or _looks_like_lines(head):
            yield from _read_lines(path, head, fh)
            return
        if len(head) > MAX_DOCUMENT_BYTES:
            raise OmopError(f"{path}: larger than {MAX_DOCUMENT_BYTES // 2**20} MB; give it as JSON Lines")
        try:
            data = json.loads(head.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise OmopError(f"{path}: not a JSON document ({e.__class__.__name__})") from None
        for i, item in enumerate(data if isinstance(data, list) else [data]):
            yield _checked(item, f"{path}[{i}]")


def _looks_like_lines(head: bytes) -> bool:
    first, _, rest = head.strip().partition(b"\n")
    return bool(rest.strip()) and first.startswith(b"{") and first.endswith(b"}")


def _read_lines(path: str, head: bytes, fh) -> Iterator[dict[str, Any] | OmopError]:
    buf = head
    lineno = 0
    while True:
        nl = buf.find(b"\n")
        if nl < 0:
            more = fh.read(MAX_LINE_BYTES)
            if more:
                if len(buf) > MAX_LINE_BYTES:
                    yield OmopError(f"{path}:{lineno + 1}: line longer than {MAX_LINE_BYTES // 2**20} MB")
                    return
                buf += more
                continue
            line, buf = buf, b""
        else:
            line, buf = buf[:nl], buf[nl + 1:]
        lineno += 1
        if line.strip():
            try:
                yield _checked(json.loads(line.decode("utf-8")), f"{path}:{lineno}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                yield OmopError(f"{path}:{lineno}: not a JSON line")
        if not buf and nl < 0:
            return


def _checked(item: Any, where: str) -> dict[str, Any] | OmopError:
    if not isinstance(item, dict) or not isinstance(item.get("criteria"), list):
        if isinstance(item, dict) and item.get("error"):
            return OmopError(f"{where}: an error record of extract ({str(item['error'])[:200]})")
        return OmopError(f"{where}: not a result of criteria-nlp extract (no 'criteria' list)")
    return item


# ------------------------------------------------------------------------------ planning


def trial_id(result: dict[str, Any]) -> str:
    source = result.get("source") if isinstance(result.get("source"), dict) else {}
    return str(source.get("id") or source.get("path") or "trial")


def plan_trial(result: dict[str, Any], lookback_days: int = DEFAULT_LOOKBACK_DAYS,
               concept_map: ConceptMap | None = None, names: ConceptNames | None = None) -> TrialPlan:
    """The executable plan of one extraction result (raises :class:`OmopError` when malformed).
    ``names``: diagnoses the concept map does not name are looked up in the CDM's vocabulary."""
    concept_map = concept_map or ConceptMap.empty()
    thresholds: list[Threshold] = []
    criteria: list[CriterionPlan] = []
    conditions: dict[str, CondSpec | None] = {}  # normalised description -> spec (None: not resolvable)

    def condition_key(description: str | None, stating_rule: str | None = None) -> int | None:
        identity = _STATED_BY + stating_rule if stating_rule else normalise(description or "")
        if identity not in conditions:
            key = len([c for c in conditions.values() if c])
            conditions[identity] = (stated_by_rule(key, stating_rule) if stating_rule
                                    else resolve(description, concept_map, key, names))
        spec = conditions[identity]
        return None if spec is None else spec.key

    try:
        stating = _stating_rule_ids(result["criteria"])
        for crit in result["criteria"]:
            section = "exclusion" if crit.get("section") == "exclusion" else "inclusion"
            ids = []
            for rule in crit.get("rules") or []:
                t = _threshold(len(thresholds), rule, str(crit["id"]), section, lookback_days, concept_map)
                t = replace(t, population_key=condition_key(t.population_desc, t.population_rule)
                            if t.population else None,
                            exception_key=condition_key(t.exception_desc) if t.exception else None,
                            states_population=t.rule_id in stating)
                thresholds.append(t)
                ids.append(t.rule_id)
            required = [i for i in ids if i not in stating]  # a rule stating a population is no requirement
            if not required:
                continue
            logic = _parse_logic(crit.get("logic"), set(required)) or LogicNode("and", tuple(required))
            mine = thresholds[-len(ids):]
            population = {t.rule_id for t in mine if t.population}
            groups: list[PopulationGroup] = []
            seen: set[str] = set()
            for t in mine:
                if t.population and population_identity(t) not in seen:
                    seen.add(population_identity(t))
                    same = {u.rule_id for u in mine if u.population and population_identity(u) == population_identity(t)}
                    group_logic = _prune(logic, lambda r, same=same: r in same)
                    if group_logic is not None:  # None: its rules only state other populations
                        groups.append(PopulationGroup(t.population_key, t.population_desc or "", group_logic))
            default = _prune(logic, lambda r: r not in population)
            if groups and default is not None:  # members of a population get its rules instead
                resolvable = next((g.key for g in groups if g.key is not None), None)
                defaults = set(rule_ids(default))  # not a rule stating a population: it is in no logic
                for i, t in enumerate(thresholds[-len(ids):]):
                    if t.rule_id in defaults:  # population_key: one the data can resolve, if any
                        thresholds[len(thresholds) - len(ids) + i] = replace(t, replaced=True,
                                                                             population_key=resolvable)
            criteria.append(CriterionPlan(
                id=str(crit["id"]), section=section, default_logic=default,
                population_logic=_prune(logic, lambda r: r in population) if population else None,
                groups=tuple(groups),
            ))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise OmopError(f"{trial_id(result)}: malformed rule ({e.__class__.__name__}: {e})") from None
    specs = tuple(sorted((c for c in conditions.values() if c is not None), key=lambda c: c.key))
    plan = TrialPlan(trial_id(result), tuple(thresholds), tuple(criteria), specs)
    return without_conditions(plan, unevaluable_stated_populations(plan))


#: Prefix of the identity of a population stated by a rule (never a normalised description).
_STATED_BY = "\x00rule:"


def population_identity(t: Threshold) -> str:
    """What makes two rules' populations the same: the stating rule, else the description."""
    return _STATED_BY + t.population_rule if t.population_rule else normalise(t.population_desc or "")


def unevaluable_stated_populations(plan: TrialPlan) -> set[int]:
    """Keys of the populations stated by a rule that cannot be evaluated (not in the trial, or no
    code, unit or comparator match can use): nobody's membership can be told."""
    ids = {t.rule_id: t for t in plan.thresholds}
    return {c.key for c in plan.conditions
            if c.kind == "rule" and (c.rule_id not in ids or ids[c.rule_id].kind is None)}


def without_conditions(plan: TrialPlan, gone: set[int]) -> TrialPlan:
    """The plan with the conditions of the keys ``gone`` made unresolvable (their rules keep their
    conditions, with no key)."""
    if not gone:
        return plan

    def drop(key):
        return None if key in gone else key
    criteria = tuple(replace(c, groups=tuple(replace(g, key=drop(g.key)) for g in c.groups)) for c in plan.criteria)

    def kept(t: Threshold) -> Threshold:
        key = drop(t.population_key)
        if t.replaced:  # any population of its criterion still resolvable
            groups = next((c.groups for c in criteria if c.id == t.criterion_id), ())
            key = next((g.key for g in groups if g.key is not None), None)
        return replace(t, population_key=key, exception_key=drop(t.exception_key))
    return replace(plan, conditions=tuple(c for c in plan.conditions if c.key not in gone),
                   thresholds=tuple(kept(t) for t in plan.thresholds), criteria=criteria)


#: Why a rule cannot be evaluated, in words (the ``detail`` of its output), by variable category.
_CATEGORY_DETAIL = {"dose": "a drug dose (drug_exposure), which match does not read"}


def _threshold(key: int, rule: dict[str, Any], criterion: str, section: str, lookback: int,
               concept_map: ConceptMap) -> Threshold:
    rule_id = str(rule["id"])
    if not _RULE_ID_RE.match(rule_id):
        raise ValueError(f"rule id {rule_id[:40]!r}")
    variable = rule.get("variable") or {}
    code = variable.get("code") or {}
    loinc = code.get("code") if code.get("system") == "http://loinc.org" else None
    if loinc is not None and not _LOINC_RE.match(str(loinc)):
        loinc = None
    name = variable.get("name")
    category = variable.get("category")
    mapped = concept_map.variable(name, variable.get("text"))
    concept_id = None
    if mapped is not None and name != AGE_VARIABLE:
        loinc, concept_id = mapped.loinc, mapped.concept_id
    comparator = str(rule["comparator"])
    value = float(rule["value"])
    high = rule.get("value_high")
    high = None if high is None else float(high)
    inclusive = rule.get("inclusive") or {}
    bounds = comparator_bounds(comparator, value, high, bool(inclusive.get("low", True)),
                               bool(inclusive.get("high", True)))
    conditions = [c for c in rule.get("conditions") or [] if isinstance(c, dict)]
    unit = rule.get("unit")
    relative_to = rule.get("relative_to")
    kind: Kind | None = "age" if name == AGE_VARIABLE else "measurement"
    reason = detail = None
    label = f"{name!r}" if name else "the variable"
    if kind == "age" and (unit not in AGE_UNITS or relative_to):
        kind, reason = None, "age_unit_not_supported"
        detail = f"age in {unit or 'no unit'}: ages are evaluated in a or mo"
    elif kind == "measurement" and not name:
        kind, reason = None, "variable_not_recognised"
        detail = "the variable is not in the lexicon: no code to look up"
    elif kind == "measurement" and loinc is None and concept_id is None:
        kind, reason = None, "no_loinc_code"
        detail = (f"{label}: {_CATEGORY_DETAIL[category]}" if category in _CATEGORY_DETAIL else
                  f"{label} ({category or 'no category'}) has no LOINC code; map it with --concept-map")
    elif bounds is None or not all(math.isfinite(x) for x in (value, high or 0.0)):
        kind, reason = None, "comparator_not_supported"
        detail = f"comparator {comparator[:20]!r} is not a numeric bound"
    population = next((c for c in conditions if c.get("kind") == "population"), None)
    exception = next((c for c in conditions if c.get("kind") == "exception"), None)
    return Threshold(
        key=key, rule_id=rule_id, criterion_id=criterion, section=section,
        text=str(rule.get("text") or ""), variable_name=name, loinc=loinc, kind=kind,
        not_executable=reason, comparator=comparator, value=value, value_high=high,
        bounds=bounds or Bounds(None, False, None, False), unit=unit, relative_to=relative_to,
        negated=bool(rule.get("negated")), window=rule_window(conditions, lookback),
        population=population is not None, exception=exception is not None,
        concept_id=concept_id, mapped=mapped is not None and name != AGE_VARIABLE, detail=detail,
        population_desc=_description(population), exception_desc=_description(exception),
        population_rule=_stating_rule(population),
    )


def _stating_rule(condition: dict[str, Any] | None) -> str | None:
    """The id of the rule stating a population condition (its ``rule``), if any."""
    rule = condition.get("rule") if condition is not None else None
    return str(rule) if rule else None


def _description(condition: dict[str, Any] | None) -> str | None:
    if condition is None:
        return None
    text = condition.get("description") or condition.get("text")
    return str(text)[:300] if text else None


def comparator_bounds(comparator: str, value: float, high: float | None,
                      low_inclusive: bool = True, high_inclusive: bool = True) -> Bounds | None:
    """The interval a comparator admits; None for an unknown comparator."""
    if comparator == ">":
        return Bounds(value, True, None, False)
    if comparator == ">=":
        return Bounds(value, False, None, False)
    if comparator == "<":
        return Bounds(None, False, value, True)
    if comparator == "<=":
        return Bounds(None, False, value, False)
    if comparator == "=":
        return Bounds(value, False, value, False)
    if comparator == "between" and high is not None:
        return Bounds(value, not low_inclusive, high, not high_inclusive)
    return None


def rule_window(conditions: list[dict[str, Any]], lookback_days: int) -> Window:
    """The first temporal condition that bounds a date (before/within/after N units), in days
    (rounded up); otherwise the look-back window ``[-lookback_days, 0]``."""
    from criteria_nlp.quantities.units import convert

    for cond in conditions:
        signs = WINDOW_RELATIONS.get(cond.get("relation")) if cond.get("kind") == "temporal" else None
        value, unit = cond.get("value"), cond.get("unit")
        if signs is None or not isinstance(value, (int, float)) or not isinstance(unit, str):
            continue
        days = convert(float(value), unit, "d")
        if days is None or not math.isfinite(days) or days < 0 or days > 365 * 200:
            continue
        n = math.ceil(days - 1e-9)
        return Window(signs[0] * n, signs[1] * n, True)
    return Window(-lookback_days, 0, False)


def _nudge(x: float | None, widen: bool, direction: int) -> float | None:
    if x is None:
        return None
    step = BOUND_TOLERANCE * max(1.0, abs(x))
    return x + step * direction if widen else x - step * direction


def _stating_rule_ids(criteria: list[dict[str, Any]]) -> set[str]:
    """The ids of rules that state a population of other rules (a condition's ``rule``, schema 1.2)."""
    return {str(cond["rule"]) for crit in criteria for rule in crit.get("rules") or []
            for cond in rule.get("conditions") or [] if isinstance(cond, dict) and cond.get("rule")}


def _parse_logic(raw: Any, ids: set[str]) -> Logic | None:
    if isinstance(raw, str):
        return raw if raw in ids else None
    if not isinstance(raw, dict) or raw.get("op") not in ("and", "or"):
        return None
    args = tuple(a for a in (_parse_logic(x, ids) for x in raw.get("args") or []) if a is not None)
    return LogicNode(raw["op"], args) if args else None


def _prune(logic: Logic, keep) -> Logic | None:
    """The logic with the rule ids that ``keep`` rejects removed (empty nodes vanish)."""
    if isinstance(logic, str):
        return logic if keep(logic) else None
    args = tuple(a for a in (_prune(x, keep) for x in logic.args) if a is not None)
    if not args:
        return None
    return args[0] if len(args) == 1 else LogicNode(logic.op, args)


def rule_ids(logic: Logic | None) -> list[str]:
    if logic is None:
        return []
    if isinstance(logic, str):
        return [logic]
    return [r for a in logic.args for r in rule_ids(a)]


def read_plans(paths: list[str], lookback_days: int, concept_map: ConceptMap | None = None,
               names: ConceptNames | None = None) -> Iterator[TrialPlan | OmopError]:
    """Plans of every result in ``paths``; a bad record is yielded as an error, the rest go on."""
    for path in paths:
        if path != "-" and not Path(path).is_file():
            yield OmopError(f"{path}: no such file")
            continue
        try:
            for item in read_results(path):
                if isinstance(item, OmopError):
                    yield item
                    continue
                try:
                    yield plan_trial(item, lookback_days, concept_map, names)
                except OmopError as e:
                    yield e
        except OmopError as e:
            yield e
