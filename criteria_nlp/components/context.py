"""``criteria_context``: negation and hypothetical status of each rule via medspaCy ConText.

Wraps ``medspacy.context.ConText`` (default English rules) over the rule spans of
``doc.spans["criteria_rules"]`` and copies ``is_negated`` / ``is_hypothetical`` onto the rules.
ConText scopes modifiers by sentence: ``criteria_structure`` sets sentence starts cheaply, so
PyRuSH (slow, DEBUG-logging) is not needed.
"""
import json
import re
from bisect import bisect_right
from functools import lru_cache
from importlib import resources

import numpy
from spacy.language import Language
from spacy.tokens import Doc

from ._medspacy import ConText, ConTextGraph, ConTextModifier, ConTextRule, skip_empty_token_matcher
from ..serialization import FileBackedComponent, save_file, saved_file
from ._text import doc_text
from ._values import criteria_of
from .linker import RULE_SPAN_GROUP

RULES_FILE = "context_rules.json"

_NEGATION_WORDS = ("no ", "not ", "never ")
NEGATED_EXISTENCE = "NEGATED_EXISTENCE"  # the ConText category of a negation cue
EXCLUSION_LEAD_IN = "EXCLUSION_LEAD_IN"  # the ConText category of "will not be eligible if" (context_rules.json)
EXCLUSION_PREDICATE = "EXCLUSION_PREDICATE"  # ... and of "are excluded" after its subject, looking backward
EXCLUSION_CATEGORIES = frozenset({EXCLUSION_LEAD_IN, EXCLUSION_PREDICATE})
# a list header that negates its items: "None of the following within 6 months prior to entry:",
# "No of the following:"; ConText cannot see it, since every item is a sentence of its own
_NEGATING_LIST_HEADER = re.compile(r"\b(?:none|no)(?:[ \t]+of)?[ \t]+the[ \t]+following\b[^:;.\n]*:", re.IGNORECASE)
# a header that forbids what its items name: "No history of severe cardiac disease:", "No elevated blood
# pressure on 2 readings ..., i.e.:" (not a negated comparator: "No more than 2 of the following:"; not a
# header of exceptions: "No prior malignancies unless:"; not a paragraph whose last sentence is the header)
_NEGATING_HEADER = re.compile(
    r"[ \t]*(?:no|none|not)\b(?![ \t]+(?:more|less|greater|fewer|higher|lower|earlier|later|longer|shorter|older|"
    r"younger|than|exceeding|to[ \t]+exceed|below|above|over|under|worse|better)\b)"
    r"(?![^:]*\b(?:unless|except(?:[ \t]+for)?|other[ \t]+than|excluding)[ \t]*:)"
    r"(?![^:]*[.;][ \t\r\n]+(?-i:[A-Z(]))"  # one sentence: "No improvement in … entry. X is defined as:" is no header
    r"[^:]*:[ \t]*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _excluding_header() -> re.Pattern:
    """A header that excludes what its items name, outside an Exclusion section: it ends with an
    exclusion predicate and its colon (``Subjects with any of the following are excluded:``); the
    predicates are the ``EXCLUSION_PREDICATE`` cues of the packaged ``context_rules.json``."""
    data = json.loads(resources.files("criteria_nlp.resources").joinpath(RULES_FILE).read_text("utf-8"))
    phrases = sorted((r["literal"] for r in data["context_rules"] if r["category"] == EXCLUSION_PREDICATE),
                     key=len, reverse=True)
    words = "|".join(r"[ \t\r\n]+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(rf"\b(?:{words})[ \t]*:[ \t]*$", re.IGNORECASE)


def negated_comparator_rules() -> list[ConTextRule]:
    """Pseudo-modifiers for the comparator phrases written with a negation word (``no greater than``,
    ``not to exceed``), read from the grammar's ``comparators.json``: being longer than ``no`` they win
    the overlap, and a pseudo-modifier negates nothing, also where no number follows
    (``Bilirubin no greater than upper limit of normal``)."""
    data = json.loads(resources.files("criteria_nlp.resources").joinpath("comparators.json").read_text("utf-8"))
    phrases = sorted({p for group in ("prefix", "postfix") for ps in data[group].values() for p in ps
                      if p.lower().startswith(_NEGATION_WORDS)})
    return [ConTextRule(p, "NEGATED_COMPARATOR", direction="PSEUDO") for p in phrases]


class RuleContext(FileBackedComponent):
    def __init__(self, nlp: Language, name: str, rules: str):
        self.name = name
        self._nlp = nlp
        self.rules_path = rules
        if rules == "default":
            self._load(rules)
        else:
            self._load_when_present(rules)

    def _load(self, rules: str) -> None:
        """``rules``: a ConText rules file, or ``"default"`` for medspaCy's default English rules."""
        self.context = ConText(
            self._nlp, name=f"{self.name}_medspacy", rules=rules,
            input_span_type="group", span_group_name=RULE_SPAN_GROUP,
            # a cue inside a rule is part of its comparator ("no greater than 2.0 mg/dL" is <= 2.0,
            # "not more than", "no less than"): it negates nothing
            prune_on_target_overlap=True,
        )
        self.rules_path = self.context.DEFAULT_RULES_FILEPATH if rules == "default" else rules
        skip_empty_token_matcher(self.context._ConText__matcher)
        self.context.add(negated_comparator_rules())

    def to_disk(self, path, *, exclude=tuple()) -> None:
        save_file(path, self.rules_path, RULES_FILE)

    def from_disk(self, path, *, exclude=tuple()) -> "RuleContext":
        saved = saved_file(path, RULES_FILE)
        if saved is not None:
            self._load_when_present(str(saved))
        return self

    def __call__(self, doc: Doc) -> Doc:
        self._require_data()
        spans = doc.spans[RULE_SPAN_GROUP] if RULE_SPAN_GROUP in doc.spans else []
        if not len(spans):
            return doc
        matcher = getattr(self.context, "_ConText__matcher", None)
        if matcher is None or self.context.max_scope:
            self.context(doc)  # another medspaCy version, or windows instead of sentences: the whole doc
        else:
            self._context_by_sentence(doc, spans, matcher)
        for span in spans:
            ext = span._  # one Underscore per span, not one per attribute
            rule = ext.rule
            if rule is not None:
                rule.negated = bool(ext.is_negated) and (
                    not rule.conditions or _negated_outside_conditions(doc, ext.modifiers, rule))
                rule.hypothetical = bool(ext.is_hypothetical)
        _state_exclusion_lead_ins(doc, spans)
        _share_status_of_same_span(doc, spans)
        _negate_under_negating_headers(doc)
        return doc


    def _context_by_sentence(self, doc: Doc, targets, matcher) -> None:
        """medspaCy's ConText algorithm, one graph per sentence that holds a rule.

        ConText scopes every modifier to its sentence, so modifiers and targets of different
        sentences never meet; its graph, though, compares every modifier with every other one and
        with every target of the document (quadratic in long criteria texts). Building the graph
        per sentence gives the same edges, and modifiers of sentences without rules are not built.
        """
        starts = numpy.flatnonzero(doc.to_array("SENT_START") == 1).tolist() or [0]
        targets_in: dict[int, list] = {}
        for target in targets:
            first = max(bisect_right(starts, target.start) - 1, 0)
            last = max(bisect_right(starts, target.end - 1) - 1, first)
            for k in range(first, last + 1):  # a rule that crosses a sentence start is in both
                targets_in.setdefault(k, []).append(target)
        modifiers_in: dict[int, list] = {}
        for match_id, start, end in matcher(doc):
            k = max(bisect_right(starts, start) - 1, 0)
            if k in targets_in:
                rule = matcher.rule_map[doc.vocab[match_id].text]
                modifier = ConTextModifier(rule, start, end, doc, max_scope=self.context.max_scope)
                sentence_end = starts[k + 1] if k + 1 < len(starts) else len(doc)
                inside = _parenthesis_around(doc, start, end, starts[k], sentence_end)
                if inside is not None:  # "(no liver metastases)": a cue in parentheses stays in them
                    modifier.update_scope(inside)
                modifiers_in.setdefault(k, []).append(modifier)
        for k, sentence_targets in targets_in.items():
            graph = ConTextGraph(prune_on_modifier_overlap=self.context.prune_on_target_overlap)
            graph.targets = sentence_targets
            graph.modifiers = modifiers_in.get(k, [])
            graph.update_scopes()
            graph.apply_modifiers()
            for target, modifier in graph.edges:
                target._.modifiers += (modifier,)
            if self.context.context_attributes_mapping:
                self.context.set_context_attributes(graph.edges)


def _parenthesis_around(doc: Doc, start: int, end: int, sentence_start: int, sentence_end: int):
    """The tokens inside the parentheses that enclose tokens ``start:end`` within their sentence
    (tokens ``sentence_start:sentence_end``), or None."""
    depth, open_at = 0, None
    for i in range(start - 1, sentence_start - 1, -1):
        text = doc[i].text
        if text == ")":
            depth += 1
        elif text == "(":
            if depth == 0:
                open_at = i
                break
            depth -= 1
    if open_at is None:
        return None
    depth = 0
    for i in range(end, sentence_end):
        text = doc[i].text
        if text == "(":
            depth += 1
        elif text == ")":
            if depth == 0:
                return doc[open_at + 1:i]
            depth -= 1
    return None


def _share_status_of_same_span(doc: Doc, spans) -> None:
    """Rules written on the same characters (the two of a value pair, ``blood pressure ≥ 150/100 mm
    Hg``) have one span, whose ``span._.rule`` is the last of them: the others take its status."""
    status = {}
    for span in spans:
        rule = span._.rule
        if rule is not None:
            status[(rule.start, rule.end)] = (rule.negated, rule.hypothetical)
    for rules in (doc._.rules or {}).values():
        for rule in rules:
            rule.negated, rule.hypothetical = status.get((rule.start, rule.end), (rule.negated, rule.hypothetical))


def _negated_outside_conditions(doc: Doc, modifiers, rule) -> bool:
    """Whether a negation cue of ``modifiers`` lies outside the rule's own conditions: a cue inside
    one negates the condition, not the threshold (``If no CK-MB was drawn, excluded with CK > 2 x
    ULN``: the population is "no CK-MB drawn", the rule is not negated)."""
    cues = [m for m in modifiers if m.category == NEGATED_EXISTENCE]
    if not rule.conditions:
        return bool(cues)
    spans = [(c.start, c.end) for c in rule.conditions if c.inherited_from is None]
    for cue in cues:
        start, end = cue.modifier_span
        first, last = doc[start].idx, doc[end - 1].idx + len(doc[end - 1])
        if not any(s <= first and last <= e for s, e in spans):
            return True
    return False


def _sections_of_rules(doc: Doc) -> dict[int, str | None]:
    """``{id(rule): section of its criterion}`` for the rules of ``doc._.rules``."""
    section_of = {info.id: info.section for _, info in criteria_of(doc)}
    return {id(rule): section_of.get(cid) for cid, rules in (doc._.rules or {}).items() for rule in rules}


# what may follow an exclusion predicate that ends its clause: "are excluded.", "are not eligible for
# participation in the trial.", "will be excluded from the study;"
_PREDICATE_END = re.compile(
    r"[ \t]*(?:(?:from|for|in|to)[ \t]+(?:(?:participation|entry|enrol?lment|inclusion|randomi[sz]ation)[ \t]+"
    r"(?:in(?:to)?[ \t]+)?)?(?:the|this|our)[ \t]+(?:study|trial|protocol|research)[ \t]*)?(?:[.;:)]|\r?\n|$)",
    re.IGNORECASE)
_RELATIVE_PRONOUN_BEFORE = re.compile(r"\b(?:who|that|which)[ \t]+$", re.IGNORECASE)


def _ends_its_clause(doc: Doc, text: str, modifier) -> bool:
    """Whether an exclusion predicate (``are excluded``, ``are not eligible``) is the verb of its
    criterion's clause: it ends the clause (``Patients with ... are not eligible for the trial.``), and
    is no relative clause (``Patients aged > 49 years who are not eligible for transplantation``)."""
    start, end = modifier.modifier_span
    first = doc[start].idx
    last = doc[end - 1].idx + len(doc[end - 1])
    return _PREDICATE_END.match(text, last) is not None and not _RELATIVE_PRONOUN_BEFORE.search(text, max(0, first - 8), first)


def _state_exclusion_lead_ins(doc: Doc, spans) -> None:
    """Rules in the scope of an exclusion lead-in (``will not be eligible if``, ``ineligible if``,
    ``excluded if``; category ``EXCLUSION_LEAD_IN``) or of an exclusion predicate after them
    (``Subjects with QTc > 500 ms are excluded``; ``EXCLUSION_PREDICATE``): under an Exclusion section they are exclusion
    items as written, so not negated unless another cue negates them; elsewhere the lead-in forbids
    the threshold state, so they are negated (the README's definition of ``negated``)."""
    text = doc_text(doc)
    led = [span for span in spans if span._.rule is not None
           and any(m.category == EXCLUSION_LEAD_IN or m.category == EXCLUSION_PREDICATE and _ends_its_clause(doc, text, m)
                   for m in span._.modifiers)]
    if not led:
        return
    section_of = _sections_of_rules(doc)
    for span in led:
        rule = span._.rule
        negating = _negated_outside_conditions(doc, span._.modifiers, rule)
        rule.negated = negating or section_of.get(id(rule)) != "exclusion"


def _negate_under_negating_headers(doc: Doc) -> None:
    """The rules of a ``None of the following ...:`` header's items are negated: its descendant
    criteria, and the run-in text after its colon (``Cardiovascular: None of the following:
    Unstable angina Left ventricular ejection fraction less than 30% ...``); so are the items of a
    header that starts with a negation and ends with its colon (``No history of severe cardiac
    disease:``), and outside an Exclusion section those of a header that excludes them (``Subjects
    with moderate asthma defined by one of these features are excluded:``)."""
    rules_by_criterion = doc._.rules or {}
    if not rules_by_criterion:
        return
    text = doc_text(doc)
    parent_of, header_end = {}, {}
    for _, info in criteria_of(doc):
        parent_of[info.id] = info.parent
        m = _NEGATING_LIST_HEADER.search(text, info.start, info.end)
        if m:
            header_end[info.id] = m.end()
        elif _NEGATING_HEADER.fullmatch(text, info.start, info.end) or (
                info.section != "exclusion" and _excluding_header().search(text, info.start, info.end)):
            header_end[info.id] = info.end
    if not header_end:
        return
    for cid, rules in rules_by_criterion.items():
        ancestor = cid
        while ancestor is not None and ancestor not in header_end:
            ancestor = parent_of.get(ancestor)
        if ancestor is None:
            continue
        for rule in rules:
            if ancestor != cid or rule.start >= header_end[cid]:
                rule.negated = True
