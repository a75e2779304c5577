"""Features of one candidate threshold, for the learned linker filter.

``unit_features(text, crit_start, crit_end, q, targets, section)`` describes a unit produced by
the rule-based linker (``criteria_nlp.components.linker``): a ``Quantity`` ``q`` and the variable
targets attached to it, inside the criterion ``text[crit_start:crit_end]``. The result is a flat
``dict`` whose values are ``str`` (one-hot encoded by a ``DictVectorizer``), ``bool`` or ``float``;
no value is ever ``None``.

The function is pure (its output depends only on its arguments) and cheap: it only looks at a
few dozen characters around the quantity and its nearest target (it runs for every candidate
threshold when a model is loaded). No embeddings, no external resources.
"""
from __future__ import annotations

import math
import re

__all__ = ["FEATURE_VERSION", "unit_features"]

FEATURE_VERSION = 1

_WORD = re.compile(r"[a-z]+|[0-9]+|[^\sa-z0-9]")
_ALPHA = re.compile(r"[a-z]+")
_WINDOW = 40
_GAP_CAP = 80
_PUNCT = ",;:()[]/=-"


def _bucket(n: float, edges: tuple) -> str:
    for e in edges:
        if n <= e:
            return str(e)
    return "more"


_DIST_EDGES = (0, 1, 3, 6, 12, 25, 50, 80)
_LEN_EDGES = (20, 40, 80, 160, 320)
_QLEN_EDGES = (2, 4, 8, 16, 32)


def _magnitude(v: float) -> str:
    if v == 0:
        return "zero"
    m = math.floor(math.log10(abs(v)))
    return str(max(-3, min(6, m)))


def _kind(t) -> str:
    if t is None:
        return "none"
    if getattr(t, "entry", None) is not None:
        return "lexicon"
    if t.name == "age":
        return "age"
    return "unknown"


def unit_features(text: str, crit_start: int, crit_end: int, q, targets, section) -> dict[str, float | str | bool]:
    """The feature dict of one candidate threshold (see the module docstring)."""
    f: dict[str, float | str | bool] = {}
    v = q.value
    vh = q.value_high
    # -- the quantity itself ------------------------------------------------------------
    f["cmp"] = q.comparator or "none"
    f["form"] = q.comparator_form or "none"
    f["cmp_form"] = f"{f['cmp']}|{f['form']}"
    f["has_unit"] = q.unit is not None
    f["unit_kind"] = q.unit_kind or ("relative" if q.relative_to else "none")
    f["unit"] = q.unit or "none"
    f["rel"] = q.relative_to or "none"
    f["is_time"] = bool(q.unit in ("a", "mo", "wk", "d", "h", "min", "s") and q.relative_to is None)
    f["temporal_cue"] = bool(q.temporal_cue)
    f["vmag"] = _magnitude(v)
    f["v_int"] = float(v).is_integer()
    f["v_neg"] = v < 0
    f["v_small_int"] = float(v).is_integer() and 0 <= v <= 10
    f["has_high"] = vh is not None
    f["yearlike"] = float(v).is_integer() and 1900 <= v <= 2100 and q.unit is None
    if vh is not None:
        f["range_ratio"] = float(min(5.0, math.log10(1 + abs(vh - v) / (abs(v) + 1e-9))))
    qlen = q.end - q.start
    f["qlen"] = _bucket(qlen, _QLEN_EDGES)
    f["unit_written"] = q.unit_text is not None
    # -- the criterion ----------------------------------------------------------------------
    clen = max(1, crit_end - crit_start)
    f["section"] = section or "none"
    f["crit_len"] = _bucket(clen, _LEN_EDGES)
    rel_pos = (q.start - crit_start) / clen
    f["pos"] = str(min(4, int(rel_pos * 5)))
    f["at_start"] = q.start - crit_start <= 2
    f["at_end"] = crit_end - q.end <= 2
    cstart = q.comparator_start if q.comparator_start is not None else q.start
    lo = max(crit_start, cstart - _WINDOW)
    before = text[lo:cstart].lower()
    f["in_parens"] = before.count("(") > before.count(")")
    bw = _ALPHA.findall(before)
    f["w-1"] = bw[-1] if bw else "<s>"
    f["w-2"] = f"{bw[-2]} {bw[-1]}" if len(bw) >= 2 else "<s>"
    for w in bw[-5:]:
        f["bow-before=" + w] = True
    sb = before.rstrip()
    f["c-1"] = sb[-1] if sb and not sb[-1].isalnum() else ("<s>" if not sb else "alnum")
    after = text[q.end:min(crit_end, q.end + _WINDOW)].lower()
    aw = _ALPHA.findall(after)
    f["w+1"] = aw[0] if aw else "</s>"
    f["w+2"] = f"{aw[0]} {aw[1]}" if len(aw) >= 2 else "</s>"
    sa = after.lstrip()
    f["c+1"] = sa[0] if sa and not sa[0].isalnum() else ("</s>" if not sa else "alnum")
    f["digit_after"] = any(ch.isdigit() for ch in after[:12])
    # -- the targets ---------------------------------------------------------------------
    real = [t for t in targets if t is not None]
    f["n_targets"] = float(min(len(real), 5))
    if not real:
        f["t_kind"] = "none"
        return f
    t = min(real, key=lambda t: (t.start - q.end) if t.start >= q.end else max(0, q.start - t.end))
    kind = _kind(t)
    f["t_kind"] = kind
    f["t_category"] = t.category or "none"
    f["t_kind_cmp"] = f"{kind}|{f['cmp']}"
    f["t_kind_unit"] = f"{kind}|{f['unit_kind']}"
    f["t_all_same_kind"] = all(_kind(x) == kind for x in real)
    if kind == "lexicon":
        f["t_name"] = t.name
        canonical = getattr(t, "canonical_unit", None)
        f["t_has_canonical"] = canonical is not None
        f["t_unit_eq"] = canonical is not None and canonical == q.unit
    elif kind == "unknown":
        nw = len(t.name.split())
        f["t_words"] = float(min(nw, 6))
        f["t_len"] = _bucket(t.end - t.start, _LEN_EDGES)
    t_before = t.end <= q.start
    f["t_before"] = t_before
    f["t_overlaps"] = t.start < q.end and q.start < t.end
    if t_before:
        gs, ge = t.end, cstart if cstart >= t.end else q.start
    elif t.start >= q.end:
        gs, ge = q.end, t.start
    else:
        gs = ge = q.start
    dist = ge - gs
    f["dist"] = _bucket(dist, _DIST_EDGES)
    f["dist_log"] = math.log1p(max(0, dist))
    gap = text[gs:min(ge, gs + _GAP_CAP)]
    for ch in _PUNCT:
        if ch in gap:
            f["gap_has=" + ch] = True
    gw = _ALPHA.findall(gap.lower())
    f["gap_words"] = float(min(len(gw), 10))
    for w in gw[:6]:
        f["gap_w=" + w] = True
    f["gap_newline"] = "\n" in gap
    return f
