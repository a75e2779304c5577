"""Pure functions that read the list structure of eligibility text.

Registry criteria are lists: numbered (``1.``, ``1)``, ``(1)``, ``2.1``), lettered (``a.``,
``(b)``), roman (``i.``, ``iv)``), bulleted (``-``, ``*``, ``•``) or plain paragraphs, nested by
indentation or, in flattened text, by a numbering that restarts under an item ending with ``:``.
``parse_items`` turns the lines of one section into ``Item``s with a hierarchical id and a parent.
Everything works on character offsets into the text as given.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ...quantities.units import to_ucum
from .._groups import names_a_group

_MARKER = re.compile(
    r"""
    (?P<indent>[ \t]*)
    (?:
        (?P<num>\d{1,3}(?:\.\d{1,3})*)(?P<numsep>[.)])          # 1.  1)  2.1.  2.1)
      | (?P<hier>[1-9]\d{0,2}(?:\.[1-9]\d{0,2})+)(?=[ \t]+[A-Z(])  # 2.1 Text (not a decimal: "0.30 Ventilator", "1.05 Hb")
      | \((?P<pnum>\d{1,3})\)                                    # (1)
      | \((?P<palpha>[a-zA-Z]|[ivxIVX]{1,5})\)                    # (a) (iv)
      | (?P<alpha>[a-zA-Z])(?P<alphasep>[.)])                    # a.  b)
      | (?P<roman>(?:i{1,3}|iv|vi{0,3}|ix|xi{0,3}|I{1,3}|IV|VI{0,3}|IX|XI{0,3}))(?P<romansep>[.)])
      | (?P<bullet>[-*•·▪◦●○■□►➢✓+–—]|o(?=[ \t]))
    )
    [ \t]+(?=\S)
    """,
    re.VERBOSE,
)

_ROMAN = {"i": 1, "v": 5, "x": 10}
_INDENT = re.compile(r"[ \t]*")


def roman_value(label: str) -> int:
    total, prev = 0, 0
    for ch in reversed(label.lower()):
        val = _ROMAN[ch]
        total = total - val if val < prev else total + val
        prev = max(prev, val)
    return total


@dataclass
class Marker:
    """A list marker at the start of a line."""

    indent: int
    style: str  # e.g. "num.", "num)", "(num)", "alpha.", "roman.", "bullet-", "para"
    label: str  # as written, without punctuation ("8", "2.1", "a", "iv", "" for bullets)
    number: int | None  # position value for numbered/lettered styles
    content_start: int  # char offset of the item text after the marker


@dataclass
class Item:
    """One criterion: a list item or paragraph of a section."""

    start: int
    end: int
    marker: Marker
    section: str | None
    parent: Item | None = None
    children: list[Item] = field(default_factory=list)
    id: str = ""

    ends_with_colon: bool = False

    @property
    def next_number(self) -> int | None:
        return None if self.marker.number is None else self.marker.number + 1


def read_marker(text: str, line_start: int, line_end: int) -> Marker | None:
    """The list marker at the start of the line ``text[line_start:line_end]``, if any."""
    m = _MARKER.match(text, line_start, line_end)
    if not m:
        return None
    indent = len(m.group("indent").expandtabs(4))
    content_start = m.end()
    if m.group("num") is not None:
        label = m.group("num")
        return Marker(indent, "num" + m.group("numsep"), label, int(label.split(".")[-1]), content_start)
    if m.group("hier") is not None:
        label = m.group("hier")
        return Marker(indent, "hier", label, int(label.split(".")[-1]), content_start)
    if m.group("pnum") is not None:
        return Marker(indent, "(num)", m.group("pnum"), int(m.group("pnum")), content_start)
    if m.group("palpha") is not None:
        label = m.group("palpha")
        if len(label) > 1:
            return Marker(indent, "(roman)", label, roman_value(label), content_start)
        case = "A" if label.isupper() else "a"
        return Marker(indent, f"({case}lpha)", label, ord(label.lower()) - 96, content_start)
    if m.group("alpha") is not None:
        label = m.group("alpha")
        case = "A" if label.isupper() else "a"
        return Marker(indent, f"{case}lpha" + m.group("alphasep"), label, ord(label.lower()) - 96, content_start)
    if m.group("roman") is not None:
        label = m.group("roman")
        return Marker(indent, "roman" + m.group("romansep"), label, roman_value(label), content_start)
    bullet = m.group("bullet")
    return Marker(indent, "bullet" + bullet, "", None, content_start)


def _roman_or_letter(marker: Marker, stack: list[Item]) -> Marker:
    """``i.``/``(v)`` are roman numerals unless they continue an open lettered list (h. → i.)."""
    if any(s.marker.style == marker.style and s.next_number == marker.number for s in stack):
        return marker
    style = marker.style.replace("alpha", "roman").replace("Alpha", "roman").replace("(Aroman)", "(roman)").replace("(aroman)", "(roman)")
    style = style.replace("aroman", "roman").replace("Aroman", "roman")
    return Marker(marker.indent, style, marker.label, roman_value(marker.label), marker.content_start)


def _first_of_style(marker: Marker) -> bool:
    return marker.number == 1


def _line_spans(text: str, start: int, end: int):
    """(line_start, line_end_without_newline) pairs of text[start:end]."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        content_end = line_end
        if content_end > pos and text[content_end - 1] == "\r":
            content_end -= 1
        yield pos, content_end
        if nl == -1:
            break
        pos = nl + 1


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _place(item: Item, stack: list[Item], roots: list[Item]) -> None:
    """Attach ``item`` to its parent in the open-item ``stack`` (mutated)."""
    mk = item.marker
    top = stack[-1] if stack else None
    # Flattened nesting: a list restarting at 1 right under an item that ends with ':'.
    if (
        top is not None
        and mk.style != "para"
        and _first_of_style(mk)
        and mk.indent <= top.marker.indent
        and top.marker.style == mk.style
        and top.ends_with_colon
    ):
        item.parent = top
    else:
        sibling = None
        if mk.style != "para":
            same = [s for s in stack if s.marker.style == mk.style and s.marker.indent == mk.indent]
            expected = [s for s in same if mk.number is None or s.next_number == mk.number]
            if expected:
                sibling = expected[-1]
            elif same:
                sibling = same[-1]
        if sibling is not None:
            while stack and stack[-1] is not sibling:
                stack.pop()
            stack.pop()
            item.parent = sibling.parent
        else:
            while stack and stack[-1].marker.indent > mk.indent:
                stack.pop()
            if mk.style == "para":
                while stack and stack[-1].marker.indent >= mk.indent and not _announces(stack[-1], item):
                    stack.pop()
            elif stack and stack[-1].marker.indent == mk.indent and stack[-1].marker.style == "para":
                # a list at a paragraph's indentation belongs to it only if the paragraph announces it
                if not stack[-1].ends_with_colon:
                    stack.pop()
            item.parent = stack[-1] if stack else None
    if item.parent is None:
        roots.append(item)
    else:
        item.parent.children.append(item)
    stack.append(item)


