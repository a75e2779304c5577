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
import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from spacy.language import Language
from spacy.tokens import Doc

from ._groups import (NO_VERB, discourse_labels, group_head, group_labels, names_a_group, other_person_noun,
                      other_person_subject, requiring_header, site_noun)
from ._text import doc_text
from ._values import criteria_of, span_values

from ..contract import Condition, Rule
from ..quantities.grammar import find_quantities, lexicon as quantity_lexicon, shifted

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
    r"\b(?:at|during|upon)[ \t]+(?:the[ \t]+(?:time[ \t]+of[ \t]+)?)?(?P<anchor>screen(?:ing)?|baseline|enrol?lment|randomi[sz]ation|study[ \t]+entry|entry|inclusion|registration)\b",
    re.IGNORECASE,
)
# the description ends at punctuation, a modal, "or", or an "and" before another value ("in patients
# weighing at least 45 kg and measured creatinine clearance at least 50 mL/min in ...")
_POPULATION = re.compile(
    r"\b(?:(?:for|in)[ \t]+(?:(?:subjects|patients|participants|those|individuals|people|persons|women|men|cases|children|adults)[ \t]+)?"
    r"(?:with\b|(?=without\b)|who[ \t]+have|who[ \t]+are|having|known[ \t]+to[ \t]+have|weighing)"  # "without X" describes them
    r"|(?:for|in)[ \t]+(?:subjects|patients|participants|those|individuals|people|persons|women|men|children|adults)[ \t]+"
    r"(?=(?:receiving|undergoing|treated|taking|on|older|younger)\b)"  # "for patients receiving transfusions"
    r"|if[ \t]+(?:(?:the[ \t]+)?(?:subjects?|patients?|participants?)[ \t]+(?:has|have|is|are|with)[ \t]+)?(?:there[ \t]+(?:is|are)[ \t]+)?"
    r"|in[ \t]+(?:the[ \t]+)?(?:presence|case|setting)[ \t]+of|in[ \t]+case[ \t]+of)"
    r"(?P<who>[ \t]*[^,;():\s](?:(?!\.\s+[A-Z])[^,;():]){1,80}?)(?=[ \t]*(?:[,;():]|\.?[ \t]*$|\.\s+[A-Z]|\bor\b|\bmay\b|\bmust\b|\bshould\b"
    r"|(?<=\S)[ \t]+and\b(?=[^,;():]*?\d)))",
    re.IGNORECASE,
)
# populations named by sex or age group: "≥ 13 g/dL in men", "for women", "(males)", "(female: ≥ 50 kg)",
# "in children" ("Men aged 50 or more" is two requirements, not a population)
_GROUP_WORDS = (r"(?:(?:wo)?men|(?:wo)?man|males?|females?|boys?|girls?|children|child|adults|adolescents?|infants?|"
                r"neonates?|elderly|pre-?menopausal[ \t]+women|post-?menopausal[ \t]+women)")
_GROUP_POPULATION = re.compile(
    rf"(?:\b(?:for|in)[ \t]+(?:(?:the|all)[ \t]+)?|(?P<open>\()(?=[ \t]*{_GROUP_WORDS}[ \t]*[):]))"
    rf"(?P<who>[ \t]*{_GROUP_WORDS})\b(?(open)(?:\)|[ \t]*:))",
    re.IGNORECASE,
)
# "(≥ 1.5 and ≥ 1.4 mg/dL) in males and females respectively": one group for each threshold before it
_RESPECTIVE_GROUPS = re.compile(
    rf"\b(?:for|in)[ \t]+(?P<first>{_GROUP_WORDS})[ \t]*(?:,|and|or)[ \t]+(?:(?:for|in)[ \t]+)?(?P<second>{_GROUP_WORDS}),?[ \t]+respectively\b",
    re.IGNORECASE,
)
# a group named by its members' kind: "for healthy volunteers", "in current smokers"
_GROUP_NOUN_PHRASE = re.compile(
    r"\b(?:for|in|among)[ \t]+(?:the[ \t]+)?(?P<who>[^\W\d][\w-]*(?:[ \t]+[^\W\d][\w-]*)?[ \t]+"
    r"(?:volunteers|controls|subjects|patients|participants|individuals|people|persons|smokers|users))\b",
    re.IGNORECASE,
)
# a criterion that names its subjects by a condition: "Diabetic subjects with HbA1c > 8 %",
# "Subjects with diabetes must have HbA1c < 8.0", "Patients who have shortness of breath with minimal
# exertion and who are at risk ... will not be eligible if ...", "Patients at increased risk for
# coronary artery disease (e.g., ...) will undergo ...", "Patients unable to complete pulmonary function
# tests must have ... PO2 greater than 70" (the subject up to its verb, maybe after a
# parenthesis, or up to a second relative clause)
_SUBJECTS = r"(?:subjects|patients|participants|individuals|people|persons|women|men|children|adults)"
_SUBJECT_POPULATION = re.compile(
    rf"^[ \t]*(?:(?!{_GROUP_WORDS}\b)(?P<adjective>[^\W\d][\w-]*)[ \t]+{_SUBJECTS}[ \t]+(?:with|who|having)\b"
    rf"|{_SUBJECTS}[ \t]+with[ \t]+(?P<who>[^,;():]{{2,60}}?)[ \t]+(?:must|should|shall|need[ \t]+to)[ \t]+(?:have|be)\b"
    rf"|{_SUBJECTS}[ \t]+(?P<subject>(?:who|with|having|at|(?:not[ \t]+)?(?:un)?able[ \t]+to|intolerant[ \t]+(?:of|to)|unwilling[ \t]+to)\b[^,;():]{{2,80}}?)"
    rf"(?=(?:[ \t]*\([^()]*\))?\s+(?:and[ \t]+who|will|must|should|shall|may|are|is)\b))",
    re.IGNORECASE,
)
# a sex or age group that is the subject of its criterion: "Men with elevated PSA no greater than 10 ... are
# eligible" (the threshold is in the group's description, the group is the population)
_GROUP_SUBJECT = re.compile(rf"^[ \t]*(?:[^\W\d][\w ]{{0,30}}:\s*)?(?P<who>{_GROUP_WORDS})(?=[ \t]+with\b)", re.IGNORECASE)
# ... when the criterion allows the group in ("are eligible", "may be enrolled"); "Women with PCOS defined by
# ..." in an inclusion list is a requirement, not a subgroup
_ALLOWANCE = re.compile(r"\b(?:are|is|remain|will[ \t]+be|may[ \t]+be|can[ \t]+be)[ \t]+(?:also[ \t]+)?"
                        r"(?:eligible|allowed|permitted|acceptable|included|enrolled)\b", re.IGNORECASE)
# a sub-header that names the population of the items under it: "For healthy controls:",
# "Patients without treatment response:"
_LABEL_OF_A_POPULATION = (rf"[ \t]*(?:(?:for|in|among)[ \t]+|(?={_SUBJECTS}[ \t]+(?:with|without|who|having|receiving|undergoing)\b))"
                          r"(?P<who>[^:;,.()\n]{2,60}?)[ \t]*:")
