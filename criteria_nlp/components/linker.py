"""``criteria_linker``: attach each threshold to the variable(s) it constrains, build the rules.

Within a criterion, variable mentions and quantities are read left to right:

- coordinated mentions (``ALT, AST``, ``AST/ALT``, ``INR and APTT``) form a group and a following
  threshold is distributed over the group (one rule per variable);
- a mention repeated in parentheses (``Platelet count (PLT)``,
  ``Neutrophils (Absolute neutrophil count (ANC))``) is one variable;
- a threshold with no variable before it takes the one right after it (``18 years of age``);
- ``years`` with no variable means age; otherwise an unknown variable is named from the words
  before the comparator (no code);
- time quantities that are windows (``within 3 days``) are not rules (see ``criteria_conditions``);
- consecutive thresholds joined by ``or`` form an OR in the criterion's logic.

Sets ``doc._.rules`` (``{criterion_id: [Rule]}``), ``doc._.logic`` (``{criterion_id: logic}``) and
the span group ``doc.spans["criteria_rules"]`` (one span per rule, ``span._.rule``) for ConText.
An optional scikit-learn model (``model``: a path, ``"default"`` for the packaged ``linker.skops``,
or null for rules only) re-scores candidate variables; see ``criteria_nlp.learning.model``.
"""
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ._groups import group_labels
from ._text import doc_text
from ._values import criteria_of, span_values

from ..contract import Code, Rule, VariableRef
from ..quantities.grammar import TIME_UNITS, Quantity, comparator_before_position, postfix_after_position
from ..quantities.grammar import lexicon as quantity_lexicon
from ..quantities.units import MEASURED_KINDS, to_ucum, unit_kind

RULE_SPAN_GROUP = "criteria_rules"
RULE_LABEL = "RULE"  # the label of the spans in doc.spans[RULE_SPAN_GROUP] (displacy style="span")

# ("A or the B score > 10": "the" may follow the conjunction; "serum creatinine OR a creatinine clearance
# ≥ 70 mL/min" starts an alternative criterion)
_COORD_GAP = re.compile(r"^[\s,/()&+]*(?:(?:and\s*/\s*or|and|or|&|as well as|nor|plus)[\s,/()]*(?:the\s+)?)?$",
                        re.IGNORECASE)
# what may stand between a variable and its threshold: anything within one clause (no ";", no
# sentence end), up to _MAX_LINK_GAP characters. Measured on LCT train: a word list here
# ("level", "count", "must be", ...) lost recall for no gain in precision.
_LINK_GAP = re.compile(r"^(?:[^;.]|\.(?!\s+[A-Z]))*$")
# thresholds are alternatives when the first word joining them is "or" / "and/or"
# between two alternative values: "or" after at most three words, or after the method of the first
# ("> 50,000 copies/ml by the Roche Amplicor HIV-1 assay or > 25,000 copies/ml by …")
_ALTERNATIVE = re.compile(r"(?:[\s,()\[\]]*[^\W\d]+){0,3}?[\s,()\[\]]*(?:and\s*/\s*or|or|either)\b"
                          r"|[\s,]*(?:by|using|via)\s+(?:[^\W\d_][\w-]*\s+){1,6}?(?:and\s*/\s*or|or)\b", re.IGNORECASE)
_AGE_CUE = re.compile(r"\b(?:age[sd]?|old|older|younger|adults?|children|child|infants?|birthday|y/o)\b", re.IGNORECASE)
_SUBJECT_BEFORE = re.compile(r"\b(?:patients?|subjects?|participants?|men|women|males?|females?|volunteers?|"
                             r"individuals?|persons?|people|adolescents?|boys?|girls?)(?:\s+(?:of|aged?|from|between))?"
                             r"[\s,:]*$", re.IGNORECASE)
# what makes a duration an age: "6 months old", "> 1 month of age", "12 hours age", "18-35-year-old"
_AGE_AFTER = re.compile(r"[\s-]*(?:of\s+age|old|age|of\s+life)\b", re.IGNORECASE)
# a time that lasts something named after it: "3 months of independent walking" (not "of (physiological) age")
_DURATION_OF = re.compile(r"[ \t]+of[ \t]+(?!(?:[\w-]+[ \t]+)?(?:age|life)\b)[^\W\d_]", re.IGNORECASE)
_AGE_COMPARATOR = re.compile(r"\b(?:older|younger)\b", re.IGNORECASE)
# "patients < 18", "Any patient ≥18 who ...": nothing after the number that could be its unit
_AFTER_BARE_AGE = re.compile(r"[ \t]*(?:$|[,;.)\n]|(?:who|with|and|or|at|in|on)\b)", re.IGNORECASE)
_AGE_LEAD = re.compile(r"[\W_]*(?:(?:from|between|aged?|ages)[ \t]+)?", re.IGNORECASE)
# a list item that is a bare lower bound and nothing else: "-  18 and over", "21 or older" (the age of a
# PDQ list whose "Age:" label was dropped)
_OVER_BOUND = re.compile(r"(?:and|or)[ \t]+(?:over|older|above)", re.IGNORECASE)
_ITEM_END = re.compile(r"[ \t.;]*(?:\r?\n|$)")
_DURATION_AFTER = re.compile(r"[\s,]*(?:or\s+(?:more|longer|greater)\s+)?(?:since|of\s+(?!age)|duration|after|before|"
                             r"prior|ago|history|experience|follow|from|post|in\s+(?:the\s+)?(?:past|last))", re.IGNORECASE)
_NAME_STOP = {
    "and", "or", "with", "without", "if", "is", "are", "be", "must", "should", "have", "has", "had", "was",
    "were", "expected", "to", "a", "an", "the", "of", "in", "for", "on", "at", "by", "who", "which", "that",
    "their", "his", "her", "patients", "patient", "subjects", "subject", "participants", "will", "shall",
    "need", "needs", "value", "level", "levels", "e.g", "i.e", "as", "than", "any", "all", "either", "both",
}
# "≥ 18 years of age", "≥140 mmHg systolic": the variable right after the value
_VALUE_THEN_VARIABLE = re.compile(r"^[\s(]*(?:(?:of|for|in|old|as)[\s(]*)?$", re.IGNORECASE)
# "Crohn's disease of at least 4 months' duration", "diabetes of more than 10 years duration": the
# duration of what is named before the value (not "... duration of X", which names X after it)
_DURATION_WORD_AFTER = re.compile(r"['’]?[ \t]+duration\b(?![ \t]+of\b)", re.IGNORECASE)
# "≥ 12 months duration of spontaneous amenorrhea", "10 years' history of diabetes": the variable whose
# duration the value is, named after "duration of"
_DURATION_THEN_VARIABLE = re.compile(r"^['’]?[ \t]+(?:duration|history)[ \t]+of[ \t]+$", re.IGNORECASE)


# a duration variable named as one ("3 months duration of disease"), not a condition dating something
# ("20 weeks of amenorrhea": a window)
_NAMES_A_DURATION = re.compile(r"(?:duration|length|history)\b", re.IGNORECASE)


def _variable_after_value(gap: str, target: "_Target") -> bool:
    """Whether ``target``, written ``gap`` after a value, is the value's variable: right after it
    (``≥ 18 years of age``), or a duration named after ``duration of`` (``12 months duration of
    amenorrhea``)."""
    return bool(_VALUE_THEN_VARIABLE.match(gap)) or (
        target.name.endswith("_duration") and _DURATION_THEN_VARIABLE.match(gap) is not None)
# "Platelet count (PLT)": an alias opening a parenthesis
_OPEN_PAREN_GAP = re.compile(r"^[\s(]*$")
# "diffusion capacity of carbon monoxide (DLCO)": the rest of the name, then its alias
_NAME_THEN_ALIAS_GAP = re.compile(r"^[ \t]+(?:of|for|in|to)[ \t]+[^;:,.()<>≤≥=\d\n]{1,40}\($")
# "oxygen saturation [by pulse oximetry]": the method that measures the variable, named in brackets
_BY_METHOD_GAP = re.compile(r"^[ \t]*[(\[][ \t]*(?:(?:as[ \t]+)?(?:measured|assessed|determined)[ \t]+)?(?:by|on|via|using)[ \t]+$",
                            re.IGNORECASE)
# "platelets <30 or <50": a further threshold of the same variable(s)
# ... also after the population the first one holds for: "(<7 kg/m^2 in men; <5.7 kg/m^2 in women)"
_NEXT_THRESHOLD_GAP = re.compile(r"^[\s,;]*(?:(?:in|for)[ \t]+[\w-]+(?:[ \t]+[\w-]+)?[\s,;]*)?"
                                 r"(?:and\s*/\s*or|or|and|but|/|,)?[\s(]*(?:\w+\s+){0,3}?[\s(]*$", re.IGNORECASE)
# between two values of one unknown variable: a population, a connector ("in men; ", " or ",
# " in patients without atrial fibrillation or ")
_SAME_VARIABLE_GAP = re.compile(r"[\s,;]*(?:(?:in|for|if|among)[ \t]+[\w-]+(?:[ \t]+[\w-]+)?[\s,;]*"
                                r"|(?:in|for|if|among)[ \t]+(?:(?!(?:or|and)\b)[\w'’-]+[ \t]+){0,5}[\w'’-]+[\s,;]*"
                                r"(?=(?:and[ \t]*/[ \t]*)?or\b))?"  # a longer population only before "or"
                                r"(?:[^\W\d_][\w-]*[ \t]+(?=or\b|and/or\b)){0,2}"  # "> 7.2 mg/kg IV or > 9 mg/kg orally"
                                # "≥ 20 mm by conventional techniques OR ≥ 10 mm by spiral CT": a method
                                r"(?:(?:by|with|using|via|on)\s+(?:[^\W\d_][\w-]*\s+){1,6}(?=or\b|and/or\b))?"
                                r"(?:(?:and\s*/\s*or|or|and|/)[\s(]*|\()?"
                                r"(?:(?:females?|males?|women|men|girls|boys|children|adults)[ \t]*:[ \t]*)?$",
                                re.IGNORECASE)
# minutes and seconds measure something ("Timed Up and Go < 12 seconds"), they are not look-back windows
_SHORT_TIMES = {"min", "s"}
# "both <name> and <name>": the names share what follows
_BOTH_BEFORE = re.compile(r"\bboth\b[^;:,.<>≤≥=\d\n]{0,40}$", re.IGNORECASE)
_BOTH_GAP = re.compile(r"^[^;:,.<>≤≥=\d\n]{0,60}?\band\b[^;:,.<>≤≥=\d\n]{0,60}$", re.IGNORECASE)
_CLOSING_GAP = re.compile(r"[ \t]*\)?[ \t]*")
_ASIDE = re.compile(r"^[ \t]*\([^()\n]{1,30}\)")
_MAX_LINK_GAP = 80
_MAX_AFTER_GAP = 25
# a gap that ends with a coordinator: the value after it starts an alternative of its own
_ALTERNATIVE_STARTS = re.compile(r"\b(?:or|and)[ \t\r\n]*$", re.IGNORECASE)


_SCORE_CATEGORIES = {"score", "cardiac"}
_ROMAN_VALUE = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6,
                "ⅰ": 1, "ⅱ": 2, "ⅲ": 3, "ⅳ": 4, "ⅴ": 5, "ⅵ": 6}
_VAL = r"(?:VI|IV|V|III|II|I|[ⅠⅡⅢⅣⅤⅥ]|\d{1,2}(?:\.\d)?)"
_SCORE_VALUE = re.compile(_VAL)
# what a class value of _score_values can start with, on characters (a superset: any digit, a
# Roman numeral of I and V not inside a word); each starts with a character class, which re scans fast
_CLASS_VALUE_DIGIT = re.compile(r"[\dⅠⅡⅢⅣⅤⅥ]")
_CLASS_VALUE_ROMAN = re.compile(r"[IV](?<![A-Za-z][IV])[IV]{0,2}(?![\w%/]|\.\d)")
_SCORE_VALUES = re.compile(
    r"(?:[ \t]*(?:\([^()\n]{0,40}\)|\)|(?i:functional|physical|performance|status|scale|class(?:es|ification)?|grades?|"
    r"global|total|overall|"
    r"stages?|scores?|levels?)|of|is|=|:|[A-Z]{2,6}(?=[ \t]+\d)))*"
    rf"[ \t]*(?P<vals>{_VAL}(?:[ \t]*(?:(?:,[ \t]*)?(?:or|and)|-|–|－|to|,|/)[ \t]*{_VAL})*)(?![\w%/]|\.\d)"
    r"(?![ \t]*(?:[<>≤≥=]|x\b|×|%|mg|g/|mm|cm|kg|years?|months?|weeks?|days?))",
)


_LIMIT_ADJECTIVE = re.compile(r"\b(minimum|minimal|maximum|maximal)[ \t]+(?:(?:expected|estimated)[ \t]+)?$",
                              re.IGNORECASE)
_BARE_VALUE_GAP = re.compile(r"[ \t]*(?:(?::|=|of|is|was|equals?)[ \t]*)?")
_NAME_TO_VALUE_GAP = re.compile(r"[ \t]*(?:of|:|is|=)?[ \t]*")
_NOT_A_VARIABLE = re.compile(r"(?:i\.?\s?e|e\.?\s?g|etc|vs|approx|ca)\.?", re.IGNORECASE)
_OUT_OF = re.compile(r"\d+(?:\.\d)?[ \t]*/[ \t]*10{1,2}")
_ALIAS_BEFORE_VALUE = re.compile(r"(?P<alias>[ \t]*\([^()\n]{1,60}\))[ \t:=]*$")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")
# words and then their own abbreviation right before the value: a name other than the mention's
_NAMED_BEFORE_VALUE = re.compile(r"[^\W\d_][\w-]*[ \t]+\([A-Z][A-Za-z0-9-]{1,10}\)[ \t:=]*$")
_ALIAS_AFTER = re.compile(r"[ \t]*\([^()\n]{1,15}\)")
_SCORE_KEYWORD = re.compile(r"class|grade|stage|score|level|status|rating", re.IGNORECASE)
_CLOSES_CLAUSE = re.compile(r"[ \t]*(?:$|[).,;:\r\n])")
# between a threshold and a bare alternative limit of it: "(", "or", a population ("for those with ...")
# "above 20 g and 30 g for women and men respectively": values paired in order with what follows
_AND_GAP = re.compile(r"[ \t]*,?[ \t]*and[ \t]+", re.IGNORECASE)
_RESPECTIVELY_AFTER = re.compile(r"[^;\n.]{0,80}?\brespectively\b", re.IGNORECASE)
# (or in parentheses, "(for men) or 11 g/dL (for women)"; or before a comma, "for men, 11 g/dL for women")
_ALTERNATIVE_GAP = re.compile(r"[\s,]*(?:\([^()<>≤≥=\d;]{1,50}\)[\s,]*(?:or|and/or)\b"
                              r"|(?:(?:for|in|if)\b[^;()<>≤≥=\d]{0,50}?)?[\s,]*(?:\(|or\b|and/or\b)"
                              r"|(?:for|in)\b[^;()<>≤≥=\d,]{1,50}?,)[\s(]*$", re.IGNORECASE)
_OPENS_PARENTHESIS = re.compile(r"[ \t]*\([ \t]*")
# "(1 cmH2O = 0.098 kPa)": a conversion, not an alternative limit
_EQUATION_AFTER = re.compile(r"[ \t]*=")
# a criterion that is only a field label: "Age:", "Life expectancy:", "Performance status:"
_FIELD_LABEL = re.compile(r"[ \t]*[A-Z][\w'/-]*(?:[ \t]+[\w'/-]+){0,3}[ \t]*:[ \t]*")


# "or worse", "more severe than", "or better" read as higher = worse (ECOG, NYHA, ASA, grades, stages);
# on these scales a higher value is better, so the comparator turns round
_HIGHER_IS_BETTER = {"karnofsky_performance_status", "lansky_performance_status", "glasgow_coma_scale", "mmse",
                     "moca", "apgar_score", "barthel_index", "berg_balance_scale", "functional_independence_measure"}
_SEVERITY_WORD = re.compile(r"\b(?:worse|better|severe|severity)\b", re.IGNORECASE)
_REVERSED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
# a performance status with no scale named: the values say which scale it is (0-4/5: ECOG/WHO/Zubrod,
# 10-100: Karnofsky); the rule keeps its name and takes that scale's LOINC code
_SCALE_BY_RANGE = {"performance_status": (((0, 5), "ecog_performance_status"),
                                          ((10, 100), "karnofsky_performance_status"))}


def _code_by_range(name: str, q: Quantity) -> Code | None:
    from ..resources.lexicon import variables_by_name

    values = [v for v in (q.value, q.value_high) if v is not None]
    if not values or q.relative_to is not None:
        return None
    entries = variables_by_name()
    for (low, high), scale in _SCALE_BY_RANGE[name]:
        if all(low <= v <= high for v in values) and (q.unit is None or (q.unit == "%" and low >= 10)):
            entry = entries.get(scale)
            return entry.code if entry is not None else None
    return None