def _announces(header: Item, item: Item) -> bool:
    """Whether an unmarked paragraph ``item`` is an item of the paragraph ``header`` at its own
    indentation: the legacy layout "Excluded within 8 weeks prior to study entry:" / blank line /
    "Long-acting psychoactive agents." / blank line / ... puts a header's items at its indentation.
    A header ends with a colon and has only such paragraphs as items so far; the next paragraph that
    ends with a colon is the next header."""
    return (header.marker.style == "para" and header.ends_with_colon and header.marker.indent == item.marker.indent
            and not item.ends_with_colon and all(c.marker.style == "para" for c in header.children))


def _is_header(item: Item) -> bool:
    return item.marker.style == "para" and item.ends_with_colon


def _opens_group(siblings: list[Item], k: int) -> bool:
    """Whether ``siblings[k]`` is a header whose first item is itself a header at its indentation
    (``Concurrent Medication:`` right above ``Allowed:``, ``PATIENT CHARACTERISTICS:`` above ``Age:``)."""
    head = siblings[k]
    return (_is_header(head) and not head.children and k + 1 < len(siblings)
            and _is_header(siblings[k + 1]) and siblings[k + 1].marker.indent == head.marker.indent)


def _is_label(text: str, item: Item) -> bool:
    """A header that is a short label (``Excluded:``, ``Excluded are:``), not a sentence (``Patients
    must have the following:``)."""
    return len(text[item.start:item.end].split()) <= _LABEL_WORDS


_LABEL_WORDS = 4


