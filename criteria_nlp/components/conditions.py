"""``criteria_conditions``: what qualifies a rule.

- ``temporal``: a time window (``within 3 days prior to single collection``, ``in the past 6 months``,
  ``at screening``), applied to the rules of its sentence, and inherited by the rules of the
  criterion's descendants (item 8's window holds for 8.1–8.4);
- ``population``: the subgroup a rule is for (``for subjects with Gilbert's syndrome, ALT ≤ 5 x ULN``,
  ``≤ 5 x ULN if liver metastases``), inherited as well;
- ``exception``: a carve-out (``unless due to Gilbert's syndrome``, ``except ...``);
- ``qualifier``: what must hold together with the threshold (``<50×10^9/L with bleeding tendency``).

Each condition carries its own text span (into the original input) and structured fields.
"""
import re
from bisect import bisect_left

from spacy.language import Language
from spacy.tokens import Doc

from ._text import doc_text
from ._values import criteria_of, span_values

from ..models import Condition, Rule
from ..quantities.grammar import find_quantities, shifted

_TIME_CUE = re.compile(
    r"(?:\bwithin(?:[ \t]+the(?:[ \t]+(?:last|past|previous|preceding))?)?|\bin[ \t]+the[ \t]+(?:last|past|previous|preceding|prior)"
    r"|\bduring[ \t]+the(?:[ \t]+(?:last|past|previous|prior|preceding))?|\bover[ \t]+the[ \t]+(?:last|past)"
    r"|\bfor(?:[ \t]+(?:at[ \t]+least|more[ \t]+than|a[ \t]+(?:minimum|period|duration)[ \t]+of))?|\bat[ \t]+least|\bpast|\blast)[ \t]*$",
    re.IGNORECASE,
)
_TIME_ANCHOR = re.compile(
    r"[ \t]*(?P<rel>prior[ \t]+to|before|after|following|preceding|from|since|of|ago)\b"
    r"(?P<anchor>(?:[ \t]+(?!(?:and|or|with|if|unless|are|is|was|were|must|should|may|will|can|has|have|had|who|which|that|to)\b)[^\s,;.():]+){0,6})",
    re.IGNORECASE,
)
_AT_EVENT = re.compile(
    r"\b(?:at|during|upon)[ \t]+(?:the[ \t]+(?:time[ \t]+of[ \t]+)?)?(?P<anchor>screening|baseline|enrol?lment|randomi[sz]ation|study[ \t]+entry|entry|inclusion|registration)\b",
    re.IGNORECASE,
)
_POPULATION = re.compile(
    r"\b(?:(?:for|in)[ \t]+(?:(?:subjects|patients|participants|those|individuals|people|persons|women|men|cases|children|adults)[ \t]+)?"
    r"(?:with|who[ \t]+have|who[ \t]+are|having|known[ \t]+to[ \t]+have)"
    r"|if[ \t]+(?:(?:the[ \t]+)?(?:subjects?|patients?|participants?)[ \t]+(?:has|have|is|are|with)[ \t]+)?(?:there[ \t]+(?:is|are)[ \t]+)?"
    r"|in[ \t]+(?:the[ \t]+)?(?:presence|case|setting)[ \t]+of|in[ \t]+case[ \t]+of)"
    r"(?P<who>[ \t]*[^,;():\s][^,;():]{1,80}?)(?=[ \t]*(?:[,;():]|$|\bor\b|\bmay\b|\bmust\b|\bshould\b))",
    re.IGNORECASE,
)
# populations named by sex or age group: "≥ 13 g/dL in men", "for women", "(males)", "in children"
_GROUP_WORDS = (r"(?:men|women|males?|females?|boys|girls|children|adults|adolescents|infants|neonates|"
                r"elderly|pre-?menopausal[ \t]+women|post-?menopausal[ \t]+women)")
_GROUP_POPULATION = re.compile(
    rf"(?:\b(?:for|in)[ \t]+(?:(?:the|all)[ \t]+)?|\((?=[ \t]*{_GROUP_WORDS}[ \t]*\)))(?P<who>[ \t]*{_GROUP_WORDS})\b\)?",
    re.IGNORECASE,
)
# a sub-header that names the population of the items under it
_SUBHEADER_POPULATION = re.compile(r"[ \t]*(?:for|in|among)[ \t]+(?P<who>[^:;,.()\n]{2,60}?)[ \t]*:[ \t]*", re.IGNORECASE)
# what a population description must say more than: pronouns, auxiliaries, list boilerplate
# ("... may be eligible if they:", "if he/she has", "must meet all of the following criteria:")
_NOT_A_POPULATION = frozenset(
    "they he she he/she it who has have had is are be been meet meets met all any one of the following "
    "criteria criterion below above these those this that either both and or".split())
