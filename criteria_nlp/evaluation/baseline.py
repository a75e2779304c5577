"""Reference systems in the output-contract shape: a naive regex baseline, an oracle, a shuffle.

* :func:`baseline_extract` — the floor: a comparator (symbol or phrase such as "at least",
  "or older", "between .. and ..", "18-65") next to a number, an optional unit token right
  after it, and the 1-4 words before the comparison (within the line, stopping at
  punctuation) as the variable. No linking, no coordination, no normalisation.
* :func:`oracle_result` — the gold thresholds of a document written as rules (rule span =
  the gold Eq-Comparison, variable = the gold Observation/Age span, conditions = the gold
  conditions of the threshold). It scores 1.0 at every level, except that thresholds whose gold
  value is not a number cannot be written as rules.
* :func:`shuffled_results` — oracle rules with their values permuted across the corpus:
  a sanity check that the scorer punishes wrong values.

All three return dicts shaped like ``criteria_nlp.extract()`` output (schema 1.0), with one
criterion per non-empty line and the section taken from "Inclusion/Exclusion Criteria"
headers.
"""
from __future__ import annotations

import random
import re
from typing import Any, Iterable

from .gold import GoldDocument, GoldThreshold, parse_number

__all__ = ["baseline_extract", "oracle_result", "segment_lines", "shuffled_results", "make_result"]

SCHEMA_VERSION = "1.0"

_HEADER_RE = re.compile(r"^\s*(?:key\s+)?(inclusion|exclusion)\b[^\n]*?(?:criteria)?\s*:?\s*$", re.I)
_BULLET_RE = re.compile(r"^\s*(?:[-*•·]+|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+", re.I)


def segment_lines(text: str) -> list[dict[str, Any]]:
    """One criterion per non-empty, non-header line: ``{id, section, start, end, text}``."""
    out = []
    section = None
    counters = {"inclusion": 0, "exclusion": 0, None: 0}
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        m = _HEADER_RE.match(body)
        if m and len(body.strip()) < 60:
            section = m.group(1).lower()
            continue
        b = _BULLET_RE.match(body)
        s = start + (b.end() if b else len(body) - len(body.lstrip()))
        e = start + len(body.rstrip())
        if e <= s:
            continue
        counters[section] += 1
        prefix = {"inclusion": "inc", "exclusion": "exc", None: "crit"}[section]
        out.append({"id": f"{prefix}-{counters[section]}", "section": section, "start": s, "end": e,
                    "text": text[s:e]})
    return out


def make_result(text: str, rules: list[dict[str, Any]], doc_id: str | None = None,
                path: str | None = None) -> dict[str, Any]:
    """Wrap rules (with offsets) into the contract: each rule goes to the line containing it."""
    crits = segment_lines(text)
    by_crit: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(crits))}
    orphans = []
    for r in sorted(rules, key=lambda r: (r["start"], r["end"])):
        for i, c in enumerate(crits):
            if c["start"] <= r["start"] < c["end"] or (r["start"] == c["end"] == r["end"]):
                by_crit[i].append(r)
                break
        else:
            orphans.append(r)
    criteria = []
    for i, c in enumerate(crits):
        rs = by_crit[i]
        for k, r in enumerate(rs, 1):
            r["id"] = f"{c['id']}.r{k}"
        criteria.append({**c, "parent": None, "logic": None, "rules": rs})
    if orphans:
        for k, r in enumerate(orphans, 1):
            r["id"] = f"orphan.r{k}"
        s = min(r["start"] for r in orphans)
        e = max(r["end"] for r in orphans)
        criteria.append({"id": "orphan", "section": None, "start": s, "end": e, "text": text[s:e],
                         "parent": None, "logic": None, "rules": orphans})
    return {"schema_version": SCHEMA_VERSION, "source": {"id": doc_id, "path": path}, "criteria": criteria}


def _rule(text: str, start: int, end: int, comparator: str, value: float, value_high: float | None,
          var: tuple[int, int] | None, unit_text: str | None = None, relative_to: str | None = None,
          category: str | None = None) -> dict[str, Any]:
    variable = None
    if var is not None:
        vs, ve = var
        variable = {"text": text[vs:ve], "name": text[vs:ve].lower(), "start": vs, "end": ve,
                    "category": category, "code": None}
    return {
        "id": "", "text": text[start:end], "start": start, "end": end, "variable": variable,
        "comparator": comparator, "value": value, "value_high": value_high, "unit": None,
        "unit_text": unit_text, "relative_to": relative_to, "normalized": None, "negated": False,
        "conditions": [],
    }


