"""Units: surface text -> UCUM, matching right after a number, and conversion.

Pure functions; the data (surface forms, UCUM codes, kinds, composition rules) live in
``criteria_nlp/resources/units.json``.

* :func:`match_unit` -- the longest unit starting at ``pos`` (after at most ``max_gap`` blanks,
  never across a newline). Handles power-of-ten multipliers (``x 10^9/L``, ``×10⁹/L``, ``x10(9)/L``,
  ``x 10e9/L``, the OCR-flattened ``x 109/L``), compositions (``mg/kg/d``, ``mL/min/1.73 m²``,
  ``mg per day``, ``/mm3``, ``per minute``) and fixed forms (``mmHg``, ``y/o``, ``pack-years``).
  ``x ULN`` / ``ULN`` / ``LLN`` are never units.
* :func:`to_ucum` -- UCUM code of a unit surface (or of a UCUM code this module emits).
* :func:`convert` -- value conversion between UCUM codes. The conversions of the unit pairs that
  registry and annotated text ask for are shipped as data (``resources/unit_conversions.json``,
  written by ``scripts/build_unit_conversions.py`` from pint and checked against it by a test), so
  extraction normally never imports pint (whose registry costs ~1 s of start-up); any other pair is
  computed with pint via ucumvert, loaded on first need. Factors are cached per pair, so later calls
  cost a dict look-up and a multiply.

Importing this module does not import ucumvert or pint (~15 ms, mostly reading the resource). The surface
alternations are built at import and bucketed by the first two characters; each bucket's regex is compiled
once, the first time a text starting with those characters is looked at. Every regex quantifier is bounded,
so one call costs O(1) whatever the length of the text.

UCUM choices: heart rate ``{beats}/min``, respiratory rate ``{breaths}/min``, bare ``/min`` for
``/min`` and ``per minute``; ``24 h`` denominators become ``d``; pack-years ``{pack_yr}`` (UCUM has
no pack-year unit); ``G/L`` -> ``10*9/L``; counts written with a multiplier drop the count word
(``x 10^9 cells/L`` -> ``10*9/L``) while ``cells/uL`` keeps it (``{cells}/uL``).
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["UnitMatch", "match_unit", "to_ucum", "convert", "load_conversions", "unit_kind", "KINDS"]

_RESOURCE = Path(__file__).resolve().parent.parent / "resources" / "units.json"

# Horizontal blanks only: a unit never continues across a newline.
_BLANKS = " \t\u00a0\u2009\u202f"
_HS = "[ \\t\\u00a0\\u2009\\u202f]"


@dataclass(frozen=True, slots=True)
class UnitMatch:
    """A unit found in ``source``: ``text == source[start:end]``."""

    start: int
    end: int
    text: str
    ucum: str
    kind: str


@dataclass(frozen=True, slots=True)
class _Atom:
    ucum: str
    dim: str
    kind: str
    standalone: bool
    den_units: frozenset[str] | None


# --------------------------------------------------------------------------------------------------
# Regex construction from the resource file
# --------------------------------------------------------------------------------------------------

def _surface_regex(surface: str) -> str:
    """Translate one surface form of the resource mini-syntax into a regex (see units.json _doc)."""
    out: list[str] = []
    n = len(surface)
    for i, ch in enumerate(surface):
        if ch == " ":
            prev = surface[i - 1] if i else ""
            nxt = surface[i + 1] if i + 1 < n else ""
            out.append(f"{_HS}{{1,3}}" if prev.isalpha() and nxt.isalpha() else f"{_HS}{{0,3}}")
        elif ch == "-":
            out.append(f"(?:[-\u2010\u2011\u2013]|{_HS}{{1,2}})?")
        elif ch in "µμ":
            out.append("[µμu]")
        elif ch == "²":  # "m\^2" of registry markdown reaches us as "m ^2" (its backslash blanked)
            out.append(r"(?:²|[ \\]?\^2|2)")
        elif ch == "³":
            out.append(r"(?:³|[ \\]?\^3|3)")
        elif ch == "/":
            out.append(f"{_HS}{{0,2}}/{_HS}{{0,2}}")
        else:
            out.append(re.escape(ch))
    rx = "".join(out)
    last = surface[-1]
    if last.isalnum() or last in "²³":
        # A unit ends at a word boundary ('d' must not start 'during'), and '2 second-line' is no unit.
        rx += r"(?!\w|[-\u2010\u2011][^\W\d_])"
    return rx


def _first_chars(surface: str, cs: bool) -> set[str]:
    c = surface[0]
    if c in "µμ":
        chars = {"µ", "μ", "u"}
    else:
        chars = {c}
    if not cs:
        chars |= {x.lower() for x in chars} | {x.upper() for x in chars}
    return chars


class _Alternation:
    """Alternations keyed by the first two characters; each regex is compiled once, on first use.

    (Compiling all ~160 bucket regexes up front would add ~40 ms to the import.)
    """

    __slots__ = ("sources", "compiled")

    def __init__(self, sources: dict[str, tuple[str, list[_Atom]]]) -> None:
        self.sources = sources
        self.compiled: dict[str, tuple[re.Pattern[str], list[_Atom]] | None] = {}

    def get(self, key: str) -> tuple[re.Pattern[str], list[_Atom]] | None:
        try:
            return self.compiled[key]
        except KeyError:
            src = self.sources.get(key)
            entry = None if src is None else (re.compile(src[0]), src[1])
            self.compiled[key] = entry
            return entry
_ANY = "\0"  # bucket key for surfaces whose second character is not a plain ASCII letter


def _bucket(surface: str) -> str:
    c2 = surface[1] if len(surface) > 1 else ""
    return c2.lower() if c2.isascii() and c2.isalpha() else _ANY


def _alternation(entries: list[tuple[str, bool, _Atom]]) -> _Alternation:
    """Regexes keyed by the first two characters of the text, one capturing group per alternative.

    Key: first character (all its accepted variants) + the lower-cased second character when the
    surface's second character is an ASCII letter, else the catch-all bucket ``_ANY``. Alternatives are
    ordered longest surface first and ``m.lastindex`` indexes the atom list. The dispatch keeps each
    alternation to a handful of branches.
    """
    seen: set[tuple[str, bool]] = set()
    by_key: dict[str, list[tuple[str, _Atom]]] = {}
    order = sorted(range(len(entries)), key=lambda k: (-len(entries[k][0]), k))
    for k in order:
        surface, cs, atom = entries[k]
        rx = _surface_regex(surface)
        key = (rx, cs)
        if key in seen:
            continue
        seen.add(key)
        branch = rx if cs else f"(?i:{rx})"
        b = _bucket(surface)
        for ch in _first_chars(surface, cs):
            by_key.setdefault(ch + b, []).append((branch, atom))
    sources: dict[str, tuple[str, list[_Atom]]] = {}
    for key, branches in by_key.items():
        sources[key] = ("|".join(f"({rx})" for rx, _ in branches), [a for _, a in branches])
    return _Alternation(sources)


def _match_atom(alt: _Alternation, text: str, i: int) -> tuple[int, _Atom] | None:
    """Longest atom of ``alt`` starting exactly at ``i``: (end, atom) or None."""
    n = len(text)
    if i >= n:
        return None
    c1 = text[i]
    best: tuple[int, _Atom] | None = None
    if i + 1 < n:
        entry = alt.get(c1 + text[i + 1].lower())
        if entry is not None:
            m = entry[0].match(text, i)
            if m is not None:
                best = (m.end(), entry[1][m.lastindex - 1])  # type: ignore[operator]
    entry = alt.get(c1 + _ANY)
    if entry is not None:
        m = entry[0].match(text, i)
        if m is not None and (best is None or m.end() > best[0]):
            best = (m.end(), entry[1][m.lastindex - 1])  # type: ignore[operator]
    return best


def _load() -> dict[str, Any]:
    with open(_RESOURCE, encoding="utf-8") as fh:
        return json.load(fh)


_DATA = _load()
KINDS: dict[str, str] = dict(_DATA["kinds"])
# kinds only a measurement is written in ("≤ 5 °", "below 3 diopters"; not a count, dose or duration)
MEASURED_KINDS: frozenset[str] = frozenset(_DATA["measured_kinds"])
_COMPOSE: dict[str, str] = dict(_DATA["compose"])

_num_entries: list[tuple[str, bool, _Atom]] = []
_den_entries: list[tuple[str, bool, _Atom]] = []
_aftermult_entries: list[tuple[str, bool, _Atom]] = []
_NUM_BY_UCUM: dict[str, _Atom] = {}
_DEN_BY_UCUM: dict[str, _Atom] = {}
for _a in _DATA["atoms"]:
    _atom = _Atom(
        ucum=_a["ucum"],
        dim=_a["dim"],
        kind=_a["kind"],
        standalone=_a.get("standalone", True),
        den_units=frozenset(_a["den_units"]) if "den_units" in _a else None,
    )
    if _a.get("num", True) and _atom.ucum not in _NUM_BY_UCUM:
        _NUM_BY_UCUM[_atom.ucum] = _atom
    if _a.get("den", False) and _atom.ucum not in _DEN_BY_UCUM:
        _DEN_BY_UCUM[_atom.ucum] = _atom
    _surfs = [(s, False) for s in _a.get("surfaces", [])] + [(s, True) for s in _a.get("cs", [])]
    for _s, _cs in _surfs:
        if _a.get("num", True):
            _num_entries.append((_s, _cs, _atom))
        if _a.get("den", False):
            _den_entries.append((_s, _cs, _atom))
        if _a.get("after_multiplier", False):
            _aftermult_entries.append((_s, _cs, _atom))

_NUM = _alternation(_num_entries)
_DEN = _alternation(_den_entries)
_AFTERMULT = _alternation(_aftermult_entries)
del _num_entries, _den_entries, _aftermult_entries

# A denominator separator: '/', 'per', 'a' ("10 cigarettes a day").
_SEP_RX = re.compile(f"{_HS}{{0,2}}(?:/{_HS}{{0,2}}|(?i:per|a){_HS}{{1,3}})")

_MULT_CFG = _DATA["multiplier"]
_SIGN = "[" + re.escape(_MULT_CFG["signs"]) + "]"
_SUPERSCRIPTS: str = _MULT_CFG["superscripts"]
_SUP_TRANS = str.maketrans(_SUPERSCRIPTS, "0123456789")
_FLAT = "|".join(re.escape(e) for e in _MULT_CFG["flattened_exponents"])
_G = f"{_HS}{{0,2}}"
# Every quantifier is bounded: a match attempt costs O(1) whatever follows.
_MULT_RX = re.compile(
    f"(?P<sign>(?:\\\\?{_SIGN}{_HS}{{0,3}}){{1,3}})?"  # markdown escapes (\*, \^) are tolerated
    "10(?:"
    rf"{_G}(?:\\?\^|\*\*?){_G}(?:\({_G}\+?(?P<a>\d{{1,2}}){_G}\)|\+?(?P<a2>\d{{1,2}})(?!\d))"  # 10^9 10**9 10*9 10^(9)
    rf"|{_G}\({_G}(?P<b>\d{{1,2}}){_G}\)"  # 10(9)
    rf"|[eE]\+?(?P<c>\d{{1,2}})(?!\d)"  # 10e9  10E+9
    rf"|{_HS}?(?P<s>[{_SUPERSCRIPTS}]{{1,2}})"  # 10⁹  10¹²
    rf"|(?P<f>{_FLAT})(?!\d)"  # OCR-flattened 109, 1012, 103, 106 (needs a sign and a denominator)
    rf"|{_HS}{{1,2}}(?P<g>{_FLAT})(?!\d)"  # 'x 10 9/L' (needs a sign and a denominator)
    ")"
)


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------

def _compose(text: str, end: int, num_ucum: str, num_dim: str, alone: tuple[str, str] | None,
             den_units: frozenset[str] | None) -> tuple[int, str, str] | None:
    """Extend a numerator with up to three denominators; keep the longest composition with a kind."""
    best = (end, alone[0], alone[1]) if alone else None
    dims = [num_dim]
    ucums = [num_ucum]
    cur = end
    for i in range(3):
        ms = _SEP_RX.match(text, cur)
        if ms is None:
            break
        md = _match_atom(_DEN, text, ms.end())
        if md is None:
            break
        den_end, atom = md
        if i == 0 and den_units is not None and atom.ucum not in den_units:
            break
        dims.append(atom.dim)
        ucums.append(atom.ucum)
        cur = den_end
        kind = _COMPOSE.get("/".join(dims))
        if kind is not None:
            best = (cur, "/".join(ucums), kind)
    return best


def match_unit(text: str, pos: int, max_gap: int = 2) -> UnitMatch | None:
    """Return the longest unit starting at ``pos`` after at most ``max_gap`` blanks, or None.

    Blanks are spaces, tabs and no-break/thin spaces; a newline stops the search.
    """
    n = len(text)
    p = pos
    limit = pos + max_gap
    while p < n and text[p] in _BLANKS:
        p += 1
        if p > limit:
            return None
    if p >= n:
        return None

    best: tuple[int, str, str] | None = None

    # 1. Power-of-ten multiplier: 'x 10^9/L', '×10⁹/L', 'x 109/L', '10*3/uL'.
    ch = text[p]
    if ch == "1" or ch == "\\" or ch in _MULT_CFG["signs"]:
        mm = _MULT_RX.match(text, p)
        if mm is not None:
            exp = mm.group("a") or mm.group("a2") or mm.group("b") or mm.group("c")
            needs_den = False
            if exp is None and mm.group("s"):
                exp = mm.group("s").translate(_SUP_TRANS)
            if exp is None:
                exp = mm.group("f") or mm.group("g")
                needs_den = True
            if needs_den and not mm.group("sign"):
                exp = None
            if exp is not None:
                num_ucum = f"10*{int(exp)}"
                end = mm.end()
                mc = _match_atom(_AFTERMULT, text, end + _count_blanks(text, end, 2))
                if mc is not None:  # 'x 10^9 cells/L' -> 10*9/L
                    cand = _compose(text, mc[0], num_ucum, "count", None, None)
                    if cand is not None:
                        best = cand
                cand = _compose(text, end, num_ucum, "count", None if needs_den else (num_ucum, "count"), None)
                if cand is not None and (best is None or cand[0] > best[0]):
                    best = cand

    # 2. Numerator atom (+ denominators).
    if best is None:
        mn = _match_atom(_NUM, text, p)
        if mn is not None:
            num_end, atom = mn
            alone = (atom.ucum, atom.kind) if atom.standalone else None
            best = _compose(text, num_end, atom.ucum, atom.dim, alone, atom.den_units)

        # 3. Denominators only: '/mm3', '/min', 'per minute'.
        cand = _compose(text, p, "", "", None, None)
        if cand is not None and (best is None or cand[0] > best[0]):
            best = cand

    if best is None:
        return None
    end, ucum, kind = best
    return UnitMatch(p, end, text[p:end], ucum, kind)


def _count_blanks(text: str, i: int, most: int) -> int:
    k = 0
    n = len(text)
    while k < most and i + k < n and text[i + k] in _BLANKS:
        k += 1
    return k


# --------------------------------------------------------------------------------------------------
# Surface -> UCUM
# --------------------------------------------------------------------------------------------------

_TO_UCUM_CACHE: dict[str, str | None] = {}
_UCUM_PIECE_RX = re.compile(r"10\*\d{1,2}")


def to_ucum(surface: str) -> str | None:
    """UCUM code for a unit surface such as ``'x 109/L'`` or ``'mL/min/1.73 m²'``; None if unknown.

    A UCUM code that this module emits (``'mm[Hg]'``, ``'{cells}/uL'``) is returned unchanged.
    """
    try:
        return _TO_UCUM_CACHE[surface]
    except KeyError:
        pass
    s = surface.strip(_BLANKS + "\n\r")
    result: str | None = None
    if s:
        m = match_unit(s, 0, max_gap=0)
        if m is not None and m.end == len(s):
            result = m.ucum
        elif unit_kind(s) is not None:  # already one of our UCUM codes
            result = s
    if len(_TO_UCUM_CACHE) > 8192:
        _TO_UCUM_CACHE.clear()
    _TO_UCUM_CACHE[surface] = result
    return result


def unit_kind(ucum: str) -> str | None:
    """Kind (see ``KINDS``) of a UCUM code emitted by this module, e.g. ``'{cells}/uL'`` ->
    ``'count_concentration'``; None if unknown."""
    atom = _NUM_BY_UCUM.get(ucum)
    if atom is not None and atom.standalone:
        return atom.kind
    pieces = ucum.split("/")
    if len(pieces) < 2 or len(pieces) > 4:
        return None
    head = pieces[0]
    if head == "":
        dims = [""]
    elif _UCUM_PIECE_RX.fullmatch(head):
        dims = ["count"]
    elif head in _NUM_BY_UCUM:
        dims = [_NUM_BY_UCUM[head].dim]
    else:
        return None
    for piece in pieces[1:]:
        den = _DEN_BY_UCUM.get(piece)
        if den is None:
            return None
        dims.append(den.dim)
    return _COMPOSE.get("/".join(dims))


# --------------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------------

_CONV = _DATA["conversion"]
_NEUTRAL = frozenset(_CONV["neutral_annotations"])
_LOG_ANN: dict[str, str] = dict(_CONV["log_annotations"])
_PURE = frozenset(_CONV["pure_numbers"])
_ANN_RX = re.compile(r"\{([^{}]*)\}")
_EQ_RX = re.compile(r"(?<![A-Za-z\[])([munpk]?)eq(?![A-Za-z])")
_POW10_RX = re.compile(r"10\*\d{1,2}")

# (from, to, molar_mass, valence) -> (pre_exp10, factor, offset, post_log10) or None
_CONV_CACHE: dict[tuple[str, str, float | None, int | None], tuple[bool, float, float, bool] | None] = {}
_UREG: Any = None


CONVERSIONS_RESOURCE = _RESOURCE.with_name("unit_conversions.json")
_NOT_SHIPPED = object()


def load_conversions(registry: bool = False) -> None:
    """Read the shipped conversions now (a few ms) instead of at the first conversion; with
    ``registry``, also build pint's registry (~1 s), which only pairs outside the table need."""
    _shipped_conversions()
    if registry:
        _registry()


