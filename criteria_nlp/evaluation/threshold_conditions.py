"""The gold conditions of each LCT threshold: its time window, the population it holds for, its exceptions.

LCT does not annotate conditions as spans of their own; they are roles and relations of the
threshold's events. For a threshold (variable event ``V``, comparison event ``C``) we read:

``temporal``
    * the ``Temporality`` role (an Eq-Comparison such as ``past 6 months``) of ``V`` or of an event
      ``V`` hangs on: an event that holds ``V`` as an argument (``Criteria-Count``, ``Negation``,
      ``Assertion``, ...) or names the same thing (``Abbrev-Of``/``Equivalent-To`` partner);
    * a ``During``/``Before``/``After`` relation, in either direction, between ``V``, ``C`` or a
      same-thing partner and another event ``X`` (``Hb`` *During* ``screening``, ``platelet count``
      *Before* ``operative``): the condition's spans are ``X``'s span and the spans of ``X``'s own
      ``Temporality`` comparisons (``within 6 months`` of ``surgery``).
``population``
    an ``If-Then`` relation whose ``Arg2`` (the *then* side) is ``V``, ``C`` or a same-thing partner:
    the threshold holds if ``Arg1`` holds (``HbA1c < 7 %`` *if* ``diabetic``, ``< 7 kg/m²`` *if*
    ``men``). The spans are ``Arg1``'s.
``exception``
    an ``Exception`` event whose ``From`` is ``V`` or a same-thing partner (``ALT`` in ``ALT ≤ 1.5 x ULN
    unless participant has fatty liver disease``): the spans are the trigger (``unless``) and every
    ``Except`` argument.

A predicted condition of the same kind matches a gold condition when its span overlaps any of the
gold condition's spans. :func:`threshold_conditions` returns the conditions by event id, so that a
threshold built from two comparisons (a merged pair of bounds) collects both comparisons' conditions
(:func:`conditions_of`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .brat import BratDocument

__all__ = ["CONDITION_KINDS", "ThresholdCondition", "conditions_of", "threshold_conditions"]

CONDITION_KINDS = ("temporal", "population", "exception")
_TEMPORAL_RELATIONS = ("During", "Before", "After")
_SAME_THING_RELATIONS = ("Abbrev-Of", "Equivalent-To")


@dataclass(frozen=True)
class ThresholdCondition:
    """One gold condition of a threshold: ``kind`` (temporal/population/exception), the LCT annotation
    it comes from (``Temporality``, ``During``, ``If-Then``, ``Exception``...), its spans and text."""

    kind: str
    source: str
    spans: tuple[tuple[int, int], ...]
    text: str


def _same_thing_partners(doc: BratDocument, event_id: str) -> set[str]:
    return {r.arg2 if r.arg1 == event_id else r.arg1
            for r in doc.relations_of(event_id) if r.type in _SAME_THING_RELATIONS}


def _holders(doc: BratDocument, event_id: str) -> set[str]:
    """Events that hold ``event_id`` as an argument (an Exception is read apart)."""
    return {e.id for e in doc.events.values()
            if e.type != "Exception" and any(a.target == event_id for a in e.args)}


def _spans(doc: BratDocument, ids: Iterable[str]) -> tuple[tuple[int, int], ...]:
    return tuple(dict.fromkeys(s for s in (doc.span_of(i) for i in ids) if s is not None))


def _condition(doc: BratDocument, kind: str, source: str, ids: Iterable[str]) -> ThresholdCondition | None:
    spans = _spans(doc, ids)
    if not spans or doc.text is None:
        return None
    return ThresholdCondition(kind, source, spans, " … ".join(doc.text[s:e] for s, e in sorted(spans)))


def _temporality(doc: BratDocument, event_id: str) -> list[str]:
    ev = doc.events.get(event_id)
    return ev.targets("Temporality") if ev is not None else []


def _conditions_of_event(doc: BratDocument, event_id: str, is_variable: bool) -> list[ThresholdCondition]:
    own = {event_id} | (_same_thing_partners(doc, event_id) if is_variable else set())
    found: list[ThresholdCondition | None] = []
    if is_variable:
        for holder in sorted(own | set().union(*(_holders(doc, e) for e in own))):
            found.extend(_condition(doc, "temporal", "Temporality", [t]) for t in _temporality(doc, holder))
    for e in sorted(own):
        for rel in doc.relations_of(e):
            other = rel.arg2 if rel.arg1 == e else rel.arg1
            if other in own:
                continue
            if rel.type in _TEMPORAL_RELATIONS:
                found.append(_condition(doc, "temporal", rel.type, [other, *_temporality(doc, other)]))
            elif rel.type == "If-Then" and rel.arg2 == e:
                found.append(_condition(doc, "population", "If-Then", [other]))
    if is_variable:
        for exc in doc.events.values():
            if exc.type == "Exception" and own & set(exc.targets("From")):
                found.append(_condition(doc, "exception", "Exception", [exc.id, *exc.targets("Except")]))
    return [c for c in found if c is not None]


def threshold_conditions(doc: BratDocument, variable_events: Iterable[str],
                         comparison_events: Iterable[str]) -> dict[str, tuple[ThresholdCondition, ...]]:
    """Event id → the gold conditions it gives its thresholds (see the module docstring)."""
    out: dict[str, tuple[ThresholdCondition, ...]] = {}
    for ids, is_variable in ((set(variable_events), True), (set(comparison_events), False)):
        for event_id in sorted(ids):
            conds = _conditions_of_event(doc, event_id, is_variable)
            if conds:
                out[event_id] = tuple(dict.fromkeys(conds))
    return out


def conditions_of(by_event: dict[str, tuple[ThresholdCondition, ...]], variable_event: str,
                  comparison_event: str) -> tuple[ThresholdCondition, ...]:
    """The conditions of one threshold; ``comparison_event`` may name a merged pair (``E2+E3``)."""
    ids = [variable_event, *comparison_event.split("+")]
    return tuple(dict.fromkeys(c for i in ids for c in by_event.get(i, ())))