# -- oracle / shuffle -------------------------------------------------------------------

def _gold_rule(text: str, g: GoldThreshold, value=None, value_high=None) -> dict[str, Any]:
    return _rule(text, g.start, g.end, g.comparator, g.value if value is None else value,
                 g.value_high if value is None else value_high, (g.variable_start, g.variable_end),
                 g.unit_text, g.relative_to, g.category)


def oracle_result(gold: GoldDocument) -> dict[str, Any]:
    """The document's (parseable) gold thresholds as a contract-shaped result, each rule with its gold
    conditions (the first span of each)."""
    rules = []
    for g in gold.thresholds:
        if g.parseable:
            rule = _gold_rule(gold.text, g)
            rule["conditions"] = [{"kind": c.kind, "text": gold.text[s:e], "start": s, "end": e}
                                  for c in gold.conditions_of(g) for s, e in c.spans[:1]]
            rules.append(rule)
    return make_result(gold.text, rules, gold.doc_id, gold.path)


def shuffled_results(golds: Iterable[GoldDocument], seed: int = 0) -> dict[str, dict[str, Any]]:
    """Oracle rules whose (value, value_high) pairs are permuted across the whole corpus."""
    golds = list(golds)
    items = [(gd, g) for gd in golds for g in gd.thresholds if g.parseable]
    values = [(g.value, g.value_high) for _, g in items]
    random.Random(seed).shuffle(values)
    per_doc: dict[str, list[dict[str, Any]]] = {gd.doc_id: [] for gd in golds}
    for (gd, g), (v, vh) in zip(items, values):
        per_doc[gd.doc_id].append(_gold_rule(gd.text, g, v, vh))
    return {gd.doc_id: make_result(gd.text, per_doc[gd.doc_id], gd.doc_id, gd.path) for gd in golds}


# -- regex baseline ---------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?|\.\d+"
_NUMX = rf"(?:{_NUM})(?:\s*[x×*]\s*10\s*\^?\s*\d+)?"
_GE = (r"≥|⩾|>=|=>|>\s*or\s*=|greater\s+than\s+or\s+equal\s+(?:to\s+)?|more\s+than\s+or\s+equal\s+(?:to\s+)?|"
       r"at\s+least|no\s+(?:less|fewer)\s+than|not\s+(?:less|fewer)\s+than|minimum(?:\s+of)?|a\s+minimum\s+of|"
       r"equal\s+to\s+or\s+(?:greater|more|higher)\s+than")
_LE = (r"≤|⩽|<=|=<|<\s*or\s*=|less\s+than\s+or\s+equal\s+(?:to\s+)?|lower\s+than\s+or\s+equal\s+(?:to\s+)?|"
       r"at\s+most|no\s+(?:more|greater|higher)\s+than|not\s+(?:more|greater|higher)\s+than|not\s+exceeding|"
       r"up\s+to|maximum(?:\s+of)?|a\s+maximum\s+of|equal\s+to\s+or\s+(?:less|lower)\s+than")
_GT = r">|greater\s+than|more\s+than|higher\s+than|above|over|exceeding|exceeds?|older\s+than"
_LT = r"<|less\s+than|fewer\s+than|lower\s+than|below|under|younger\s+than"
_PREFIX = [(">=", _GE), ("<=", _LE), (">", _GT), ("<", _LT)]
_POST_GE = r"or\s+(?:more|older|greater|higher|above|over)|and\s+(?:over|above|older)|\+"
_POST_LE = r"or\s+(?:less|younger|lower|below|under|fewer)"
_UNIT = (r"(?:\s*(?:[x×]\s*|times\s+(?:the\s+)?)?(?:ULN|LLN|upper\s+limit\s+of\s+normal|lower\s+limit\s+of\s+normal|"
         r"institutional\s+(?:ULN|upper\s+limit\s+of\s+normal)))|"
         r"(?:\s*(?:%|[a-zA-Zµμ°][\w/°µμ²³^.\[\]]*(?:\s*/\s*[\w.²³^]+)?))")
_NOT_UNITS = {"and", "or", "of", "in", "at", "for", "on", "to", "the", "with", "within", "and/or", "if",
              "as", "by", "from", "than", "but", "during", "after", "before", "is", "are", "was", "x"}
_WORD_RE = re.compile(r"[A-Za-z0-9][\w'\-/]*")
_STOP_BEFORE = re.compile(r"[,;:()\[\]\n.]\s*$")