@lru_cache(maxsize=1)
def _shipped_conversions() -> dict[tuple[str, str, float | None, int | None], tuple[bool, float, float, bool] | None]:
    if not CONVERSIONS_RESOURCE.is_file():
        return {}
    data = json.loads(CONVERSIONS_RESOURCE.read_text(encoding="utf-8"))
    return {(frm, to, mass, valence): (tuple(conv) if conv is not None else None)
            for frm, to, mass, valence, conv in data["conversions"]}


def conversion(from_ucum: str, to_ucum: str, molar_mass: float | None = None, valence: int | None = None):
    """``(pre_exp10, factor, offset, post_log10)`` of a conversion computed with pint (None when the
    units do not convert); what the shipped table stores."""
    return _build(from_ucum, to_ucum, molar_mass, valence)


def _registry() -> Any:
    global _UREG
    if _UREG is None:
        from ucumvert import PintUcumRegistry  # lazy: ~0.5 s the first time

        _UREG = PintUcumRegistry()
    return _UREG


@lru_cache(maxsize=1024)
def _from_ucum(code: str) -> Any:
    """ucumvert's pint Quantity for a UCUM code, parsed once per code (an Earley parse takes ~1 ms;
    the same canonical units come back for every source unit). Callers must not modify it."""
    return _registry().from_ucum(code)