_EXCEPTION = re.compile(
    r"\b(?:except(?:[ \t]+(?:for|in|when|if))?|unless|excluding|with[ \t]+the[ \t]+exception[ \t]+of|other[ \t]+than)"
    r"(?P<what>[ \t]+[^,;()]{2,80}?)(?=[ \t]*(?:[,;()]|$))",
    re.IGNORECASE,
)
_QUALIFIER = re.compile(
    r"[ \t]*(?P<q>(?:with|without|despite|requiring|not[ \t]+requiring|while[ \t]+on|on[ \t]+(?:stable|a[ \t]+stable)|"
    r"in[ \t]+the[ \t]+(?:absence|presence)[ \t]+of|after|off|at[ \t]+rest|on[ \t]+room[ \t]+air|"
    r"in[ \t]+(?:a[ \t]+)?(?:non-?[ \t]?oxygenated|resting|fasting|supine|sitting|seated|standing)|in[ \t]+room[ \t]+air)"
    r"\b[^,;()]{0,60}?)(?=[ \t]*(?:[,;()]|$|\bor\b|\band\b))",
    re.IGNORECASE,
)
_POSTPOSED_GAP = re.compile(r"[\s(,]*$")
_SENTENCE_BREAK = re.compile(r";|\.(?=\s+[A-Z])|\n")
_LIST_HEADER_END = re.compile(r"[ \t]*:")
_LIST_END = re.compile(r"\.(?=\s+[A-Z])|\n")


def _register_extensions() -> None:
    if not Doc.has_extension("criterion_conditions"):
        Doc.set_extension("criterion_conditions", default=None)


def temporal_conditions(text: str, start: int, end: int, quantities=None) -> list[Condition]:
    """Time windows in ``text[start:end]`` (offsets into ``text``).

    ``quantities``: the quantities already found in that range (offsets into ``text``); found
    again when not given.
    """
    out = []
    segment = text[start:end]
    if quantities is None:
        local = find_quantities(segment)
    else:
        local = [shifted(q, -start) for q in quantities if q.is_time]  # only time windows are read
    for q in local:
        if not q.is_time:
            continue
        cue = _TIME_CUE.search(segment, max(0, q.start - 40), q.start)
        anchor = _TIME_ANCHOR.match(segment, q.end)
        if cue is None and anchor is None:
            continue
        s = start + (cue.start() if cue else q.start)
        e = start + (anchor.end() if anchor and anchor.group("anchor").strip() else q.end)
        relation = "within"
        if anchor:
            rel = anchor.group("rel").lower()
            relation = "before" if rel in ("prior to", "before", "preceding", "ago") or rel.startswith("prior") else (
                "after" if rel in ("after", "following", "from", "since") else "within")
        if cue and cue.group().strip().lower().startswith(("for", "at least", "over")):
            relation = "duration"
        fields = {"relation": relation, "value": q.value, "value_high": q.value_high, "unit": q.unit,
                  "comparator": q.comparator or None,
                  "anchor": anchor.group("anchor").strip() if anchor and anchor.group("anchor").strip() else None}
        out.append(Condition("temporal", text[s:e], s, e, fields))
    for m in _AT_EVENT.finditer(segment):
        s, e = start + m.start(), start + m.end()
        if any(c.start <= s < c.end for c in out):
            continue
        out.append(Condition("temporal", text[s:e], s, e, {"relation": "at", "anchor": m.group("anchor")}))
    return out


def _span_condition(kind: str, text: str, m: re.Match, base: int, group: str) -> Condition:
    s, e = base + m.start(), base + m.end()
    return Condition(kind, text[s:e], s, e, {"description": m.group(group).strip()})


def _populations(text: str, start: int, end: int) -> list[Condition]:
    """Population conditions in ``text[start:end]``: "for patients with liver metastases", "in women";
    descriptions with no content word ("if they:", "if he/she has") are not populations."""
    segment = text[start:end]
    found = [_span_condition("population", text, m, start, "who") for m in _POPULATION.finditer(segment)]
    found = [c for c in found if any(w not in _NOT_A_POPULATION for w in re.findall(r"[\w/'-]+", c.fields["description"].lower()))]
    header = _SUBHEADER_POPULATION.fullmatch(segment)
    if header is not None:  # "For healthy controls:" over its own items
        found.append(_span_condition("population", text, header, start, "who"))
    for m in _GROUP_POPULATION.finditer(segment):
        s = start + m.start()
        if not any(c.start <= s < c.end for c in found):
            found.append(_span_condition("population", text, m, start, "who"))
    return sorted(found, key=lambda c: c.start)


def _scope_end(text: str, pos: int, end: int) -> int:
    """End of the parenthesis or sentence that contains ``pos``."""
    depth = 0
    for i in range(pos, end):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return i
            depth -= 1
        elif ch == ";" and depth == 0:
            return i
    return end