def _in_the_kind_of_unit(target: "_Target | None", q: Quantity) -> "_Target | None":
    """The lexicon's variable for a value in another kind of unit than the one named (the entry's
    ``in_other_unit``): ``CD4 < 14%`` is the CD4 percentage, ``reticulocyte count < 50,000/µL`` the
    absolute count."""
    entry = getattr(target, "entry", None)
    if entry is None or entry.in_other_unit is None or q.unit is None or q.relative_to is not None \
            or _in_unit_kind(entry.unit, q):
        return target
    from ..resources.lexicon import variables_by_name

    other = variables_by_name().get(entry.in_other_unit)
    if other is None or not _in_unit_kind(other.unit, q):
        return target
    return _Target(target.start, target.end, other.name, other.category, other.code, other.unit, other)


def _in_unit_kind(unit: str | None, q: Quantity) -> bool:
    """Whether ``q``'s unit is ``unit`` or of its kind."""
    return unit is not None and (unit == q.unit or (q.unit_kind is not None and unit_kind(unit) == q.unit_kind))


# "(" or "[" between a value and the same value in other units: "> 2 mg/dL (> 177 µmol/L)"
_RESTATEMENT_GAP = re.compile(r"[ \t\r\n]*[(\[][ \t\r\n]*")


def _without_restatements(text: str, units: list) -> list:
    """``units`` less a value restated in other units in parentheses right after it: ``Hemoglobin ≥ 9
    g/dL (90 g/L)`` is one threshold (the first, as written first), not two joined by "and"."""
    out: list = []
    for q, targets in units:
        if out and _restates(text, *out[-1], q, targets):
            continue
        out.append((q, targets))
    return out


def _restates(text: str, first: Quantity, first_targets: list, q: Quantity, targets: list) -> bool:
    """Whether ``q`` restates ``first`` in another unit: written in parentheses right after it, of the
    same variables and comparator, and equal to it within 10 % once converted (restatements are rounded:
    ``13 kilograms (27 pounds)``)."""
    if q.unit is None or first.unit is None or q.unit == first.unit or q.relative_to or first.relative_to \
            or q.comparator != first.comparator or q.value_high is not None or first.value_high is not None:
        return False
    if not _RESTATEMENT_GAP.fullmatch(text, first.end, q.start):
        return False
    if [t and t.name for t in targets] != [t and t.name for t in first_targets] or targets[0] is None:
        return False
    from ..quantities.units import convert

    entry = targets[0].entry
    molar_mass = getattr(entry, "molar_mass", None)
    common = targets[0].canonical_unit or first.unit
    a = convert(first.value, first.unit, common, molar_mass)
    b = convert(q.value, q.unit, common, molar_mass)
    return a is not None and b is not None and abs(a - b) <= 0.1 * max(abs(a), abs(b))


def _names_the_reference(mention: "_Mention", q: Quantity) -> bool:
    """Whether a mention inside a z-score's words names its reference, not a variable ("2 SD below
    the age-appropriate mean")."""
    return q.unit_kind == "deviation" and q.value_end <= mention.start_char < q.end


def _closes_right_after(text: str, pos: int) -> bool:
    """Whether a parenthesis closes right after ``pos`` ("ECOG performance status (PS" → ")")."""
    return text[pos:pos + 3].lstrip(" \t")[:1] == ")"


def _value_for(q: Quantity, targets: list, k: int) -> Quantity:
    """The threshold of the ``k``-th of ``targets``: "SBP/DBP < 140/90 mmHg" gives the value after the
    slash to the second of two variables (one value for both otherwise)."""
    if k == 1 and len(targets) == 2 and q.value_pair is not None:
        return replace(q, value=q.value_pair)
    return q


# one variable whose value pair names two ("blood pressure < 140/90 mmHg": systolic < 140, diastolic < 90)
_PAIR_PARTS = {"blood_pressure": ("systolic_blood_pressure", "diastolic_blood_pressure")}


def _part_named_after(text: str, q: Quantity, targets: list, mention) -> bool:
    """Whether the mention right after ``q`` names a part of the pair its one variable is the whole of:
    "Blood pressure ≥ 140 mmHg systolic or ≥ 90 mmHg diastolic"."""
    return mention is not None and len(targets) == 1 and targets[0] is not None \
        and mention.entry.name in _PAIR_PARTS.get(targets[0].name, ()) \
        and text[q.end:mention.start_char].strip(" \t") == ""


def _parts_of_a_pair(q: Quantity, targets: list) -> list:
    """The two variables a value pair on one generic variable states (``_PAIR_PARTS``), both at the
    generic name's span; ``_value_for`` then gives the second value to the second."""
    if q.value_pair is None or len(targets) != 1 or targets[0] is None or targets[0].name not in _PAIR_PARTS:
        return targets
    from ..resources.lexicon import variables_by_name

    entries = [variables_by_name().get(name) for name in _PAIR_PARTS[targets[0].name]]
    if any(e is None for e in entries):
        return targets
    t = targets[0]
    return [_Target(t.start, t.end, e.name, e.category, e.code, e.unit, e) for e in entries]


_STAGE_WORD = re.compile(r"stages?", re.IGNORECASE)


def _stage_of_a_condition(text: str, head_start: int, head_end: int, mentions: list, taken: list,
                          crit_start: int, crit_end: int):
    """(quantity, [target]) of a stage with no scale named and a comparator ("breast cancer higher than
    stage II", "stage ≥ III", "stage II or higher"), or None. The variable is the condition named
    before the comparator ("breast cancer stage"), else the stage word; a stage with no comparator
    ("stage II or III disease") names a condition, not a threshold."""
    if not _STAGE_WORD.fullmatch(text, head_start, head_end):
        return None
    target = _Target(head_start, head_end, "stage", "score", None, None)
    unit = Linker._class_values(text, head_start, head_end, target, mentions, taken, crit_start, crit_end, True)
    if unit is None:
        return None
    q = unit[0]
    if q.comparator in ("=", "between"):
        return None
    cstart = q.comparator_start if q.comparator_start is not None and q.comparator_start < head_start else head_start
    condition = _clean_name(text, _words_before(text, max(crit_start, cstart - 80), cstart))
    if condition is not None and not any(condition[0] <= m.start_char < condition[1] for m in mentions):
        target = _Target(condition[0], condition[1], _unknown_name(f"{text[condition[0]:condition[1]]} stage"), "score", None, None)
    return q, [target]


def _fitting_the_unit(group: list["_Target"], q: Quantity) -> list["_Target"]:
    """The variables of a coordinated ``group`` that a value in a unit can be of. When a variable of
    the group is measured in the value's unit (or its kind), those that cannot be are left out: a
    unitless scale of the lexicon (``ECOG performance status, or Karnofsky performance scale 50 to
    100%``: the percentage is Karnofsky's), a duration such as age given a value that is no time
    (``creatinine normal for age or creatinine clearance > 60 mL/min``) and a variable of another
    kind (``febrile neutropenia (temperature > 38.5 °C ...)``: no neutrophil count is in °C)."""
    if len(group) < 2 or q.unit is None or q.relative_to is not None:
        return list(group)
    fitting = [t for t in group if not _cannot_take_unit(t, q)]
    if len(fitting) < len(group) and any(_in_unit_kind(t.canonical_unit, q) for t in fitting):
        return fitting
    return list(group)


def _cannot_take_unit(target: "_Target", q: Quantity) -> bool:
    """Whether a lexicon variable cannot have a value in ``q``'s unit: a scale without unit, a
    duration given a value that is no time, or a temperature or a time for a variable of another kind."""
    if target.entry is None:
        return False
    if target.canonical_unit is None:
        return target.category == "score"
    if unit_kind(target.canonical_unit) == "duration" and not q.is_time:
        return True
    return _of_another_physical_kind(target, q)


def _of_another_physical_kind(target: "_Target", q: Quantity) -> bool:
    """Whether ``q``'s unit is a temperature or a time, which a lexicon variable measured in a unit
    of another kind cannot take: no neutrophil count is in °C, no heart rate in seconds. (Volumes and
    lengths are not tested: legacy text writes ``mm(3)`` for /mm³ and ``mm`` for mmHg.)"""
    if target is None or target.entry is None or target.canonical_unit is None:
        return False
    kind = unit_kind(target.canonical_unit)
    if q.is_time:
        return kind not in _KINDS_OF_TIME
    return q.unit_kind == "temperature" and kind != q.unit_kind


_KINDS_OF_TIME = ("time", "duration")  # seconds and milliseconds (QTc), days to years (age)


def _in_a_unit(target: "_Target", quantities: list[Quantity]) -> bool:
    """Whether a mention stands inside the unit (or the rest after the value) of the last of
    ``quantities`` (in text order, not overlapping) that starts before it."""
    i = bisect_right(quantities, target.start, key=lambda q: q.start)
    return i > 0 and quantities[i - 1].value_end <= target.start < quantities[i - 1].end


def _pair_op(q: Quantity, targets: list) -> str:
    """How the rules of one value on several variables join: AND, except a value pair's lower bounds
    ("BP ≥ 140/90 mmHg", hypertension: systolic ≥ 140 OR diastolic ≥ 90)."""
    paired = q.value_pair is not None and len(targets) == 2
    return "or" if paired and q.comparator in (">", ">=") else "and"


_CLASS_HEAD = re.compile(r"(?:[ \t]*(?:\([^()\n]{0,40}\)|(?i:class(?:es|ification)?|grades?|stages?|categor(?:y|ies)|"
                         r"scores?|status|of|is)\b|=|:))*[ \t]*")
_CLASS_SIGN = re.compile(r"(?P<sign>≤|≥|<=|>=|=<|=>|<|>)[ \t]*")
_CLASS_JOIN = r"[ \t]*(?:(?:,[ \t]*)?(?:or|and|to)\b|-|–|,|/)[ \t]*"


def _letter_classes(text: str, mention: "_Mention", crit_start: int, crit_end: int) -> Quantity | None:
    """A scale's classes written as letters after its name, read through the lexicon's ``classes``:
    ``Child-Pugh class B`` (7-9 points), ``Child-Pugh B or C``, ``Child-Pugh class B or worse``,
    ``Child-Pugh > A``, ``worse than Child-Pugh A``. A class with a range of values gives its bounds:
    ``≥ B`` is ≥ the low value of B, ``> A`` is > the high value of A."""
    classes = {label: (low, high) for label, low, high in mention.entry.classes}
    letters = "".join(classes)
    head = _CLASS_HEAD.match(text, mention.end_char)
    pos = head.end()
    sign = _CLASS_SIGN.match(text, pos)
    comparator, comparator_start = None, None
    if sign is not None:
        comparator, comparator_start, pos = _SIGN_OF[sign.group("sign")], sign.start(), sign.end()
    vals = re.compile(rf"[{letters}](?:{_CLASS_JOIN}[{letters}])*(?![\w])").match(text, pos)
    if vals is None or vals.end() > crit_end:
        return None
    s, e = vals.span()
    labels = re.findall(rf"(?<![\w])[{letters}](?![\w])", vals.group())
    low, high = min(classes[c][0] for c in labels), max(classes[c][1] for c in labels)
    start, end = (comparator_start if comparator_start is not None else s), e
    if comparator is None and len(labels) == 1:
        post = postfix_after_position(text, e)  # "Child-Pugh B or worse"
        before = None if post else comparator_before_position(text, mention.start_char)  # "worse than Child-Pugh A"
        if post is not None and post[2] <= crit_end:
            comparator, end = post[0], post[2]
        elif before is not None and before[1] >= crit_start:
            comparator, start = before
            comparator_start = start
    if comparator in (">=", "<"):
        value, value_high = low, None
    elif comparator in (">", "<="):
        value, value_high = high, None
    elif low == high:
        comparator, value, value_high = "=", low, None
    else:
        comparator, value, value_high = "between", low, high
    return Quantity(start=start, end=end, comparator=comparator, value=value, value_high=value_high,
                    value_start=s, value_end=e, inclusive=(True, True) if value_high is not None else None,
                    comparator_form="implicit", comparator_start=comparator_start)


_SIGN_OF = {"≤": "<=", "<=": "<=", "=<": "<=", "≥": ">=", ">=": ">=", "=>": ">=", "<": "<", ">": ">"}


# a class word of a scale, and the proper name of a scale right before one: "Kellgren-Lawrence grade",
# "K-L grade", "Modified Mallampati grade", "Fazekas score"
_CLASS_WORD = re.compile(  # \b(?i:grades?|class(?:es)?|stages?|scores?)\b, led by a character class re scans fast
    r"[gGcCsS](?<![\w][gGcCsS])"
    r"(?:(?<=[gG])(?i:rades?)|(?<=[cC])(?i:lass(?:es)?)|(?<=[sS])(?i:tages?|cores?))\b")
_SCALE_NAME_WORDS = re.compile(r"(?:(?<![\w'’-])[A-Z][\w'’-]*[ \t]+){0,2}(?<![\w'’-])[A-Z][\w'’-]*[ \t]+$")
_CAPITALS = re.compile(r"[A-Z]")


def _named_scale_class(text: str, crit_start: int, head_start: int, head_end: int) -> "_Target | None":
    """A class word named by the proper name of a scale right before it ("Kellgren-Lawrence grade",
    "Modified Mallampati grade", "WHO grade"): an unknown score named by both, or None. One capitalised
    word that opens the criterion ("Neutropenia grade 3") names a condition, not a scale."""
    m = _SCALE_NAME_WORDS.search(text, max(crit_start, head_start - 60), head_start)
    if m is None:
        return None
    start = m.start()
    words = m.group().split()
    while words and words[0].lower() in ("or", "and", "nor", "and/or"):  # "... OR Okuda stage II disease"
        start = text.index(words[1], start + len(words[0])) if len(words) > 1 else m.end()
        words = words[1:]
    if not words or any(_is_prose_word(w) and not w.isupper() for w in words):
        return None
    opens = not text[crit_start:start].strip(" \t-*•:")
    if len(words) == 1 and len(_CAPITALS.findall(words[0])) < 2 and opens \
            and text[head_start:head_end].lower().startswith(("grade", "stage")):
        return None  # "Neutropenia grade 3": a condition's grade ("Fazekas score 2" is a scale's)
    return _Target(start, head_end, _unknown_name(text[start:head_end]), "score", None, None)


_OF_BEFORE = re.compile(r"[ \t]+of[ \t]+$", re.IGNORECASE)
# the grade's value and the word after it: "Grade 3 or greater will", "grade 2 or worse peripheral"
_GRADE_TAIL = re.compile(r"[ \t]*(?:[<>≤≥=/]+[ \t]*)?(?:\d+|[IV]+)(?:[ \t]*(?:-|to|or|and)[ \t]*(?:\d+|[IV]+))?"
                         r"(?:[ \t]+(?:or|and)[ \t]+(?:greater|worse|higher|more|above|over|less|lower|below))?"
                         r"\s+(?P<word>[^\W\d_][\w-]*)")


def _graded_condition(text: str, crit_start: int, target: "_Target") -> "_Target | None":
    """A grade written after the condition it grades: "neurological toxicity of Grade 3 or greater"
    → the grade of "neurological toxicity of Grade" (the scale's entry, the condition's words); not
    when the condition follows the grade ("History of grade 2 or worse peripheral neuropathy")."""
    of = _OF_BEFORE.search(text, max(crit_start, target.start - 10), target.start)
    if of is None or text[target.start:target.end].lower() != "grade":
        return None
    after = _GRADE_TAIL.match(text, target.end)
    if after is not None and after.group("word").lower() not in _NAME_STOP:
        return None  # "History of grade 2 or worse peripheral neuropathy": the condition is named after
    named = _words_before(text, max(crit_start, of.start() - 60), of.start())
    return replace(target, start=named[0]) if named is not None else None


def _parts(q: Quantity) -> list[Quantity]:
    """The thresholds a quantity states: one, or for a range whose values are excluded ("outside the
    range of 3.5-5.5") its two open sides, ``< 3.5`` and ``> 5.5``, which the logic joins by OR."""
    if q.comparator != "outside":
        return [q]
    return [replace(q, comparator="<", value_high=None, inclusive=None),
            replace(q, comparator=">", value=q.value_high, value_high=None, inclusive=None)]


def _score_number(token: str) -> float | None:
    if token[0].isdigit():
        return float(token)
    return _ROMAN_VALUE.get(token.lower())


def is_field_label(text: str, start: int, end: int) -> bool:
    """Whether the criterion ``text[start:end]`` is only a field label (``Age:``, ``Life expectancy:``),
    whose name holds for the values of its sub-items."""
    return _FIELD_LABEL.fullmatch(text, start, end) is not None


def may_hold_class_value(text: str, start: int, end: int, letters: frozenset[str] = frozenset()) -> bool:
    """Whether ``text[start:end]`` may hold a rule with no quantity: a scale's class given by value
    alone (``NYHA III``, ``ECOG 0-1``; see ``_score_values``), or by one of the class ``letters`` of the
    lexicon (``Child-Pugh B``). Cheap, on characters; a superset."""
    return _CLASS_VALUE_DIGIT.search(text, start, end) is not None or \
        _CLASS_VALUE_ROMAN.search(text, start, end) is not None or \
        bool(letters) and _class_letter_regex(letters).search(text, start, end) is not None


@lru_cache(maxsize=8)
def _class_letter_regex(letters: frozenset[str]) -> re.Pattern:
    """A class letter standing alone: a character class first, which re scans fast."""
    chars = re.escape("".join(sorted(letters)))
    return re.compile(rf"[{chars}](?<![\w][{chars}])(?![\w])")