def _nest_sub_headers(text: str, siblings: list[Item]) -> None:
    """Headers under a header, all at one indentation: the legacy layout writes a group header and
    its sub-headers flush left, each sub-header over its own items (``Concurrent Medication:`` /
    ``Allowed:`` / items / ``Excluded:`` / items / ``Concurrent Treatment:`` / ``Allowed:`` ...).
    A header right above another header opens a group; that header and the short labels after it
    (``Excluded:``), with their items, are its children, up to the next header that opens a group,
    a header that is a sentence (``Patients must have the following:``) or a paragraph that is no header."""
    k = 0
    while k < len(siblings):
        head = siblings[k]
        if _opens_group(siblings, k):
            j = k + 1
            while j < len(siblings) and _is_header(siblings[j]) and siblings[j].marker.indent == head.marker.indent \
                    and not (j > k + 1 and (_opens_group(siblings, j) or not _is_label(text, siblings[j]))):
                siblings[j].parent = head
                head.children.append(siblings[j])
                j += 1
            del siblings[k + 1:j]
        else:
            _nest_sub_headers(text, head.children)
        k += 1


def _end_enumerations(text: str, siblings: list[Item]) -> None:
    """A header's items written as one enumeration (``- A mass > 7 cm,`` ``- Systemic symptoms,``
    ``- Ureteral compression.``) end with the item that ends with a full stop after items that end
    with commas: the items after it, indented alike, are the header's siblings, not its items (``-
    Karnofsky performance status > 70%`` after ``None of the following should be present:``). Not
    when a later item heads items of its own (``Age: …;`` ``Life expectancy: …`` then ``Hepatic:``)."""
    for item in list(siblings):
        children = item.children
        if item.ends_with_colon and len(children) >= 3:
            last = next((i for i, child in enumerate(children) if text[child.end - 1] == "."), None)
            if last is not None and last >= 2 and last + 1 < len(children) \
                    and all(text[child.end - 1] in ",;" for child in children[:last]) \
                    and not any(child.ends_with_colon or child.children for child in children[last + 1:]):
                moved = children[last + 1:]
                del children[last + 1:]
                at = siblings.index(item) + 1
                for child in moved:
                    child.parent = item.parent
                siblings[at:at] = moved
        _end_enumerations(text, children)


def parse_items(
    text: str, start: int, end: int, section: str | None, used_ids: UsedIds | None = None
) -> list[Item]:
    """The criteria items of ``text[start:end]`` (one section body), in document order.

    ``used_ids`` carries the ids already given in the document, so that ids stay unique when a
    document has two sections of the same kind.
    """
    items: list[Item] = []
    roots: list[Item] = []
    stack: list[Item] = []
    current: Item | None = None
    placed = True  # whether ``current`` has its parent: an item is placed once its last line is read
    blank_before = False
    for line_start, line_end in _line_spans(text, start, end):
        stripped_start = _INDENT.match(text, line_start, line_end).end()
        if stripped_start >= line_end:
            blank_before = True
            continue
        marker = read_marker(text, line_start, line_end)
        if marker is not None and not placed:
            _place(current, stack, roots)
            placed = True
        if marker is None:
            indent = len(text[line_start:stripped_start].expandtabs(4))
            # continuation: right after the item, or indented under its text after a blank line;
            # not a line left of a list item's marker (soft wraps are joined before this runs, so
            # the line break is a real one): "  - Age 18-65\nFor patients:" starts a new paragraph
            outdented = indent < current.marker.indent and current.marker.style != "para" if current else False
            # (a paragraph without a marker ends at a blank line: "ENTRY CRITERIA:\n\n  Renal: ..." is a
            # heading and the paragraphs after it, however deep they are indented)
            if current is not None and not outdented and (
                    not blank_before or (indent > current.marker.indent and current.marker.style != "para")):
                current.end = _rstrip_end(text, current.start, line_end)
                current.ends_with_colon = text[current.end - 1] == ":"
                blank_before = False
                continue
            if not placed:
                _place(current, stack, roots)
                placed = True
            marker = Marker(indent, "para", "", None, stripped_start)
        elif marker.label in ("i", "v", "x", "I", "V", "X") and "lpha" in marker.style:
            marker = _roman_or_letter(marker, stack)
        item = Item(start=marker.content_start, end=_rstrip_end(text, marker.content_start, line_end),
                    marker=marker, section=section)
        item.ends_with_colon = item.end > item.start and text[item.end - 1] == ":"
        items.append(item)
        current, placed = item, False
        blank_before = False
    if not placed:
        _place(current, stack, roots)
    _nest_sub_headers(text, roots)
    _end_enumerations(text, roots)
    items = _split_run_in_items(text, items, roots)
    _assign_ids(roots, section, used_ids)
    return items