_SUBHEADER_POPULATION = re.compile(_LABEL_OF_A_POPULATION + r"[ \t]*", re.IGNORECASE)
# ... and opening a criterion before what it requires: "For stage III disease: WBC at least 3,000/mm3"
_LEADING_LABEL = re.compile(_LABEL_OF_A_POPULATION, re.IGNORECASE)
# a sub-header that announces its items names no population: "Patients with the following symptoms or
# conditions are excluded:", "Patients with any of the following prior conditions will be excluded:"
_ANNOUNCES_A_LIST = re.compile(r"\bthe[ \t]+following\b", re.IGNORECASE)
# what a population description must say more than: pronouns, auxiliaries, list boilerplate
# ("... may be eligible if they:", "if he/she has", "must meet all of the following criteria:")
_NOT_A_POPULATION = frozenset(
    "they he she he/she it you your we who has have had is are be been meet meets met all any one of the following "
    "criteria criterion below above these those this that either both and or eligible such other all "
    "enrolled study selected adult patients subjects participants no not none any some only each every".split())
_EXCEPTION = re.compile(
    r"\b(?:except(?:[ \t]+(?:for|in|when|if))?|unless|excluding|with[ \t]+the[ \t]+exception[ \t]+of|other[ \t]+than)"
    r"(?P<what>[ \t]+[^,;()]{2,80}?)(?=[ \t]*(?:[,;()]|$))",
    re.IGNORECASE,
)
_QUALIFIER = re.compile(
    r"[ \t]*(?P<q>(?:with|without|despite|requiring|not[ \t]+requiring|while[ \t]+on|on[ \t]+(?:stable|a[ \t]+stable)|"
    r"in[ \t]+the[ \t]+(?:absence|presence)[ \t]+of|after|off|at[ \t]+rest|on[ \t]+room[ \t]+air|on[ \t]+supplemental|"
    r"in[ \t]+(?:a[ \t]+)?(?:non-?[ \t]?oxygenated|resting|fasting|supine|sitting|seated|standing)|in[ \t]+room[ \t]+air)"
    r"\b[^,;()]{0,60}?)(?=[ \t]*(?:[,;()]|$|\bor\b|\band\b))",
    re.IGNORECASE,
)
# "will not be eligible if ...", "are excluded if ...", "were eligible for entry into the study if ...": the
# clause states the criterion itself (a short phrase of what they are eligible for may come between)
_ELIGIBILITY_VERB_BEFORE = re.compile(
    r"\b(?:eligible|ineligible|excluded|included|enrolled|enrollable|qualify|qualifies)"
    r"(?:[ \t]+(?:for|from|in|into|to)\b[^,;:.()\d]{1,50}?)?[ \t]*$", re.IGNORECASE)
_COMMA_AFTER_NAME = re.compile(r"[ \t]*,")
# between a value and the population written after it: nothing, a parenthesis or a comma, or a word of
# allowance ("SWOG 0-2 (3-4 acceptable if based solely on bone pain)", "ECOG 2 allowed if due to pain")
_POSTPOSED_GAP = re.compile(r"[\s(,]*(?:(?:is|are|also)[ \t]+)?(?:(?:acceptable|allowed|permitted|tolerated)[ \t]+)?$",
                            re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r";|\.(?=\s+[A-Z])|\n")
# a sentence end; a next sentence about the same subjects ("Their HbA1c must be < 8.0%", "Those who have ...")
# goes on with them
_FULL_STOP = re.compile(r"\.(?=\s+(?!(?:Their|They|Those|These|Such)\b)[A-Z])")
_LIST_HEADER_END = re.compile(r"[ \t]*:")
_LIST_END = re.compile(r"\.(?=\s+[A-Z])|\n")


# an event's noun phrase after an opener ("at the time of admission on trauma department" → "admission"):
# words up to punctuation, a conjunction, a preposition or a verb-like function word
_ANCHOR_WORDS = (r"(?P<anchor>(?:[ \t]+(?!(?:and|or|but|with|without|if|unless|is|are|was|were|be|been|must|should|may|will|"
                 r"can|has|have|had|who|which|that|to|in|on|at|by|for|from|of|as|than|per|the)\b)[^\W\d][\w/'-]*){1,4})")


_LIST_BOILERPLATE = re.compile(r"\bthe[ \t]+$", re.IGNORECASE)
# a conjunction that opens a clause, and the verb after the clause's subject
_CLAUSE_OPENER = re.compile(r"when|while", re.IGNORECASE)
_VERB_AFTER_SUBJECT = re.compile(r"[ \t]+(?:is|are|was|were|has|have|had|be|been|becomes?|became)\b", re.IGNORECASE)
# the subject of a "while" clause ("while the patient is on bedrest")
_SUBJECT = r"(?:patient|subject|participant|person|individual|child|infant|woman|man|he|she|they)s?"


@dataclass(frozen=True)
class _TemporalCues:
    """The compiled patterns of ``resources/temporal_cues.json``."""

    event_after_opener: re.Pattern
    opener_relation: dict[str, str]
    event_after_preposition: re.Pattern
    preposition_relation: dict[str, str]
    prefixed_event: re.Pattern
    prefix_relation: dict[str, str]
    status: re.Pattern
    status_relation: dict[str, str]
    state_relations: frozenset[str]
    period: re.Pattern
    period_before: re.Pattern
    period_unit: dict[str, str]
    ongoing_after_on: re.Pattern


def _alternatives(phrases) -> str:
    return "|".join(p.replace(" ", r"[ \t]+") for p in sorted(phrases, key=len, reverse=True))


@lru_cache(maxsize=1)
def temporal_cues() -> _TemporalCues:
    data = json.loads(resources.files("criteria_nlp.resources").joinpath("temporal_cues.json").read_text(encoding="utf-8"))
    events = "|".join(data["event_nouns"])
    openers = data["event_openers"]
    prepositions = data["event_prepositions"]
    prefixes = data["prefix_relations"]
    periods = data["period_units"]
    return _TemporalCues(
        event_after_opener=re.compile(
            rf"\b(?P<rel>{_alternatives(openers)})(?:[ \t]+(?:(?:the|a)[ \t]+)?{_SUBJECT}[ \t]+(?:is|are)(?:[ \t]+(?:on|in|under))?)?"
            rf"(?:[ \t]+(?:the|each|every|a|an|his|her|their))?{_ANCHOR_WORDS}", re.IGNORECASE),
        opener_relation={" ".join(k.split()): v for k, v in openers.items()},
        event_after_preposition=re.compile(
            rf"\b(?P<rel>{_alternatives(prepositions)})(?:[ \t]+(?:the|each|every|a|an|his|her|their))?"
            rf"(?P<anchor>(?:[ \t]+(?:[^\W\d][\w'-]*|\d+(?:st|nd|rd|th))){{0,2}}?[ \t]+(?:{events}))\b", re.IGNORECASE),
        preposition_relation={" ".join(k.split()): v for k, v in prepositions.items()},
        prefixed_event=re.compile(
            rf"\b(?P<rel>{'|'.join(prefixes)})(?:[-\u2010 \t]?(?P<anchor>(?:{'|'.join(data['prefixed_roots'])})\w*)"
            rf"|[-\u2010](?P<word>{events}))\b", re.IGNORECASE),
        prefix_relation=prefixes,
        status=re.compile(rf"\b(?P<rel>{_alternatives(data['status_words'])})\b", re.IGNORECASE),
        status_relation={" ".join(k.split()): v for k, v in data["status_words"].items()},
        state_relations=frozenset(data["status_words"].values()),
        period=re.compile(
            rf"\b(?:(?:in|during|within|over|for)[ \t]+)?(?:the[ \t]+)?(?P<rel>past|last|previous|preceding|prior)"
            rf"(?:[ \t]+(?P<number>[^\W\d_]+|\d+))?[ \t]+(?P<unit>{'|'.join(periods)})s?\b", re.IGNORECASE),
        period_before=re.compile(
            rf"\b(?:(?:in|during|within|over)[ \t]+)?the[ \t]+(?P<unit>{'|'.join(periods)})[ \t]+(?P<rel>prior[ \t]+to|before|preceding)"
            rf"{_ANCHOR_WORDS}", re.IGNORECASE),
        period_unit=periods,
        ongoing_after_on=re.compile(rf"\b(?:{'|'.join(data['ongoing_after_on'])})$", re.IGNORECASE),
    )