def predict_probability(model, rows: list[dict]) -> list[float]:
    """P(threshold) for feature dicts.

    A :class:`~criteria_nlp.learning.model.LinearFilter` (the shipped model, and any DictVectorizer →
    linear pipeline, whose weights are read once and kept on the model object) sums the weights
    straight from the feature dicts (sklearn's ``transform``/``predict_proba`` re-validate their
    input on every call, which cost more than the rest of the linker); any other model goes through
    ``predict_proba``.
    """
    from ..learning.model import LinearFilter, linear_filter_of

    if not isinstance(model, LinearFilter):
        linear = getattr(model, "_criteria_nlp_linear", False)
        if linear is False:
            linear = model._criteria_nlp_linear = linear_filter_of(model)
        if linear is None:
            return list(model.predict_proba(rows)[:, 1])
        model = linear
    return model.predict_probability(rows)


def _protected(q: Quantity, targets: list, text: str = "") -> bool:
    """Thresholds the learned filter may not drop: a symbol comparator, a unit or a reference limit
    on a lexicon variable (``CTCAE grade ≥ 3``, ``AST ≤ 5 x ULN``), a score's class list and a count
    of the patient's things named after its value (``more than 100 cutaneous lesions``). The
    model learned LCT's annotation policy, which leaves toxicity grades and alternative limits
    unannotated; for cohort queries they are thresholds."""
    if q.comparator not in (None, "", "=") and q.comparator_form != "implicit" \
            and (_counts_things_after(q, targets) or _counts_a_known_variable(q, targets)):
        return True  # "more than 100 cutaneous lesions", "no more than 4 prior chemotherapy regimens"
    if q.comparator not in (None, "", "=") and q.unit is not None \
            and (q.unit.startswith(_COUNTED_UNITS) or q.unit in _PER_PERIOD_UNITS) \
            and float(q.value).is_integer() and q.value >= 0:
        return True  # "at least 2 attacks per month", "> 3 seizures a week", "at least once a week": a frequency
    known = all(t is not None and t.entry is not None for t in targets)
    if known and q.comparator_form == "implicit":
        return True  # a class list read after a score's name: "ASA I or II", "NYHA class III-IV"
    if q.comparator_form == "implicit" and text and _CLOSES_CLAUSE.match(text, q.end) \
            and all(t is not None and t.category == "score" and not t.name.endswith("stage") for t in targets):
        # the class of a scale named but unknown, closing its clause: "(Modified Mallampati grade IV)"; not
        # a disease's stage, nor the grade of the condition named after it ("WHO grade III or IV glioma")
        return True
    if known and q.comparator_form == "postfix" and all(t.category == "score" for t in targets) \
            and _WORD.search(text, q.value_end, q.end):
        return True  # "Grade 3 or greater neuropathy", "ECOG 2 or less": a class with a comparator word after it
    if q.comparator not in (None, "", "=") and text and all(_names_an_instrument(text, t) for t in targets):
        return True  # "mRS up to 3", "> 3 on a 0-10 pain intensity numeric scale": a named instrument's score
    if q.comparator not in (None, "", "=") and q.unit_kind in MEASURED_KINDS and q.relative_to is None \
            and all(t is not None for t in targets):
        return True  # "Axial deformity of the lower limbs ≤ 5 °", "ametropia below 3 diopters": a measurement
    if q.comparator not in (None, "", "=") and targets and all(t is not None and t.end <= q.start for t in targets) \
            and all(_MEASURE_HEAD_GAP.fullmatch(text, t.end, _comparator_start(q)) for t in targets):
        return True  # "exhaled carbon monoxide (CO) level greater than 5": a name with a head of measure
    if q.comparator not in (None, "", "=") and q.unit == "%" and targets \
            and all(t is not None and _CHANGE_OF.match(t.name) for t in targets):
        return True  # "greater than 25% increase in primary tumor": a relative change of a named thing
    if q.comparator not in (None, "", "=") and q.is_time and text and _DURATION_WORD_AFTER.match(text, q.end) \
            and _OF_BEFORE.search(text, max(0, q.start - 8), q.start) \
            and all(t is not None and t.name.lower() != "duration" for t in targets):
        return True  # "Crohn's disease of at least 4 months' duration": the duration of the thing named before "of"
    return known and (q.comparator_form in ("symbol", "bounds") or q.unit is not None or q.relative_to is not None)


_WORD = re.compile(r"[^\W\d_]{2,}")
# between a name and its comparator, the head noun of a measure: "CO level greater than 5", "titre of 1:40"
_MEASURE_HEAD_GAP = re.compile(r"[ \t]+(?:levels?|concentrations?|titers?|titres?)(?:[ \t]+(?:of|is|was|are))?[ \t]*",
                               re.IGNORECASE)


def _comparator_start(q: Quantity) -> int:
    return q.comparator_start if q.comparator_start is not None else q.start


_OF_BEFORE = re.compile(r"\bof[ \t]+$", re.IGNORECASE)
# a noun of change before what changed: "25% increase in primary tumor", "at least 50% decline in PSA"
_CHANGE_NOUN = re.compile(r"(?:increase|decrease|reduction|decline|rise|drop|fall|loss|gain|change)s?", re.IGNORECASE)
_CHANGE_OF = re.compile(_CHANGE_NOUN.pattern + r"[ \t]+(?:in|of)[ \t]+\w", re.IGNORECASE)


def _with_further_values(text: str, units: list, keep: list[bool]) -> list[bool]:
    """``keep`` with every unit kept that is a further value of a kept unit: the same mention named
    before both values, in the same unit, the two joined by "or" ("TBI (> 500 cGy (single) or > 800
    cGy)"); the values of one name stand or fall together."""
    kept = {_further_value_key(q, targets) for (q, targets), k in zip(units, keep) if k} - {None}
    out, last_end = list(keep), {}
    for i, (q, targets) in enumerate(units):
        key = _further_value_key(q, targets)
        if key is None:
            continue
        if not out[i] and key in kept and key in last_end and _FURTHER_VALUE_GAP.fullmatch(text, last_end[key], q.start):
            out[i] = True
        last_end[key] = q.end
    return out


# between two values of one name: an aside in parentheses, then "or" ("> 500 cGy (single) or > 800 cGy")
_FURTHER_VALUE_GAP = re.compile(r"[\s,;]*(?:\([^()\n]{0,30}\)[\s,]*)?(?:or|and/or)[\s(]*", re.IGNORECASE)


def _further_value_key(q: Quantity, targets: list) -> tuple | None:
    """(target spans, unit) of a unit whose variables are all named before its value, else None."""
    if not targets or any(t is None or t.end > q.start for t in targets):
        return None
    return tuple((t.start, t.end, t.name) for t in targets), q.unit
# the head noun of a rating instrument's name, an alias in parentheses after it allowed
_INSTRUMENT_HEAD = re.compile(r"(?i:scales?|questionnaires?|inventory|inventories|index|test|scores?)"
                              r"(?:[ \t]*\([^()\n]{1,15}\))?$")


# a rating instrument named, then "for" and the score it gives: "GAD-7 questionnaire for anxiety score"
_INSTRUMENT_FOR = re.compile(r"(?P<instrument>(?:[^\W_][\w'-]*[ \t]+){0,4}(?:scales?|questionnaires?|inventory|index|test)"
                             r"(?:[ \t]*\([^()\n]{1,15}\))?)[ \t]+for[ \t]+(?:the[ \t]+|an?[ \t]+)?$", re.IGNORECASE)


def _instrument_before_its_score(text: str, crit_start: int, start: int, end: int) -> tuple[int, int] | None:
    """The span of the instrument named before "for <name> score" when the name at ``start:end`` is the
    score it gives ("PHQ-9 scale for depression score ≥ 15" is the scale), else None."""
    if not re.search(r"\bscores?$", text[start:end], re.IGNORECASE):
        return None
    m = _INSTRUMENT_FOR.search(text, max(crit_start, start - 80), start)
    if m is None:
        return None
    return _clean_name(text, m.span("instrument"))


def _names_an_instrument(text: str, target) -> bool:
    """Whether a target is a rating instrument: a lexicon score, or a name ending in an instrument noun
    ("10-point numerical rating scale", "IBS symptom severity scores (IBS-SSS)"); a grade, stage or
    class of a condition is none."""
    if target is None:
        return False
    if target.entry is not None:
        return target.category == "score" and target.name != "ctcae_grade"
    return _INSTRUMENT_HEAD.search(text, target.start, target.end) is not None


def _inside_parens(text: str, start: int, pos: int) -> bool:
    return text.count("(", start, pos) > text.count(")", start, pos)