def _compile():
    alts = []
    # ranges first
    alts.append(rf"(?P<between>between|from)\s+(?P<r1>{_NUMX})\s*(?:and|to|-|–)\s*(?P<r2>{_NUMX})")
    alts.append(rf"(?<![\w.,])(?P<d1>{_NUMX})\s*(?:-|–|~|to)\s*(?P<d2>{_NUMX})(?=\s*(?:years|yrs|year|y\b|kg|%|mg|cm|mm|months|weeks))")
    for comp, pat in _PREFIX:
        name = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}[comp]
        alts.append(rf"(?P<{name}>(?:{pat}))\s*(?P<{name}n>{_NUMX})")
    alts.append(rf"(?<![\w.,])(?P<pgn>{_NUMX})(?P<pgu>\s*[a-zA-Z%]+)?\s*(?P<pge>{_POST_GE})")
    alts.append(rf"(?<![\w.,])(?P<pln>{_NUMX})(?P<plu>\s*[a-zA-Z%]+)?\s*(?P<ple>{_POST_LE})")
    return re.compile("|".join(f"(?:{a})" for a in alts), re.I)


_RULE_RE = _compile()
_UNIT_RE = re.compile(_UNIT, re.I)
_POWER_RE = re.compile(r"[x×*]\s*10\s*\^?\s*(\d+)\s*$")


def _num(s: str) -> float | None:
    """The number as written: "1.5 x 10^9" → 1.5 (the power of ten belongs to the unit)."""
    s = s.strip()
    m = re.match(rf"^({_NUM})\s*[x×*]\s*10\s*\^?\s*(\d+)$", s)
    if m:
        return parse_number(m.group(1))
    return parse_number(s)


def _preceding_words(text: str, pos: int, line_start: int, max_words: int = 4) -> tuple[int, int] | None:
    seg = text[line_start:pos]
    cut = max(seg.rfind(c) for c in ",;([") + 1
    seg_start = line_start + cut
    words = list(_WORD_RE.finditer(text, seg_start, pos))
    words = [w for w in words if not re.fullmatch(r"\d+[.)]?", w.group(0))]
    if not words:
        return None
    words = words[-max_words:]
    return words[0].start(), words[-1].end()


def baseline_extract(text: str, doc_id: str | None = None, path: str | None = None) -> dict[str, Any]:
    """Naive regex thresholds: comparator + number (+ unit), 1-4 preceding words as the variable."""
    rules = []
    for line in segment_lines(text):
        ls, le = line["start"], line["end"]
        for m in _RULE_RE.finditer(text, ls, le):
            g = m.groupdict()
            start, end = m.start(), m.end()
            value_high = None
            if g["between"] or g["d1"]:
                a, b = _num(g["r1"] or g["d1"]), _num(g["r2"] or g["d2"])
                if a is None or b is None:
                    continue
                comparator, value, value_high = "between", min(a, b), max(a, b)
            elif g["pge"] or g["ple"]:
                comparator = ">=" if g["pge"] else "<="
                value = _num(g["pgn"] or g["pln"])
            else:
                for name, comp in (("ge", ">="), ("le", "<="), ("gt", ">"), ("lt", "<")):
                    if g[name]:
                        comparator, value = comp, _num(g[name + "n"])
                        break
                else:  # pragma: no cover - every alternative names a comparator
                    continue
            if value is None:
                continue
            unit_text = relative_to = None
            power = _POWER_RE.search(m.group(0))
            if power and not (g["pge"] or g["ple"]):
                # "1.5 x 10^9/L": the power of ten starts the unit
                per = re.compile(r"\s*/\s*[A-Za-zµμ]+").match(text, end, le)
                unit_text = "x10^" + power.group(1) + (per.group(0).strip() if per else "")
                end = per.end() if per else end
            elif not (g["pge"] or g["ple"]):
                u = _UNIT_RE.match(text, end, le)
                if u and u.group(0).strip() and u.group(0).strip().lower() not in _NOT_UNITS:
                    unit_text = u.group(0).strip()
                    if re.search(r"ULN|upper", unit_text, re.I):
                        relative_to = "ULN"
                    elif re.search(r"LLN|lower", unit_text, re.I):
                        relative_to = "LLN"
                    end = u.end()
            var = _preceding_words(text, start, ls)
            rules.append(_rule(text, start, end, comparator, value, value_high, var, unit_text, relative_to))
    return make_result(text, rules, doc_id, path)