# -- run-in paragraphs (the PDQ layout) ---------------------------------------------------------
# "PATIENT CHARACTERISTICS: Age: 18 and over Performance status: ECOG 0-2 Hematopoietic: WBC at
# least 3,000/mm3 Platelet count at least 100,000/mm3 Hepatic: ..." is a list flattened into one
# paragraph: an upper-case heading, then fields ("Label:"), each holding one or more statements
# that were bullets once. They become a heading item, one item per field ("Age: 18 and over";
# a field with several statements keeps its label, "Hematopoietic:", and gets one child per
# statement), so that each criterion is one statement again.
_RUN_IN_HEADING = re.compile(r"(?:[A-Z][A-Z0-9 /&,()'-]{2,}:|--[A-Z][A-Za-z/&,()' -]{2,40}?--)(?=[ \t]+\S)")
# "... No CNS metastases --Prior/Concurrent Therapy-- See Disease Characteristics ...": a heading
# inside a paragraph
_INLINE_HEADING = re.compile(r"(?<=\s)--[A-Z][A-Za-z/&,()' -]{2,40}?--(?=[ \t]+\S)")
# a field label: a capitalised word and up to three lower-case words, a colon, a blank
_FIELD_LABEL = re.compile(r"(?<![^\s])[A-Z][a-z][\w'-]*(?:[ \t/]+[a-z][\w'-]*){0,3}:(?=[ \t]+\S)")
# where a statement of a flattened list starts: a capitalised word after a word that can end one
_STATEMENT_START = re.compile(r"(?<=[\w%)\]:])[ \t]+(?=[A-Z])")
_WORD_BEFORE = re.compile(r"[^\s(\[]+$")
_WORD_AT = re.compile(r"[^\s,;:)\]]+")
_JOINING_WORDS = frozenset(
    "a an and as at by for from in into of on or nor per than the to vs with without x times over under "
    "between within above below least most no not including except e.g. i.e.".split())
_NOT_A_STATEMENT_WORD = re.compile(r"(?:OR|AND|NOT|ULN|LLN|UNL|ULRR|[IVX]+[A-D]?(?:[-/](?:[IVX]+[A-D]?|[A-D]))*|[A-Z]\d*)$")
# an acronym ("MRI", "CD45", "HTLV-III") and the lower-case word after it (and the one after that)
_ACRONYM_AND_NEXT_WORD = re.compile(r"[A-Z][A-Z0-9-]*[A-Z0-9][ \t]+([a-z][a-z/'-]*)(?:[ \t]+([a-z][a-z/'-]*))?")
_PLAIN_WORD = re.compile(r"[a-z][a-z'-]*")