def _register_extensions() -> None:
    for name in ("rules", "logic"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Span.has_extension("rule"):
        Span.set_extension("rule", default=None)


@dataclass
class _Target:
    """Where a variable stands in the text and what it is."""

    start: int
    end: int
    name: str
    category: str | None = None
    code: Code | None = None
    canonical_unit: str | None = None
    entry: object | None = None


# a function word or negating prefix glued by a hyphen to a name makes a compound that names something
# else: "weight-for-height", "FEV1-to-FVC", "non-HDL", "anti-HBs" (a closed class); so does an adjective
# or participle glued after it ("age-correlated", "age-appropriate", "weight-bearing") and a noun of
# change after it ("weight gain" is no body weight)
_COMPOUND_BEFORE = re.compile(r"(?<![^\W\d_])(?i:for|to|at|of|by|per|non|anti)-$")
_COMPOUND_AFTER = re.compile(r"-(?i:for|to|at|of|by|per|[a-z]+(?:ed|ing|ate|ent|ant|ive))(?![^\W\d_])|[ \t-](?i:loss|gain)\b")


# "Charlson score adjusted to age", "QTc corrected for heart rate": the name after is what another is adjusted for
_ADJUSTED_FOR = re.compile(r"(?i:adjusted|corrected|standardi[sz]ed|matched)[ \t]+(?i:for|to|by)[ \t]+(?i:the[ \t]+)?$")


def _an_adjustment(text: str, start: int) -> bool:
    """Whether the lexicon mention at ``start`` names what another value is adjusted for, not a variable."""
    return _ADJUSTED_FOR.search(text, max(0, start - 30), start) is not None


# a ratio named by its terms: "BUN/Cr ratio", "Pr/Cr ratio", "TSH/T4 ratio" (each term is no variable)
_RATIO_WORD = re.compile(r"\bratio\b")
_RATIO_AFTER = re.compile(r"(?:[ \t]*/[ \t]*[^\W_][\w+-]*)?[ \t]+(?i:ratio)\b")


def _inside_a_compound(text: str, start: int, end: int, entry=None) -> bool:
    """Whether a lexicon mention is one part of a compound that names something else ("height" in
    "weight-for-height", "weight" in "weight gain") or one term of a ratio named by its terms ("Cr" and
    "BUN" in "BUN/Cr ratio"), unless the entry is itself a ratio."""
    if _COMPOUND_BEFORE.search(text, max(0, start - 5), start) is not None or _COMPOUND_AFTER.match(text, end) is not None:
        return True
    return _RATIO_AFTER.match(text, end) is not None and not _is_a_ratio(entry)


def _is_a_ratio(entry) -> bool:
    """Whether a lexicon entry is itself a ratio (``fev1_fvc_ratio``; INR, "international normalized ratio")."""
    return entry is None or "ratio" in entry.name.split("_") or any(_RATIO_WORD.search(term) for term in entry.terms)


def _names_a_state(text: str, mention: "_Mention") -> bool:
    """Whether a mention is one of its entry's ``states`` ("thrombocytopenia"), not a term."""
    return bool(mention.entry.states) and text[mention.start_char:mention.end_char].lower() in mention.entry.states


# between a state and its value: "Thrombocytopenia < 75,000", "fever of > 38.5", "Neutropenia (ANC" is no value
_STATE_VALUE_GAP = re.compile(r"[ \t\r\n]*(?:[:(–-][ \t\r\n]*|(?i:of)[ \t\r\n]+)?")


def _value_right_after(text: str, mention: "_Mention", quantities: list[Quantity]) -> bool:
    """Whether a value (its comparator) follows ``mention`` with nothing but ``_STATE_VALUE_GAP`` between."""
    i = bisect_left(quantities, mention.end_char, key=lambda q: q.start)
    if i == len(quantities):
        return False
    q = quantities[i]
    start = q.comparator_start if q.comparator_start is not None and q.comparator_start < q.start else q.start
    gap = _STATE_VALUE_GAP.match(text, mention.end_char, start)
    return gap is not None and gap.end() == start


class _Mention(NamedTuple):
    """A variable mention of ``doc._.variable_mentions``: its character offsets and lexicon entry."""

    start_char: int
    end_char: int
    entry: object


def _target_from_mention(mention: _Mention) -> _Target:
    e = mention.entry
    return _Target(mention.start_char, mention.end_char, e.name, e.category, e.code, e.unit, e)


# "before age 40", "after the age of 50": a comparator that dates an event by the patient's age
_EVENT_AGE_COMPARATOR = re.compile(r"(?:before|prior[ \t]+to|after|beyond|by)[ \t]+(?:the[ \t]+)?age\b", re.IGNORECASE)
# "(AD) diagnosed under age 60", "symptoms started over the age of 50": a participle dates the event by an age
_AGE_OF_AN_EVENT = re.compile(r"(?:under|below|over|above|younger[ \t]+than|older[ \t]+than)[ \t]+(?:the[ \t]+)?age\b",
                              re.IGNORECASE)
_EVENT_PARTICIPLE_BEFORE = re.compile(r"\b(?!aged\b)[^\W\d_]{3,}ed[ \t]+$", re.IGNORECASE)
# "age at first symptoms", "age of onset", "age at menarche" (not "age at screening": the patient's age)
_AGE_AT = re.compile(r"[ \t]+(?:at|of)[ \t]+(?:the[ \t]+)?(?:time[ \t]+of[ \t]+)?(?:(?:his|her|their)[ \t]+)?"
                     r"(?P<event>[^\W\d_][\w'’-]*(?:[ \t]+(?!or\b|and\b)[^\W\d_][\w'’-]*){0,2})", re.IGNORECASE)
_STUDY_EVENT = re.compile(r"(?:screening|enrol|inclusion|consent|randomi[sz]|registration|entry|enter|visit|baseline|"
                          r"sign|start|study|trial|patient|participant|subject|least|most|leas|time|day|first[ \t]+dose|"
                          r"dosing|treatment|admission|presentation|the[ \t]+time)", re.IGNORECASE)
# the words of the clause before "before age N" ("Diagnosis of diabetes", "onset of symptoms")
_EVENT_CLAUSE = re.compile(r"[\W\d_]*?(?:(?:and|or|with|had|has|have|was|were)[ \t]+)*"
                           r"(?P<event>[^\W\d_][^,;:()\n]*?)[ \t]*$", re.IGNORECASE)
_EVENT_STOP = {"age", "who", "had", "has", "have", "was", "were", "their", "his", "her", "women", "men", "patients",
               "subjects", "participants", "a", "an", "the", "of", "at", "in", "on", "with", "for", "to", "is", "be", "must", "should"}
_DIAGNOSIS_EVENT = re.compile(r"diagnos|onset|symptom|began|begin|start|develop", re.IGNORECASE)


def _event_age(event: str, start: int, end: int) -> _Target:
    """A variable "age at <event>": the lexicon's age at diagnosis/onset, else ``age_at_<event words>``."""
    if _DIAGNOSIS_EVENT.search(event):
        from ..resources.lexicon import variables_by_name

        entry = variables_by_name().get("age_at_diagnosis")
        if entry is not None:
            return _Target(start, end, entry.name, entry.category, entry.code, entry.unit, entry)
    words = [w for w in re.findall(r"[^\W\d_]+", event.lower()) if w not in _EVENT_STOP][-2:]
    name = "age_at_" + "_".join(words) if words else "age_at_event"
    return _Target(start, end, name, "demographic", None, "a")


# "under 18 years or over 70 years", "below 18 and above 45 years": bounds of one age joined by a conjunction
_AGE_BOUNDS_GAP = re.compile(r"[ \t,]*(?:and[ \t]*/[ \t]*or|and|or)[ \t]+", re.IGNORECASE)


def _names_age_by_value(q: Quantity, target: _Target | None) -> bool:
    """Whether ``target`` is an age named by the value's own words (``older than 65 years``, ``patients <18``),
    not by a variable word of its own."""
    return target is not None and target.name == "age" and target.entry is None \
        and target.start <= q.start and target.end >= q.end


def _share_coordinated_ages(text: str, units: list) -> list:
    """A lower and an upper bound of an age written with no age word and joined by ``and``/``or`` name the
    age together: each rule's variable is the whole coordination ("under 18 years or over 70 years",
    "younger than 14 years or older than 25 years old"), as the unit or the age word written once after the
    last bound holds for both ("below 18 and above 45 years"). ``units`` is sorted by position."""
    out = list(units)
    for i in range(len(out) - 1):
        (q1, t1), (q2, t2) = out[i], out[i + 1]
        if len(t1) != 1 or len(t2) != 1 or not _names_age_by_value(q1, t1[0]) or not _names_age_by_value(q2, t2[0]) \
                or {q1.comparator[:1], q2.comparator[:1]} != {"<", ">"}:
            continue  # a lower and an upper bound ("> 60 years of age and at least 1 year of amenorrhea" is not)
        if t1[0].end > t2[0].start or not _AGE_BOUNDS_GAP.fullmatch(text, t1[0].end, t2[0].start):
            continue
        start, end = t1[0].start, t2[0].end
        out[i] = (q1, [replace(t1[0], start=start, end=end)])
        out[i + 1] = (q2, [replace(t2[0], start=start, end=end)])
    return out


def _age_at_event(text: str, target: _Target) -> _Target:
    """The patient's age entry followed by "at/of <event>" is the age at that event, unless the event is
    a moment of the study ("age at screening", "age at the time of consent")."""
    if target.name != "age":
        return target
    m = _AGE_AT.match(text, target.end)
    if m is None or _STUDY_EVENT.match(m.group("event")) or _starts_with_a_comparator(m.group("event")):
        return target  # "Age of at least 18 years" is the patient's age
    return _event_age(m.group("event"), target.start, m.end("event"))


def _starts_with_a_comparator(words: str) -> bool:
    """Whether ``words`` begin with a comparator phrase of the grammar ("at least", "less than", "up to")."""
    lowered = " ".join(words.lower().split())
    return any(lowered == p or lowered.startswith(p + " ") for p in quantity_lexicon().prefix_of)


# a unit that counts the patient's things names the variable: "≥ 30 pack-years", "> 10 cigarettes/day"
_UNIT_THINGS = (("{pack_yr}", "smoking_pack_years"), ("{cigarettes}", "cigarettes_per_day"),
                ("{packs}", "cigarettes_per_day"), ("{drinks}", "alcohol_consumption"),
                ("{alcohol_units}", "alcohol_consumption"))


_COUNTED_UNITS = ("{episodes}", "{times}")
# a bare frequency: "at least once a week", "no more than twice a month"
_PER_PERIOD_UNITS = frozenset({"/h", "/d", "/wk", "/mo", "/a"})


# the first word of an occurrence unit that names no thing: "2 times a week", "once a week", "3 sessions per day"
_NOT_COUNTED_THINGS = {"times", "time", "sessions", "a", "an", "per", "every", "each"}


def _thing_of_the_unit(text: str, q: Quantity, targets: list) -> list:
    """An unknown (or missing) variable of a value in pack-years, cigarettes or drinks per time is the
    lexicon's smoking/alcohol variable; the words before the value stay its text when there are any."""
    if q.unit is None or q.unit_start is None or not all(t is None or t.entry is None and t.name != "age" for t in targets):
        return targets
    name = next((n for ann, n in _UNIT_THINGS if q.unit.startswith(ann)), None)
    if name is None:
        if q.unit.startswith(_COUNTED_UNITS) and all(t is None for t in targets):
            # "at least 2 attacks per month", "> 3 seizures a week": the things counted name the variable
            word = re.match(r"[^\W\d_][\w-]*", text[q.unit_start:q.unit_end])
            if word is not None and word.group().lower() not in _NOT_COUNTED_THINGS:
                s, e = q.unit_start + word.start(), q.unit_start + word.end()
                return [_Target(s, e, _unknown_name(text[s:e]), None, None, None) for _ in targets]
        return targets
    from ..resources.lexicon import variables_by_name

    entry = variables_by_name().get(name)
    if entry is None:
        return targets
    out = []
    for t in targets:
        start, end = (t.start, t.end) if t is not None else (q.unit_start, q.unit_end)
        out.append(_Target(start, end, entry.name, entry.category, entry.code, entry.unit, entry))
    return out


def _named_instrument(targets: list, mentions: list[_Mention], text: str = "") -> list:
    """An instrument named after the value ("a score ≥ 20 on the Hamilton Depression Rating Scale")
    is the lexicon's entry when the lexicon knows it."""
    out = []
    for t in targets:
        if t is not None and t.entry is None and t.category == "score":
            # the mention must be the whole name ("speech question of the ALSFRS-R" is a part of it)
            inside = [m for m in mentions if t.start <= m.start_char < t.end and m.start_char - t.start <= 4
                      and m.end_char >= t.end - 1 and not (text and _is_generic(text[m.start_char:m.end_char]))]
            if inside:
                best = max(inside, key=lambda m: m.end_char - m.start_char)
                t = _target_from_mention(best)
        out.append(t)
    return out


_ENDS_WITH_ABBREVIATION = re.compile(r"(?:\([A-Z][A-Za-z0-9-]{1,9}\)|\b[A-Z][A-Z0-9-]{1,9})$")
_COORDINATED_BEFORE = re.compile(r"(?P<name>(?:[^\W\d_][^,;:()\n]{0,60}?)?(?:\([A-Z][A-Za-z0-9-]{1,9}\)|\b[A-Z][A-Z0-9-]{1,9}))"
                                 r"[ \t]*(?:,[ \t]*)?(?:and/or|and|or|&|,)[ \t]+$")
# a drug's half-lives, in which washout windows are counted ("< 5 elimination half-lives of the drug")
_HALF_LIVES = re.compile(r"(?:(?:elimination|plasma|terminal)[ \t]+)?half[- ]?li(?:fe|ves|fes)", re.IGNORECASE)
# a short name opening its clause, then "or"/"and" right before another name: "Have a varus angle or"
_COORDINATED_NAME_BEFORE = re.compile(
    r"(?:^|[,;:(\n]|\b(?:a|an|the|have|has|with)\b)[ \t]*(?P<name>[^\W\d_][\w'-]*(?:[ \t]+[^\W\d_][\w'-]*){0,2})"
    r"[ \t]+(?:or|and|and/or)[ \t]+$", re.IGNORECASE)
# between a name and its comparator, nothing but "of", ":" or "=" ("(" opens an aside on the last name only)
_NAME_THEN_COMPARATOR = re.compile(r"[ \t]*(?:of[ \t]+|[:=][ \t]*)?", re.IGNORECASE)
# how far before the second name the first may start (a bounded look-back: criteria can be a megabyte long)
_MAX_COORDINATED_REACH = 120
# words of a past event, which a measured value never shares: "Previous surgery or lesion diameter > 5 cm"
_PAST_EVENT_WORDS = {"previous", "prior", "history", "past", "former", "recent"}


def _coordinated_name_before(text: str, crit_start: int, name_start: int, name_end: int) -> tuple[int, int] | None:
    """The span of an unknown name coordinated with the one at ``name_start:name_end`` when the two share
    a measured value written right after the second: short plain names ("varus angle or valgus ≥ 15°",
    "walk or run at least 10 km per week"), the first opening its clause; None for prose, function words,
    a past event, or one word before a longer name, which modifies its head ("Mediastinal or hilar lymph
    nodes ≥ 1.5 cm" are nodes)."""
    lo = max(crit_start, name_start - _MAX_COORDINATED_REACH)
    # a window cut inside the criterion does not open a clause: "\0" keeps "^" from matching there
    window = ("" if lo == crit_start else "\0") + text[lo:name_start]
    m = _COORDINATED_NAME_BEFORE.search(window) if text[name_start].isalpha() else None
    if m is None:  # ("Ventilator dependence or (A-a) DO2 > 30 mm Hg": a measure with a sign of its own)
        return None
    base = lo - (len(window) - (name_start - lo))
    s, e = base + m.start("name"), base + m.end("name")
    while text[s:e].split()[0].lower() in ("a", "an", "the") and " " in text[s:e].strip():
        s = text.index(" ", s) + 1  # "Have a varus angle or": the article opens the clause
    words = text[s:e].split()
    if any(_is_prose_word(w) or _is_number_word(w) or w.lower() in _PAST_EVENT_WORDS for w in words):
        return None
    if len(words) == 1 and len(text[name_start:name_end].split()) > 1:
        return None
    return (s, e) if _clean_name(text, (s, e)) == (s, e) else None


_PAREN_AFTER_CLASS = re.compile(r"[ \t]*\([^()\n]{1,20}\)")
_TIME_NAME_BEFORE = re.compile(r"(?:\b(?:length|duration|interval|cycles?)|\b(?!(?:the|any|a|an|that|this|same|first|last|one|"
                               r"each|every|such|no|of|at|in|on|by|for)\b)[^\W\d_][\w-]*[ \t-]+time)"
                               r"[ \t]*(?:(?:of|:|is|=|was)[ \t]*)?$", re.IGNORECASE)


def _not_in_time(q: Quantity) -> bool:
    """A value whose written unit is no time ("2.3 ng/mL", "10 kg")."""
    return q.unit is not None and q.relative_to is None and not q.is_time and q.unit_kind not in (None, "age", "time") \
        and q.unit not in ("%",)


def _is_time_variable(target: _Target) -> bool:
    return target.canonical_unit in TIME_UNITS or target.name in ("age", "life_expectancy")


def _measured_in_time(target: _Target) -> bool:
    """A variable whose value is a time ("gestational age") rather than a condition whose duration a
    time gives ("20 weeks of amenorrhea" dates a pregnancy; LCT and cohort queries read a window)."""
    return _is_time_variable(target) and not target.name.endswith("_duration")


# between a time until an event and its value: "life expectancy within 12 months"
_WITHIN_GAP = re.compile(r"[ \t]+(?:of[ \t]+|is[ \t]+)?within[ \t]+", re.IGNORECASE)


# an aside between a name and its value: averaging ("on the average of", "on average", "an average of")
# or the period the value is measured over ("Loss of lung function over a one year period of greater than")
_ASIDE_BEFORE_VALUE = re.compile(
    r"[ \t,]+(?:on[ \t]+(?:the[ \t]+|an[ \t]+)?average(?:[ \t]+of)?|an?[ \t]+average(?:[ \t]+of)?"
    r"|(?:over|during|in)[ \t]+(?:a|an|the)[ \t]+[\w.]+[ \t-]+(?:hour|day|week|month|year)s?[ \t-]+period(?:[ \t]+of)?)[ \t,]*$",
    re.IGNORECASE)


def _fallback_name(doc_text: str, crit_start: int, q_start: int) -> tuple[int, int] | None:
    """The words before a comparator naming an unknown variable (at most 5 words, one clause).

    A generic head ("score", "total score", "level") reaches back over one separator to the name
    it belongs to: "(Boston Bowel Prep Scale, total score ≤2)" → "Boston Bowel Prep Scale, total score".
    """
    aside = _ASIDE_BEFORE_VALUE.search(doc_text, max(crit_start, q_start - 40), q_start)
    if aside is not None:  # "cocaine use on the average of at least once a week": the name is before it
        q_start = aside.start()
    span = _words_before(doc_text, max(crit_start, q_start - 80), q_start, floor=crit_start)
    if span is not None:
        span = _with_head_of_between(doc_text, max(crit_start, span[0] - 80), span)
    if span is not None and _is_generic(doc_text[span[0]:span[1]]):
        sep = span[0] - 1
        while sep > crit_start and doc_text[sep] in " \t":
            sep -= 1
        if sep > crit_start and doc_text[sep] in ",(":
            named = _words_before(doc_text, max(crit_start, sep - 80), sep)
            if named is not None and not _is_generic(doc_text[named[0]:named[1]]):
                return named[0], span[1]
    return span


# "Distance between the gallbladder and": a head noun whose complement names two things
_HEAD_OF_BETWEEN = re.compile(r"(?P<head>(?<![\w-])[^\W\d_][\w-]*)[ \t]+between[ \t]+(?:(?:the|a|an)[ \t]+)?"
                              r"[^\W\d_][^,;:()\[\]\n\d<>=≤≥]{0,40}?[ \t]+and[ \t]+(?:(?:the|a|an)[ \t]+)?$", re.IGNORECASE)


def _with_head_of_between(text: str, lo: int, span: tuple[int, int]) -> tuple[int, int]:
    """``span`` from the head noun whose "between A and" complement ends right before it: "Distance
    between the gallbladder and upper digestive tract > 1 cm" is the distance, not the tract."""
    m = _HEAD_OF_BETWEEN.search(text, lo, span[0])
    if m is None or _is_prose_word(m.group("head")):
        return span
    return m.start("head"), span[1]


# "a score of 5 or greater on the Geriatric Depression Scale": the instrument named after the value
_SCALE_HEAD = r"[\w'’-]*(?:scale|score|questionnaire|screen|test|inventory|index|rating|assessment|examination|exam)s?\b"
_SCALE_AFTER = re.compile(
    r"[ \t]*(?:/[ \t]*10[ \t]*)?(?:points?[ \t]+)?(?:on|in|using|from)[ \t]+(?:the[ \t]+|a[ \t]+|an[ \t]+)?"
    rf"(?P<name>(?:[\w'’-]+[ \t]+){{0,7}}?(?:{_SCALE_HEAD}(?:[ \t]+{_SCALE_HEAD})*"
    r"|(?-i:[A-Z](?:[A-Z0-9]+(?:-[A-Z0-9]+)*|(?:-[A-Z0-9]+)+))\b))",  # "PHQ-9", "C-SSRS"
    re.IGNORECASE,
)


_SCALE_SPAN_WORD = re.compile(r"\d+[ \t]*(?:[-–]|to)[ \t]*\d+[ \t]+")  # "0-10 ", "0 to 10 "


# "<instrument> score indicative of severe alcohol dependence (≥13)": the value is the instrument's
_INDICATIVE_OF = re.compile(rf"(?P<head>{_SCALE_HEAD})[ \t]+(?:(?:that[ \t]+is|is)[ \t]+)?(?:indicative|suggestive|consistent|"
                           r"compatible|diagnostic)[ \t]+(?:of|with)[ \t]+[^;:()<>≤≥=\d\n]{1,50}?[ \t(]*$", re.IGNORECASE)


_INDICATIVE_WORDS = ("indicative", "suggestive", "consistent", "compatible", "diagnostic")


def _indicating_instrument(text: str, crit_start: int, q: Quantity, mentions) -> "_Target | None":
    """The instrument whose score indicates the condition named right before the value, or None."""
    cstart = q.comparator_start if q.comparator_start is not None else q.start
    window = max(crit_start, cstart - 130)
    before = text[window:cstart].lower()
    if not any(word in before for word in _INDICATIVE_WORDS):  # cheap test before the regex
        return None
    m = _INDICATIVE_OF.search(text, window, cstart)
    if m is None:
        return None
    head_end = m.end("head")
    known = [mn for mn in mentions if mn.entry.category in _SCORE_CATEGORIES and head_end - 30 <= mn.end_char <= head_end]
    if known:
        target = _target_from_mention(known[-1])
        named = _words_before(text, max(crit_start, head_end - 80), head_end)
        target.start, target.end = min(target.start, named[0]) if named else target.start, head_end
        return target
    span = _clean_name(text, _words_before(text, max(crit_start, head_end - 80), head_end))
    if span is None:
        return None
    return _Target(span[0], span[1], _unknown_name(text[span[0]:span[1]]), "score", None, None)


def _postfix_within(text: str, pos: int, crit_end: int) -> bool:
    """Whether a postfix comparator ("or greater", "or worse") follows ``pos`` inside the criterion."""
    post = postfix_after_position(text, pos)
    return post is not None and post[2] <= crit_end


def _scale_after(text: str, q: Quantity) -> tuple[int, int] | None:
    """The instrument a comparator-word score is given on, named after it (same line), or None."""
    if q.unit is not None or q.relative_to is not None:
        return None
    m = _SCALE_AFTER.match(text, q.end)
    if m is None or "\n" in m.group():
        return None
    start, end = m.span("name")
    words = text[start:end].split()
    if (words[0].isdigit() or _is_number_word(words[0])) and words[-1].lower().endswith("s"):
        return None  # "greater than 6 on two successive tests": occasions, no instrument
    span = _SCALE_SPAN_WORD.match(text, start, end)
    if span is not None:
        start = span.end()  # "on a 0-10 pain intensity numeric scale": the span is no part of the name
    if re.fullmatch(r"(?i:scales?|scores?)", text[start:end]):
        return None  # "≥ 4 on a scale of 0 to 10": the scale is not named
    return start, end


# an unknown name that says it is a score: "full-scale IQ greater than 75", "coma score more than 8"
# an abbreviation of two or more capitals (with digits or a hyphen): "(CO)", "IBS-SSS", "FEV1"
_NAMED_MEASURE = re.compile(r"(?<![\w-])[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*(?:-[A-Z0-9]+)*(?![\w-])")
_TRAILING_GROUP = re.compile(r"[ \t]*[(\[][^()\[\]]*[)\]]$")
_NAMES_A_SCORE = re.compile(rf"(?:{_SCALE_HEAD}|\biq)$", re.IGNORECASE)
_NAMES_A_RATIO = re.compile(r"\bratio$", re.IGNORECASE)  # "BUN/Cr ratio at least 20": a ratio has no unit

_AFTER_NAME = re.compile(r"[ \t]*(?:of[ \t]+)?(?:(?:the|a|an)[ \t]+)?(?P<name>[^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,3})")
_NOT_A_NAME_AFTER = {"following", "these", "those", "criteria", "which", "that", "who", "or", "and", "in", "at", "for",
                     "despite", "although", "because", "unless", "while", "when", "where",
                     "prior", "before", "after", "since", "from", "to", "with", "without", "on", "per", "times", "time",
                     "during", "within", "over", "under", "by", "as", "than", "is", "are", "was", "were", "if", "unless"}


def _words_after(doc_text: str, pos: int) -> tuple[int, int] | None:
    """Up to 4 name words right after a value, when none stand before it ("≥20 mm colorectal polyp")."""
    m = _AFTER_NAME.match(doc_text, pos)
    if m is None:
        return None
    words = list(re.finditer(r"\S+", m.group("name")))
    kept = []
    for k, w in enumerate(words):
        word = w.group().lower()
        if k == 0 and word in ("prior", "previous") and len(words) > 1 and words[1].group().lower() != "to":
            kept.append(w)  # "4 prior regimens" (but "3 months prior to")
            continue
        if k > 0 and word in ("in", "of") and _CHANGE_NOUN.fullmatch(words[k - 1].group()) and k + 1 < len(words):
            kept.append(w)  # "25% increase in tumor size": the change of what follows
            continue
        if word in _NAME_STOP or word in _NOT_A_NAME_AFTER:
            break
        kept.append(w)
    if not kept:
        return None
    base = m.start("name")
    return base + kept[0].start(), base + kept[-1].end()


# Words that never name a variable: negations, conjunctions, determiners, pronouns, auxiliaries and the
# verbs of eligibility prose in every inflection, and generic words (closed classes, not phrases)
_PROSE_VERBS = ("requir", "receiv", "defin", "consider", "tak", "us", "need", "show", "meet", "hav", "undergo",
                "includ", "exclud", "document", "demonstrat", "experienc", "allow", "permit", "achiev", "reach",
                "vary", "vari", "los", "gain", "plan", "expect", "schedul", "treat", "giv", "perform", "report",
                "observ", "record", "measur", "determin", "confirm", "assess", "evaluat", "estimat", "predict",
                "calculat", "obtain", "do", "doe", "did", "mak", "present", "exhibit", "display", "develop",
                "provid", "donat", "complet", "agre")
_PROSE_VERB = re.compile(rf"(?:{'|'.join(_PROSE_VERBS)})(?:e|es|ed|ing|s|ies|ied|en|n)?", re.IGNORECASE)
_NEVER_A_NAME = {
    "no", "not", "nor", "none", "and", "or", "and/or", "plus", "but", "than", "then", "also", "only", "this", "these",
    "those", "that", "there", "they", "it", "its", "he", "she", "we", "you", "them", "which", "who", "whom", "whose",
    "what",
    "any", "all", "some", "each", "every", "more", "less", "most", "least", "much", "many", "few",
    "can", "could", "may", "might", "would", "will", "shall", "must", "should", "is", "are", "be", "been", "being",
    "was", "were", "has", "have", "had", "increase", "increases", "decrease", "decreases", "change", "changes",
    "point", "points", "level", "levels", "value", "values", "total", "number", "amount", "result", "results",
    "mild", "moderate", "severe", "known", "current", "currently", "previously", "new", "least", "defined", "here",
    "average", "approximately", "about", "around", "usually", "typically", "daily", "since", "from", "until",
    "despite", "although", "because",
}


def _is_prose_word(word: str) -> bool:
    w = word.lower()
    return w in _NEVER_A_NAME or w in _NAME_STOP or _PROSE_VERB.fullmatch(w) is not None


_TIME_SINCE = re.compile(r"(?:hours?|days?|weeks?|months?|years?|wks?|mos?|yrs?)[ ](?:since|after|from|following)",
                         re.IGNORECASE)


def _is_number_word(word: str) -> bool:
    return word.lower() in quantity_lexicon().number_words


# nouns of change spelt like a prose verb: at a name's end they are its head ("hearing loss", "blood loss")
_CHANGE_NOUNS = {"loss", "gain"}


def _is_trailing_prose(word: str) -> bool:
    w = word.lower()
    return w in _NAME_STOP or _PROSE_VERB.fullmatch(w) is not None and w not in _CHANGE_NOUNS


_NUMBER_BEFORE = re.compile(r"\d[ \t]*(?P<unit>(?:[^\s\d]+[ \t]+){0,2})$")


def _unit_of_a_number_before(text: str, start: int, word: str) -> bool:
    """Whether ``word`` (at ``start``) is the unit, or ends the unit, of a number written right before
    it (``5 mm``, ``38.5 deg C``)."""
    m = _NUMBER_BEFORE.search(text, max(0, start - 24), start)
    return m is not None and to_ucum(m.group("unit") + word) is not None


def _clean_name(text: str, span: tuple[int, int] | None) -> tuple[int, int] | None:
    """An unknown variable's words without leading or trailing prose words ("No prior radiotherapy" →
    "prior radiotherapy", "and/or TC" → "TC", "receiving BAY" → "BAY"); None when only prose words are left
    ("requiring", "considered", "there", "points", "increase")."""
    if span is None:
        return None
    s, e = span
    words = list(re.finditer(r"\([^()]*\)|[^\s]+", text[s:e]))
    while words and (_is_prose_word(words[0].group().strip(",.;:")) or _is_number_word(words[0].group())
                     or _unit_of_a_number_before(text, s + words[0].start(), words[0].group())) \
            and not _names_a_change(words):
        words.pop(0)  # "at least one lesion" → "lesion"; "< 5 mm from side branch" → "side branch"
    if len(words) > 2 and _TIME_SINCE.fullmatch(f"{words[0].group()} {words[1].group()}"):
        del words[:2]  # "(At least 4) weeks since prior radiotherapy to > 25% of marrow" → "prior radiotherapy"
    while words and not words[-1].group().startswith("(") and _is_trailing_prose(words[-1].group().strip(",.;:")):
        words.pop()  # "(AMMI)" at the end is the name's alias and stays
    if words and all(w.group().startswith("(") for w in words):
        return None
    if not words:
        return None
    return s + words[0].start(), s + words[-1].end()


def _says_older_or_younger(text: str, q: Quantity) -> bool:
    """Whether the comparator words of a bare number say age ("older than 65", "60 or younger")."""
    start = q.comparator_start if q.comparator_start is not None else q.start
    return q.unit in (None, "a") and q.relative_to is None and _AGE_COMPARATOR.search(text, start, q.end) is not None


def _names_a_change(words: list[re.Match]) -> bool:
    """Whether the name starts with a change of a named thing ("increase in primary tumor"), which is
    the variable, not a prose word before it."""
    return len(words) > 2 and _CHANGE_NOUN.fullmatch(words[0].group()) is not None \
        and words[1].group().lower() in ("in", "of")


def _unknown_name(surface: str) -> str:
    """The name of an unknown variable: lower case, one space, no parenthesised group."""
    name = re.sub(r"\s*\([^()]*\)", "", surface)
    return re.sub(r"\s+", " ", name).strip(" ,;:").lower() or re.sub(r"\s+", " ", surface).lower()


# adjectives of degree, never a variable's whole name: "high (>90%) cure rate" (a closed class)
_DEGREE_WORDS = {"high", "low", "higher", "lower", "elevated", "reduced", "increased", "decreased", "raised",
                 "normal", "abnormal", "very high", "very low"}
# a plural noun: "lesions", "nodules", "metastases" (not "cutaneous", "diagnosis", "class")
_PLURAL_WORD = re.compile(r"[a-z][a-z-]*[^suiy\W]s|[a-z-]*(?:ies|metastases|children|people)")
# after a count of the criteria met: "≥ 2 of the following", "3 or more of these", "at least one of which"
@lru_cache(maxsize=None)
def _counted_words(kind: str) -> frozenset[str]:
    """A word class of ``resources/counted_words.json`` (``repetitions``, ``unit_nouns``), singular and plural."""
    import json
    from importlib import resources

    data = json.loads(resources.files("criteria_nlp.resources").joinpath("counted_words.json").read_text(encoding="utf-8"))
    return frozenset(w for noun in data[kind] for w in (noun, noun + "s"))


def _names_repetitions(name: str) -> bool:
    """Whether an unknown variable's last word counts repeated observations ("consecutive measurements")."""
    words = name.split()
    return bool(words) and words[-1] in _counted_words("repetitions")


_CRITERIA_COUNTED = re.compile(r"[ \t]+of[ \t]+(?:the[ \t]+)?(?:following|these|those|which|them)\b", re.IGNORECASE)
_PART_OF_A_SET = re.compile(r"[ \t]+of[ \t]+(?:the|these|those|which|its|their)\b", re.IGNORECASE)


def _whole_count(q: Quantity) -> list[float] | None:
    """The values of ``q`` when they can count things: whole, not negative, no unit, no reference limit."""
    values = [v for v in (q.value, q.value_high) if v is not None]
    if not values or q.unit is not None or q.relative_to is not None or \
            not all(float(v).is_integer() and v >= 0 for v in values):
        return None
    return values


def _more_than_one(q: Quantity, values: list[float]) -> bool:
    """"more than one chemotherapy regimen" and "no more than 1 prior chemotherapy regimen" (a cap)
    count; "at least one lesion" says that one exists."""
    return values == [1.0] and q.comparator in (">", "<=")


def _counts_things_after(q: Quantity, targets: list) -> bool:
    """A count of the patient's things named after it: "no more than 4 prior chemotherapy regimens",
    "1-3 brain metastases", "more than 100 cutaneous lesions" (a plural noun after the value)."""
    values = _whole_count(q)
    return values is not None and all(
        t is not None and t.start >= q.end and (_more_than_one(q, values) or _PLURAL_WORD.fullmatch(t.name.split()[-1]))
        for t in targets)


_PARENTHESISED_VALUE_END = re.compile(r"[ \t]*\)")


def _after_parenthesised_value(text: str, q: Quantity) -> int:
    """Where the words after ``q`` start, past the parenthesis that encloses only the value:
    "Multiple (1-7) tumors"."""
    close = _PARENTHESISED_VALUE_END.match(text, q.end)
    if close is not None and text[:q.start].rstrip(" \t").endswith("("):
        return close.end()
    return q.end


def _counts_a_known_variable(q: Quantity, targets: list) -> bool:
    """A whole number before the lexicon variable it counts: "no more than 4 prior chemotherapy
    regimens" (``prior_lines_of_therapy``), or after a lexicon count named before it ("Seizure count
    at least 2": a measurement with no unit)."""
    return _whole_count(q) is not None and all(
        t is not None and t.entry is not None
        and (t.start >= q.end or (t.category == "measurement" and t.canonical_unit is None))
        for t in targets)


# variables whose unitless values are counts ("Platelets ≥ 100", "heart rate > 100 beats") or times
# written with a unit the grammar does not read ("Age ≥ 18 ans")
_KINDS_OF_COUNTS = ("count_concentration", "count", "frequency", "duration")


def _other_things_counted(text: str, q: Quantity, targets: list) -> "_Target | None":
    """The things a unitless whole count names right after it when the variables named before it
    are measured in a unit that is no count: "Hypertension requiring more than 2 drugs", "anaemia
    requiring at least 2 transfusions" count drugs and transfusions, not blood pressure or
    haemoglobin (a variable that is a count itself, "Platelets ≥ 100", "pulse > 100 beats", keeps the value)."""
    if not targets or not all(t is not None and t.entry is not None and t.canonical_unit is not None
                              and unit_kind(t.canonical_unit) not in _KINDS_OF_COUNTS
                              for t in targets):
        return None
    counted = _counted_things_after(text, q) if q.value_pair is None else None  # "BP > 145/90" counts nothing
    if counted is None or text[counted[0]:counted[1]].split()[0].lower() in _counted_words("unit_nouns"):
        return None  # "CA-125 above 35 units": a unit the unit table does not read
    return _Target(counted[0], counted[1], _unknown_name(text[counted[0]:counted[1]]), None, None, None)


_ONE_OR_MORE = re.compile(r"(?:1|one)[ \t]+or[ \t]+more", re.IGNORECASE)


def _counted_things_after(text: str, q: Quantity) -> tuple[int, int] | None:
    """The things a count written with a comparator counts, named right after it, up to the first
    plural noun: "more than 100 cutaneous lesions", "3 lung nodules outside the primary tumor" → "lung
    nodules", "more than one chemotherapy regimen"; not "at least 2 of the drugs"."""
    values = _whole_count(q)
    if values is None or not q.comparator or q.comparator == "=" or _PART_OF_A_SET.match(text, q.end):
        return None
    start = _after_parenthesised_value(text, q)
    severity = _SEVERITY_RUN.match(text, start)
    span = _clean_name(text, _words_after(text, severity.end() if severity else start))
    if span is None:
        return None
    if values == [1.0] and not _ONE_OR_MORE.fullmatch(text, q.start, q.end):
        name_ok = re.fullmatch(r"[a-z][\w -]*", _unknown_name(text[span[0]:span[1]]))
        return span if _more_than_one(q, values) and name_ok else None
    # "1 or more lymph nodes": the plural after "1 or more" says that things are counted
    for word in re.finditer(r"[^\W\d][\w-]*", text[span[0]:span[1]]):
        if _PLURAL_WORD.fullmatch(word.group().lower()):
            return span[0], span[0] + word.end()
    return None

# severity words between a count and the things it counts, coordinated or not: "at least 2 moderate
# or severe COPD exacerbations", "≥ 3 mild-to-moderate episodes" (a closed class of adjectives)
_SEVERITY_RUN = re.compile(
    r"(?:[ \t]*(?i:mild|moderate|severe|serious|major|minor|significant)(?i:ly)?"
    r"(?:[ \t]*(?:,|/|-|(?i:and/or|or|and|to)\b))*)+(?=[ \t]+[^\W\d_])")
_VALUE_BETWEEN = re.compile(r"\d|[<>≤≥=]")
_GENERIC_HEADS = {"score", "scores", "total", "level", "levels", "value", "values", "result", "results",
                  "index", "from", "of", "count", "grade", "rating"}


def _is_generic(name: str) -> bool:
    return all(w.lower() in _GENERIC_HEADS for w in re.findall(r"\w+", name))


_OPENED_RIGHT_BEFORE = re.compile(r"\([ \t]*$")


def _can_start_a_name(word: str) -> bool:
    """Not a unit's leftover ("> 38.5 C", "≥ 10 mm mercury"): three letters or more, or an acronym."""
    return (len(word) >= 3 or (len(word) == 2 and word.isupper())) and to_ucum(word) is None


_METHOD_WORDS = {"by", "via", "using"}
_MAX_NAME_GROUP_WORDS = 4  # a longer parenthesised group before a value is an aside, not part of the name
_PARTICIPLE = re.compile(r"[^\W\d_]{2,}(?:ed|en|wn|ood|ade|ound|one|old|eld|ought|aught|ung)", re.IGNORECASE)  # "defined", "shown", "understood", "made"


# the end of a sentence: a full stop after a word of two or more characters, then a capital
# ("weeks. Hypercalcemia"; not "e.g. Hb")
_SENTENCE_END = re.compile(r"(?<=[^\W_]{2})\.[ \t\r\n]+(?=[A-Z])")


def _words_before(doc_text: str, lo: int, pos: int, floor: int | None = None) -> tuple[int, int] | None:
    """Up to 5 name words ending right before ``pos``, within the clause that contains it, from ``lo``
    on (``floor``, the criterion's start, lets the look-back restart before a long aside)."""
    while 0 < lo < pos and doc_text[lo - 1].isalnum() and doc_text[lo].isalnum():
        lo += 1  # the window starts after a whole word ("caroti|d stenosis" is no name)
    window = doc_text[lo:pos]
    base = lo
    masked = re.sub(r"\([^()\s]{1,15}\)", lambda m: "_" * len(m.group()), window)  # keep "(SPADI)"
    cut = max(masked.rfind(ch) for ch in ",;:()[]\n")
    if cut >= 0 and masked[cut] in ")]" and masked[cut + 1:].strip().lower() in ("", "of"):
        # "Shipley IQ (vocabulary standard score) > 80", "[CAGE] >= 2": the name ends with the group
        opener = window.rfind("(" if masked[cut] == ")" else "[", 0, cut)
        if opener >= 0 and cut - opener > 1:
            if len(window[opener + 1:cut].split()) > _MAX_NAME_GROUP_WORDS:
                # "carotid stenosis (patients with symptoms beyond 180 days …) ≥ 60%": an aside
                start = lo if floor is None else max(floor, base + opener - (pos - lo))
                return _words_before(doc_text, start, base + opener)
            named = _words_before(doc_text, lo, base + opener)
            return (named[0] if named else base + opener + 1), base + cut + 1
    if cut >= 0 and masked[cut] == "(" and not masked[cut + 1:].strip():
        # "Framingham risk score (10 % or above)": the name stands before the parenthesis
        masked, window = masked[:cut], window[:cut]
        cut = max(masked.rfind(ch) for ch in ",;:()[]\n")
    listed = _head_of_listed_complements(masked, cut)
    if listed is not None:  # "Lesions of the mediastinum, retroperitoneum, or liver at least 3 cm"
        words = list(_PLAIN_NAME_WORD.finditer(window, listed))
        return (base + listed, base + words[-1].end()) if words else None
    if cut >= 0:
        window, base = window[cut + 1:], base + cut + 1
    sentence_end = None
    for sentence_end in _SENTENCE_END.finditer(window):
        pass
    if sentence_end is not None:  # "Life expectancy less than 6 weeks. Hypercalcemia > 12.5 mg/dL"
        window, base = window[sentence_end.end():], base + sentence_end.end()
    words = list(re.finditer(r"\([^()\s]{1,15}\)|[^\W\d_][\w'’/-]*", window))
    # drop trailing function words ("Survival is expected to be" -> "Survival")
    while words and words[-1].group().lower() in _NAME_STOP:
        words.pop()
    if not words:
        return None
    chosen = [words[-1]]
    rest = words[:-1]
    while rest:
        w = rest.pop()
        if _VALUE_BETWEEN.search(window, w.end(), chosen[0].start()):
            break  # "Total dose > 7.2 mg/kg IV or": a value ends the name ("IV"), it is no part of it
        if w.group().lower() in _METHOD_WORDS and not (rest and _PARTICIPLE.fullmatch(rest[-1].group())):
            # "≥ 20 mm by conventional techniques OR ≥ 10 mm": a method, not the variable (but
            # "as defined by serum creatinine < 2.0 mg/dL": after a participle, "by" names the variable)
            return None
        if w.group().lower() in _NAME_STOP or len(chosen) >= 5:
            # "Axial deformity of the lower limbs ≤ 5°", "percentage of blasts": a name whose
            # complement starts with "of (the)" is named by its head too
            of = w
            if w.group().lower() in ("the", "a", "an") and rest and rest[-1].group().lower() == "of":
                of = rest.pop()
            if of.group().lower() == "of" and len(chosen) <= 3 and rest and _of_head(rest[-1].group()):
                chosen[0:0] = [rest.pop()]
                continue
            break
        chosen.insert(0, w)
    return base + chosen[0].start(), base + chosen[-1].end()


def _without_group_labels(gap: str) -> str:
    """``gap`` with the labels naming a group of people blanked, with the separator before them:
    "Age: Patients with cystic fibrosis (CF): 5 and over; Healthy volunteers: 18 and over" gives
    both values to "Age"."""
    for m in reversed(group_labels(gap)):
        start = m.start()
        while start > 0 and gap[start - 1] in " \t;,:":
            start -= 1
        gap = gap[:start] + " " * (m.end() - start) + gap[m.end():]
    return gap


# "Lesions of the mediastinum, retroperitoneum, or": a head, "of", then a list of its complements
_LISTED_COMPLEMENTS = re.compile(
    r"(?P<head>(?:[^\W\d_][\w'’-]*[ \t]+){0,2}[^\W\d_][\w'’-]*)[ \t\r\n]+of[ \t\r\n]+(?:the[ \t\r\n]+)?[^\W\d_][^,;:()\[\]\d]{0,40}"
    r"(?:,[ \t\r\n]*[^\W\d_][^,;:()\[\]\d]{0,40}){0,6}$", re.IGNORECASE)
_PLAIN_NAME_WORD = re.compile(r"[^\W\d_][\w'’/-]*")
# "..., or liver": the last complement, a bare noun ("..., or an incomplete excision" starts an alternative)
_COORDINATOR_FIRST = re.compile(r"[ \t\r\n]*(?:or|and|and/or)[ \t\r\n]+(?!(?:an?|the)\b)[^\W\d_]", re.IGNORECASE)


def _head_of_listed_complements(masked: str, cut: int) -> int | None:
    """Where the head starts when the name before a value ends a coordinated list of the
    complements of ``head of``: "Lesions of the mediastinum, retroperitoneum, or liver" (``masked``:
    the window before the value, ``cut``: its last separator)."""
    if cut < 0 or masked[cut] != "," or not _COORDINATOR_FIRST.match(masked, cut + 1):
        return None
    m = _LISTED_COMPLEMENTS.search(masked, 0, cut)
    if m is None:
        return None
    words = list(_PLAIN_NAME_WORD.finditer(masked, m.start("head"), m.end("head")))
    while words and (words[0].group().lower() in _NAME_STOP or _is_prose_word(words[0].group())):
        words.pop(0)  # "... with | nodal masses of the neck, ...": the name starts after its function words
    return words[0].start() if words and _of_head(words[-1].group()) else None


def _names_members(group: list, target: "_Target") -> bool:
    """Whether ``group`` is one lab name with no code of its own (an umbrella: "liver enzymes",
    "transaminases") and ``target``, named in parentheses after it, a coded lab test (its member)."""
    return len(group) == 1 and group[0].code is None and group[0].entry is not None \
        and group[0].category == target.category == "lab" and target.code is not None


def _renamed_in_parentheses(text: str, gap: str, group: list, target: "_Target") -> bool:
    """Whether ``target``, alone in the parenthesis that opens right after the one variable of
    ``group``, names that variable again by a related lexicon entry of its kind ("Estimated
    glomerular filtration rate (GFR)", "Serum creatinine (Cr)"), not a member of an umbrella
    ("liver enzymes (AST)") or a part of a pair ("blood pressure (systolic ...)")."""
    return len(group) == 1 and group[0].entry is not None and "(" in gap and _OPEN_PAREN_GAP.match(gap) is not None \
        and _closes_right_after(text, target.end) and group[0].category == target.category \
        and not _names_members(group, target) and target.name not in _PAIR_PARTS.get(group[0].name, ())


_ABBREVIATED_WORD = re.compile(r"[^\W\d_]+")  # a word an abbreviation may stand for


def _abbreviates_from(text: str, abbreviation: "_Target", floor: int) -> int:
    """Where the words that an abbreviation in parentheses stands for start, read by their initials
    ("Urine protein:creatinine (UPC)" → at "Urine"); ``abbreviation.start`` when they do not match.
    The words are looked for from ``floor - 40``."""
    letters = [c for c in text[abbreviation.start:abbreviation.end] if c.isalpha()]
    opening = text.rfind("(", 0, abbreviation.start)
    words = list(_ABBREVIATED_WORD.finditer(text, max(0, floor - 40), opening)) if opening >= 0 else []
    if not letters or not all(c.isupper() for c in letters) or len(words) < len(letters):
        return abbreviation.start
    covered = words[len(words) - len(letters):]
    if all(w.group()[0].upper() == c for w, c in zip(covered, letters)):
        return covered[0].start()
    return abbreviation.start


def _lower_bound_in_its_own_unit(q: Quantity, following) -> bool:
    """Whether ``q`` is the lower bound of a range whose upper bound, ``following``, is in another
    unit ("6 months - 18 years"; see the grammar's two-unit bounds)."""
    return isinstance(following, Quantity) and q.comparator_form == following.comparator_form == "range" \
        and q.comparator == ">=" and following.comparator == "<=" and q.unit != following.unit


def _of_head(word: str) -> bool:
    """A word that can head a name whose complement follows "of": not prose, not a stop word."""
    return not _is_prose_word(word) and word.lower() not in _GENERIC_HEADS and not word.startswith("(")


_NOT_LOADED = object()
MODEL_FILE = "linker.skops"


class Linker:
    def __init__(self, nlp: Language, name: str, model: str | None, threshold: float = 0.5):
        self.name = name
        _register_extensions()
        self.model_spec = model  # see criteria_nlp.learning.model; loaded on first use (or by load_model)
        self._model = _NOT_LOADED
        self.threshold = threshold

    # -- the learned model: loaded lazily, saved with the pipeline ---------------------------
    @property
    def model(self):
        if self._model is _NOT_LOADED:
            self.load_model()
        return self._model

    @model.setter
    def model(self, value) -> None:
        """Put a fitted model (or None: rules only) in place of the spec's (scripts/train_linker.py's folds)."""
        self._model = value

    def load_model(self) -> None:
        """Load the model now; ``ModelNotFoundError`` when the spec names a missing file."""
        from ..learning.model import load_linker_model

        self._model = load_linker_model(self.model_spec)

    def to_disk(self, path, *, exclude=tuple()) -> None:
        from ..learning.model import model_path
        from ..serialization import save_file

        from ..learning.model import weights_path

        source = model_path(self.model_spec)
        if source is not None:
            save_file(path, source, MODEL_FILE)
            if weights_path(source).is_file():  # loaded in place of the .skops file when it matches
                save_file(path, weights_path(source), weights_path(Path(MODEL_FILE)).name)

    def from_disk(self, path, *, exclude=tuple()) -> "Linker":
        from ..serialization import saved_file

        saved = saved_file(path, MODEL_FILE)
        if saved is not None:
            self.model_spec, self._model = str(saved), _NOT_LOADED
        return self

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        linked = []
        for crit, crit_mentions, crit_quantities, label in self._per_criterion(doc):
            upto = text[:crit.end]  # each criterion is linked on the text up to its end: no name is read across it
            units = self._link(upto, crit.start, crit_mentions, crit_quantities, label, crit.end)
            linked.append((crit, [(q, t) for q, t in units if self._keep(q, t, upto)]))
        confidences = self._confidences(text, linked)
        rules_by_criterion: dict[str, list[Rule]] = {}
        logic_by_criterion: dict[str, dict] = {}
        rule_spans: list[Span] = []
        for (crit, units), probs in zip(linked, confidences):
            cid = crit.id
            if probs is not None:
                keep = _with_further_values(text, units, [p >= self.threshold or _protected(*u, text)
                                                          for u, p in zip(units, probs)])
                kept = [(u, p) for u, p, k in zip(units, probs, keep) if k]
                units, probs = [u for u, _ in kept], [p for _, p in kept]
            else:
                probs = [None] * len(units)
            rules: list[Rule] = []
            for (q, targets), confidence in zip(units, probs):
                for k, target in enumerate(targets):
                    for part in _parts(_value_for(q, targets, k)):
                        rule = self._make_rule(text, f"{cid}.r{len(rules) + 1}", part, target)
                        rule.confidence = confidence
                        rules.append(rule)
                        span = doc.char_span(rule.start, rule.end, label=RULE_LABEL, alignment_mode="expand")
                        if span is not None:
                            span._.rule = rule
                            rule_spans.append(span)
            if rules:
                rules_by_criterion[cid] = rules
                logic_by_criterion[cid] = self._logic(text, units, rules)
        doc._.rules = rules_by_criterion
        doc._.logic = logic_by_criterion
        doc.spans[RULE_SPAN_GROUP] = rule_spans
        return doc

    @staticmethod
    def _per_criterion(doc: Doc):
        """(criterion's ``CriterionInfo``, its ``_Mention``s, its quantities, the variables its parent's
        field label names) for the criteria worth linking.

        A parent that is only a field label (``Age:``, ``Life expectancy:`` over a nested
        ``- 18 and over``) names the variable of its items' values, as a run-in ``Age: 18 and over`` does.
        """
        spans = doc._.variable_mentions
        entries = span_values(doc, "variable_mentions", spans, lambda span: span._.variable_entry)
        text = doc_text(doc)
        mentions = [_Mention(span.start_char, span.end_char, entry) for span, entry in zip(spans or [], entries)
                    if not _inside_a_compound(text, span.start_char, span.end_char, entry)
                    and not _an_adjustment(text, span.start_char)]
        mention_starts = [m.start_char for m in mentions]
        is_score = [m.entry.category in _SCORE_CATEGORIES for m in mentions]
        quantities = span_values(doc, "quantities", doc._.quantities, lambda span: span._.quantity)
        quantity_starts = [q.start for q in quantities]
        criteria = [crit for _, crit in criteria_of(doc)]
        by_id = {crit.id: crit for crit in criteria}
        for crit in criteria:
            cs, ce = crit.start, crit.end
            mi, mj = bisect_left(mention_starts, cs), bisect_left(mention_starts, ce)
            qi, qj = bisect_left(quantity_starts, cs), bisect_left(quantity_starts, ce)
            if qi < qj or any(is_score[mi:mj]) or _CLASS_WORD.search(text, cs, ce):  # "Fazekas score 2 or 3"
                parent = by_id.get(crit.parent)
                label: list[_Mention] = []
                if parent is not None and is_field_label(text, parent.start, parent.end):
                    label = mentions[bisect_left(mention_starts, parent.start):bisect_left(mention_starts, parent.end)]
                yield crit, mentions[mi:mj], quantities[qi:qj], label

    def _confidences(self, text: str, linked) -> list:
        """The learned filter's probability of every unit, one model call per document."""
        if self.model is None:
            return [None] * len(linked)
        from ..learning.features import unit_features

        rows = [unit_features(text, crit.start, crit.end, q, targets, crit.section)
                for crit, units in linked for q, targets in units]
        probs = iter(predict_probability(self.model, rows) if rows else [])
        return [[round(float(next(probs)), 4) for _ in units] for _, units in linked]

    # -- linking ---------------------------------------------------------------------------
    def _link(self, text: str, crit_start: int, mentions: list[_Mention], quantities: list[Quantity],
              label: list[_Mention] = (), crit_end: int | None = None):
        events = [(m.start_char, 0, m) for m in mentions] + [(q.start, 1, q) for q in quantities]
        events.sort(key=lambda e: (e[0], e[1]))
        # the parent's field label holds until the criterion names a variable of its own
        group: list[_Target] = [_target_from_mention(m) for m in label]
        previous_group: list[_Target] = []  # the group before the current one (unused), for a unit mismatch
        from_label = bool(group)
        group_end = crit_start
        group_used = False
        merged_generic = None  # a generic name merged into the scale before it ("ECOG performance status")
        indicated_by: list | None = None  # the group whose values an instrument named before it took
        last_q_end: int | None = None
        units: list[tuple[Quantity, list[_Target]]] = []
        pending: list[Quantity] = []  # thresholds waiting for a variable after them
        variable_after = False  # the text puts variables after their values
        after_values: list[int] = []  # units whose variable came after the value, open to a list
        linked_end = crit_start  # end of the last rule made (its variable may follow the value)
        for idx, (_, kind, item) in enumerate(events):
            if kind == 0:
                if _names_a_state(text, item) and not _value_right_after(text, item, quantities):
                    continue  # "refractory anaemia with excess of blasts (≥ 10%)": no haemoglobin value
                target = _age_at_event(text, _target_from_mention(item))
                if _is_generic(text[target.start:target.end]):  # "K-L grade 2-3": the scale the grade is of
                    target = _named_scale_class(text, crit_start, target.start, target.end) \
                        or _graded_condition(text, crit_start, target) or target
                if target.start < max(group_end, linked_end):
                    continue  # inside a quantity, an earlier mention or a rule already made ("of age")
                if target.category in _SCORE_CATEGORIES and _in_a_unit(target, quantities):
                    continue  # "less than a 7th grade education": a class word in a value's unit is no scale
                if from_label:  # "Performance status:" over "- ECOG 0-2": the item's own name wins
                    group, group_end, group_used, from_label = [], crit_start, False, False
                gap = text[group_end:target.start]
                # "elevated (> 5 mg/L) CRP": past the parenthesis that encloses only the value
                after_pending = _after_parenthesised_value(text, pending[-1]) if pending else 0
                if pending and len(text[after_pending:target.start]) <= _MAX_AFTER_GAP and \
                        _variable_after_value(text[after_pending:target.start], target):
                    after_values = []
                    for q in pending:
                        units.append((q, [target]))
                        after_values.append(len(units) - 1)
                    pending = []
                    group, group_end, group_used = [target], target.end, True
                    variable_after = True
                    continue
                if after_values and _COORD_GAP.match(gap) and "\n" not in gap:
                    # "1.5 x ULN of creatinine, ALP, AST and ALT": the values hold for the whole list
                    if all(t.name != target.name for t in group):
                        for i in after_values:
                            units[i][1].append(target)
                        group.append(target)
                    group_end = target.end
                    continue
                after_values = []
                for q in pending:
                    units.append((q, self._fallback_targets(text, crit_start, q)))
                pending = []
                if group and not group_used and target.name in _SCALE_BY_RANGE \
                        and (_CLOSING_GAP.fullmatch(gap) or _OPEN_PAREN_GAP.match(gap) and _closes_right_after(text, target.end)) \
                        and group[-1].entry is not None and group[-1].category == target.category:
                    # "ECOG (Eastern Cooperative Oncology Group) performance status score": the named scale's;
                    # "ECOG performance status (PS)": its alias, with the parenthesis
                    close = re.match(r"[ \t]*\)", text[target.end:target.end + 5]) if "(" in gap else None
                    group[-1].end = group_end = target.end + (close.end() if close else 0)
                    if ")" in gap and text[:group[-1].start].rstrip(" \t").endswith("("):  # "WHO (ECOG) performance status"
                        group[-1].start = text.rindex("(", 0, group[-1].start)
                    merged_generic = target.name
                    continue
                if group and not group_used and target.name == merged_generic and _OPEN_PAREN_GAP.match(gap):
                    close = re.match(r"[ \t]*\)", text[target.end:target.end + 5])  # "... performance status (PS)"
                    group[-1].end = group_end = target.end + (close.end() if close else 0)
                    continue
                merged_generic = None
                if group and not group_used and gap.strip() == "" and gap.count("\n") == 0:
                    # "Blood pressure systolic": adjacent names are one variable, the last one naming it
                    target.start = group[-1].start
                    group[-1] = target
                    group_end = target.end
                    continue
                if group and not group_used and _COORD_GAP.match(gap):
                    if any(t.name == target.name for t in group):
                        self._absorb_alias(text, group, target)  # alias: "Platelet count (PLT)"
                        group_end = max(group_end, target.end)
                        continue
                    if _renamed_in_parentheses(text, gap, group, target):
                        # "Estimated glomerular filtration rate (GFR) 15-60": one variable named twice; a
                        # coded name in the parenthesis says which ("Performance status (Karnofsky scale)")
                        whole_start = _abbreviates_from(text, target, group[0].start)
                        if group[0].code is None and target.code is not None or whole_start < group[0].start:
                            # "Urine protein:creatinine (UPC)": the abbreviation names more than "creatinine"
                            target.start, group[0] = min(group[0].start, whole_start), target
                        group[0].end = group_end = text.index(")", target.end) + 1
                        continue
                    if "(" in gap and _names_members(group, target):
                        group.clear()  # "liver enzymes (AST and ALT ...)": the members named in parentheses
                    # "blood pressure (systolic 90-140 mmHg; diastolic ...)": a part of the whole names the value
                    group = [t for t in group if target.name not in _PAIR_PARTS.get(t.name, ())]
                    group.append(target)
                elif group and not group_used and _BOTH_GAP.match(gap) and \
                        _BOTH_BEFORE.search(text, max(crit_start, group[0].start - 50), group[0].start):
                    # "both FEV1 and diffusion capacity of carbon monoxide (DLCO) > 60%": one value for both
                    group.append(target)
                elif group and any(t.name == target.name for t in group) and \
                        (_OPEN_PAREN_GAP.match(gap) or _NAME_THEN_ALIAS_GAP.match(gap) or _BY_METHOD_GAP.match(gap)):
                    self._absorb_alias(text, group, target)
                    group_end = max(group_end, target.end)
                    continue
                else:
                    previous_group = [] if group_used else group
                    group = [target]
                    group_used = False
                    variable_after = False
                group_end = target.end
                last_q_end = None
                continue
            q: Quantity = item
            if _whole_count(q) is not None and _CRITERIA_COUNTED.match(text, q.end):
                continue  # "plus 3 or more of the following": a count of the criteria met, whatever is named before
            if q.comparator == "" and group and not group_used:
                q = self._comparator_before_name(text, group[0].start, group_end, q)
            if q.comparator == "":
                q = self._comparator_of_alternative(text, units, q)
            if q.comparator == "" and q.unit is not None and group and not group_used and not q.is_time \
                    and _BARE_VALUE_GAP.fullmatch(text, group_end, q.start) \
                    and all(t.entry is not None and t.category != "dose" for t in group):
                # "CRP 10 mg/L", "Hct: 32 %": a measured value written with its unit right after the
                # variable's name, no comparator: an equality (the README's convention)
                q = replace(q, comparator="=", comparator_form="none")
            if q.comparator == "" and q.is_time and group and not group_used and _WITHIN_GAP.fullmatch(text, group_end, q.start) \
                    and all(t.category == "prognosis" for t in group):
                # "life expectancy within 12 months": a time until an event that "within" bounds: at most
                q = replace(q, comparator="<=", comparator_form="word", comparator_start=text.index("within", group_end))
            if q.comparator == "":
                if q.relative_to is None:
                    continue
                q = replace(q, comparator="=", comparator_form="none")  # "ALT three times the ULN"
            after_values = []
            nxt = events[idx + 1] if idx + 1 < len(events) else None
            next_mention = nxt[2] if nxt is not None and nxt[1] == 0 and not _names_the_reference(nxt[2], q) else None
            targets = None
            if q.comparator_start is not None and (
                    _EVENT_AGE_COMPARATOR.match(text, q.comparator_start, q.value_start)
                    or _AGE_OF_AN_EVENT.match(text, q.comparator_start, q.value_start)
                    and _EVENT_PARTICIPLE_BEFORE.search(text, max(crit_start, q.comparator_start - 30), q.comparator_start)):
                # "diagnosed before age 40", "onset after the age of 50": the age at an event
                units.append((q, [self._event_age_target(text, crit_start, q)]))
                last_q_end = q.end
                linked_end = max(linked_end, q.end)
                continue
            if group:
                anchor = last_q_end if (group_used and last_q_end is not None) else group_end
                if self._group_holds(text, q, group, anchor, group_end, group_used, variable_after, next_mention):
                    targets = _fitting_the_unit(group, q)
                    counted = _other_things_counted(text, q, targets)
                    if counted is not None:  # "Hypertension requiring more than 2 drugs": the drugs
                        targets = [counted]
                    elif _part_named_after(text, q, targets, next_mention):
                        targets = None  # "Blood pressure ≥ 140 mmHg systolic": the part named right after the value
                    elif len(targets) == 1 and _of_another_physical_kind(targets[0], q):
                        targets = None  # "Febrile neutropenia (> 38.5 °C)": no neutrophil count
                if targets is not None and _not_in_time(q) and all(_is_time_variable(t) for t in targets):
                    # "AMH levels age appropriate (≥2.3 ng/ml)": a value in ng/mL is no age; the name before
                    targets = None
                    if previous_group and not group_used and previous_group[-1].end < group[0].start and \
                            ";" not in text[previous_group[-1].end:q.start] and q.start - previous_group[-1].end <= _MAX_LINK_GAP \
                            and not all(_is_time_variable(t) for t in previous_group):
                        targets = list(previous_group)
            if targets is not None and not any(t.category in _SCORE_CATEGORIES for t in targets):
                indicated = _indicating_instrument(text, crit_start, q, mentions)
                if indicated is not None and all(t.start > indicated.end for t in targets):
                    targets = [indicated]  # "AUDIT score indicative of severe alcohol dependence (≥13)"
                    indicated_by = list(group)
                elif group_used and indicated_by == group and units and units[-1][1][0] is not None:
                    targets = [replace(units[-1][1][0])]  # "(≥13 for women, ≥15 for men)": the same instrument
            if targets is not None and (q.temporal_cue or _DURATION_OF.match(text, q.end)) \
                    and all(t is not None and t.name == "age" for t in targets) and not _AGE_AFTER.match(text, q.end):
                # "aged 18 or older and on dialysis for at least 6 months", "under 18 but with at least
                # 3 months of independent walking": a duration, no age
                targets = None
            if targets is None:
                targets = self._same_variable_as_last(text, units, q, crit_start)
            if targets is not None and _says_older_or_younger(text, q) and any(t is None or t.name != "age" for t in targets):
                targets = None  # "CrCl at least 60 mL/min in patients older than 65": an age, not the name before
            is_age = targets is None and self._is_age(text, crit_start, q)
            if q.is_time and q.unit not in _SHORT_TIMES and not is_age \
                    and not (targets and any(_is_time_variable(t) for t in targets)):
                if targets is None and (_TIME_NAME_BEFORE.search(
                        text, max(crit_start, q.start - 40), q.comparator_start if q.comparator_start is not None else q.start)
                        or _DURATION_WORD_AFTER.match(text, q.end)):
                    # "Cycle length of 26-39 days": a length or duration named right before is measured in time
                    units.append((q, self._fallback_targets(text, crit_start, q)))
                    last_q_end = q.end
                    continue
                if targets is None and nxt is not None and _lower_bound_in_its_own_unit(q, nxt[2]):
                    pending.append(q)  # "6 months - 18 years of age": the upper bound's variable, named after it
                    continue
                following = _target_from_mention(next_mention) if next_mention is not None else None
                gap_to_next = text[q.end:next_mention.start_char] if next_mention is not None else ""
                if not (following is not None and _is_time_variable(following) and (
                        _measured_in_time(following) and _VALUE_THEN_VARIABLE.match(gap_to_next)
                        or following.name.endswith("_duration") and (
                            _DURATION_THEN_VARIABLE.match(gap_to_next) or _VALUE_THEN_VARIABLE.match(gap_to_next)
                            and _NAMES_A_DURATION.match(text, next_mention.start_char)))):
                    continue  # a time window, not a threshold of a variable
                targets = None  # "< 27 weeks gestation": the time variable follows (linked below)
            if targets is None:
                if is_age:
                    targets = [self._age_target(text, q, crit_start)]
                elif next_mention is not None:
                    pending.append(q)  # resolved by the following mention, else by the words before it
                    continue
                else:
                    targets = self._fallback_targets(text, crit_start, q)
            if targets != [None] or q.unit is None or not q.unit.startswith(_COUNTED_UNITS):
                # (occurrences per period with nothing named, "at least once a week", leave the group as it was)
                group_used = True if group else group_used
                last_q_end = q.end
            if pending and _lower_bound_in_its_own_unit(pending[-1], q):
                units.append((pending.pop(), [t if t is None else replace(t) for t in targets]))
            units.append((q, targets))
            linked_end = max([linked_end, q.end] + [t.end for t in targets if t is not None])
        for q in pending:
            units.append((q, self._fallback_targets(text, crit_start, q)))
        units = [(q, [_in_the_kind_of_unit(t, q) for t in
                      _parts_of_a_pair(q, _thing_of_the_unit(text, q, _named_instrument(targets, mentions, text)))])
                 for q, targets in units]
        units.extend(self._score_values(text, mentions, units, len(text) if crit_end is None else crit_end, crit_start))
        units.sort(key=lambda u: u[0].start)
        return _share_coordinated_ages(text, _without_restatements(text, units))

    @staticmethod
    def _group_holds(text: str, q: Quantity, group: list, anchor: int, group_end: int, group_used: bool,
                     variable_after: bool, next_mention) -> bool:
        """Whether the current variable group is the variable of ``q`` (``anchor``: where the gap
        starts, the group's end or, for a further value, the previous value's end)."""
        gap = _without_group_labels(text[anchor:q.start])
        if group_used:  # a further value of the same variable(s): "platelets <30 or <50"
            # "TBI (> 500 cGy (single) or > 800 cGy)": an aside in parentheses after the value is no name
            gap = _ASIDE.sub(" ", gap)
            ok = len(gap) <= 40 and _NEXT_THRESHOLD_GAP.match(gap) is not None \
                and (";" not in gap or _inside_parens(text, group_end, q.start)) \
                and not _ACRONYM.search(gap)  # "FIO2 ≤0.4, PEEP <8 cm H2O": another name
        else:
            ok = len(gap) <= _MAX_LINK_GAP and ";" not in gap and _LINK_GAP.match(gap) is not None \
                and not _NAMED_BEFORE_VALUE.search(gap)  # "... systolic excursion (TAPSE) <16 mm"
        if ok and variable_after and next_mention is not None and \
                _VALUE_THEN_VARIABLE.match(text[q.end:next_mention.start_char]):
            return False  # "≥140 mmHg systolic and/or ≥90 mmHg diastolic"
        if ok and not group_used and next_mention is not None and _ALTERNATIVE_STARTS.search(gap) and \
                _VALUE_THEN_VARIABLE.match(text[q.end:next_mention.start_char]):
            return False  # "Circulating blasts present OR Greater than 5% blasts in bone marrow": a new alternative
        scale = _scale_after(text, q) if ok and not any(t.category in _SCORE_CATEGORIES for t in group) else None
        if scale is not None and (_NAMES_A_SCORE.search(text, scale[0], scale[1]) or all(t.entry is None for t in group)):
            # "back pain: a score of 5 or more on the Roland-Morris Disability Questionnaire" (a lexicon
            # measurement keeps its value before a mere acronym: "blood pressure less than 140/90 on
            # either an ACE inhibitor")
            return False
        return ok

    @classmethod
    def _same_variable_as_last(cls, text: str, units: list, q: Quantity, crit_start: int) -> list | None:
        """The previous value's variable(s) for a further value in the same unit after a population or
        a connector: "(<7 kg/m^2 in men; <5.7 kg/m^2 in women)", "under 18 years or over 70 years"."""
        if not units or units[-1][1] == [None] or units[-1][0].start > q.start:
            return None
        last_q, last_targets = units[-1]
        if any(t is not None and last_q.end <= t.start < q.start for t in last_targets):
            return None  # "≥140 mmHg SBP and/or ≥90 mmHg DBP": the variable follows each value
        if q.unit != last_q.unit or q.start - last_q.end > 60 \
                or not _SAME_VARIABLE_GAP.match(_ASIDE.sub(" ", text[last_q.end:q.start])):
            return None
        return [cls._age_target(text, q, crit_start) if t.name == "age" and t.entry is None else replace(t) for t in last_targets]

    @staticmethod
    def _score_values(text: str, mentions: list[_Mention], units, crit_end: int, crit_start: int = 0) -> list:
        """Scores and classes given by value alone: ``ASA I-III``, ``NYHA class III or IV``, ``CDR 0.5 or 1``."""
        linked = {t.start for _, targets in units for t in targets if t is not None}
        taken = [(q.start, q.end) for q, _ in units]
        out = []
        for mention in mentions:
            entry = mention.entry
            if entry.unit is not None or entry.category not in _SCORE_CATEGORIES or mention.start_char in linked:
                continue
            if entry.classes:
                q = _letter_classes(text, mention, crit_start, crit_end)
                if q is not None and not any(a < q.end and q.start < b for a, b in taken):
                    out.append((q, [_target_from_mention(mention)]))
                    taken.append((q.start, q.end))
                    continue
            name = text[mention.start_char:mention.end_char]
            generic = _is_generic(name) or name.lower() in ("stage", "class")
            target = _target_from_mention(mention)
            named = _named_scale_class(text, crit_start, mention.start_char, mention.end_char) if generic else None
            if named is not None:
                target, generic = named, False  # "Kellgren-Lawrence grade 2-3" is no toxicity grade
            elif generic and (comparator_before_position(text, mention.start_char) or (None, -1))[1] < crit_start:
                vals = _SCORE_VALUES.match(text, mention.end_char)
                if not (vals is not None and _postfix_within(text, vals.end("vals"), crit_end)):
                    # "grade II or III osteoarthritis": the stage of a condition, not a score's class; with
                    # a comparator before it ("≥ grade 3 neutropenia") or after its class ("Grade 3 or
                    # greater neuropathy"), it is a threshold
                    continue
            unit = Linker._class_values(text, mention.start_char, mention.end_char, target, mentions, taken,
                                        crit_start, crit_end, generic)
            if unit is not None and generic and unit[0].comparator_start is not None:
                # "acute GVHD ≥ clinical grade II", "neutropenia > grade 2": the grade of the condition named
                # before the comparator; the variable is written there
                cstart = unit[0].comparator_start
                named_before = _clean_name(text, _words_before(text, max(crit_start, cstart - 80), cstart))
                if named_before is not None and not any(named_before[0] <= m.start_char < named_before[1]
                                                        and not _is_generic(text[m.start_char:m.end_char])
                                                        for m in mentions):
                    target.start, target.end = named_before
            if unit is not None:
                out.append(unit)
                taken.append((unit[0].value_start, unit[0].value_end))
        # classes of a scale the lexicon does not know, named before the class word: "Fazekas score 2 or 3",
        # "Modified Mallampati grade IV"
        for head in _CLASS_WORD.finditer(text, crit_start, crit_end):
            if any(m.start_char <= head.start() < m.end_char for m in mentions):
                continue
            named = _named_scale_class(text, crit_start, head.start(), head.end())
            if named is None:
                unit = Linker._classes_on_a_scale_after(text, head.start(), head.end(), mentions, taken,
                                                        crit_start, crit_end) \
                    or _stage_of_a_condition(text, head.start(), head.end(), mentions, taken, crit_start, crit_end)
                if unit is not None:
                    out.append(unit)
                    taken.append((unit[0].value_start, unit[0].value_end))
                continue
            if any(named.start < m.end_char and m.start_char < head.start() for m in mentions):
                continue
            unit = Linker._class_values(text, named.start, head.end(), named, mentions, taken, crit_start, crit_end, False)
            if unit is not None:
                out.append(unit)
                taken.append((unit[0].value_start, unit[0].value_end))
        return out

    @staticmethod
    def _classes_on_a_scale_after(text: str, head_start: int, head_end: int, mentions: list, taken: list,
                                  crit_start: int, crit_end: int):
        """(quantity, [target]) of the classes a generic score word lists when the instrument is named
        after them: "a score of 4 or 5 on the C-SSRS" → the C-SSRS between 4 and 5; else None."""
        vals = _SCORE_VALUES.match(text, head_end)
        if vals is None or len(_SCORE_VALUE.findall(vals.group("vals"))) < 2:
            return None
        scale = _scale_after(text, Quantity(start=vals.start("vals"), end=vals.end("vals"), comparator="", value=0.0))
        if scale is None or scale[1] > crit_end:
            return None
        s, e = scale
        target = _named_instrument([_Target(s, e, re.sub(r"\s+", " ", text[s:e].lower()), "score", None, None)],
                                   mentions, text)[0]
        return Linker._class_values(text, head_start, head_end, target, mentions, taken, crit_start, crit_end, False)

    @staticmethod
    def _class_values(text: str, name_start: int, name_end: int, target: "_Target", mentions: list, taken: list,
                      crit_start: int, crit_end: int, generic: bool):
        """(quantity, [target]) of the classes written after a scale's name (``name_end``), or None."""
        m = _SCORE_VALUES.match(text, name_end)
        if m is None or m.end("vals") > crit_end or any(name_end <= other.start_char < m.start("vals")
                            and not _is_generic(text[other.start_char:other.end_char])
                            and other.entry.name != target.name for other in mentions):
            return None  # "Performance status: ECOG 0-2": the values are the nearer name's (not an alias's: "(CDR)")
        if _OUT_OF.fullmatch(m.group("vals")):
            return None  # "pain score 2/10": a value out of a maximum, not a list of classes
        tokens = _SCORE_VALUE.findall(m.group("vals"))
        if len(tokens) == 1 and tokens[0][0].isdigit() \
                and not _SCORE_KEYWORD.search(text, name_start, m.start("vals")) \
                and not _CLOSES_CLAUSE.match(text, m.end("vals")) and m.end("vals") < crit_end:
            return None  # "NYHA 6 minute walk" is too weak; "ASA 3)", "class 3", "rating of 0", "ECOG 0" (ending its criterion) are not
        values = [_score_number(v) for v in tokens]
        if not values or any(v is None for v in values):
            return None
        if generic and max(values) > 5:
            return None  # a bare grade is a toxicity grade (0-5); "superior to grade 8" is a school grade
        s, e = m.span("vals")
        if any(a < e and s < b for a, b in taken):
            return None
        low, high = min(values), max(values)
        comparator, start, end, comparator_start = ("=" if low == high else "between"), s, e, None
        if low == high:
            # "NYHA class III or worse", "ASA 3 or higher": a postfix comparator after the class;
            # "more severe than NYHA 2", "at least NYHA class II": a comparator before the name
            paren = _PAREN_AFTER_CLASS.match(text, e)  # "Gleason score 7 (4+3) or higher"
            post = postfix_after_position(text, paren.end() if paren else e)
            before = None if post else comparator_before_position(text, name_start)
            if post is not None and post[2] <= crit_end:
                comparator, end = post[0], post[2]
            elif before is not None and before[1] >= crit_start:
                comparator, start = before[0], before[1]
                comparator_start = start
        q = Quantity(start=start, end=end, comparator=comparator, value=low,
                     value_high=None if low == high else high, value_start=s, value_end=e,
                     inclusive=None if low == high else (True, True), comparator_form="implicit",
                     comparator_start=comparator_start)
        alias = _ALIAS_AFTER.match(text, name_end, s)
        if alias:
            target.end = alias.end()  # "New York Heart Association (NYHA) IV": the name with its alias
        return q, [target]

    @staticmethod
    def _comparator_of_alternative(text: str, units: list, q: Quantity) -> Quantity:
        """A bare value that is an alternative limit of the previous threshold takes its comparator:
        "no greater than 1.5 times normal (5 times normal if liver metastases)", "greater than 2 months
        for those with metastatic disease or 2 years for ...". The two must be the same kind of limit
        (both multiples of the same reference, or units of one dimension) and close, in one clause."""
        if not units or units[-1][0].start > q.start:
            return q
        last = units[-1][0]
        gap = text[last.end:q.start]
        same_kind = (q.relative_to is not None and q.relative_to == last.relative_to) or \
            (q.unit is not None and last.unit is not None and q.unit_kind == last.unit_kind and q.relative_to is None)
        if not same_kind and _OPENS_PARENTHESIS.fullmatch(gap) and q.unit is not None and q.relative_to is None \
                and last.relative_to is not None and last.value_high is None:
            same_kind = True  # "no greater than 1.5 times ULN (1.95 mg/dL at MSKCC)": the limit in units
        alternative = _ALTERNATIVE_GAP.match(gap) is not None or \
            (_AND_GAP.fullmatch(gap) is not None and _RESPECTIVELY_AFTER.match(text, q.end) is not None)
        if not last.comparator or last.comparator in ("=", "between") or not same_kind or len(gap) > 60 \
                or ";" in gap or not alternative or _EQUATION_AFTER.match(text, q.end):
            return q
        return replace(q, comparator=last.comparator, comparator_form=last.comparator_form)

    @staticmethod
    def _comparator_before_name(text: str, name_start: int, name_end: int, q: Quantity) -> Quantity:
        """"a minimum life expectancy of 12 weeks": the comparator word stands before the name."""
        if not _NAME_TO_VALUE_GAP.fullmatch(text, name_end, q.start):
            return q
        adjective = _LIMIT_ADJECTIVE.search(text, max(0, name_start - 20), name_start)
        if adjective is None:
            return q
        comparator = ">=" if adjective.group(1).lower().startswith("min") else "<="
        return replace(q, comparator=comparator, comparator_form="word", comparator_start=adjective.start(1))

    @staticmethod
    def _absorb_alias(text: str, group: list, alias: "_Target") -> None:
        """Let the variable span cover "name (ABBR)" when the alias closes its parenthesis. When the
        parenthesis goes on with the value ("Anaemia (haemoglobin < 9 g/dL)"), the name inside it
        is the one the value is written with: it becomes the variable's span."""
        i, owner = next((i, t) for i, t in enumerate(group) if t.name == alias.name)
        gap = text[owner.end:alias.start]
        close = re.match(r"\s*[)\]]", text[alias.end:alias.end + 5])
        if close and (re.match(r"^\s*\($", gap) or _NAME_THEN_ALIAS_GAP.match(gap) or _BY_METHOD_GAP.match(gap)):
            owner.end = alias.end + close.end()
        elif close is None and re.fullmatch(r"[ \t]*\([ \t]*", gap) and not text[alias.end:alias.end + 5].lstrip(" \t").startswith("("):
            group[i] = alias  # (not "Neutrophils (Absolute neutrophil count (ANC)) ≥ 1.5": an alias of aliases)

    @staticmethod
    def _keep(q: Quantity, targets: list, text: str = "") -> bool:
        """Drop what is not a threshold of a variable: a count with no variable ("at least one"). An
        unknown name written with its abbreviation, or as one, names a measure ("exhaled carbon
        monoxide (CO) level greater than 5", "IBS-SSS greater than 250")."""
        if targets == [None]:
            return False
        if q.unit not in (None, "%", "mm", "cm") and q.relative_to is None \
                and all(t is not None and t.entry is not None and t.category == "score" for t in targets):
            return False  # "grade 3 or worse intolerance to 500-600 mg/day AZT": a score has no unit but % or a VAS length
        if q.comparator == "=" and all(t is not None and t.entry is None and t.name == "n" for t in targets):
            return False  # "(n=16)": a sample size
        if _whole_count(q) is not None and all(t is not None and t.entry is None and t.start >= q.end
                                               and _names_repetitions(t.name) for t in targets):
            return False  # "rising on at least 3 measurements": how often, not a threshold
        if any(t is not None and t.entry is None and _HALF_LIVES.fullmatch(t.name) for t in targets):
            return False  # "within 30 days or fewer than 5 half-lives prior to screening": a washout window
        if any(t is not None and t.entry is None and (_NOT_A_VARIABLE.fullmatch(t.name)
                                                      or len(t.name) > 2 and to_ucum(t.name)) for t in targets):
            return False  # "i.e. ≤150 ml", "(1 cmH2O = 0.098 kPa)": an abbreviation or a unit, not a variable
        unknown = all(t is None or t.entry is None and t.name != "age" and t.category is None
                      and not _NAMES_A_SCORE.search(_TRAILING_GROUP.sub("", t.name))
                      and not _NAMES_A_RATIO.search(_TRAILING_GROUP.sub("", t.name))
                      and not (text and _NAMED_MEASURE.search(text, t.start, t.end)) for t in targets)
        if unknown and q.unit is None and q.relative_to is None and q.comparator_form in ("word", "postfix", "none") \
                and not _counts_things_after(q, targets):
            return False
        return True

    @classmethod
    def _is_age(cls, text: str, crit_start: int, q: Quantity) -> bool:
        """An age with no variable written: ``6 months old``, ``> 1 month of age``, ``60 or older``,
        ``patients < 18``, and years that the words around call an age (:meth:`_looks_like_age`)."""
        if q.unit_kind == "age" or q.is_time and _AGE_AFTER.match(text, q.end):
            return True
        if q.unit == "a":
            return not q.temporal_cue and cls._looks_like_age(text, crit_start, q)
        if q.unit is not None or q.relative_to is not None or not q.comparator or q.value is None:
            return False
        if not (1 <= q.value <= 120 and float(q.value).is_integer()):
            return False
        if _AGE_COMPARATOR.search(text, q.start, q.end):
            return True  # "older than 65", "60 or older", "55 and older"
        if _OVER_BOUND.search(text, q.start, q.end) and _AGE_LEAD.fullmatch(text, crit_start, q.start) \
                and _ITEM_END.match(text, q.end):
            return True  # a list item "- 18 and over"
        return q.comparator_form == "symbol" and _SUBJECT_BEFORE.search(text, max(crit_start, q.start - 30), q.start) \
            is not None and _AFTER_BARE_AGE.match(text, q.end) is not None

    @staticmethod
    def _looks_like_age(text: str, crit_start: int, q: Quantity) -> bool:
        """Years with no variable are an age when the words around say so ("aged", "old", "of age",
        "patients ≥ 18 years"), not when they measure a duration ("5 years since diagnosis")."""
        after = text[q.end:q.end + 30]
        if _DURATION_AFTER.match(after):
            return False
        if _AGE_CUE.search(text, max(crit_start, q.start - 40), min(len(text), q.end + 15)):
            return True
        if _AGE_LEAD.fullmatch(text, crit_start, q.start):
            return True  # the item starts with the years: "18-65 years", "From 18 to 25 years"
        return _SUBJECT_BEFORE.search(text, max(crit_start, q.start - 30), q.start) is not None

    @staticmethod
    def _age_target(text: str, q: Quantity, crit_start: int) -> _Target:
        start, end = q.start, q.end  # "older than 18 years": the comparator words say "age" too
        lead = text[max(crit_start, start - 15):start]  # never before its criterion
        before = re.search(r"\b(?:aged?|older|younger|over|under)\s*(?:of\s*)?:?\s*$", lead, re.I)
        if before:
            start -= len(lead) - before.start()
        after = re.match(r"[\s-]*(?:of\s+age\s+or\s+older|of\s+age|old|age)\b", text[end:end + 25], re.I)
        if after:
            end = end + after.end()
        return _Target(start, end, "age", "demographic", Code("http://loinc.org", "30525-0", "Age"), "a")

    @staticmethod
    def _event_age_target(text: str, crit_start: int, q: Quantity) -> _Target:
        """The age at the event named before "before/after age N" (the words of its clause)."""
        lo = max(crit_start, q.comparator_start - 60)
        window = text[lo:q.comparator_start]
        cut = max(window.rfind(ch) for ch in ",;:()\n")
        clause = _EVENT_CLAUSE.match(window, cut + 1)
        if clause is None:
            return _Target(q.start, q.end, "age_at_event", "demographic", None, "a")
        s, e = lo + clause.start("event"), lo + clause.end("event")
        return _event_age(text[s:e], s, e)

    @staticmethod
    def _fallback_targets(text: str, crit_start: int, q: Quantity) -> list[_Target]:
        """The unknown variable of ``q``: a scale or counted things named after it, else the words before
        it, else the words after it (``text`` ends with the criterion: see ``__call__``)."""
        scale = _scale_after(text, q)
        if scale is not None:
            s, e = scale
            return [_Target(s, e, re.sub(r"\s+", " ", text[s:e].lower()), "score", None, None)]
        counted = _counted_things_after(text, q)
        if counted is not None:  # "Kaposi's sarcoma with more than 100 cutaneous lesions": the lesions
            s, e = counted
            return [_Target(s, e, _unknown_name(text[s:e]), None, None, None)]
        cstart = q.comparator_start if q.comparator_start is not None else q.start
        if _OPENED_RIGHT_BEFORE.search(text, max(crit_start, cstart - 3), cstart):
            named_after = _clean_name(text, _words_after(text, q.end))
            if named_after is not None and _can_start_a_name(text[named_after[0]:named_after[1]].split()[0]):
                # "first CR (less than 5% blasts in marrow)": the name inside
                return [_Target(*named_after, _unknown_name(text[named_after[0]:named_after[1]]), None, None, None)]
        raw = _fallback_name(text, crit_start, cstart)
        if raw is not None and _NOT_A_VARIABLE.fullmatch(text[raw[0]:raw[1]].strip()):
            return [_Target(raw[0], raw[1], _unknown_name(text[raw[0]:raw[1]]), None, None, None)]  # "i.e. ≤150 ml": dropped
        span = _clean_name(text, raw)
        if span is None and raw is not None and _unit_of_a_number_before(text, raw[0], text[raw[0]:raw[1]].split()[0]):
            return [None]  # "> 15 lbs. or > 10 percent of baseline": only the last value's unit stands before
        if span is not None and text[span[0]:span[1]].lower() in _DEGREE_WORDS:
            # "tumors with high (>90%) cure rate": the value qualifies the noun after its parenthesis
            span = _clean_name(text, _words_after(text, _after_parenthesised_value(text, q))) \
                if _after_parenthesised_value(text, q) != q.end else None
        if span is not None:
            indicated = _indicating_instrument(text, crit_start, q, ())
            if indicated is not None:
                return [indicated]
        if span is None:
            # "asthenozoospermia: < 32% progressive motile spermatozoa"
            span = _clean_name(text, _words_after(text, q.end))
        if span is None:
            return [None]
        s, e = span
        instrument = _instrument_before_its_score(text, crit_start, s, e)
        if instrument is not None:  # "GAD-7 questionnaire for anxiety score ≥ 10": the instrument
            return [_Target(*instrument, _unknown_name(text[instrument[0]:instrument[1]]), "score", None, None)]
        targets = [_Target(s, e, _unknown_name(text[s:e]), None, None, None)]
        # "plaque score (FMPS) and bleeding score (FMBS) ≤ 10%": coordinated names, each with its
        # abbreviation, share the value
        while _ENDS_WITH_ABBREVIATION.search(text, s, e):
            coord = _COORDINATED_BEFORE.search(text, max(crit_start, s - 90), s)
            if coord is None:
                break
            s, e = coord.span("name")
            named = _clean_name(text, _words_before(text, max(crit_start, s - 80), e))
            if named is None:
                break
            s, e = named
            targets.insert(0, _Target(s, e, _unknown_name(text[s:e]), None, None, None))
        if len(targets) == 1 and q.unit_kind in MEASURED_KINDS and q.unit_kind != "temperature" \
                and _NAME_THEN_COMPARATOR.fullmatch(text, e, cstart) and q.value_pair is None:
            # (not a fever: "Active infection or fever > 38.5°C" names a condition, then the temperature)
            other = _coordinated_name_before(text, crit_start, s, e)
            if other is not None:  # "Have a varus angle or valgus ≥ 15°": both names share the measured value
                targets.insert(0, _Target(*other, _unknown_name(text[other[0]:other[1]]), None, None, None))
        return targets

    # -- rules and logic -------------------------------------------------------------------
    @staticmethod
    def _make_rule(text: str, rule_id: str, q: Quantity, target: _Target | None) -> Rule:
        start, end = q.start, q.end
        variable = None
        if target is not None:
            var_end = target.end
            alias = _ALIAS_BEFORE_VALUE.match(text, target.end, max(target.end, q.start))
            if alias:  # "central macular thickness (CMT) > 250 µm": the name with its alias
                var_end = alias.end("alias")
            start, end = min(start, target.start), max(end, var_end)
            variable = VariableRef(text[target.start:var_end], target.name, target.start, var_end,
                                   target.category, target.code)
            if target.code is None and target.name in _SCALE_BY_RANGE:
                variable.code = _code_by_range(target.name, q)
        unit = q.unit
        if unit is None and q.relative_to is None and target is not None and \
                (target.name == "age" or target.name.startswith("age_at_")):
            unit = "a"  # "Age 18-70": years are implied (unit_text stays null: nothing was written)
        comparator = q.comparator
        if target is not None and target.name in _HIGHER_IS_BETTER and comparator in _REVERSED \
                and _SEVERITY_WORD.search(text, q.start, q.end):
            comparator = _REVERSED[comparator]  # "Karnofsky 60 or better": better is higher on this scale
        return Rule(
            id=rule_id, text=text[start:end], start=start, end=end, variable=variable,
            comparator=comparator, value=q.value, value_high=q.value_high, unit=unit,
            unit_text=q.unit_text, relative_to=q.relative_to, inclusive=q.inclusive,
        )

    @staticmethod
    def _logic(text: str, units, rules: list[Rule]) -> dict:
        """AND of OR-groups: thresholds joined by "or" are alternatives."""
        groups: list[list[str]] = []
        k = 0
        prev_end = None
        for q, targets in units:
            n = len(_parts(q))
            ids = [rules[k + i].id if n == 1 else {"op": "or", "args": [rules[k + i + j].id for j in range(n)]}
                   for i in range(0, n * len(targets), n)]
            k += n * len(targets)
            item = ids[0] if len(ids) == 1 else {"op": _pair_op(q, targets), "args": ids}
            if prev_end is not None:
                gap = text[prev_end:q.start]
                if _ALTERNATIVE.match(gap) and ";" not in gap and ":" not in gap:
                    groups[-1].append(item)
                    prev_end = q.end
                    continue
            groups.append([item])
            prev_end = q.end
        args = [g[0] if len(g) == 1 else {"op": "or", "args": g} for g in groups]
        if len(args) == 1 and isinstance(args[0], dict):
            return args[0]
        return {"op": "and", "args": args}
