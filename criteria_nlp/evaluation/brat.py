"""A reader for brat standoff annotations (``.ann`` + ``.txt``), as used by the LCT corpus.

Supported line kinds (fields are TAB separated, as brat writes them):

``T``  text-bound annotation, contiguous or discontinuous::

    T1\tEq-Operator 248 249\t>
    T5\tObservation 10 15;20 25\tblood pressure

``E``  event: a trigger and role arguments; roles may repeat, either numbered
       (``Value2``, ``Numeric-Filter2``) or verbatim (``Numeric-Filter:E2 Numeric-Filter:E3``)::

    E1\tAge:T4 Numeric-Filter:E2 Numeric-Filter2:E3

``R``  binary relation: ``R1\tOr Arg1:E2 Arg2:E3``

``A``/``M``  attribute on a text-bound or an event, valued or binary::

    A1\tEq-Operator-Value T1 GT
    A5\tObservation-Type-Value E7 lab
    A9\tNegated E3

``*``  equivalence (``*\tEquiv T1 T2``) and ``#`` notes (``#1\tAnnotatorNotes T1\tnote``) are
parsed and kept; blank lines are skipped.

:func:`parse_ann` turns the text of an ``.ann`` file into a :class:`BratDocument`;
:func:`read_document` reads a ``.txt``/``.ann`` pair; :func:`iter_corpus` walks a directory.
With ``strict=False`` (the default) malformed lines are skipped and recorded in
``BratDocument.warnings``; with ``strict=True`` they raise :class:`BratParseError`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

__all__ = [
    "Attribute",
    "BratDocument",
    "BratParseError",
    "Equivalence",
    "Event",
    "Note",
    "Relation",
    "RoleArg",
    "TextBound",
    "iter_corpus",
    "list_doc_ids",
    "parse_ann",
    "read_document",
    "split_role",
]

_ROLE_RE = re.compile(r"^(.*?[^\d])(\d*)$")


class BratParseError(ValueError):
    """A malformed line in a ``.ann`` file (raised only in strict mode)."""


def split_role(role: str) -> tuple[str, int]:
    """``"Numeric-Filter2"`` → ``("Numeric-Filter", 2)``; ``"Value"`` → ``("Value", 1)``."""
    m = _ROLE_RE.match(role)
    if not m:
        return role, 1
    base, num = m.group(1), m.group(2)
    return base, int(num) if num else 1


@dataclass(frozen=True)
class TextBound:
    """A ``T`` annotation. ``spans`` has one ``(start, end)`` per fragment (several if discontinuous)."""

    id: str
    type: str
    spans: tuple[tuple[int, int], ...]
    text: str

    @property
    def start(self) -> int:
        return min(s for s, _ in self.spans)

    @property
    def end(self) -> int:
        return max(e for _, e in self.spans)

    @property
    def discontinuous(self) -> bool:
        return len(self.spans) > 1


@dataclass(frozen=True)
class RoleArg:
    """One event argument: ``Value2:T7`` → role ``Value2``, base ``Value``, index 2, target ``T7``."""

    role: str
    target: str

    @property
    def base(self) -> str:
        return split_role(self.role)[0]

    @property
    def index(self) -> int:
        return split_role(self.role)[1]


@dataclass(frozen=True)
class Event:
    """An ``E`` annotation: ``type`` and ``trigger`` (a T id) plus ordered role arguments."""

    id: str
    type: str
    trigger: str
    args: tuple[RoleArg, ...] = ()

    def targets(self, role: str) -> list[str]:
        """Targets of every argument whose base role is ``role`` (``Value``, ``Value2``, ... in order).

        Numbered variants sort by their number; verbatim repeats keep file order.
        """
        found = [(a.index, i, a.target) for i, a in enumerate(self.args) if a.base == role]
        return [t for _, _, t in sorted(found)]

    def roles(self) -> set[str]:
        return {a.base for a in self.args}


@dataclass(frozen=True)
class Relation:
    """An ``R`` annotation (binary relation)."""

    id: str
    type: str
    arg1: str
    arg2: str
    args: tuple[RoleArg, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An ``A`` (or legacy ``M``) annotation; ``value`` is ``None`` for a binary attribute."""

    id: str
    type: str
    target: str
    value: str | None = None