@lru_cache(maxsize=1)
def _worded_window_re() -> re.Pattern:
    """A window whose number is a word ("for one month prior to study", "within six months of entry",
    "during the past two years"); the grammar reads a number word only after a comparator."""
    words = sorted(quantity_lexicon().number_words, key=len, reverse=True)
    units = "|".join(temporal_cues().period_unit)
    return re.compile(
        rf"\b(?:(?P<cue>within|for|during)|(?:in|over)(?=[ \t]+the[ \t]+(?:last|past|previous|preceding)))"
        rf"[ \t]+(?:the[ \t]+(?:last|past|previous|preceding)[ \t]+)?"
        rf"(?P<number>{'|'.join(map(re.escape, words))})[ \t]+(?P<unit>{units})s?\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _period_of_re() -> re.Pattern:
    """A period a value is measured over: "over a six month period", "over a 1-year period"."""
    words = sorted(quantity_lexicon().number_words, key=len, reverse=True)
    units = "|".join(temporal_cues().period_unit)
    return re.compile(
        rf"\b(?:over|during|in)[ \t]+(?:a|an|the)[ \t]+(?P<number>\d+(?:\.\d+)?|{'|'.join(map(re.escape, words))})"
        rf"[ \t-]+(?P<unit>{units})s?[ \t-]+(?:period|interval|span|time[ \t]+frame)\b", re.IGNORECASE)


def _periods_of(segment: str, base: int) -> list[Condition]:
    """Durations a value is measured over ("at least once a week over a six month period")."""
    out = []
    for m in _period_of_re().finditer(segment):
        number = m.group("number")
        value = float(number) if number[0].isdigit() else quantity_lexicon().number_words.get(number.lower())
        if value is None or value <= 0:
            continue
        fields = {"relation": "duration", "value": value, "value_high": None, "comparator": None, "anchor": None,
                  "unit": temporal_cues().period_unit[m.group("unit").lower()]}
        out.append(Condition("temporal", m.group(), base + m.start(), base + m.end(), fields))
    return out


def _worded_windows(segment: str, base: int) -> list[Condition]:
    cues = temporal_cues()
    out = []
    for m in _worded_window_re().finditer(segment):
        value = quantity_lexicon().number_words.get(m.group("number").lower())
        if value is None or value <= 0:
            continue
        end = m.end()
        anchor = _TIME_ANCHOR.match(segment, end)
        relation = "duration" if (m.group("cue") or "").lower() == "for" else "within"
        if anchor and anchor.group("anchor").strip():
            end = anchor.end()
            rel = anchor.group("rel").lower()
            relation = "before" if rel in ("prior to", "before", "preceding", "ago") or rel.startswith("prior") else (
                "after" if rel in ("after", "following", "from", "since") else relation)
        fields = {"relation": relation, "value": value, "value_high": None,
                  "unit": cues.period_unit[m.group("unit").lower()], "comparator": None,
                  "anchor": anchor.group("anchor").strip() if anchor and anchor.group("anchor").strip() else None}
        out.append(Condition("temporal", segment[m.start():end], base + m.start(), base + end, fields))
    return out


def _is_state(cond: Condition) -> bool:
    """A state of time with no window ("current", "recent", "history of"): it qualifies the rules
    after it in its sentence, and a rule with a numeric window needs none."""
    return cond.kind == "temporal" and "value" not in cond.fields and cond.fields.get("relation") in temporal_cues().state_relations


def _event_conditions(segment: str, base: int) -> list[Condition]:
    """Temporal conditions without a number in ``segment`` (offsets shifted by ``base``): events
    ("at the time of surgery", "upon admission", "preoperative", "after remission"), states of time
    ("current", "recent", "history of"; see :func:`_is_state`) and periods named by a word ("in the past month")."""
    cues = temporal_cues()
    out: list[Condition] = _periods_of(segment, base)
    out += [c for c in _worded_windows(segment, base) if not any(o.start < c.end and c.start < o.end for o in out)]

    def add(m: re.Match, relation: str, **fields) -> None:
        s, e = base + m.start(), base + m.end()
        if not any(c.start < e and s < c.end for c in out):
            out.append(Condition("temporal", segment[m.start():m.end()], s, e, {"relation": relation, **fields}))

    for m in cues.period.finditer(segment):
        number = m.group("number")
        value = 1.0 if number is None else (float(number) if number.isdigit() else quantity_lexicon().number_words.get(number.lower()))
        if value is not None:
            add(m, "within", value=value, value_high=None, unit=cues.period_unit[m.group("unit").lower()], comparator=None, anchor=None)
    for m in cues.period_before.finditer(segment):
        add(m, "before", value=1.0, value_high=None, unit=cues.period_unit[m.group("unit").lower()], comparator=None,
            anchor=m.group("anchor").strip())
    for m in cues.event_after_opener.finditer(segment):
        if _CLAUSE_OPENER.fullmatch(m.group("rel")) and _VERB_AFTER_SUBJECT.match(segment, m.end()):
            continue  # "when the involved eye was known to ...": the subject of a clause, not an event
        add(m, cues.opener_relation[" ".join(m.group("rel").lower().split())], anchor=m.group("anchor").strip())
    for m in cues.event_after_preposition.finditer(segment):
        if _LIST_BOILERPLATE.search(segment, 0, m.start()):
            continue  # "the following prior treatment": a list header, not an event
        if m.group("rel").lower() == "on" and cues.ongoing_after_on.search(m.group("anchor")):
            continue  # "on current medical therapy": a treatment the patient is on, not a time point
        add(m, cues.preposition_relation[" ".join(m.group("rel").lower().split())], anchor=m.group("anchor").strip())
    for m in cues.prefixed_event.finditer(segment):
        add(m, cues.prefix_relation[m.group("rel").lower()], anchor=m.group("anchor") or m.group("word"))
    for m in cues.status.finditer(segment):
        add(m, cues.status_relation[" ".join(m.group("rel").lower().split())])
    return out


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
    for cond in _event_conditions(segment, start):
        if not any(c.start < cond.end and cond.start < c.end for c in out):
            out.append(cond)
    return sorted(out, key=lambda c: c.start)


@lru_cache(maxsize=1)
def _site_population_re() -> re.Pattern:
    """Where a limit holds, named after it: "for the lymph nodes located in the neck", "for other
    localizations", "for liver metastases" (group ``who``; a bare "for tumor" is none), or an institution's
    acronym of four to six capitals after ``at`` ending its clause ("1.95 mg/dL at MSKCC", group ``site``;
    not a method, "at MRI")."""
    return re.compile(
        rf"\b(?i:for)[ \t]+(?P<who>(?:(?i:the|other|these|those)[ \t]+(?:{_SITE_MODIFIER}){{0,2}}?|(?:{_SITE_MODIFIER}){{1,2}}?)"
        rf"(?:{site_noun().pattern})\b(?:(?!{_VERB})[^,;():]){{0,80}}?)"
        r"(?=[ \t]*(?:[,;():]|\.?[ \t]*$|\b(?i:or)\b|(?<=\S)[ \t]+(?i:and)\b(?=[^,;():]*?\d)|[ \t]+" + _VERB + r"))"
        r"|\bat[ \t]+(?:the[ \t]+)?(?P<site>[A-Z]{4,6})(?=[ \t]*(?:[),;]|$))")


# a word before a site's noun ("liver lesions", "clinically palpable lymph nodes"); not a quantifier ("for
# all the sites" names every site)
_SITE_MODIFIER = r"(?!(?i:all|each|any|every|both|the)\b)[^\W\d][\w-]*[ \t]+"
# a verb ends the site's description ("for tumor are eligible")
_VERB = r"\b(?i:are|is|was|were|be|been|will|must|may|should|can|has|have|had)\b"


# what may stand between a value and the site it holds for: "greater than 2 cm at the largest diameter for ..."
_SITE_GAP = re.compile(r"[\s(,]*(?:(?:at|in|on|by|of)[ \t]+(?:(?:the|its)[ \t]+)?(?:[^\W\d][\w-]*[ \t]+){0,2}"
                       r"[^\W\d][\w-]*[ \t]*)?$", re.IGNORECASE)


def _site_populations(text: str, start: int, end: int) -> list[Condition]:
    """Sites a limit holds for, written after it (see :func:`_site_population_re`); a reference limit's
    abbreviation ("at ULN") is none."""
    out = []
    for m in _site_population_re().finditer(text, start, end):
        group = "who" if m.group("who") else "site"
        if group == "site" and m.group("site").lower() in quantity_lexicon().relative_names:
            continue
        out.append(Condition("population", m.group(), m.start(), m.end(), {"description": m.group(group).strip()}))
    return out


def _attach_sites(text: str, rules: list[Rule], sites: list[Condition]) -> None:
    """A site holds for the value right before it, in its clause ("Tumor must be greater than 2 cm at the
    largest diameter for the lymph nodes located in the neck and at least 0.5 cm for other localizations":
    one site each). Only a measured value has a site: "no more than 2 prior regimens for liver metastases"
    names what the regimens were for."""
    for cond in sites:
        before = [r for r in rules if r.end <= cond.start and _SITE_GAP.match(text, r.end, cond.start)
                  and (r.unit is not None or r.relative_to is not None)]
        if not before:
            continue
        for rule in rules:
            if rule.end == before[-1].end and not any(c.kind == "population" and c.start == cond.start for c in rule.conditions):
                rule.conditions.append(cond)


def _span_condition(kind: str, text: str, m: re.Match, base: int, group: str) -> Condition:
    s, e = base + m.start(), base + m.end()
    return Condition(kind, text[s:e], s, e, {"description": m.group(group).strip()})


def _populations(text: str, start: int, end: int) -> list[Condition]:
    """Population conditions in ``text[start:end]``: "for patients with liver metastases", "in women";
    descriptions with no content word ("if they:", "if he/she has") are not populations, nor is the
    ``if`` clause of an eligibility verb ("will be ineligible if the WBC is less than 3000")."""
    segment = text[start:end]
    found = [_span_condition("population", text, m, start, "who") for m in _POPULATION.finditer(segment)
             if not _ELIGIBILITY_VERB_BEFORE.search(segment, 0, m.start())]
    found = [c for c in found if _has_content_word(c)]
    header = _SUBHEADER_POPULATION.fullmatch(segment) or _leading_label(segment)
    if header is None:
        header = _group_header(segment)
        if header is not None and not _has_content_word(_span_condition("population", text, header, start, "who")):
            header = None  # "Patients must have:", "Patients:" name nobody in particular
    if header is not None and any(c.start <= start + header.start("who") < c.end for c in found):
        pass  # "For patients treated at MSKCC: ...": found as "for patients treated ..." already
    elif header is not None and not _ANNOUNCES_A_LIST.search(header.group("who")):  # "For healthy controls:"
        found.append(_span_condition("population", text, header, start, "who"))
    elif header is not None:  # "ALL patients meeting 1 of the following conditions:" names "ALL patients"
        head = _named_group_of_list_header(text, start + header.start("who"), header.group("who"))
        if head is not None:
            found.append(head)
    for m in group_labels(segment):  # "Age: Patients with cystic fibrosis (CF): 5 and over; Healthy volunteers: 18 and over"
        s, e = start + m.start("label"), start + m.end()
        cond = Condition("population", text[s:e], s, e, {"description": m.group("label")})
        if not any(c.start <= s < c.end for c in found) and _has_content_word(cond) \
                and not _ANNOUNCES_A_LIST.search(cond.text):
            found.append(cond)
    subject_group = _GROUP_SUBJECT.match(segment)
    if subject_group is not None and _ALLOWANCE.search(segment):  # "Men with elevated PSA ... are eligible": the group only
        s, e = start + subject_group.start("who"), start + subject_group.end("who")
        found.append(Condition("population", text[s:e], s, e, {"description": text[s:e]}))
    found += [c for c in _other_persons(text, start, end) if not any(f.start <= c.start < f.end for f in found)]
    for pattern, group in ((_GROUP_POPULATION, "who"), (_GROUP_NOUN_PHRASE, "who"), (_SUBJECT_POPULATION, None)):
        for m in pattern.finditer(segment):
            name = group or next(g for g in ("adjective", "who", "subject") if m.group(g))
            s = start + m.start(name)
            if any(c.start <= s < c.end for c in found):
                continue
            cond = _span_condition("population", text, m, start, name)
            if group is None:  # the subjects' condition, not the whole clause, is the span
                cond = Condition("population", text[s:start + m.end(name)], s, start + m.end(name), cond.fields)
            if _has_content_word(cond) and not _ANNOUNCES_A_LIST.search(cond.text):
                found.append(cond)
    return sorted(found, key=lambda c: c.start)


# a person the patient has, or a complement ("Patients with a sibling donor must have ...", "children of at
# least one parent who ...", "subjects will be mothers with ..."): only an age right after it is that
# person's ("Must have an HLA-identical sibling donor aged 18 or older")
_HAD_BY_THE_PATIENT = re.compile(r"\b(?:with|without|have|has|having|of|be|is|are)[ \t]+"
                                 r"(?:(?:an?|the|one|their|his|her|at[ \t]+least[ \t]+one)[ \t]+)?$", re.IGNORECASE)
_AGE_AFTER_PERSON = re.compile(r"[ \t]*(?:\(|(?:aged?|ages|between|older|younger|over|under|of[ \t]+age)\b)", re.IGNORECASE)
# the patient coordinated with the other person ("Patients or their legal guardians", "Probands and
# siblings must be between the ages of 18 and 55"): the threshold is the patient's too
_WITH_THE_PATIENT = re.compile(r"\b(?:patients?|subjects?|participants?|probands?|volunteers?)[ \t]+(?:and/or|and[ \t]+or|and|or)"
                               r"[ \t]+(?:(?:their|his|her|the)[ \t]+)?$", re.IGNORECASE)
# the threshold stated about the person follows it closely, in its clause (not "the parents are requesting
# withdrawal of care, or the pH is < 6.80")
_THRESHOLD_NEAR = re.compile(r"(?:(?![.;,](?:\s|$))[^\n])*?(?:\d|\b(?:one|two|three|four|five|six|ten|twice)\b)")
_NEAR = 60


def _other_persons(text: str, start: int, end: int) -> list[Condition]:
    """Persons other than the patient whose thresholds follow them ("Donor must have less than 50%
    hemoglobin S", "a sibling donor aged 18 or older"): the population of those thresholds, so that
    they are not read as the patient's."""
    found = []
    if other_person_noun().search(text, start, end) is None:
        return found
    for m in other_person_subject().finditer(text, start, end):
        s, e = m.span("who")
        if _HAD_BY_THE_PATIENT.search(text, max(start, s - 20), s) and not _AGE_AFTER_PERSON.match(text, e) \
                or _WITH_THE_PATIENT.search(text, max(start, s - 30), s) \
                or not _THRESHOLD_NEAR.match(text, e, min(end, e + _NEAR)):
            continue
        found.append(Condition("population", text[s:e], s, e, {"description": text[s:e]}))
    return found


def _leading_label(segment: str) -> re.Match | None:
    """A label opening a criterion before what it requires ("For stage III disease: WBC at least
    3,000/mm3", "For patients treated at MSKCC: creatinine ..."); not a discourse phrase ("In addition:",
    "For example:"; ``discourse_labels`` in ``resources/population_words.json``)."""
    m = _LEADING_LABEL.match(segment)
    if m is None or m.end() >= len(segment.rstrip()) or \
            " ".join(m.group("who").lower().split()) in discourse_labels():
        return None
    return m


# a word that makes a label a clause: a pronoun subject or a verb form before the head noun
_CLAUSE_WORD = re.compile(r"\b(?i:we|you|they|i|he|she|it)\b|\w(?:ed|ing)[ \t]+\S", re.IGNORECASE)


def _cut_before_thresholds(text: str, populations: list[Condition], quantities, rules: list[Rule]) -> list[Condition]:
    """Populations ended before a threshold of a variable named before them: in ``induration 10 mm or
    greater if HIV seronegative 5 mm or greater if HIV seropositive`` the first population is "if HIV
    seronegative", and "5 mm or greater" is the induration's next value, not part of who it holds for.
    (A threshold whose variable is named inside the population, ``in patients with creatinine > 2
    mg/dL``, states the population and stays in it.)"""
    out = []
    for cond in populations:
        cut = min((q.start for q in quantities if cond.start < q.start < cond.end
                   and any(r.start <= q.start and q.end <= r.end and r.variable is not None
                           and r.variable.end <= cond.start for r in rules)), default=None)
        if cut is not None:
            end = cond.start + len(text[cond.start:cut].rstrip(" \t\r\n,;"))
            if end <= cond.start:
                continue
            cond = _cut_at(text, cond, end)
        out.append(cond)
    return out


def _trimmed_description(cond: Condition, end: int) -> str:
    """The population's description cut where its text now ends."""
    description = cond.fields.get("description", cond.text)
    keep = len(description) - (cond.end - end)
    return description[:keep].rstrip(" \t\r\n,;") if keep > 0 else description


def _named_group_of_list_header(text: str, start: int, who: str) -> Condition | None:
    """The group a list header names before what it must meet ("VHR patients meeting 1 of the
    following criteria" → "VHR patients"); none when the group is nobody in particular ("Patients
    with the following conditions")."""
    head = group_head(who).rstrip()
    if not head or head == who.rstrip() or _ANNOUNCES_A_LIST.search(head) or _CLAUSE_WORD.search(head) \
            or not _modifies_its_group_noun(head):
        return None  # "We excluded patients with any of the following:" is a sentence; "Children with the
        # following are excluded:" names the study's subjects, not a subgroup
    return Condition("population", head, start, start + len(head), {"description": head})


# a list header that offers a choice: "Must meet 1 of the following criteria:", "one of the following subtypes"
_CHOICE_HEADER = re.compile(r"\b(?:1|one)[ \t]+of[ \t]+the[ \t]+following\b", re.IGNORECASE)
# an alternative named by a noun phrase: no verb, no number, no negation ("ALL of B-cell lineage")
_ALTERNATIVE_NAME = re.compile(rf"[ \t]*(?!(?:no|not|none|any)\b)(?P<who>{NO_VERB}[^\W\d][^\d:;.()\n]{{1,60}}?)"
                               r"(?:[ \t]+OR)?[ \t\r\n]*", re.IGNORECASE)


# an alternative named before its own threshold: "Small lymphocytic with absolute lymphocytic count less than 5,000"
# (not after a participle: "disease treated with no more than 4 regimens" names what it was treated with)
# (the value in the "with" phrase itself: "Treatment with ganciclovir (DHPG) resulting in ... (ANC < 500)" is none)
_ALTERNATIVE_WITH = re.compile(rf"[ \t]*(?!(?:no|not|none|any)\b)(?P<who>{NO_VERB}[^\W\d][^\d:;.()\n,]{{1,60}}?)(?<!ed)(?<!ing)"
                               r"(?:[ \t]+(?:but|and))?[ \t]+with\b", re.IGNORECASE)
_UP_TO_A_BREAK = re.compile(r"[^(),;:]{0,60}")


def _value_follows(text: str, pos: int, end: int) -> bool:
    """Whether a number (digits or a number word: "with two or more lymph node metastases") follows
    ``pos`` within 60 characters and before a parenthesis or a punctuation mark."""
    words = _UP_TO_A_BREAK.match(text, pos, end).group()
    return any(ch.isdigit() for ch in words) or any(
        w.lower() in quantity_lexicon().number_words for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)?", words))


def _alternative_population(text: str, start: int, end: int, parent_start: int, parent_end: int,
                            holds_rules: bool) -> list[Condition]:
    """An alternative of a choice list is the population of its thresholds: its name when it has items
    of its own ("VLR patients meeting 1 of the following criteria: - ALL of B-cell lineage - WBC less
    than 10,000/mm^3": the WBC limit holds for B-lineage ALL), or the words before ``with`` when it
    holds a threshold itself ("One of the following subtypes required: Small lymphocytic with absolute
    lymphocytic count less than 5,000")."""
    if not _CHOICE_HEADER.search(text, parent_start, parent_end):
        return []
    m = _ALTERNATIVE_WITH.match(text, start, end) if holds_rules else _ALTERNATIVE_NAME.fullmatch(text, start, end)
    if m is None or holds_rules and not _value_follows(text, m.end(), end):
        return []
    cond = _span_condition("population", text, m, 0, "who")
    cond = Condition("population", m.group("who"), m.start("who"), m.end("who"), cond.fields)
    return [cond] if _has_content_word(cond) else []


# a sub-header that is a noun phrase: no comma, no verb ("this study was open to all subjects who:" is none)
_HEADER = re.compile(rf"[ \t]*(?P<who>{NO_VERB}[^\W\d][^:;.(),]{{1,80}}?)[ \t]*:[ \t]*", re.IGNORECASE)


def _group_header(segment: str) -> re.Match | None:
    """A sub-header that names a group: its head noun names people ("PEDIATRIC PATIENTS:", "BLOOD
    RELATIVES OF AFFECTED SIBLING PAIRS:", "SIBLING PAIR:"), or it says what the group requires
    ("Cytopenias not due to multiple myeloma require:")."""
    m = requiring_header().fullmatch(segment)
    if m is not None:
        return m
    m = _HEADER.fullmatch(segment)
    return m if m is not None and names_a_group(m.group("who")) else None


def _has_content_word(cond: Condition) -> bool:
    return any(w not in _NOT_A_POPULATION for w in re.findall(r"[\w/'-]+", cond.fields["description"].lower()))


def _modifies_its_group_noun(head: str) -> bool:
    """Whether a group's name says which group: a content word or an acronym in capitals before its
    noun ("VHR patients", "ALL patients": acute lymphoblastic leukaemia, not "all")."""
    *modifiers, _noun = head.split()
    return any(w.lower() not in _NOT_A_POPULATION or (len(w) > 1 and w.isupper() and not head.isupper()) for w in modifiers)


def _respective_populations(text: str, start: int, end: int, rules: list[Rule]) -> list[Condition]:
    """``≥ 1.5 and ≥ 1.4 mg/dL in males and females respectively``: the first group for the first of
    the two thresholds right before, the second for the second (attached here; returned so that the
    general population rules skip these words)."""
    out = []
    for m in _RESPECTIVE_GROUPS.finditer(text, start, end):
        before = [r for r in rules if r.end <= m.start() and not _SENTENCE_BREAK.search(text, r.end, m.start())][-2:]
        if len(before) < 2:
            continue
        for rule, name in zip(before, ("first", "second")):
            s, e = m.span(name)
            cond = Condition("population", text[s:e], s, e, {"description": text[s:e]})
            rule.conditions.append(cond)
            out.append(cond)
    return out


# a footnote of starred values: "ANC at least 1,000/mm3* Platelet count more than 50,000/mm3*
# *Unless due to lymphomatous involvement of the marrow"
_FOOTNOTE_EXCEPTION = re.compile(
    r"(?<![\w*])\*+[ \t]*(?P<cond>(?:unless|except)\b[^*;\n]{2,100}?)(?=[ \t]*(?:[;.]|\n|$|[A-Z][a-z]+:))",
    re.IGNORECASE)
_FOOTNOTE_REACH = 600
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")


def has_footnote_exception(text: str) -> bool:
    """Whether ``text`` holds a starred footnote's exception (``* Unless due to Gilbert's syndrome``),
    which reaches values outside its own criterion."""
    return "*" in text and _FOOTNOTE_EXCEPTION.search(text) is not None


def footnote_reaches_back_over(text: str, pos: int) -> bool:
    """Whether a starred footnote's exception at or after ``pos`` may reach a starred value before
    ``pos`` (within :data:`_FOOTNOTE_REACH` characters, no paragraph break between)."""
    for m in _FOOTNOTE_EXCEPTION.finditer(text, pos, min(len(text), pos + _FOOTNOTE_REACH + 200)):
        star = text.rfind("*", max(0, m.start() - _FOOTNOTE_REACH), pos)
        if star >= 0 and not _PARAGRAPH_BREAK.search(text, star, m.start()):
            return True
    return False


def _attach_footnote_exceptions(text: str, rules: list[Rule], criteria: list[tuple[int, int]]) -> None:
    """A starred footnote's exception holds for every value marked with the star before it in its
    paragraph. The exception ends with the criterion that holds it (``criteria``: ``(start, end)``
    in order)."""
    if "*" not in text:
        return
    starts = [start for start, _ in criteria]
    for m in _FOOTNOTE_EXCEPTION.finditer(text):
        s, e = m.span("cond")
        k = bisect_right(starts, s) - 1
        if k >= 0 and s < criteria[k][1] < e:
            e = len(text[s:criteria[k][1]].rstrip()) + s
        cond = Condition("exception", text[s:e], s, e, {"description": text[s:e]})
        for rule in rules:
            if rule.end <= m.start() and m.start() - rule.end <= _FOOTNOTE_REACH \
                    and text.startswith("*", rule.end) and not _PARAGRAPH_BREAK.search(text, rule.end, m.start()) \
                    and not any(c.kind == "exception" and c.start == s for c in rule.conditions):
                rule.conditions.append(cond)


def _names_the_variable(cond: Condition, rule: Rule) -> bool:
    """Whether the population's description holds the rule's own variable ("required if elevated WBC
    (12,000 or greater)": the WBC rule is the condition itself, not a rule for that population)."""
    v = rule.variable
    # (the name may run on past the description: "if prostate-specific antigen (PSA) less than 20")
    return v is not None and v.start is not None and cond.start <= v.start < cond.end


def _within_its_sentence(text: str, cond: Condition) -> Condition:
    """The condition up to the end of its sentence ("in patients treated by biliary drainage for obstructive
    jaundice. AST" → "... jaundice")."""
    stop = _FULL_STOP.search(text, cond.start, cond.end)
    if stop is None or stop.start() <= cond.start:
        return cond
    return _cut_at(text, cond, stop.start())


_TRAILING_DETERMINER = re.compile(r"(?:[\s,]+(?:the|a|an|their|his|her|its))*[\s,]*$", re.IGNORECASE)


def _up_to_a_rules_name(text: str, cond: Condition, rules: list[Rule]) -> Condition:
    """The population's description up to the name of a rule that reads on past it, after a rule that
    states the population ("For patients older than 16 years the Karnofsky score must be ..." → "For
    patients older than 16 years"; "if elevated WBC (12,000 or greater)" is the WBC rule's own clause)."""
    stated_ends = [r.end for r in rules if cond.start <= r.start and r.end <= cond.end]
    names = [r.variable.start for r in rules if r.variable is not None and r.variable.start is not None
             and cond.start < r.variable.start < cond.end < r.end and any(e <= r.variable.start for e in stated_ends)]
    if not names:
        return cond
    end = cond.start + len(_TRAILING_DETERMINER.sub("", text[cond.start:min(names)]))
    if end <= cond.start:
        return cond
    return _cut_at(text, cond, end)


def _cut_at(text: str, cond: Condition, end: int) -> Condition:
    """``cond`` ending at ``end`` (its description cut to match)."""
    return Condition(cond.kind, text[cond.start:end], cond.start, end,
                     {**cond.fields, "description": _trimmed_description(cond, end)}, cond.inherited_from)


_EVENT_WORD = re.compile(r"[^\W\d_]{3,}")  # a word naming the item's event before its window
# what separates the items of a list inside a sentence (not a thousands comma: "100,000"), or a sentence end
_ITEM_SEPARATOR = re.compile(r",(?!\d{3}(?!\d))|;|\(|\)|\.(?=[ \t\r\n]+[A-Z])")


def _in_a_middle_item(text: str, left: int, right: int, cond: Condition, rules: list[Rule]) -> bool:
    """Whether a window stands after the event of an item in the middle of a comma list of its sentence
    (``text[left:right]``), an item that holds no threshold: it dates that event (``acute myocardial
    infarction within the past 3 months, …``), not the thresholds of the other items. A window in the
    first or the last item of the sentence, or an item of its own, holds for the sentence's thresholds."""
    before = [m.end() for m in _ITEM_SEPARATOR.finditer(text, left, cond.end) if m.end() <= cond.start]
    after = next((m.start() for m in _ITEM_SEPARATOR.finditer(text, cond.end, right)), None)
    if not before or after is None or text[after] not in ",;":
        return False
    item_start = before[-1]
    if not _EVENT_WORD.search(text, item_start, cond.start):
        return False  # "…, within 6 months prior to entry, …": a window of its own item dates the items before
    if any(item_start <= r.start < after or r.start < item_start < r.end for r in rules):
        return False
    if text[item_start - 1] == "(" and any(r.end < item_start and not text[r.end:item_start - 1].strip() for r in rules):
        return False  # "Hemoglobin > 10 g/dL (within 14 days of registration)": the aside of the threshold before it
    return bool(text[after:right].strip(" \t\r\n.,;:()"))


def _is_duration_of_another_clause(cond: Condition, rule: Rule) -> bool:
    """An age lasts no time: "aged 18 or older and on dialysis for at least 6 months" — the duration
    is the dialysis's, not a condition of the age rule."""
    return cond.fields.get("relation") == "duration" and rule.variable is not None and rule.variable.name == "age"


def _is_part_of_rule(cond: Condition, rule: Rule) -> bool:
    """Whether a temporal expression inside the rule's span is the rule itself ("Life expectancy >
    3 months") or a word of its variable ("minimum of 10 active electrodes"), not a condition on it.
    A window with no number between the variable and the value ("Temperature on admission < 30 °C")
    and a pre-/post- event in the variable's name ("Pre-enrollment CPP < 60 mm Hg") are conditions."""
    if _period_of_re().fullmatch(cond.text):
        return False  # "Loss of lung function over a one year period of greater than 35 mL": the period measured over
    if not (rule.start <= cond.start and cond.end <= rule.end) or cond.fields.get("value") is not None:
        return rule.start <= cond.start and cond.end <= rule.end
    v = rule.variable
    if v is None or not (v.start <= cond.start and cond.end <= v.end):
        return False
    return cond.fields.get("relation") not in ("before", "after")


def _distinct_conditions(rule: Rule) -> list[Condition]:
    """The rule's conditions, each once: a condition found twice (its sentence and a list header) is
    one; the same words written twice in the sentence ("≤ 750 g at birth and < 27 weeks gestation at
    birth") count once, the occurrence nearest the rule; a qualifier that is a temporal condition
    ("after optimal fluid therapy") is the temporal condition."""
    def distance(c: Condition) -> int:
        return max(c.start - rule.end, rule.start - c.end, 0)

    nearest: dict[tuple, Condition] = {}
    for c in rule.conditions:
        key = (c.kind, " ".join(c.text.lower().split()))
        if key not in nearest or distance(c) < distance(nearest[key]):
            nearest[key] = c
    temporal_spans = {(c.start, c.end) for c in nearest.values() if c.kind == "temporal"}
    has_window = any(c.kind == "temporal" and c.fields.get("value") is not None for c in rule.conditions)
    return [c for c in rule.conditions
            if nearest[(c.kind, " ".join(c.text.lower().split()))] is c
            and not (c.kind == "qualifier" and (c.start, c.end) in temporal_spans)
            and not (has_window and _is_state(c))]


def _parenthesis_end(text: str, left: int, start: int, pos: int, end: int) -> int:
    """Where the parenthesis that holds ``text[start:pos]`` closes (``end`` when none opens between
    ``left`` and ``start``): "(e.g., age greater than 65, history of hypertension)"."""
    if text.count("(", left, start) <= text.count(")", left, start):
        return end
    close = _scope_end(text, pos, end)
    return close if close < end and text[close] == ")" else end


_CLOSING_PARENTHESIS = re.compile(r"[ \t\r\n]*\)")


def _rules_in_parenthesis_closed_by(text: str, cs: int, cond: Condition, rules: list[Rule]) -> list[Rule]:
    """The rules of ``rules`` written before ``cond`` inside the parenthesis that ``cond`` ends (its
    ``)`` right after it), or none (the caller leaves out a rule with a population of its own after
    it: "(waist ≥ 102 cm in men and ≥ 88 cm in women)")."""
    if not _CLOSING_PARENTHESIS.match(text, cond.end):
        return []
    depth, i = 0, cond.start - 1
    while i >= cs:
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return [r for r in rules if r.start > i and r.end <= cond.start]
            depth -= 1
        i -= 1
    return []


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
            exceptions = [_span_condition("exception", text, m, cs, "what") for m in _EXCEPTION.finditer(text[cs:ce])]
            # a time word inside a carve-out is the carve-out's ("unless the patient is on antihypertensive therapy")
            temporal = [c for c in temporal_conditions(text, cs, ce, crit_quantities)
                        if not any(x.start <= c.start and c.end <= x.end for x in exceptions)]
            populations = _cut_before_thresholds(text, _populations(text, cs, ce), crit_quantities,
                                                 rules_by_criterion.get(cid, []))
            parent = by_id.get(crit.parent)
            if parent is not None:
                populations += _alternative_population(text, cs, ce, parent.start, parent.end, cid in rules_by_criterion)
            inheritable[cid] = [c for c in temporal + populations
                                if not any(r.start <= c.start < r.end for r in rules_by_criterion.get(cid, []))]
            rules = rules_by_criterion.get(cid)
            if not rules:
                continue
            self._attach_temporal(text, cs, ce, rules, temporal)
            respective = _respective_populations(text, cs, ce, rules)
            self._attach_scoped(text, cs, ce, rules,
                                [p for p in populations if not any(r.start < p.end and p.start < r.end for r in respective)])
            _attach_sites(text, rules, _site_populations(text, cs, ce))
            self._attach_preceding(rules, exceptions, text, cs)
            self._attach_qualifiers(text, ce, rules)
        _attach_footnote_exceptions(text, [r for rules in rules_by_criterion.values() for r in rules],
                                    [(info.start, info.end) for info in by_id.values()])
        _name_stating_rules(rules_by_criterion, doc._.logic)
        if self.inherit:
            headers = {parent for parent in parent_of.values() if parent is not None}
            for cid in headers & rules_by_criterion.keys():
                group = _age_group_header(text, by_id[cid], rules_by_criterion[cid])
                if group is not None:  # "Age 18 and over: - WBC at least 4,000/mm^3": the items' population
                    inheritable.setdefault(cid, []).append(group)
                    if doc._.logic and doc._.logic.get(cid) is not None:
                        doc._.logic[cid] = _logic_without(doc._.logic[cid], {r.id for r in rules_by_criterion[cid]})
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
            for rule in rules:
                rule.conditions = _distinct_conditions(rule)
        return doc

    @staticmethod
    def _attach_temporal(text, cs, ce, rules, temporal):
        headers = []
        for cond in temporal:
            if any(_is_part_of_rule(cond, r) for r in rules):
                continue  # the time expression is the rule itself
            # the rules of the same sentence
            left = max((m.end() for m in _SENTENCE_BREAK.finditer(text, cs, cond.start)), default=cs)
            right = next((m.start() for m in _SENTENCE_BREAK.finditer(text, cond.end, ce)), ce)
            # a state of time ("current", "history of") qualifies what follows it, within its parenthesis
            first = cond.end if _is_state(cond) else left
            if _is_state(cond):
                right = min(right, _parenthesis_end(text, left, cond.start, cond.end, right))
            elif _in_a_middle_item(text, left, right, cond, rules):
                continue  # "acute MI within the past 3 months, …, serum bilirubin > 3 mg/dL": the MI's window
            for rule in rules:
                if max(left, first) <= rule.start < right and not _is_duration_of_another_clause(cond, rule):
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
        for cond in (_up_to_a_rules_name(text, _within_its_sentence(text, c), rules) for c in populations):
            # "≤ 5 x ULN if liver metastases", "≥ 13 g/dL in men, ≥ 12 g/dL in women": a population
            # right after a threshold is that threshold's (every rule of a shared value)
            scope_end = _scope_end(text, cond.end, ce)
            period = None if cond.text.rstrip().endswith(":") else _FULL_STOP.search(text, cond.end, scope_end)
            if period is not None:  # "... in patients treated by biliary drainage. AST and ALT ≤ 150 U/L": its sentence only
                # (a label, "Inclusion criteria for probands: ...", holds on)
                scope_end = period.start()
            inside = [r for r in rules if cond.start <= r.start < scope_end]
            named_after = [r for r in inside if r.variable is not None and r.variable.start >= cond.end]
            before = [r for r in rules if r.end <= cond.start and _POSTPOSED_GAP.match(text, r.end, cond.start)]
            if cond.text.rstrip().endswith(":"):  # a label ("(female: 50 kg or higher)") names what follows
                before, named_after = [], []
                inside = [r for r in rules if cond.end < r.end <= scope_end]
            # "greater than 50 mL/min in patients weighing at least 45 kg and ...": written right after the
            # value (no comma), the population is that value's, whatever is named after it
            right_after = [r for r in before if not text[r.end:cond.start].strip()]
            if before and (right_after or not named_after):
                inside = [r for r in rules if r.end == before[-1].end]
                # "(bilirubin ≤ 3.0 mg/dL and conjugated bilirubin ≤ 0.5 mg/dL if Gilbert's disease)": a
                # population closing a parenthesis holds for every value written in it
                inside += [r for r in _rules_in_parenthesis_closed_by(text, cs, cond, rules)
                           if r not in inside and not any(r.end <= p.start < cond.start for p in populations)]
            # else "for subjects with Gilbert's syndrome, ALT ≤ 5 x ULN": the rules up to the clause end;
            # a clause that holds the threshold itself is the criterion, not its population ("will not
            # be eligible if their FEV1 is less than 1.2 liters")
            for rule in inside:
                if not (cond.start <= rule.start and rule.end <= cond.end) and not _names_the_variable(cond, rule):
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
            v = rule.variable
            if m is None and v is not None and rule.start <= v.end < rule.end:
                # "PaO(2), on supplemental O2, of less than 70 mmHg": set off between name and value
                comma = _COMMA_AFTER_NAME.match(text, v.end, rule.end)
                m = _QUALIFIER.match(text, comma.end(), rule.end) if comma else None
                if m is not None and not text.startswith(",", m.end()):
                    m = None
            if m:
                s, e = m.span("q")
                rule.conditions.append(Condition("qualifier", text[s:e], s, e, {"description": text[s:e]}))


def _name_stating_rules(rules_by_criterion: dict[str, list[Rule]], logic_by_criterion: dict | None) -> None:
    """A population stated by a threshold of its own ("Creatinine clearance > 60 mL/min (if creatinine
    at least 1.5 mg/dL)") names that threshold's rule in its ``rule`` field, and the stating rule leaves
    the criterion's logic: it says when the other rule applies, it is no requirement of its own."""
    for cid, rules in rules_by_criterion.items():
        stating: set[str] = set()
        for rule in rules:
            for cond in rule.conditions:
                if cond.kind != "population" or cond.inherited_from:
                    continue
                inner = [r for r in rules if r is not rule and cond.start <= r.start and r.end <= cond.end]
                if len(inner) == 1 and not any(c is cond for c in inner[0].conditions):
                    cond.fields["rule"] = inner[0].id
                    stating.add(inner[0].id)
        if stating and logic_by_criterion and logic_by_criterion.get(cid) is not None:
            logic_by_criterion[cid] = _logic_without(logic_by_criterion[cid], stating)


def _logic_without(logic, ids: set[str]):
    """``logic`` (rule ids in and/or nodes) without ``ids``; a node left with one sub-node is that sub-node."""
    if isinstance(logic, str):
        return None if logic in ids else logic
    args = [a for a in (_logic_without(x, ids) for x in logic["args"]) if a is not None]
    if not args:
        return None
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    return {"op": logic["op"], "args": args}


def _age_group_header(text: str, info, rules: list[Rule]) -> Condition | None:
    """The population a header made of an age threshold gives its items ("Age 18 and over:", "Under age
    18:", "Patients aged 65-70 years:"), naming the header's rule; None for any other header."""
    end = info.end
    while end > info.start and text[end - 1].isspace():
        end -= 1
    if end <= info.start or text[end - 1] != ":" or not rules \
            or any(r.variable is None or r.variable.name != "age" for r in rules):
        return None
    words = text[info.start:end - 1].strip()
    fields = {"description": words}
    if len(rules) == 1:
        fields["rule"] = rules[0].id
    return Condition("population", words, info.start, info.start + len(text[info.start:end - 1].rstrip()), fields)