@lru_cache(maxsize=1)
def _run_in_statements() -> dict:
    """``resources/run_in_statements.json``: the words that decide where run-in statements start."""
    return json.loads(resources.files("criteria_nlp.resources").joinpath("run_in_statements.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _statement_words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(predicate words, open words, state words) of ``resources/run_in_statements.json``; states and
    the first words of the comparator phrases of ``comparators.json`` are predicates too."""
    data = _run_in_statements()
    comparators = json.loads(resources.files("criteria_nlp.resources").joinpath("comparators.json")
                             .read_text("utf-8"))["prefix"]
    first_words = {form.split()[0].lower() for forms in comparators.values() for form in forms
                   if form[:1].isalpha()}
    states = frozenset(data["states"])
    return frozenset(data["predicates"]) | states | first_words, frozenset(data["open_words"]), states


@lru_cache(maxsize=1)
def _modifier_words() -> frozenset[str]:
    """Words of ``resources/run_in_statements.json`` that modify a following name ("elevated PSA")."""
    return frozenset(_run_in_statements()["modifiers"])


def _modifies_the_next_name(text: str, start: int, prev_start: int, prev: str) -> bool:
    """Whether ``prev`` (at ``prev_start``) modifies the name after it: a modifier word after a joining
    word ("Men with elevated PSA no greater than 10"), not a state after a name ("Somatomedin C
    elevated GH not below 2 ng/mL")."""
    if prev.lower() not in _modifier_words():
        return False
    words = text[max(start, prev_start - 40):prev_start].split()
    return bool(words) and words[-1].lower() in _JOINING_WORDS


def _acronym_inside_phrase(text: str, at: int, end: int, prev: str) -> bool:
    """Whether the acronym at ``at`` continues the phrase ending in the word ``prev``.

    "contrast enhanced MRI scans", "at least 3 recorded PSA values", "No active CNS disease": an
    acronym between a lower-case word and a lower-case word that says nothing about it (no
    comparator, no predicate such as "negative" or "required") is part of a noun phrase, not the
    start of a statement ("... 3,000/mm3 WBC at least ...", "... contraception HIV negative", "No brain
    metastases CT scan required")."""
    m = _ACRONYM_AND_NEXT_WORD.match(text, at, end)
    if m is None or not _PLAIN_WORD.fullmatch(prev):
        return False
    predicates, _, states = _statement_words()
    return prev not in predicates and m.group(1) not in predicates and m.group(2) not in states


_ENDS_A_VALUE = re.compile(r"(?:ULN|LLN|UNL|ULRR|Hg|H2O)[.,;]?")  # "2 times ULN", "140/90 mm Hg" end a statement


def _unit_goes_on(prev: str, here: str) -> bool:
    """Whether ``here`` continues a unit: "mm Hg", "mm Hg/L/min", "150 U/L", "2.5 G/L"."""
    return bool(to_ucum(f"{prev} {here}") or to_ucum(f"{prev} {here.split('/')[0]}")
                or (prev[-1].isdigit() and to_ucum(here)))


def _statement_starts(text: str, start: int, end: int) -> list[int]:
    """Offsets in ``text[start:end]`` where a further statement of a flattened list starts.

    Not after a capitalised word ("Hepatitis B", "(NYHA) Class III"), unless that word closes a
    parenthesis of several words ("large cell (IWF D) Diffuse, small cleaved cell")."""
    out = []
    depth = 0
    pos = start
    for m in _STATEMENT_START.finditer(text, start, end):
        depth += text.count("(", pos, m.start()) - text.count(")", pos, m.start())
        pos = m.start()
        if depth > 0:
            continue  # "(New York Heart Association class III or IV)"
        before = _WORD_BEFORE.search(text, max(start, m.start() - 60), m.start())
        word = _WORD_AT.match(text, m.end(), end)
        if before is None or word is None:
            continue
        prev, here = before.group(), word.group()
        closes_a_phrase = prev.endswith(")") and " " in text[text.rfind("(", start, m.start()) + 1:m.start()].strip()
        if prev.lower() in _JOINING_WORDS or prev in _statement_words()[1] \
                or _modifies_the_next_name(text, start, before.start(), prev) \
                or prev[0].isupper() and not any(ch.isdigit() for ch in prev) and not closes_a_phrase \
                and not to_ucum(prev) and not _ENDS_A_VALUE.fullmatch(prev) \
                or _NOT_A_STATEMENT_WORD.match(here) or _unit_goes_on(prev, here) \
                or _acronym_inside_phrase(text, m.end(), end, prev):
            continue  # "Hepatitis B", "stage IIIA", "creatinine OR clearance", "2 ULN", "mm Hg", "MRI scans"
            # (but a unit in capitals ends a statement: "ALT no greater than 150 U/L No active hepatitis")
        out.append(m.end())
    return out


def _field_starts(text: str, start: int, end: int) -> list[int]:
    """Where the field labels of ``text[start:end]`` start. A label naming a group after the first
    label ("Age: Patients with cystic fibrosis: 5 and over; Healthy volunteers: 18 and over") labels
    a value of the field, not a field of its own."""
    labels = list(_FIELD_LABEL.finditer(text, start, end))
    return [m.start() for k, m in enumerate(labels) if k == 0 or not names_a_group(m.group()[:-1])]


def _new_item(text: str, start: int, end: int, template: Item, parent: Item | None,
              siblings: list[Item], at: int | None = None, style: str = "run-in") -> Item:
    """An item for ``text[start:end]`` of a run-in paragraph, placed among ``siblings``."""
    end = _rstrip_end(text, start, end)
    marker = Marker(template.marker.indent, style, "", None, start)
    item = Item(start=start, end=end, marker=marker, section=template.section, parent=parent)
    item.ends_with_colon = text[end - 1] == ":"
    siblings.insert(len(siblings) if at is None else at, item)
    return item


# a list header announcing its items ("documented by one of the following:", "... such as:"), whose items are noun phrases,
# not sentences; a group's header ("Phase II GIST patients:") may hold sentences
_LISTS_THE_FOLLOWING = re.compile(r"\bthe[ \t]+following\b|\b(?:such[ \t]+as|including)[ \t]*:", re.IGNORECASE)
# a statement that is a requirement of its own, not an item of the list header before it: it opens with a
# modal ("Must have received ...") or with the patients it is about and their modal ("Patients with stage
# IIIB disease who received no prior radiotherapy must show ...")
_SENTENCE_OF_ITS_OWN = re.compile(
    r"(?i:must|should|shall)\b|(?:Patients?|Subjects?|Participants?)\b[^:]{0,120}?\b(?:must|should|shall)\b")


def _split_statements(text: str, item: Item, body: int, out: list[Item], parent: Item | None = None) -> None:
    """The statements of ``item`` (from ``body`` on) as items of their own.

    A field with several statements ("Hematopoietic: WBC at least 3,000/mm3 Platelet count at
    least 100,000/mm3") keeps its label as the item and gets one child per statement, as the same
    list written one statement per line would. With ``parent`` (statements after a heading) the
    further statements follow ``item`` as ``parent``'s children.
    """
    starts = _statement_starts(text, body, item.end)
    if not starts:
        return
    end = item.end
    if parent is None:
        bounds = [_INDENT.match(text, body).end()] + starts + [end]
        while bounds[0] < end and text[bounds[0]].isspace():
            bounds[0] += 1
        item.end = _rstrip_end(text, item.start, body)
        owner = item
    else:
        bounds = [item.start] + starts + [end]
        item.end = _rstrip_end(text, item.start, bounds[1])
        bounds = bounds[1:]
        owner = parent
    item.ends_with_colon = text[item.end - 1] == ":"
    header: Item | None = None  # "Cytopenias not due to multiple myeloma require:" holds the statements after it
    for s, e in zip(bounds, bounds[1:]):
        if header is not None and _ends_the_header(text, header, s, e):
            header = None
        parent_here = header or owner
        statement = _new_item(text, s, e, item, parent_here, parent_here.children)
        out.append(statement)
        if statement.ends_with_colon and header is None:
            header = statement


def _names_a_group_header(text: str, item: Item) -> bool:
    return item.ends_with_colon and names_a_group(text[item.start:item.end - 1])


def _ends_the_header(text: str, header: Item, start: int, end: int) -> bool:
    """Whether the run-in statement ``text[start:end]`` is no item of the open list header before it: a
    requirement of its own after a list announcing its items ("... one of the following: Serum CEA at
    least 10 ng/mL ... Must have received ..."), or the next group's header after a group's ("Phase I
    patients: Must have received ... Phase II GIST patients: No more than ...")."""
    if _LISTS_THE_FOLLOWING.search(text, header.start, header.end) and _SENTENCE_OF_ITS_OWN.match(text, start, end):
        return True
    end = _rstrip_end(text, start, end)
    return _names_a_group_header(text, header) and text[end - 1] == ":" and names_a_group(text[start:end - 1])


def _split_inline_headings(text: str, items: list[Item], roots: list[Item]) -> list[Item]:
    """``items`` with a paragraph cut before each heading inside it (the pieces are siblings)."""
    out: list[Item] = []
    for item in items:
        out.append(item)
        if item.children or item.marker.style != "para":
            continue
        cuts = [m.start() for m in _INLINE_HEADING.finditer(text, item.start, item.end)]
        if not cuts:
            continue
        if cuts[0] == item.start:
            cuts = cuts[1:]
            if not cuts:
                continue
        siblings = item.parent.children if item.parent is not None else roots
        at = siblings.index(item) + 1
        end = item.end
        item.end = _rstrip_end(text, item.start, cuts[0])
        item.ends_with_colon = text[item.end - 1] == ":"
        for k, (s, e) in enumerate(zip(cuts, cuts[1:] + [end])):
            out.append(_new_item(text, s, e, item, item.parent, siblings, at + k, style="para"))
    return out


def _paragraphs_of_field_blocks(text: str, items: list[Item]) -> set[int]:
    """The ids of paragraphs that start with a field label next to another such paragraph: the PDQ
    layout with one field per paragraph ("Hepatic: Bilirubin normal\n\nRenal: No renal disease
    Creatinine less than 1.4 mg/dL") is run-in text too."""
    starts_a_field = [item.marker.style == "para" and not item.children
                      and _FIELD_LABEL.match(text, item.start, item.end) is not None for item in items]
    return {id(item) for k, item in enumerate(items) if starts_a_field[k] and (
        (k > 0 and starts_a_field[k - 1]) or (k + 1 < len(items) and starts_a_field[k + 1]))}


def _split_run_in_items(text: str, items: list[Item], roots: list[Item]) -> list[Item]:
    """``items`` with each run-in paragraph split into heading, field and statement items."""
    out: list[Item] = []
    items = _split_inline_headings(text, items, roots)
    in_field_block = _paragraphs_of_field_blocks(text, items)
    for item in items:
        out.append(item)
        if item.children or item.marker.style != "para":
            continue  # a list item, or a paragraph that heads a list
        heading = _RUN_IN_HEADING.match(text, item.start, item.end)
        body = heading.end() if heading else item.start
        fields = _field_starts(text, body, item.end)
        if heading is None and (not fields or fields[0] != item.start or (len(fields) < 2 and id(item) not in in_field_block)):
            continue
        end = item.end
        bounds = ([body] if heading is not None and text[body:fields[0] if fields else end].strip() else []) \
            + fields + [end]
        segments = [(s, e, s in fields) for s, e in zip(bounds, bounds[1:])]
        if heading is not None:
            item.end, item.ends_with_colon = heading.end(), True
            parts = [_new_item(text, s, e, item, item, item.children)
                     for s, e, _ in segments]
        else:
            siblings = item.parent.children if item.parent is not None else roots
            at = siblings.index(item) + 1
            item.end = _rstrip_end(text, item.start, segments[0][1])
            item.ends_with_colon = text[item.end - 1] == ":"
            parts = [item] + [_new_item(text, s, e, item, item.parent, siblings, at + k)
                              for k, (s, e, _) in enumerate(segments[1:])]
        for part, (s, _, is_field) in zip(parts, segments):
            if part is not item:
                out.append(part)
            if is_field:  # a field with several statements: one child per statement
                _split_statements(text, part, text.index(":", s) + 1, out)
            else:  # statements after a heading are items of the heading
                _split_statements(text, part, s, out, part.parent)
    return out


SECTION_PREFIX = {"inclusion": "inc", "exclusion": "exc", None: "crit"}


class UsedIds:
    """The criterion ids given so far in a document: :meth:`claim` gives an id its first free
    ``_2``, ``_3`` ... suffix, remembering the last suffix of each id, so that a text of many
    repeated records costs no search through all the earlier copies."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self._last_suffix: dict[str, int] = {}

    def __contains__(self, criterion_id: str) -> bool:
        return criterion_id in self.ids

    def claim(self, base: str) -> str:
        """``base``, or ``base_N`` with the smallest N >= 2 not given yet (ids are never freed, so
        every suffix below the last one given is taken)."""
        candidate, n = base, self._last_suffix.get(base, 1) + 1
        while candidate in self.ids:
            candidate = f"{base}_{n}"
            n += 1
        if candidate != base:
            self._last_suffix[base] = n - 1
        self.ids.add(candidate)
        return candidate


def _assign_ids(roots: list[Item], section: str | None, used: UsedIds | None = None) -> None:
    used = UsedIds() if used is None else used

    def label(item: Item, ordinal: int) -> str:
        return item.marker.label if item.marker.label else str(ordinal)

    def visit(siblings: list[Item], prefix: str, sep: str) -> None:
        for ordinal, item in enumerate(siblings, start=1):
            lab = label(item, ordinal)
            if item.parent is not None and "." in lab and item.marker.style in ("num.", "num)", "hier"):
                parent_label = item.parent.id.split("-", 1)[-1]
                if lab.startswith(parent_label + "."):
                    lab = lab[len(parent_label) + 1:]
            candidate = used.claim(f"{prefix}{sep}{lab}")
            item.id = candidate
            visit(item.children, candidate, ".")

    visit(roots, SECTION_PREFIX.get(section, "crit"), "-")