@dataclass(frozen=True)
class Equivalence:
    """A ``*`` line: ``*\\tEquiv T1 T2 T3``."""

    type: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """A ``#`` line: ``#1\\tAnnotatorNotes T1\\tfree text``."""

    id: str
    type: str
    target: str | None
    text: str


@dataclass
class BratDocument:
    """All annotations of one document, indexed by id, plus the document text when known."""

    doc_id: str | None = None
    text: str | None = None
    path: str | None = None
    textbounds: dict[str, TextBound] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    equivalences: list[Equivalence] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _attr_index: dict[str, dict[str, str | None]] | None = field(default=None, repr=False, compare=False)

    # -- lookups -------------------------------------------------------------------------
    def attributes_of(self, ann_id: str) -> dict[str, str | None]:
        """``{attribute type: value}`` for a T or E id (binary attributes map to ``None``)."""
        if self._attr_index is None:
            index: dict[str, dict[str, str | None]] = {}
            for a in self.attributes.values():
                index.setdefault(a.target, {})[a.type] = a.value
            self._attr_index = index
        return self._attr_index.get(ann_id, {})

    def span_of(self, ann_id: str) -> tuple[int, int] | None:
        """Covering ``(start, end)`` of a T id, or of an E id's trigger."""
        tb = self.textbound_of(ann_id)
        return (tb.start, tb.end) if tb else None

    def textbound_of(self, ann_id: str) -> TextBound | None:
        """The T annotation for a T id, or the trigger of an E id."""
        if ann_id in self.textbounds:
            return self.textbounds[ann_id]
        ev = self.events.get(ann_id)
        if ev is not None:
            return self.textbounds.get(ev.trigger)
        return None

    def type_of(self, ann_id: str) -> str | None:
        if ann_id in self.events:
            return self.events[ann_id].type
        if ann_id in self.textbounds:
            return self.textbounds[ann_id].type
        return None

    def events_of_type(self, *types: str) -> list[Event]:
        return [e for e in self.events.values() if e.type in types]

    def relations_of(self, ann_id: str) -> list[Relation]:
        return [r for r in self.relations.values() if ann_id in (r.arg1, r.arg2)]

    def check_texts(self) -> list[str]:
        """Problems where a T's recorded text differs from the document text at its spans."""
        if self.text is None:
            return []
        problems = []
        for tb in self.textbounds.values():
            got = " ".join(self.text[s:e] for s, e in tb.spans)
            if got != tb.text and got.replace("\n", " ") != tb.text:
                problems.append(f"{tb.id}: {tb.text!r} != text {got!r}")
        return problems


# -- parsing ----------------------------------------------------------------------------

def _parse_spans(s: str) -> tuple[tuple[int, int], ...]:
    spans = []
    for frag in s.split(";"):
        a, b = frag.split()
        start, end = int(a), int(b)
        if end < start:
            raise ValueError(f"span end before start: {frag!r}")
        spans.append((start, end))
    if not spans:
        raise ValueError("no span")
    return tuple(spans)


def _parse_args(items: Iterable[str]) -> tuple[RoleArg, ...]:
    out = []
    for item in items:
        role, sep, target = item.rpartition(":")
        if not sep or not role or not target:
            raise ValueError(f"bad argument {item!r}")
        out.append(RoleArg(role, target))
    return tuple(out)