def _clean(x: float) -> float:
    return float(f"{x:.15g}")


def _annotations_compatible(a: str, b: str) -> bool:
    anns_a = _ANN_RX.findall(a)
    anns_b = _ANN_RX.findall(b)
    strong_a = sorted(x for x in anns_a if x not in _NEUTRAL)
    strong_b = sorted(x for x in anns_b if x not in _NEUTRAL)
    if strong_a != strong_b:
        return False  # {1.73_m2}, {pack_yr}, ... must be on both sides
    weak_a = {x for x in anns_a if x in _NEUTRAL}
    weak_b = {x for x in anns_b if x in _NEUTRAL}
    return not (weak_a and weak_b and weak_a != weak_b)  # {cells} vs {copies}: no


def _pure_numbers_compatible(a: str, b: str) -> bool:
    """Dimensionless units convert only within {%, 1} or within {10*N, 1}."""
    a = _ANN_RX.sub("", a) or "1"
    b = _ANN_RX.sub("", b) or "1"
    percentish = {a, b} <= _PURE
    powers = all(x == "1" or _POW10_RX.fullmatch(x) for x in (a, b))
    return percentish or powers


def _build(frm: str, to: str, molar_mass: float | None, valence: int | None):
    if frm == to:
        return (False, 1.0, 0.0, False)
    pre_exp = post_log = False
    for ann, lin in _LOG_ANN.items():
        if ann in frm:
            frm = frm.replace(ann, lin)
            pre_exp = True
        if ann in to:
            to = to.replace(ann, lin)
            post_log = True
    # International units are treated as enzyme units (U) for conversion: IU/L == U/L.
    frm = frm.replace("[IU]", "U").replace("[iU]", "U")
    to = to.replace("[IU]", "U").replace("[iU]", "U")
    if not _annotations_compatible(frm, to):
        return None
    # Equivalents vs moles need a valence.
    scale = 1.0
    eq_f = bool(_EQ_RX.search(frm))
    eq_t = bool(_EQ_RX.search(to))
    if eq_f != eq_t:
        if not valence:
            return None
        if eq_f:
            frm = _EQ_RX.sub(r"\1mol", frm)
            scale /= valence
        else:
            to = _EQ_RX.sub(r"\1mol", to)
            scale *= valence
    try:
        ureg = _registry()
        qf = _from_ucum(frm)
        qt = _from_ucum(to)
        uf, ut = qf.units, qt.units
        mf, mt = float(qf.magnitude), float(qt.magnitude)
        df, dt = qf.dimensionality, qt.dimensionality
        if df == dt:
            if not df:  # dimensionless: only %, 1 and powers of ten
                if not _pure_numbers_compatible(frm, to):
                    return None
            y0 = ureg.Quantity(0.0, uf).to(ut).magnitude / mt
            y1 = ureg.Quantity(mf, uf).to(ut).magnitude / mt
            factor, offset = y1 - y0, y0
        elif molar_mass:
            mass_per_substance = {"[mass]": 1, "[substance]": -1}
            ratio = dict((df / dt).items())
            mm = ureg.Quantity(float(molar_mass), _from_ucum("g/mol").units)
            if ratio == mass_per_substance:
                factor = (ureg.Quantity(mf, uf) / mm).to(ut).magnitude / mt
            elif ratio == {"[substance]": 1, "[mass]": -1}:
                factor = (ureg.Quantity(mf, uf) * mm).to(ut).magnitude / mt
            else:
                return None
            offset = 0.0
        else:
            return None
    except Exception:  # unparseable code, offset-unit arithmetic, ...
        return None
    return (pre_exp, _clean(factor * scale), _clean(offset * scale), post_log)