class ConditionFinder:
    def __init__(self, nlp: Language, name: str, inherit: bool):
        self.name = name
        self.inherit = inherit
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        rules_by_criterion: dict[str, list[Rule]] = doc._.rules or {}
        if not rules_by_criterion:
            return doc
        by_id = {info.id: info for _, info in criteria_of(doc)}
        parent_of = {cid: info.parent for cid, info in by_id.items()}
        # conditions matter in the criteria that hold rules and in their ancestors (inherited)
        needed = set()
        for cid in rules_by_criterion:
            while cid is not None and cid not in needed:
                needed.add(cid)
                cid = parent_of.get(cid) if self.inherit else None
        quantities_in: dict[int, list] = {}
        for q in span_values(doc, "quantities", doc._.quantities, lambda span: span._.quantity):
            quantities_in.setdefault(q.start, []).append(q)
        starts = sorted(quantities_in)
        inheritable: dict[str, list[Condition]] = {}
        for cid in needed:
            crit = by_id.get(cid)
            if crit is None:
                continue
            cs, ce = crit.start, crit.end
            crit_quantities = [q for k in starts[bisect_left(starts, cs):bisect_left(starts, ce)] for q in quantities_in[k]]
            temporal = temporal_conditions(text, cs, ce, crit_quantities)
            populations = _populations(text, cs, ce)
            inheritable[cid] = [c for c in temporal + populations
                                if not any(r.start <= c.start < r.end for r in rules_by_criterion.get(cid, []))]
            rules = rules_by_criterion.get(cid)
            if not rules:
                continue
            self._attach_temporal(text, cs, ce, rules, temporal)
            self._attach_scoped(text, cs, ce, rules, populations)
            exceptions = [_span_condition("exception", text, m, cs, "what") for m in _EXCEPTION.finditer(text[cs:ce])]
            self._attach_preceding(rules, exceptions, text, cs)
            self._attach_qualifiers(text, ce, rules)
        if self.inherit:
            for cid, rules in rules_by_criterion.items():
                parent = parent_of.get(cid)
                while parent is not None and parent in by_id:
                    for cond in inheritable.get(parent, []):
                        for rule in rules:
                            if not any(c.kind == cond.kind and c.start == cond.start for c in rule.conditions):
                                rule.conditions.append(Condition(cond.kind, cond.text, cond.start, cond.end,
                                                                 dict(cond.fields), inherited_from=parent))
                    parent = parent_of.get(parent)
        for rules in rules_by_criterion.values():
            for rule in rules:  # a condition found twice (its sentence and a list header) is one
                seen: set[tuple] = set()
                rule.conditions = [c for c in rule.conditions
                                   if (c.kind, c.start, c.end) not in seen and not seen.add((c.kind, c.start, c.end))]
        return doc

    @staticmethod
    def _attach_temporal(text, cs, ce, rules, temporal):
        headers = []
        for cond in temporal:
            if any(r.start <= cond.start and cond.end <= r.end for r in rules):
                continue  # the time expression is the rule itself
            # the rules of the same sentence
            left = max((m.end() for m in _SENTENCE_BREAK.finditer(text, cs, cond.start)), default=cs)
            right = next((m.start() for m in _SENTENCE_BREAK.finditer(text, cond.end, ce)), ce)
            for rule in rules:
                if left <= rule.start < right:
                    rule.conditions.append(cond)
            if _LIST_HEADER_END.match(text, cond.end):
                headers.append(cond)
        for cond in headers:
            # "... any of the following within 6 months prior to screening: A; B; C": the window of
            # the list's header holds for the items that have none of their own
            end = next((m.start() for m in _LIST_END.finditer(text, cond.end, ce)), ce)
            for rule in rules:
                if cond.end <= rule.start < end and not any(c.kind == "temporal" for c in rule.conditions):
                    rule.conditions.append(cond)

    @staticmethod
    def _attach_scoped(text, cs, ce, rules, populations):
        for cond in populations:
            # "≤ 5 x ULN if liver metastases", "≥ 13 g/dL in men, ≥ 12 g/dL in women": a population
            # right after a threshold is that threshold's (every rule of a shared value)
            scope_end = _scope_end(text, cond.end, ce)
            inside = [r for r in rules if cond.start <= r.start < scope_end]
            named_after = [r for r in inside if r.variable is not None and r.variable.start >= cond.end]
            before = [r for r in rules if r.end <= cond.start and _POSTPOSED_GAP.match(text, r.end, cond.start)]
            if before and not named_after:
                inside = [r for r in rules if r.end == before[-1].end]
            # else "for subjects with Gilbert's syndrome, ALT ≤ 5 x ULN": the rules up to the clause end
            for rule in inside:
                rule.conditions.append(cond)

    @staticmethod
    def _attach_preceding(rules, exceptions, text, cs):
        for cond in exceptions:
            before = [r for r in rules if r.end <= cond.start and not _SENTENCE_BREAK.search(text, r.end, cond.start)]
            if not before:
                continue
            last_end = before[-1].end
            for rule in rules:
                if rule.end == last_end:
                    rule.conditions.append(cond)

    @staticmethod
    def _attach_qualifiers(text, ce, rules):
        for rule in rules:
            m = _QUALIFIER.match(text, rule.end, ce)
            if m:
                s, e = m.span("q")
                rule.conditions.append(Condition("qualifier", text[s:e], s, e, {"description": text[s:e]}))


@Language.factory(
    "criteria_conditions",
    default_config={"inherit": True},
    requires=["doc._.rules", "doc._.criteria"],
)
def make_conditions(nlp: Language, name: str, inherit: bool) -> ConditionFinder:
    return ConditionFinder(nlp, name, inherit)