def parse_ann(
    ann: str,
    doc_id: str | None = None,
    text: str | None = None,
    path: str | None = None,
    strict: bool = False,
) -> BratDocument:
    """Parse the content of a ``.ann`` file (see the module docstring for the line kinds)."""
    doc = BratDocument(doc_id=doc_id, text=text, path=path)
    for lineno, raw in enumerate(ann.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            _parse_line(doc, line)
        except (ValueError, IndexError) as exc:
            msg = f"{doc_id or '<ann>'}:{lineno}: {exc}: {line!r}"
            if strict:
                raise BratParseError(msg) from exc
            doc.warnings.append(msg)
    return doc


def _parse_line(doc: BratDocument, line: str) -> None:
    kind = line[0]
    if kind == "T":
        ann_id, body, surface = line.split("\t", 2) if line.count("\t") >= 2 else (*line.split("\t", 1), "")
        type_, _, offsets = body.strip().partition(" ")
        if not type_ or not offsets:
            raise ValueError("text-bound without type or offsets")
        doc.textbounds[ann_id] = TextBound(ann_id, type_, _parse_spans(offsets), surface)
    elif kind == "E":
        ann_id, body = line.split("\t", 2)[:2]
        parts = body.split()
        if not parts:
            raise ValueError("event without trigger")
        type_, sep, trigger = parts[0].partition(":")
        if not sep or not trigger:
            raise ValueError("event without trigger")
        doc.events[ann_id] = Event(ann_id, type_, trigger, _parse_args(parts[1:]))
    elif kind == "R":
        ann_id, body = line.split("\t", 2)[:2]
        parts = body.split()
        type_, args = parts[0], _parse_args(parts[1:])
        by_role = {a.role: a.target for a in args}
        if "Arg1" in by_role and "Arg2" in by_role:
            a1, a2 = by_role["Arg1"], by_role["Arg2"]
        elif len(args) == 2:
            a1, a2 = args[0].target, args[1].target
        else:
            raise ValueError("relation needs two arguments")
        doc.relations[ann_id] = Relation(ann_id, type_, a1, a2, args)
    elif kind in ("A", "M"):
        ann_id, body = line.split("\t", 2)[:2]
        parts = body.split()
        if len(parts) < 2:
            raise ValueError("attribute without target")
        value = " ".join(parts[2:]) or None
        doc.attributes[ann_id] = Attribute(ann_id, parts[0], parts[1], value)
    elif kind == "*":
        fields = line.split("\t")
        parts = fields[1].split() if len(fields) > 1 else []
        if len(parts) < 2:
            raise ValueError("equivalence needs a type and ids")
        doc.equivalences.append(Equivalence(parts[0], tuple(parts[1:])))
    elif kind == "#":
        fields = line.split("\t", 2)
        head = fields[1].split() if len(fields) > 1 else []
        doc.notes.append(
            Note(
                fields[0],
                head[0] if head else "",
                head[1] if len(head) > 1 else None,
                fields[2] if len(fields) > 2 else "",
            )
        )
    else:
        raise ValueError(f"unknown annotation kind {kind!r}")


def _read_text(path: Path) -> str:
    # newline="" keeps \r\n as two characters: brat offsets count every character of the file.
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def read_document(path: str | os.PathLike, strict: bool = False) -> BratDocument:
    """Read ``X.txt`` and ``X.ann`` (``path`` may name either, or the stem)."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".txt", ".ann") else p
    txt, ann = stem.with_suffix(".txt"), stem.with_suffix(".ann")
    text = _read_text(txt)
    ann_text = _read_text(ann) if ann.exists() else ""
    return parse_ann(ann_text, doc_id=stem.name, text=text, path=str(txt), strict=strict)


def list_doc_ids(corpus_dir: str | os.PathLike) -> list[str]:
    """Sorted ids of the documents in a brat directory (every ``X.txt`` that has an ``X.ann``)."""
    d = Path(corpus_dir)
    return sorted(p.stem for p in d.glob("*.txt") if p.with_suffix(".ann").exists())


def iter_corpus(
    corpus_dir: str | os.PathLike,
    doc_ids: Iterable[str] | None = None,
    strict: bool = False,
) -> Iterator[BratDocument]:
    """Yield the documents of a brat directory in sorted id order (or the given ids, in order)."""
    d = Path(corpus_dir)
    for doc_id in list_doc_ids(d) if doc_ids is None else doc_ids:
        yield read_document(d / doc_id, strict=strict)