def convert(value: float, from_ucum: str, to_ucum: str, molar_mass: float | None = None,
            *, valence: int | None = None) -> float | None:
    """Convert ``value`` from one UCUM unit to another; None when not convertible.

    ``molar_mass`` (g/mol) enables mass <-> amount-of-substance conversions (creatinine 113.12:
    mg/dL -> umol/L x 88.4; glucose 180.16). ``valence`` enables eq <-> mol (meq/L -> mmol/L).
    Annotations: ``{cells}``, ``{copies}``, ``{beats}``, ... are dimensionless and may be dropped
    (``{cells}/uL`` -> ``10*9/L``); any other annotation (``{1.73_m2}``, ``{pack_yr}``) must appear on
    both sides. ``{log_copies}``/``{log_IU}`` convert to and from their linear counterparts.
    ``[IU]`` is treated as ``U``. Dimensionless units convert only within {``%``, ``1``} or within
    {``1``, powers of ten}.
    """
    key = (from_ucum, to_ucum, molar_mass, valence)
    try:
        conv = _CONV_CACHE[key]
    except KeyError:
        if len(_CONV_CACHE) > 8192:
            _CONV_CACHE.clear()
        conv = _shipped_conversions().get(key, _NOT_SHIPPED)
        if conv is _NOT_SHIPPED:
            conv = _build(from_ucum, to_ucum, molar_mass, valence)
        _CONV_CACHE[key] = conv
    if conv is None:
        return None
    pre_exp, factor, offset, post_log = conv
    x = float(value)
    if pre_exp:
        try:
            x = 10.0 ** x
        except OverflowError:
            return None
    y = x * factor + offset
    if post_log:
        if y <= 0:
            return None
        y = math.log10(y)
    return y
